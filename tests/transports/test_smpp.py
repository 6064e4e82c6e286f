"""The SMPP transport against Jasmin's SMSC simulator (a real Twisted SMSC, bound to
directly) and, for the faults the simulator cannot make, against a scripted SMSC.

What was sent is read back from the simulator's journal of every ``submit_sm``; MO texts
and receipts are triggered through its control channel (tests/peers/smsc_runner.py).
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from collections.abc import Callable, Coroutine
from typing import Any

import pytest

from tests.peers.jasmin import SmscSimulator
from tests.transports.scripted_smsc import ScriptedSmsc
from textport.errors import ConfigError, TransportError
from textport.transports import gsm
from textport.transports.base import Incoming, ReportState
from textport.transports.smpp import SmppSettings, SmppTransport, from_config, pdu, status

TIMEOUT = 20.0 * float(os.environ.get("TEXTPORT_TIMEOUT_FACTOR", "1"))
ANA, BO = "+15550100", "+447700900123"
LONG_UCS2 = "Привет, как дела? Всё хорошо 🙂 " * 8  # 4 parts of UCS-2
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


async def until(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + TIMEOUT
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


def settings(port: int, **overrides: Any) -> SmppSettings:
    table = {
        "host": "127.0.0.1",
        "port": port,
        "system_id": "textport",
        "password": "secret",
        "source_addr": BO,
        "enquire_link_interval": 5,
        "response_timeout": 2,
        "connect_timeout": 2,
        "reconnect_min": 0.05,
        "reconnect_max": 0.2,
        **overrides,
    }
    return SmppSettings.from_table(table, "GB")


def with_scripted(scenario: Callable[[ScriptedSmsc], Coroutine[Any, Any, None]]) -> None:
    """Run ``scenario`` with a scripted SMSC on a fresh event loop."""

    async def main() -> None:
        smsc = ScriptedSmsc()
        await smsc.start()
        try:
            await scenario(smsc)
        finally:
            await smsc.stop()

    asyncio.run(main())


async def started(port: int, sink: Sink, **overrides: Any) -> SmppTransport:
    transport = SmppTransport(settings(port, **overrides), rng=random.Random(5))
    await transport.start(sink)
    return transport


def sent_text(submit: Any) -> str:
    """A part as the recipient's phone shows it (GSM-7 septets or UCS-2)."""
    data = submit.short_message[len(submit.udh) :]
    return gsm.from_septets(data) if submit.data_coding == 0 else data.decode("utf-16-be")


# ------------------------------------------------------------ against the simulator


def test_gsm7_and_four_part_ucs2_texts_are_sent_and_delivered(smsc: SmscSimulator) -> None:
    sim = smsc

    async def scenario() -> None:
        sink = Sink()
        transport = await started(sim.port, sink)
        try:
            await asyncio.to_thread(sim.auto_receipts, "DELIVRD")
            short = await transport.submit([ANA], "Hello from textport")
            long = await transport.submit([BO], LONG_UCS2)
            extended = await transport.submit([ANA], LONG_GSM)
            await until(lambda: len(sink.reports) == 3, "three receipts")
        finally:
            await transport.stop()
        assert sorted(sink.reports) == sorted(
            [(short, "delivered", None), (long, "delivered", None), (extended, "delivered", None)]
        )
        submits = sim.submits()
        assert len(submits) == 1 + 4 + 2
        first, ucs2, gsm7 = submits[0], submits[1:5], submits[5:]
        assert (first.destination, first.source, first.data_coding) == (
            "15550100",
            "447700900123",
            0,
        )
        assert first.registered_delivery == 1
        assert sent_text(first) == "Hello from textport" and first.concat is None
        assert {s.data_coding for s in ucs2} == {8}
        assert [s.concat[1:] for s in ucs2 if s.concat] == [(4, 1), (4, 2), (4, 3), (4, 4)]
        assert len({s.concat[0] for s in ucs2 if s.concat}) == 1
        assert "".join(sent_text(s) for s in ucs2) == LONG_UCS2
        assert list(gsm.segment(LONG_UCS2).parts) == [sent_text(s) for s in ucs2]
        assert {s.data_coding for s in gsm7} == {0}
        assert "".join(sent_text(s) for s in gsm7) == LONG_GSM
        assert short == f"smpp:{first.message_id}" and long == f"smpp:{ucs2[0].message_id}"

    asyncio.run(scenario())


