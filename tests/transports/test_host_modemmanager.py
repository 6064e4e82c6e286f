"""The host with the ModemManager transport, the real ModemManager (test mode, private
bus) and the virtual AT modem: texts reach the store once each (also when offered again
after the store committed), transient +CMS errors are retried until the text goes,
permanent ones fail it with the reason, and a host killed between claim and submit
leaves the text ``unknown`` and never sends it again.

Only the hardware (tests/transports/virtual_modem.py) and polkit (tests/peers/polkit.py)
are stand-ins.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.peers.modemmanager import ModemManagerRig
from tests.transports.host_rig import (
    NO_RELAY,
    TEXTPORT,
    TIMEOUT,
    recovered,
    stored,
    until,
)
from tests.transports.virtual_modem import VirtualModem
from textport.host.daemon import Host, HostSettings
from textport.store.db import connect
from textport.store.store import Store
from textport.transports.base import Incoming
from textport.transports.modemmanager import MMSettings, ModemManagerTransport

BO = "+447700900123"
LONG = "Привет, как дела? Всё хорошо 🙂 " * 5


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[ModemManagerRig]:
    with ModemManagerRig(tmp_path / "mm") as started:
        yield started


@pytest.fixture
def modem(rig: ModemManagerRig) -> Iterator[VirtualModem]:
    virtual = VirtualModem(f"textport-host-{os.getpid()}-{time.monotonic_ns()}")
    try:
        rig.attach(virtual)
        yield virtual
    finally:
        virtual.close()


def _outgoing(data: Path, body: str, to: str = BO) -> int:
    """A text waiting in the outbox before the host starts (as if a browser sent it)."""
    store = Store(connect(data / "textport.db"), time.time)
    try:
        return store.add_outgoing(None, os.urandom(16).hex(), [to], body, 3600).msg_id
    finally:
        store.db.close()


def _run_host(
    data: Path, rig: ModemManagerRig, modem: VirtualModem, scenario: Callable[[Host], Any]
) -> None:
    async def main() -> None:
        settings = MMSettings.from_table({"bus_address": rig.address, "modem": modem.imei}, "GB")
        host = Host(
            HostSettings(data=data, relay=NO_RELAY, seed=False),
            transport=ModemManagerTransport(settings),
        )
        await host.start()
        try:
            await scenario(host)
        finally:
            await host.stop()

    asyncio.run(main())


def test_received_texts_reach_the_store_once_each(
    tmp_path: Path, rig: ModemManagerRig, modem: VirtualModem
) -> None:
    """The first offer of a text commits, then fails, as if the host died before the
    transport could delete it: the text is offered again and stored once."""
    data = tmp_path / "data"
    offers: list[str] = []

    async def scenario(host: Host) -> None:
        real = host.incoming

        def commit_then_fail(sms: Incoming) -> None:
            real(sms)
            offers.append(sms.source_id)
            if offers.count(sms.source_id) == 1:
                raise RuntimeError("died after the commit")

        host.incoming = commit_then_fail  # type: ignore[method-assign]
        modem.receive("+15550100", "Hello from a modem")
        modem.receive(BO, LONG)
        await until(lambda: len(offers) == 4, "each text offered twice")
        await until(lambda: modem.stored() == [], "the modem emptied")

    _run_host(data, rig, modem, scenario)
    rows = {row["sender"]: row for row in stored(data)}
    assert len(stored(data)) == 2
    assert rows["+15550100"]["body"] == "Hello from a modem"
    assert (rows[BO]["body"], rows[BO]["reason"]) == (LONG, None)


def test_transient_errors_are_retried_until_it_goes_and_permanent_ones_fail_it(
    tmp_path: Path, rig: ModemManagerRig, modem: VirtualModem
) -> None:
    data = tmp_path / "data"
    retried = _outgoing(data, "third time lucky")
    modem.fail("AT+CMGS", "+CMS ERROR: 42", times=2)  # congestion, twice

    async def scenario(host: Host) -> None:
        await until(lambda: stored(data, f"id = {retried}")[0]["state"] == "sent", "sent")
        modem.fail("AT+CMGS", "+CMS ERROR: 1")  # unassigned number
        refused = _outgoing(data, "to nobody", to="+15550100")
        host.outbox.wake()
        await until(lambda: stored(data, f"id = {refused}")[0]["state"] == "failed", "failed")

    _run_host(data, rig, modem, scenario)
    assert len(modem.refused) == 3
    assert [(part.number, part.text) for part in modem.sent] == [(BO, "third time lucky")]
    (failed,) = stored(data, "dir = 'out' AND state = 'failed'")
    assert failed["reason"] == "The number is not in use. (CMS error 1)"


def test_sigkill_between_claim_and_submit_leaves_unknown_and_sends_nothing_again(
    tmp_path: Path, rig: ModemManagerRig, modem: VirtualModem
) -> None:
    """``textport host --transport modemmanager`` as a real process, killed while the
    modem holds its answer to AT+CMGS: the network took the text, the store never heard."""
    data = tmp_path / "data"
    config = tmp_path / "textport.toml"
    config.write_text(
        f'[host]\nregion = "GB"\n\n[modemmanager]\nbus_address = "{rig.address}"\n'
        f'modem = "{modem.imei}"\n'
    )
    msg_id = _outgoing(data, "sent once at most", to="+15550100")
    modem.stall_sends()

    def start() -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [
                *(str(TEXTPORT), "host", "--data", str(data), "--relay", NO_RELAY),
                *("--transport", "modemmanager", "--config", str(config)),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    first = start()
    try:
        assert modem.stalled.wait(TIMEOUT), "the host never submitted"
        assert first.poll() is None, "the host exited"
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    finally:
        if first.poll() is None:
            first.kill()
    assert [part.text for part in modem.sent] == ["sent once at most"], "the modem took it once"
    (row,) = stored(data, f"id = {msg_id}")
    assert row["state"] == "sending", "claimed, never confirmed"

    row = recovered(start(), data, msg_id, settle=1.0)
    assert row["state"] == "unknown"
    assert "may or may not have gone out" in row["reason"]
    assert len(modem.sent) == 1, "the second run sent nothing"
