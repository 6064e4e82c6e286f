"""The outbox worker with the simulated carrier (a real transport, run faster)."""

from __future__ import annotations

import asyncio
import random
import time
from pathlib import Path
from typing import Literal

from textport.host.outbox import OutboxWorker, backoff
from textport.store.db import connect
from textport.store.store import Store
from textport.transports.base import Incoming
from textport.transports.sim import (
    ANA,
    CARRIER,
    ELI,
    FAY,
    REFUSED_REASON,
    SimCarrier,
    SimSettings,
)


class Recorder:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.incoming_texts: list[Incoming] = []

    def incoming(self, sms: Incoming) -> None:
        self.incoming_texts.append(sms)

    def report(
        self, carrier_ref: str, state: Literal["delivered", "failed"], reason: str | None
    ) -> None:
        msg_id = self.store.by_carrier_ref(carrier_ref)
        assert msg_id is not None
        self.store.set_state(msg_id, "delivered")


def test_backoff_is_full_jitter_and_capped() -> None:
    rng = random.Random(1)
    samples = [backoff(n, rng) for n in range(1, 30) for _ in range(20)]
    assert min(samples) >= 0
    assert max(samples) <= 600
    assert max(backoff(1, rng) for _ in range(50)) <= 2


async def _run(
    tmp_path: Path, texts: list[tuple[str, str]], seconds: float
) -> tuple[Store, SimCarrier, list[int], Recorder]:
    store = Store(connect(tmp_path / "t.db"), time.time)
    carrier = SimCarrier(tmp_path / "sim", SimSettings(speed=50))
    recorder = Recorder(store)
    await carrier.start(recorder)
    worker = OutboxWorker(store, carrier, lambda: None, random.Random(3), backoff_first=0.01)
    ids = [store.add_outgoing(None, None, [to], body, 3600).msg_id for to, body in texts]
    task = asyncio.create_task(worker.run())
    worker.wake()
    await asyncio.sleep(seconds)
    task.cancel()
    await carrier.stop()
    return store, carrier, ids, recorder


def test_sent_delivered_refused_and_retried(tmp_path: Path) -> None:
    store, carrier, ids, recorder = asyncio.run(
        _run(tmp_path, [(ANA, "one"), (CARRIER, "two"), (ELI, "three")], 1.5)
    )
    ana, refused, flaky = (store.message(i) for i in ids)
    assert ana.state == "delivered"
    assert (refused.state, refused.reason) == ("failed", REFUSED_REASON)
    assert flaky.state == "delivered", "two transient failures, then it goes through"
    bodies = [str(record["body"]) for record in carrier.submitted()]
    assert sorted(bodies) == ["one", "three"], "each text reached the network exactly once"
    assert [sms.body for sms in recorder.incoming_texts] == ["Got it: “one”"]


def test_fay_answers_as_an_iphone_with_a_tapback(tmp_path: Path) -> None:
    long = "A text long enough that the quote of it is cut short"
    _, _, _, recorder = asyncio.run(_run(tmp_path, [(FAY, "See you at 6"), (FAY, long)], 1.5))
    assert sorted(sms.body for sms in recorder.incoming_texts) == sorted(
        ["Loved “See you at 6”", f"Loved “{long[:39]}…”"]
    )
    assert {sms.sender for sms in recorder.incoming_texts} == {FAY}


def test_expired_texts_fail_without_reaching_the_network(tmp_path: Path) -> None:
    async def scenario() -> tuple[Store, SimCarrier, int]:
        clock = [1_790_000_000.0]
        store = Store(connect(tmp_path / "t.db"), lambda: clock[0])
        carrier = SimCarrier(tmp_path / "sim", SimSettings(speed=50))
        msg_id = store.add_outgoing(None, None, [ANA], "late", 60).msg_id
        clock[0] += 120
        worker = OutboxWorker(store, carrier, lambda: None)
        task = asyncio.create_task(worker.run())
        await asyncio.sleep(0.2)
        task.cancel()
        return store, carrier, msg_id

    store, carrier, msg_id = asyncio.run(scenario())
    message = store.message(msg_id)
    assert message.state == "failed"
    assert message.reason is not None
    assert "expired" in message.reason
    assert carrier.submitted() == []