def test_a_failed_receipt_fails_the_text_with_the_reason(smsc: SmscSimulator) -> None:
    sim = smsc

    async def scenario() -> None:
        sink = Sink()
        transport = await started(sim.port, sink)
        try:
            ref = await transport.submit([ANA], LONG_UCS2)
            ids = [s.message_id for s in sim.submits()]
            await asyncio.to_thread(sim.receipt, ids[0], "DELIVRD")
            await asyncio.to_thread(sim.receipt, ids[1], "UNDELIV")
            await until(lambda: bool(sink.reports), "a report")
            await asyncio.to_thread(sim.receipt, ids[2], "DELIVRD")
            await asyncio.sleep(0.2)
        finally:
            await transport.stop()
        assert sink.reports == [(ref, "failed", "Not delivered: the number cannot be reached.")]

    asyncio.run(scenario())


def test_mo_texts_single_and_multipart_reach_the_sink(smsc: SmscSimulator) -> None:
    sim = smsc

    async def scenario() -> None:
        sink = Sink()
        transport = await started(sim.port, sink)
        long_gsm = "The quick brown fox jumps over the lazy dog. " * 8
        long_ucs2 = "Всё хорошо, спасибо! " * 9
        try:
            assert await asyncio.to_thread(sim.send_mo, BO, "Hi there") == 1
            assert await asyncio.to_thread(sim.send_mo, ANA, long_gsm) == 3
            assert (
                await asyncio.to_thread(sim.send_mo, "07700900123", long_ucs2, "1234", "ucs2") == 3
            )
            await until(lambda: len(sink.texts) == 3, "three texts")
        finally:
            await transport.stop()
        texts = {sms.body: sms for sms in sink.texts}
        assert (texts["Hi there"].sender, texts["Hi there"].parts) == (BO, 1)
        assert (texts[long_gsm].sender, texts[long_gsm].parts, texts[long_gsm].missing) == (
            ANA,
            3,
            (),
        )
        # A national number (TON unknown) is read in the host's region, GB.
        assert (texts[long_ucs2].sender, texts[long_ucs2].parts) == (BO, 3)
        assert len({sms.source_id for sms in sink.texts}) == 3

    asyncio.run(scenario())


def test_a_flood_of_mo_texts_is_handed_over_completely_each_once(smsc: SmscSimulator) -> None:
    sim = smsc
    flood = [f"flood {i}" + (" — long one " * 8 if i % 10 == 0 else "") for i in range(300)]

    async def scenario() -> None:
        sink = Sink()
        transport = await started(sim.port, sink)

        def send_all() -> None:
            for i, body in enumerate(flood):
                sim.send_mo(f"+1555010{i % 10:02d}", body, "1234", "ucs2" if "—" in body else "gsm")

        try:
            await asyncio.gather(
                asyncio.to_thread(send_all), until(lambda: len(sink.texts) >= 300, "300 texts")
            )
            await asyncio.sleep(0.3)  # nothing more may come: each text once
        finally:
            await transport.stop()
        assert sorted(sms.body for sms in sink.texts) == sorted(flood)
        assert len({sms.source_id for sms in sink.texts}) == 300
        assert all(sms.parts == (2 if "—" in sms.body else 1) for sms in sink.texts)

    asyncio.run(scenario())


def test_a_killed_smsc_is_reconnected_and_nothing_is_lost_or_sent_twice(
    smsc: SmscSimulator,
) -> None:
    sim = smsc

    async def scenario() -> None:
        sink = Sink()
        transport = await started(sim.port, sink)
        try:
            await transport.submit([ANA], "before")
            await asyncio.to_thread(sim.kill)
            with pytest.raises(TransportError) as refused:
                await transport.submit([ANA], "while down")
            assert not refused.value.permanent, "nothing went out: the outbox may retry"
            await asyncio.to_thread(sim.start)
            await until(lambda: transport.binds == 2, "a second bind")
            await transport.submit([ANA], "after")
            await asyncio.to_thread(sim.send_mo, BO, "back again")
            await until(lambda: len(sink.texts) == 1, "the text after the restart")
            assert await asyncio.to_thread(sim.drop) == 1
            await until(lambda: transport.binds == 3, "a bind after the drop")
            await transport.submit([ANA], "after the drop")
        finally:
            await transport.stop()
        assert [sent_text(s) for s in sim.submits()] == ["before", "after", "after the drop"]
        assert [sms.body for sms in sink.texts] == ["back again"]

    asyncio.run(scenario())


# ------------------------------------------------------------ faults, scripted


def test_a_refused_password_stops_start_with_a_reason() -> None:
    async def scenario(scripted: ScriptedSmsc) -> None:
        scripted.bind_status = status.ESME_RINVPASWD
        transport = SmppTransport(settings(scripted.port))
        with pytest.raises(TransportError) as refused:
            await transport.start(Sink())
        assert refused.value.permanent
        assert "refused the password" in refused.value.message
        assert "secret" not in refused.value.message and "secret" not in repr(transport.settings)

    with_scripted(scenario)


