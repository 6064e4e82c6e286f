"""The ModemManager transport against the real ModemManager (test mode, private bus)
driving the virtual AT modem: what the modem was sent is decoded from its PDUs, what it
receives comes as +CMTI, failures are the modem's own +CMS ERROR answers.

Nothing is mocked but the hardware (tests/transports/virtual_modem.py) and polkit, which
the private bus has not (tests/peers/polkit.py grants everything).
"""

from __future__ import annotations

import asyncio
import itertools
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.peers.modemmanager import ModemManagerRig
from tests.transports.virtual_modem import VirtualModem
from textport.errors import ConfigError, TransportError
from textport.transports import gsm
from textport.transports.base import Incoming, ReportState
from textport.transports.modemmanager import MMSettings, ModemManagerTransport
from textport.transports.modemmanager import errors as mm_errors

TIMEOUT = 20.0 * float(os.environ.get("TEXTPORT_TIMEOUT_FACTOR", "1"))
LONG = "Привет, как дела? Всё хорошо 🙂 " * 5
BO = "+447700900123"
_names = itertools.count(1)


class Recorder:
    """A host that records; ``refuse`` makes ``incoming`` raise that many times."""

    def __init__(self) -> None:
        self.texts: list[Incoming] = []
        self.reports: list[tuple[str, ReportState, str | None]] = []
        self.refuse = 0

    def incoming(self, sms: Incoming) -> None:
        if self.refuse:
            self.refuse -= 1
            raise RuntimeError("the store is busy")
        self.texts.append(sms)

    def report(self, carrier_ref: str, state: ReportState, reason: str | None) -> None:
        self.reports.append((carrier_ref, state, reason))


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[ModemManagerRig]:
    with ModemManagerRig(tmp_path / "mm") as started:
        yield started


@pytest.fixture
def modem(rig: ModemManagerRig) -> Iterator[VirtualModem]:
    n = next(_names)
    virtual = VirtualModem(f"textport-{os.getpid()}-{n}", imei=f"35000000{os.getpid():06d}{n}")
    try:
        rig.attach(virtual)
        yield virtual
    finally:
        virtual.close()


def transport(rig: ModemManagerRig, modem: VirtualModem, **table: Any) -> ModemManagerTransport:
    settings = {"bus_address": rig.address, "modem": modem.imei} | table
    return ModemManagerTransport(MMSettings.from_table(settings, "GB"))


