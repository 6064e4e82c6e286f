"""The host with the Termux:API transport: texts reach the store once each (a flood, and
across restarts, a crash before the transport wrote down what it handed over included),
and a host killed between claim and submit leaves the text ``unknown``, never sent again.

Android cannot run here: the phone is :class:`~tests.transports.termux_phone.FakePhone`,
whose ``termux-sms-list`` and ``termux-sms-send`` follow Termux:API's documented format.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from tests.transports.host_rig import (
    NO_RELAY,
    TEXTPORT,
    TIMEOUT,
    recovered,
    stored,
    until,
    wait_for,
)
from tests.transports.termux_phone import FakePhone
from textport.host.daemon import Host, HostSettings
from textport.store.db import connect
from textport.store.store import Store


def _run_host(data: Path, phone: FakePhone, scenario: Callable[[], object]) -> None:
    async def main() -> None:
        host = Host(
            HostSettings(data=data, relay=NO_RELAY, seed=False),
            transport=phone.transport(data, poll_interval=0.05),
        )
        await host.start()
        try:
            # The first round marks what was on the phone before as history.
            await until((data / "termux-seen.json").exists, "the first round")
            result = scenario()
            if asyncio.iscoroutine(result):
                await result
        finally:
            await host.stop()

    asyncio.run(main())


def test_texts_and_a_flood_reach_the_store_each_once(tmp_path: Path) -> None:
    phone = FakePhone(tmp_path / "phone")
    data = tmp_path / "data"
    phone.receive("+15550199", "from before textport")
    bodies = [f"flood {n}" + (" ✓" * 40 if n % 7 == 0 else "") for n in range(500)]

    async def scenario() -> None:
        phone.receive("07700 900123", "Hello from Android", name="Bo")
        await until(lambda: len(stored(data)) == 1, "the first text in the store")
        phone.receive_many([(f"+4477009001{n % 50:02d}", body) for n, body in enumerate(bodies)])
        await until(lambda: len(stored(data)) == 501, "the flood in the store")
        await asyncio.sleep(0.3)  # rounds enough to store something twice

    started = time.monotonic()
    _run_host(data, phone, scenario)
    rows = stored(data)
    assert sorted(row["body"] for row in rows) == sorted([*bodies, "Hello from Android"])
    assert len({row["source_id"] for row in rows}) == 501
    (hello,) = [row for row in rows if row["body"] == "Hello from Android"]
    assert (hello["sender"], hello["state"]) == ("+447700900123", "received")
    assert time.monotonic() - started < TIMEOUT


def test_restarts_store_nothing_twice_and_miss_nothing(tmp_path: Path) -> None:
    phone = FakePhone(tmp_path / "phone")
    data = tmp_path / "data"

    def expect(count: int) -> Callable[[], Coroutine[Any, Any, None]]:
        return lambda: until(lambda: len(stored(data)) == count, f"{count} texts stored")

    async def first_run() -> None:
        phone.receive_many([("+15550100", f"first run {n}") for n in range(3)])
        await expect(3)()

    _run_host(data, phone, first_run)
    saved = (data / "termux-seen.json").read_bytes()

    phone.receive_many([("+15550101", f"while stopped {n}") for n in range(120)])
    _run_host(data, phone, expect(123))

    # As if the host died after the store's commit, before the transport wrote its file:
    # the 120 texts are handed over again, and the store keeps each once.
    (data / "termux-seen.json").write_bytes(saved)

    async def late() -> None:
        await asyncio.sleep(1)
        phone.receive("+15550102", "after the crash")
        await expect(124)()
        await asyncio.sleep(0.3)

    _run_host(data, phone, late)
    rows = stored(data)
    assert len(rows) == 124
    assert len({row["body"] for row in rows}) == 124


def test_sigkill_between_claim_and_submit_leaves_unknown_and_sends_nothing_again(
    tmp_path: Path,
) -> None:
    """``textport host --transport termux`` as a real process, killed while the phone's
    ``termux-sms-send`` has taken the text and not answered (it never will)."""
    phone = FakePhone(tmp_path / "phone")
    data = tmp_path / "data"
    marker = tmp_path / "submitting"
    config = tmp_path / "textport.toml"
    config.write_text('[host]\nregion = "GB"\n\n' + phone.config(poll_interval=0.1, timeout=600))
    phone.fail("send", {"stall": str(marker)})
    # A text waits in the outbox before the host starts (as if a browser had sent it).
    store = Store(connect(data / "textport.db"), time.time)
    msg_id = store.add_outgoing(None, "c" * 32, ["+15550100"], "sent once at most", 3600).msg_id
    store.db.close()

    def start() -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [
                str(TEXTPORT),
                "host",
                "--data",
                str(data),
                "--relay",
                NO_RELAY,
                "--transport",
                "termux",
                "--config",
                str(config),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    first = start()
    stalled: int | None = None
    try:
        wait_for(
            lambda: marker.exists() and marker.read_text(),
            "the host never submitted",
            first,
        )
        stalled = int(marker.read_text())
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    finally:
        if first.poll() is None:
            first.kill()
        if stalled is not None:  # the fake send runs in a session of its own
            os.kill(stalled, signal.SIGKILL)
    assert len(phone.sent()) == 1, "the phone took it once"
    (row,) = stored(data, f"id = {msg_id}")
    assert row["state"] == "sending", "claimed, never confirmed"

    row = recovered(start(), data, msg_id)
    assert row["state"] == "unknown"
    assert "may or may not have gone out" in row["reason"]
    assert len(phone.calls("send")) == 1, "the second run called termux-sms-send not at all"
    assert len(phone.sent()) == 1