def test_an_unreachable_smsc_is_retried_and_texts_wait() -> None:
    async def scenario() -> None:
        scripted = ScriptedSmsc()
        await scripted.start()
        port = scripted.port
        await scripted.stop()
        transport = await started(port, Sink(), connect_timeout=0.2)
        try:
            with pytest.raises(TransportError, match="Not connected to the SMSC") as down:
                await transport.submit([ANA], "hello")
            assert not down.value.permanent
            scripted = ScriptedSmsc(port=port)
            await scripted.start()
            await until(lambda: transport.binds == 1, "the bind once the SMSC is up")
            assert (await transport.submit([ANA], "hello")).startswith("smpp:")
        finally:
            await transport.stop()
            await scripted.stop()

    asyncio.run(scenario())


def test_throttling_is_transient_then_waited_out_on_later_parts() -> None:
    async def scenario(scripted: ScriptedSmsc) -> None:
        transport = await started(scripted.port, Sink())
        try:
            scripted.submit_statuses = [status.ESME_RTHROTTLED]
            with pytest.raises(TransportError, match="throttled") as first:
                await transport.submit([ANA], LONG_UCS2)
            assert not first.value.permanent, "nothing went out: retried later by the outbox"
            assert len(scripted.submits) == 1
            scripted.submits.clear()
            scripted.submit_statuses = [0, status.ESME_RMSGQFUL, status.ESME_RTHROTTLED, 0, 0, 0]
            await transport.submit([ANA], LONG_UCS2)
        finally:
            await transport.stop()
        numbers = [gsm.parse_concat(s.short_message[:6]) for s in scripted.submits]
        assert [c.number for c in numbers if c] == [1, 2, 2, 2, 3, 4]

    with_scripted(scenario)


def test_a_refused_later_part_fails_the_text_saying_so() -> None:
    async def scenario(scripted: ScriptedSmsc) -> None:
        transport = await started(scripted.port, Sink(), throttle_wait=0.3)
        try:
            scripted.submit_statuses = [0, 0x0B]
            with pytest.raises(TransportError) as refused:
                await transport.submit([ANA], LONG_UCS2)
            assert refused.value.permanent
            assert refused.value.message.startswith("Only 1 of 4 SMS of this text went out")
            assert "ESME_RINVDSTADR" in refused.value.message
            scripted.submit_statuses = [0, *[status.ESME_RTHROTTLED] * 50]
            with pytest.raises(TransportError, match="Only 1 of 4") as throttled:
                await transport.submit([ANA], LONG_UCS2)
            assert throttled.value.permanent
            scripted.submit_statuses = [0x0B]
            with pytest.raises(TransportError, match="recipient's number") as number:
                await transport.submit([ANA], "hello")
            assert number.value.permanent
        finally:
            await transport.stop()

    with_scripted(scenario)


def test_an_unanswered_submit_is_may_or_may_not() -> None:
    async def scenario(scripted: ScriptedSmsc) -> None:
        transport = await started(scripted.port, Sink(), response_timeout=0.3)
        try:
            scripted.submit_statuses = [None]
            with pytest.raises(TransportError, match="may or may not have gone out") as unknown:
                await transport.submit([ANA], "hello")
            assert unknown.value.permanent, "a retry could deliver it twice"
        finally:
            await transport.stop()
        assert len(scripted.submits) == 1

    with_scripted(scenario)


def test_deliver_sm_is_answered_only_after_the_host_stored_it() -> None:
    async def scenario(scripted: ScriptedSmsc) -> None:
        sink = Sink()
        transport = await started(scripted.port, sink)
        udh = [gsm.concat_udh(gsm.Concat(7, 2, n)) for n in (1, 2)]
        parts = [gsm.to_septets(t) for t in ("first half, ", "second half")]
        try:
            one = await scripted.deliver(
                pdu.DeliverSm(
                    sequence=0,
                    source_addr="447700900123",
                    source_addr_ton=1,
                    esm_class=pdu.ESM_UDHI,
                    short_message=udh[0] + parts[0],
                )
            )
            await asyncio.sleep(0.3)
            assert not one.done(), "part 1 is answered only once the whole text is stored"
            two = await scripted.deliver(
                pdu.DeliverSm(
                    sequence=0,
                    source_addr="447700900123",
                    source_addr_ton=1,
                    esm_class=pdu.ESM_UDHI,
                    short_message=udh[1] + parts[1],
                )
            )
            answers = await asyncio.wait_for(asyncio.gather(one, two), TIMEOUT)
            assert [a.status for a in answers] == [0, 0]
            assert [sms.body for sms in sink.texts] == ["first half, second half"]
            sink.fail = True
            failed = await scripted.deliver(
                pdu.DeliverSm(sequence=0, source_addr="15550100", short_message=b"lost?")
            )
            answer = await asyncio.wait_for(failed, TIMEOUT)
            assert answer.status == status.ESME_RX_T_APPN, "the SMSC keeps it and tries again"
        finally:
            await transport.stop()

    with_scripted(scenario)


