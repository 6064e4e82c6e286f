"""The Gammu transport against libGammu's real dummy phone (a folder it treats as a phone).

Incoming texts are injected as files the way the phone would store them; what is sent is
read back from libGammu's own debug log, part by part. Faults are real libGammu error
classes raised by a thin wrapper around the real state machine.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gammu
import pytest

from tests.transports.dummy import DummyPhone
from textport.errors import ConfigError, TransportError
from textport.host.outbox import OutboxWorker
from textport.store.db import connect
from textport.store.store import Store
from textport.transports import gsm
from textport.transports.base import Incoming, ReportState
from textport.transports.gammu import GammuSettings, GammuTransport, classify

ANA, BO = "+15550100", "+447700900123"
LONG_UCS2 = "Привет, как дела? Всё хорошо 🙂 " * 5
LONG_GSM = "Meet at {the} [usual] place ~ 7pm | bring €20 ^_^ " * 5


class Sink:
    def __init__(self) -> None:
        self.texts: list[Incoming] = []
        self.reports: list[tuple[str, ReportState, str | None]] = []
        self.fail = False

    def incoming(self, sms: Incoming) -> None:
        if self.fail:
            raise OSError("disk full")
        self.texts.append(sms)

    def report(self, carrier_ref: str, state: ReportState, reason: str | None) -> None:
        self.reports.append((carrier_ref, state, reason))


class Faulty:
    """The real libGammu state machine, with errors queued per method."""

    def __init__(self, faults: dict[str, list[BaseException]]) -> None:
        self._sm = gammu.StateMachine()
        self.faults = faults
        self.calls: dict[str, int] = {}

    def __getattr__(self, name: str) -> Callable[..., Any]:
        real = getattr(self._sm, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            self.calls[name] = self.calls.get(name, 0) + 1
            queue = self.faults.get(name)
            if queue:
                raise queue.pop(0)
            return real(*args, **kwargs)

        return call


def error(name: str, where: str = "SendSMS") -> BaseException:
    exc: BaseException = getattr(gammu, name)({"Text": name, "Where": where, "Code": 0})
    return exc


@pytest.fixture
def phone(tmp_path: Path) -> DummyPhone:
    return DummyPhone(tmp_path)


async def started(transport: GammuTransport, sink: Sink) -> GammuTransport:
    await transport.start(sink)
    return transport


# ------------------------------------------------------------ receiving


def test_single_and_multipart_ucs2_texts_come_in_whole_then_leave_the_phone(
    phone: DummyPhone,
) -> None:
    phone.inject("(555) 010-0100", "Hi there")
    locations = phone.inject(BO, LONG_UCS2)
    assert len(locations) == 3, "a multipart UCS-2 text, one file per part"

    async def scenario() -> Sink:
        sink = Sink()
        transport = await started(phone.transport(poll_interval=3600), sink)
        try:
            await transport.poll()
        finally:
            await transport.stop()
        return sink

    sink = asyncio.run(scenario())
    by_body = {sms.body: sms for sms in sink.texts}
    assert set(by_body) == {"Hi there", LONG_UCS2}
    assert by_body["Hi there"].sender == "+15550100100", "a national number read as E.164"
    long = by_body[LONG_UCS2]
    assert (long.sender, long.parts, long.partial) == (BO, 3, False)
    assert long.at_ms == 1_772_366_400_000, "the message centre's time stamp"
    assert phone.stored() == [], "deleted, after the host had them"


def test_nothing_is_deleted_until_the_host_has_committed(phone: DummyPhone) -> None:
    phone.inject(BO, LONG_UCS2)

    async def scenario() -> tuple[list[str], Sink]:
        sink = Sink()
        sink.fail = True
        transport = await started(phone.transport(poll_interval=3600), sink)
        try:
            with pytest.raises(OSError, match="disk full"):
                await transport.poll()
            left = phone.stored()
            sink.fail = False
            await transport.poll()
        finally:
            await transport.stop()
        return left, sink

    left, sink = asyncio.run(scenario())
    assert len(left) == 3, "the host could not store it: every part stays on the phone"
    assert [sms.body for sms in sink.texts] == [LONG_UCS2]
    assert phone.stored() == []


def test_a_text_whose_part_never_comes_is_stored_partial(phone: DummyPhone) -> None:
    locations = phone.inject(BO, LONG_UCS2)
    (phone.device / "sms" / "1" / str(locations[1])).unlink()

    async def scenario() -> Sink:
        sink = Sink()
        transport = await started(phone.transport(poll_interval=0.05, reassembly_timeout=0.3), sink)
        try:
            await asyncio.sleep(0.15)
            assert sink.texts == [] and len(phone.stored()) == 2, "it waits for part 2"
            for _ in range(100):  # handed over, then deleted: stopping between keeps parts
                if sink.texts and not phone.stored():
                    break
                await asyncio.sleep(0.05)
        finally:
            await transport.stop()
        return sink

    (sms,) = asyncio.run(scenario()).texts
    assert (sms.partial, sms.missing, sms.parts) == (True, (2,), 3)
    segments = gsm.segment(LONG_UCS2)
    assert sms.body == segments.parts[0] + segments.parts[2]
    assert phone.stored() == []


def test_texts_in_other_folders_and_binary_messages(phone: DummyPhone) -> None:
    phone.inject(ANA, "a draft", folder=2)  # an outbox folder: not ours
    phone.inject(ANA, "in phone memory", folder=3)  # the phone's own inbox: ours

    async def scenario() -> Sink:
        sink = Sink()
        transport = await started(phone.transport(poll_interval=3600), sink)
        await transport.poll()
        await transport.stop()
        return sink

    assert [sms.body for sms in asyncio.run(scenario()).texts] == ["in phone memory"]
    assert len(phone.stored(2)) == 1
    assert phone.stored(3) == []


def test_a_flood_of_texts_is_stored_completely_each_once(phone: DummyPhone) -> None:
    bodies = [f"flood {n} " + ("é" * 80 if n % 5 == 0 else "") for n in range(500)]
    for n, body in enumerate(bodies):
        phone.inject(f"+1555010{n % 10:02d}", body)

    async def scenario() -> Sink:
        sink = Sink()
        transport = await started(phone.transport(poll_interval=3600), sink)
        await transport.poll()
        await transport.stop()
        return sink

    sink = asyncio.run(scenario())
    assert sorted(sms.body for sms in sink.texts) == sorted(bodies)
    assert len({sms.source_id for sms in sink.texts}) == 500
    assert phone.stored() == []


# ------------------------------------------------------------ sending


@pytest.mark.parametrize("body", [LONG_GSM, LONG_UCS2, "Hi!", "ç" * 66 + "🙂" + "ç" * 66])
def test_libgammu_encodes_the_expected_parts(phone: DummyPhone, body: str) -> None:
    async def scenario() -> str:
        transport = await started(phone.transport(poll_interval=3600), Sink())
        try:
            return await transport.submit([ANA, BO], body)
        finally:
            await transport.stop()

    ref = asyncio.run(scenario())
    assert ref.startswith("gammu:")
    segments = gsm.segment(body)
    sent = phone.sent_parts()
    n = len(segments.parts)
    assert [part.number for part in sent] == [ANA] * n + [BO] * n
    assert [part.text for part in sent] == list(segments.parts) * 2
    coding = "7bit" if segments.encoding == "GSM-7" else "Unicode"
    assert {part.coding for part in sent} == {coding}
    headers = [gsm.parse_concat(part.udh) for part in sent]
    if n == 1:
        assert headers == [None, None]
    else:
        assert [(h.number, h.total) for h in headers if h] == [(i, n) for i in range(1, n + 1)] * 2
        assert len({h.reference for h in headers if h}) == 1


def test_transient_errors_retry_then_succeed(tmp_path: Path, phone: DummyPhone) -> None:
    faults: dict[str, list[BaseException]] = {
        "SendSMS": [error("ERR_TIMEOUT"), error("ERR_NETWORK_ERROR")]
    }
    machine = Faulty(faults)
    store, ids = asyncio.run(
        _outbox(tmp_path, phone.settings(), machine, [(ANA, "try again")], until=("sent",))
    )
    message = store.message(ids[0])
    assert (message.state, message.reason) == ("sent", None)
    assert machine.calls["SendSMS"] == 3
    assert [part.text for part in phone.sent_parts()] == ["try again"], "sent once"


def test_permanent_errors_fail_with_a_readable_reason(tmp_path: Path, phone: DummyPhone) -> None:
    machine = Faulty({"SendSMS": [error("ERR_INVALIDDATA")]})
    store, ids = asyncio.run(
        _outbox(tmp_path, phone.settings(), machine, [(ANA, "nope")], until=("failed",))
    )
    message = store.message(ids[0])
    assert message.state == "failed"
    assert message.reason is not None
    assert message.reason.startswith("The modem refused this text as invalid: check the number.")
    assert machine.calls["SendSMS"] == 1
    assert phone.sent_parts() == []


def test_a_real_libgammu_error_is_mapped(phone: DummyPhone) -> None:
    """No injection: libGammu itself refuses a number too long for a PDU."""
    transport = GammuTransport(phone.settings())

    async def scenario() -> None:
        await transport.start(Sink())
        try:
            with pytest.raises(TransportError) as caught:
                await transport.submit(["+" + "1" * 40], "to nobody")
            assert caught.value.permanent
            assert "invalid" in caught.value.message
        finally:
            await transport.stop()

    asyncio.run(scenario())


def test_a_failure_after_the_first_part_is_permanent(phone: DummyPhone) -> None:
    machine = Faulty({})

    async def scenario() -> TransportError:
        transport = GammuTransport(phone.settings(), machine=lambda: machine)
        await transport.start(Sink())
        real = machine.__getattr__("SendSMS")
        calls = 0

        def second_fails(message: dict[str, Any]) -> Any:
            nonlocal calls
            calls += 1
            if calls == 2:
                raise error("ERR_TIMEOUT")
            return real(message)

        machine.__dict__["SendSMS"] = second_fails
        try:
            with pytest.raises(TransportError) as caught:
                await transport.submit([ANA], LONG_UCS2)
            return caught.value
        finally:
            await transport.stop()

    exc = asyncio.run(scenario())
    assert exc.permanent
    assert exc.message.startswith("Only 1 of 3 SMS of this text went out")


def test_too_many_parts_is_refused_before_anything_goes_out(phone: DummyPhone) -> None:
    async def scenario() -> TransportError:
        transport = await started(phone.transport(max_parts=2), Sink())
        try:
            with pytest.raises(TransportError) as caught:
                await transport.submit([ANA], LONG_UCS2)
            return caught.value
        finally:
            await transport.stop()

    exc = asyncio.run(scenario())
    assert exc.permanent and "at most 2" in exc.message
    assert phone.sent_parts() == []


def test_delivery_reports_are_matched_to_the_text(phone: DummyPhone) -> None:
    async def scenario() -> tuple[list[str], Sink]:
        sink = Sink()
        transport = await started(phone.transport(poll_interval=3600), sink)
        try:
            delivered = await transport.submit([ANA], "one")
            phone.inject_report(ANA, 255, 0x20)  # still trying: no change
            phone.inject_report(ANA, 255, 0x00)  # the dummy phone's reference is 255
            await transport.poll()
            failed = await transport.submit([BO], "two")
            phone.inject_report(BO, 255, 0x46)
            await transport.poll()
        finally:
            await transport.stop()
        return [delivered, failed], sink

    (delivered, failed), sink = asyncio.run(scenario())
    assert sink.reports == [
        (delivered, "delivered", None),
        (failed, "failed", "Not delivered: it expired before it could be delivered."),
    ]
    assert phone.stored() == [], "reports are deleted too"


def test_no_modem_is_a_transient_start_error(tmp_path: Path) -> None:
    settings = GammuSettings.from_table(
        {"device": str(tmp_path / "missing" / "ttyUSB9"), "connection": "none", "model": "dummy"}
    )

    async def scenario() -> None:
        transport = GammuTransport(settings)
        with pytest.raises(TransportError) as caught:
            await transport.start(Sink())
        await transport.stop()
        assert not caught.value.permanent

    asyncio.run(scenario())


@pytest.mark.parametrize(
    ("name", "permanent"),
    [
        ("ERR_TIMEOUT", False),
        ("ERR_DEVICENOTEXIST", False),
        ("ERR_NOSIM", False),
        ("ERR_UNKNOWN", False),
        ("ERR_INVALIDDATA", True),
        ("ERR_EMPTYSMSC", True),
        ("ERR_NOTSUPPORTED", True),
        ("ERR_BUG", False),
    ],
)
def test_classify(name: str, permanent: bool) -> None:
    exc = classify(error(name))
    assert exc.permanent is permanent
    assert exc.message.endswith(f"({name[4:]} in SendSMS)")
    assert exc.message[0].isupper()


@pytest.mark.parametrize(
    ("table", "match"),
    [
        ({}, "needs device"),
        ({"device": "/dev/x", "baud": 9600}, "no setting 'baud'"),
        ({"device": "/dev/x", "max_parts": "ten"}, "wrong type"),
        ({"device": "/dev/x", "delivery_reports": 1}, "wrong type"),
        ({"device": "/dev/x", "max_parts": 0}, "max_parts"),
        ({"device": "/dev/x", "poll_interval": 0}, "poll_interval"),
    ],
)
def test_bad_settings(table: dict[str, Any], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        GammuSettings.from_table(table)


def test_settings_never_show_the_pin() -> None:
    settings = GammuSettings.from_table({"device": "/dev/ttyUSB0", "pin": "1234"})
    assert "1234" not in repr(settings)


# ------------------------------------------------------------ helpers


async def _outbox(
    tmp_path: Path,
    settings: GammuSettings,
    machine: Any,
    texts: list[tuple[str, str]],
    until: tuple[str, ...],
) -> tuple[Store, list[int]]:
    store = Store(connect(tmp_path / "t.db"), time.time)
    transport = GammuTransport(settings, machine=lambda: machine)
    await transport.start(Sink())
    worker = OutboxWorker(store, transport, lambda: None, random.Random(3), backoff_first=0.01)
    ids = [store.add_outgoing(None, None, [to], body, 3600).msg_id for to, body in texts]
    task = asyncio.create_task(worker.run())
    worker.wake()
    try:
        for _ in range(300):
            if all(store.message(i).state in until for i in ids):
                break
            await asyncio.sleep(0.01)
    finally:
        task.cancel()
        await transport.stop()
    return store, ids