async def until(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + TIMEOUT
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


def run(rig: ModemManagerRig, modem: VirtualModem, scenario: Any, **table: Any) -> Recorder:
    sink = Recorder()

    async def main() -> None:
        mm = transport(rig, modem, **table)
        await mm.start(sink)
        try:
            await scenario(mm, sink)
        finally:
            await mm.stop()

    asyncio.run(main())
    return sink


# ------------------------------------------------------------ settings and errors


def test_settings_are_checked() -> None:
    assert MMSettings.from_table({}).modem == ""
    with pytest.raises(ConfigError, match="no setting 'device'"):
        MMSettings.from_table({"device": "/dev/ttyUSB0"})
    with pytest.raises(ConfigError, match="wrong type"):
        MMSettings.from_table({"max_parts": True})
    with pytest.raises(ConfigError, match="wrong type"):
        MMSettings.from_table({"delivery_reports": "yes"})
    with pytest.raises(ConfigError, match="max_parts is 1 to 255"):
        MMSettings.from_table({"max_parts": 0})
    with pytest.raises(ConfigError, match="send_timeout"):
        MMSettings.from_table({"send_timeout": 0.5})
    with pytest.raises(ConfigError, match="bus_address"):
        MMSettings.from_table({"bus_address": "system"})
    with pytest.raises(ConfigError, match="smsc is a number"):
        MMSettings.from_table({"smsc": "centre"})
    with pytest.raises(ConfigError, match="region"):
        MMSettings.from_table({}, region="XX")
    assert "35" not in repr(MMSettings.from_table({"modem": "350000000000001"}))


def test_errors_are_transient_or_permanent_with_a_reason() -> None:
    prefix = mm_errors.PREFIX
    cases = {
        (f"{prefix}Message.Unknown", "Unknown message error: 38"): False,
        (f"{prefix}Message.Unknown", "Unknown message error: 1"): True,
        (f"{prefix}Message.Unknown", "Unknown"): False,
        (f"{prefix}Message.NoNetwork", ""): False,
        (f"{prefix}Message.SimNotInserted", ""): False,
        (f"{prefix}Message.InvalidPduParameter", ""): True,
        (f"{prefix}Core.Unsupported", ""): True,
        (f"{prefix}Something.New", ""): False,
        ("org.freedesktop.DBus.Error.ServiceUnknown", ""): False,
        ("org.freedesktop.DBus.Error.UnknownObject", ""): False,
    }
    for (name, message), permanent in cases.items():
        error = mm_errors.classify(name, message)
        assert error.permanent is permanent, name
        assert error.message.endswith((")", ".")), error.message
    assert mm_errors.classify(f"{prefix}Message.Unknown", "message error: 1").message == (
        "The number is not in use. (CMS error 1)"
    )


# ------------------------------------------------------------ sending


def test_send_short_and_long_texts_as_the_modem_decodes_them(
    rig: ModemManagerRig, modem: VirtualModem
) -> None:
    refs: list[str] = []

    async def scenario(mm: ModemManagerTransport, sink: Recorder) -> None:
        refs.append(await mm.submit([BO], "Hello from textport"))
        refs.append(await mm.submit(["+15550100", BO], LONG))

    run(rig, modem, scenario)
    assert len(set(refs)) == 2
    short, *long_parts = modem.sent
    assert (short.number, short.text, short.coding) == (
        BO,
        "Hello from textport",
        "Default_No_Compression",
    )
    assert short.concat is None
    assert short.status_report
    expected = gsm.segment(LONG).parts
    assert len(long_parts) == 2 * len(expected)
    for number, parts in (("+15550100", long_parts[:3]), (BO, long_parts[3:])):
        assert [part.number for part in parts] == [number] * 3
        assert [part.concat for part in parts] == [(n, 3) for n in (1, 2, 3)]
        assert "".join(part.text for part in parts) == LONG
        assert {part.coding for part in parts} == {"Unicode_No_Compression"}
        assert [part.status_report for part in parts] == [False, False, True]


def test_transient_errors_are_transient_and_then_it_goes(
    rig: ModemManagerRig, modem: VirtualModem
) -> None:
    async def scenario(mm: ModemManagerTransport, sink: Recorder) -> None:
        modem.fail("AT+CMGS", "+CMS ERROR: 38")
        modem.fail("AT+CMGS", "+CMS ERROR: 331")
        for expected in ("(CMS error 38)", "No mobile network service"):
            with pytest.raises(TransportError) as caught:
                await mm.submit([BO], "try, try again")
            assert not caught.value.permanent
            assert expected in caught.value.message
        await mm.submit([BO], "try, try again")

    run(rig, modem, scenario)
    assert len(modem.refused) == 2
    assert [part.text for part in modem.sent] == ["try, try again"]


def test_permanent_errors_fail_with_a_readable_reason(
    rig: ModemManagerRig, modem: VirtualModem
) -> None:
    async def scenario(mm: ModemManagerTransport, sink: Recorder) -> None:
        modem.fail("AT+CMGS", "+CMS ERROR: 1")
        with pytest.raises(TransportError) as caught:
            await mm.submit([BO], "to nobody")
        assert caught.value.permanent
        assert caught.value.message == "The number is not in use. (CMS error 1)"
        # The second part refused: the first went out, so a retry would repeat it.
        # ModemManager does not say how many parts went out, so a long text fails.
        modem.fail("AT+CMGS", "+CMS ERROR: 42", after=1)
        with pytest.raises(TransportError) as caught:
            await mm.submit([BO], LONG)
        assert caught.value.permanent
        assert caught.value.message == (
            "The modem failed while sending this 3-part text (The network refused this text "
            "for now. (CMS error 42)) Part of it may have gone out: send it again if needed."
        )

    run(rig, modem, scenario)
    assert len(modem.sent) == 1, "only the long text's first part went out"


def test_max_parts_and_a_modem_that_stopped_answering(
    rig: ModemManagerRig, modem: VirtualModem
) -> None:
    async def scenario(mm: ModemManagerTransport, sink: Recorder) -> None:
        with pytest.raises(TransportError, match="needs 3 SMS") as caught:
            await mm.submit([BO], LONG)
        assert caught.value.permanent
        modem.close()  # ModemManager (without udev) keeps the modem, which cannot answer
        with pytest.raises(TransportError) as caught:
            await mm.submit([BO], "anyone there?")
        assert not caught.value.permanent
        assert caught.value.message == (
            "The modem's port could not be opened (unplugged?). (Core.Connected)"
        )

    run(rig, modem, scenario, max_parts=2)
    assert modem.sent == []


def test_modemmanager_restarting(rig: ModemManagerRig, modem: VirtualModem) -> None:
    """ModemManager stops: sends wait (transient); it starts again with the modem, and
    the transport finds the modem again by itself."""

    async def scenario(mm: ModemManagerTransport, sink: Recorder) -> None:
        await asyncio.to_thread(rig.stop_modemmanager)
        await until(lambda: mm._modem is None, "the transport noticing")
        with pytest.raises(TransportError) as caught:
            await mm.submit([BO], "anyone there?")
        assert not caught.value.permanent
        assert caught.value.message == mm_errors.GONE
        modem.close()
        again = VirtualModem(f"{modem.name}-again", imei=modem.imei)
        try:
            await asyncio.to_thread(rig.start_modemmanager)
            await asyncio.to_thread(rig.attach, again)
            await until(lambda: mm._modem is not None, "the transport finding it again")
            await mm.submit([BO], "back again")
            again.receive("+15550100", "welcome back")
            await until(lambda: len(sink.texts) == 1, "a text through the new ModemManager")
        finally:
            again.close()
        assert [part.text for part in again.sent] == ["back again"]

    run(rig, modem, scenario)
    assert modem.sent == []


def test_delivery_reports_are_matched_to_the_text(
    rig: ModemManagerRig, modem: VirtualModem
) -> None:
    async def scenario(mm: ModemManagerTransport, sink: Recorder) -> None:
        delivered = await mm.submit([BO], "did it arrive?")
        modem.report(modem.sent[-1], 0x00)
        await until(lambda: len(sink.reports) == 1, "the first report")
        failed = await mm.submit([BO], LONG)
        modem.report(modem.sent[-1], 0x46)
        await until(lambda: len(sink.reports) == 2, "the second report")
        assert sink.reports == [
            (delivered, "delivered", None),
            (failed, "failed", "Not delivered: it expired before it could be delivered."),
        ]
        await until(lambda: modem.stored() == [], "the reports deleted")

    run(rig, modem, scenario)


# ------------------------------------------------------------ receiving


def test_receive_single_and_multipart_then_delete(
    rig: ModemManagerRig, modem: VirtualModem
) -> None:
    async def scenario(mm: ModemManagerTransport, sink: Recorder) -> None:
        modem.receive("+15550100", "Hello from a modem")
        modem.receive(BO, LONG)
        await until(lambda: len(sink.texts) == 2, "two texts")
        await until(lambda: modem.stored() == [], "the modem emptied")

    sink = run(rig, modem, scenario)
    first, second = sorted(sink.texts, key=lambda text: text.parts)
    assert (first.sender, first.body, first.parts) == ("+15550100", "Hello from a modem", 1)
    assert (second.sender, second.body, second.parts) == (BO, LONG, 3)
    assert second.at_ms == 1772366400000  # 2026-03-01 12:00 UTC, the centre's stamp
    assert first.source_id != second.source_id


def test_a_long_text_waits_for_its_last_part(rig: ModemManagerRig, modem: VirtualModem) -> None:
    async def scenario(mm: ModemManagerTransport, sink: Recorder) -> None:
        first, second, third = modem.receive(BO, LONG, announce=False)
        for index in (first, third):
            modem.unsolicited(f'+CMTI: "SM",{index}')
        await asyncio.sleep(1.0)
        assert sink.texts == []
        assert modem.stored() == [first, second, third]
        modem.unsolicited(f'+CMTI: "SM",{second}')
        await until(lambda: len(sink.texts) == 1, "the whole text")
        await until(lambda: modem.stored() == [], "the modem emptied")

    sink = run(rig, modem, scenario)
    assert sink.texts[0].body == LONG


def test_texts_that_came_while_down_are_read_at_start_and_kept_until_stored(
    rig: ModemManagerRig, modem: VirtualModem
) -> None:
    """ModemManager takes the texts while textport is not running; the List at start
    finds them. The host refuses the first offer: the text stays, is offered again,
    and is deleted once stored."""
    modem.receive("+15550100", "while you were out")
    sink = Recorder()
    sink.refuse = 1

    async def main() -> None:
        mm = transport(rig, modem)
        await until(lambda: bool(modem.stored()), "ModemManager reading the text")
        await mm.start(sink)
        try:
            await until(lambda: len(sink.texts) == 1, "the text, offered again")
            await until(lambda: modem.stored() == [], "the modem emptied")
        finally:
            await mm.stop()

    asyncio.run(main())
    assert [text.body for text in sink.texts] == ["while you were out"]
    assert sink.refuse == 0


def test_start_says_why_there_is_no_modem(rig: ModemManagerRig, modem: VirtualModem) -> None:
    async def main() -> None:
        mm = ModemManagerTransport(
            MMSettings.from_table({"bus_address": rig.address, "modem": "1234"}, "GB")
        )
        with pytest.raises(TransportError, match="none with the equipment id"):
            await mm.start(Recorder())
        nowhere = f"unix:path={rig.folder / 'nothing'}"
        mm = ModemManagerTransport(MMSettings.from_table({"bus_address": nowhere}, "GB"))
        with pytest.raises(TransportError, match="Cannot reach the system D-Bus"):
            await mm.start(Recorder())

    asyncio.run(main())