def test_parts_are_answered_after_part_ack_wait_and_stored_partial_later() -> None:
    async def scenario(scripted: ScriptedSmsc) -> None:
        sink = Sink()
        transport = await started(scripted.port, sink, part_ack_wait=0.2, reassembly_timeout=1)
        try:
            one = await scripted.deliver(
                pdu.DeliverSm(
                    sequence=0,
                    source_addr="15550100",
                    esm_class=pdu.ESM_UDHI,
                    short_message=gsm.concat_udh(gsm.Concat(9, 3, 2)) + b"middle",
                )
            )
            assert (await asyncio.wait_for(one, TIMEOUT)).status == 0
            assert sink.texts == []
            await until(lambda: len(sink.texts) == 1, "the partial text")
        finally:
            await transport.stop()
        assert (sink.texts[0].body, sink.texts[0].missing, sink.texts[0].parts) == (
            "middle",
            (1, 3),
            3,
        )

    with_scripted(scenario)


def test_receipts_match_with_sar_and_malformed_pdus_are_nacked() -> None:
    async def scenario(scripted: ScriptedSmsc) -> None:
        sink = Sink()
        transport = await started(scripted.port, sink, concatenation="sar")
        try:
            ref = await transport.submit([ANA], LONG_GSM)
            tags = [{t.tag: t.value for t in s.tlvs} for s in scripted.submits]
            assert [t[pdu.SAR_SEGMENT_SEQNUM] for t in tags] == [b"\x01", b"\x02"]
            assert {t[pdu.SAR_TOTAL_SEGMENTS] for t in tags} == {b"\x02"}
            assert {s.esm_class for s in scripted.submits} == {0}
            scripted.send_raw(bytes.fromhex("0000001400000005000000000000006341424344"))
            for message_id in ("1000", "3E9"):  # the second reported in hexadecimal
                answer = await scripted.deliver(
                    pdu.DeliverSm(
                        sequence=0,
                        esm_class=pdu.ESM_DELIVERY_RECEIPT,
                        short_message=f"id:{message_id} stat:DELIVRD err:000".encode(),
                    )
                )
                assert (await asyncio.wait_for(answer, TIMEOUT)).status == 0
        finally:
            await transport.stop()
        nacks = [m for m in scripted.received if isinstance(m, pdu.GenericNack)]
        assert [(n.sequence, n.status) for n in nacks] == [(0x63, status.ESME_RINVCMDLEN)]
        assert sink.reports == [(ref, "delivered", None)]

    with_scripted(scenario)


def test_an_unanswered_enquire_link_reconnects() -> None:
    async def scenario(scripted: ScriptedSmsc) -> None:
        transport = await started(
            scripted.port, Sink(), enquire_link_interval=1, response_timeout=0.3
        )
        try:
            scripted.answer_enquire_link = False
            await until(lambda: transport.binds == 2, "a new bind after the silent link")
            assert any(isinstance(m, pdu.EnquireLink) for m in scripted.received)
        finally:
            await transport.stop()
        assert isinstance(scripted.received[-1], pdu.Unbind), "stop says goodbye"

    with_scripted(scenario)


# ------------------------------------------------------------ settings


def test_settings_are_checked_with_clear_messages() -> None:
    good = {"host": "smsc", "system_id": "tp", "source_addr": BO}
    transport = from_config(good, "GB", time.time)
    caps = transport.capabilities
    assert (caps.delivery_reports, caps.mms, caps.incoming, caps.max_parts) == (
        True,
        False,
        "events",
        10,
    )
    cases: list[tuple[dict[str, Any], str]] = [
        ({"system_id": "tp", "source_addr": BO}, "needs host"),
        ({**good, "pasword": "x"}, "no setting 'pasword'"),
        ({**good, "port": "2775"}, "port has the wrong type"),
        ({**good, "delivery_reports": 1}, "delivery_reports has the wrong type"),
        ({**good, "max_parts": True}, "max_parts has the wrong type"),
        ({**good, "password": "123456789"}, "password is at most 8 ASCII characters"),
        ({**good, "concatenation": "payload"}, 'concatenation is "udh" or "sar"'),
        ({**good, "port": 0}, "port is 1 to 65535"),
        ({**good, "reconnect_min": 5, "reconnect_max": 1}, "at least reconnect_min"),
    ]
    for table, message in cases:
        with pytest.raises(ConfigError, match=message):
            SmppSettings.from_table(table)
    assert "123456" not in repr(SmppSettings.from_table({**good, "password": "123456"}))
