"""The host with the Gammu transport on libGammu's dummy phone: texts reach the store,
partial texts are marked, a flood is stored once each, and a host killed between claim
and submit leaves the text ``unknown`` and never sends it again.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from tests.transports.dummy import DummyPhone
from tests.transports.host_rig import (
    NO_RELAY,
    TEXTPORT,
    TIMEOUT,
    recovered,
    stored,
    until,
    wait_for,
)
from textport.host.daemon import Host, HostSettings
from textport.store.db import connect
from textport.store.store import Store
from textport.transports import gsm

BO = "+447700900123"
LONG = "Привет, как дела? Всё хорошо 🙂 " * 5


def _run_host(data: Path, phone: DummyPhone, scenario: Callable[[Host], object]) -> None:
    async def main() -> None:
        host = Host(
            HostSettings(data=data, relay=NO_RELAY, seed=False),
            transport=phone.transport(poll_interval=0.05, reassembly_timeout=0.5),
        )
        await host.start()
        try:
            result = scenario(host)
            if asyncio.iscoroutine(result):
                await result
        finally:
            await host.stop()

    asyncio.run(main())


def test_single_multipart_and_partial_texts_reach_the_store(tmp_path: Path) -> None:
    phone = DummyPhone(tmp_path / "phone")
    data = tmp_path / "data"
    phone.inject("+15550100", "Hello from a modem")
    phone.inject(BO, LONG)
    lost = phone.inject("+15550101", LONG)
    (phone.device / "sms" / "1" / str(lost[0])).unlink()

    async def scenario(host: Host) -> None:
        await until(lambda: len(stored(data)) == 3, "three texts in the store")
        await until(lambda: phone.stored() == [], "the phone emptied")

    _run_host(data, phone, scenario)
    rows = {row["sender"]: row for row in stored(data)}
    assert rows["+15550100"]["body"] == "Hello from a modem"
    assert (rows[BO]["body"], rows[BO]["parts"], rows[BO]["missing"]) == (LONG, 3, None)
    partial = rows["+15550101"]
    assert partial["body"] == "".join(gsm.segment(LONG).parts[1:])
    assert partial["state"] == "received"
    assert (partial["parts"], partial["missing"], partial["reason"]) == (3, "1", None)


def test_a_flood_is_stored_completely_each_once(tmp_path: Path) -> None:
    phone = DummyPhone(tmp_path / "phone")
    data = tmp_path / "data"
    bodies = [f"flood {n}" + (" ✓" * 40 if n % 7 == 0 else "") for n in range(500)]
    for n, body in enumerate(bodies):
        phone.inject(f"+4477009001{n % 50:02d}", body)

    async def scenario(host: Host) -> None:
        await until(lambda: phone.stored() == [], "the phone emptied")

    started = time.monotonic()
    _run_host(data, phone, scenario)
    rows = stored(data)
    assert sorted(row["body"] for row in rows) == sorted(bodies)
    assert len({row["source_id"] for row in rows}) == 500
    assert time.monotonic() - started < TIMEOUT


def test_sigkill_between_claim_and_submit_leaves_unknown_and_sends_nothing_again(
    tmp_path: Path,
) -> None:
    """``textport host --transport gammu`` as a real process, killed while libGammu sends.

    The modem wrapper (``stall.py`` on PYTHONPATH) lets libGammu send, then never returns,
    as a host would hang or die between the modem taking a text and the store hearing it.
    """
    phone = DummyPhone(tmp_path / "phone")
    data = tmp_path / "data"
    marker = tmp_path / "submitting"
    config = tmp_path / "textport.toml"
    config.write_text(
        '[host]\nregion = "GB"\n\n[gammu]\n'
        f'device = "{phone.device}"\nconnection = "none"\nmodel = "dummy"\n'
        f'log_file = "{phone.log}"\npoll_interval = 0.1\n'
    )
    stall = tmp_path / "sitecustomize.py"
    stall.write_text(
        "import os, time, gammu\n"
        "if os.environ.get('STALL_AFTER_SEND'):\n"
        "    real = gammu.StateMachine.SendSMS\n"
        "    class Stalling(gammu.StateMachine):\n"
        "        def SendSMS(self, message):\n"
        "            reference = real(self, message)\n"
        "            open(os.environ['STALL_AFTER_SEND'], 'w').close()\n"
        "            time.sleep(3600)\n"
        "            return reference\n"
        "    gammu.StateMachine = Stalling\n"
    )
    # A text waits in the outbox before the host starts (as if a browser had sent it).
    store = Store(connect(data / "textport.db"), time.time)
    msg_id = store.add_outgoing(None, "c" * 32, ["+15550100"], "sent once at most", 3600).msg_id
    store.db.close()

    def start(**env: str) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [
                str(TEXTPORT),
                "host",
                "--data",
                str(data),
                "--relay",
                NO_RELAY,
                "--transport",
                "gammu",
                "--config",
                str(config),
            ],
            env={**os.environ, "PYTHONPATH": str(tmp_path), **env},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    first = start(STALL_AFTER_SEND=str(marker))
    try:
        wait_for(marker.exists, "the host never submitted", first)
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    finally:
        if first.poll() is None:
            first.kill()
    assert len(phone.sent_parts()) == 1, "the modem took it once"
    (row,) = stored(data, f"id = {msg_id}")
    assert row["state"] == "sending", "claimed, never confirmed"

    row = recovered(start(), data, msg_id)
    assert row["state"] == "unknown"
    assert "may or may not have gone out" in row["reason"]
    # libGammu starts its log afresh at each start: this is the second run's alone.
    assert phone.sent_parts() == [], "the second run sent nothing"
