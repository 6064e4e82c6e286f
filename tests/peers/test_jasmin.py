"""The SMPP harness itself, driven by the spec-written raw ESME (tests/peers/raw_esme.py):
the simulator alone, then Jasmin in front of it, as textport's ESME will see them.
"""

from __future__ import annotations

import asyncio
import os
import time

import pytest

from tests.peers.jasmin import JasminStack, PeerError, SmscSimulator
from tests.peers.raw_esme import RawEsme, SmppError

TIMEOUT = 30.0 * float(os.environ.get("TEXTPORT_TIMEOUT_FACTOR", "1"))
BO = "+447700900123"
LONG_UCS2 = "Привет из сети! Всё хорошо 🙂 " * 6


def ucs2_parts(text: str) -> list[bytes]:
    """``text`` as the simulator must split it: UTF-16BE, 67 units a part."""
    data = text.encode("utf-16-be")
    parts, at = [], 0
    while at < len(data):
        end = at + 134
        if end < len(data) and 0xD8 <= data[end - 2] <= 0xDB:
            end -= 2
        parts.append(data[at:end])
        at = end
    return parts


async def bound(port: int, system_id: str = "test", password: str = "secret") -> RawEsme:
    esme = RawEsme()
    await esme.bind("127.0.0.1", port, system_id, password)
    return esme


def test_simulator_takes_submits_sends_receipts_and_mo_texts(smsc: SmscSimulator) -> None:
    async def main() -> None:
        esme = await bound(smsc.port)
        try:
            assert smsc.binds() == ["transceiver"]
            first = await esme.submit("+15550100", BO, b"Hello")
            second = await esme.submit("+15550100", BO, b"Again", registered_delivery=0)
            assert first != second
            journal = smsc.submits()
            assert [(s.message_id, s.text, s.destination) for s in journal] == [
                (first, "Hello", BO[1:]),
                (second, "Again", BO[1:]),
            ]
            assert [s.registered_delivery for s in journal] == [1, 0]

            smsc.receipt(first, "UNDELIV")
            (receipt,) = await esme.wait_for(1, TIMEOUT)
            assert receipt.is_receipt
            assert receipt.receipt_fields["id"] == first
            assert receipt.receipt_fields["stat"] == "UNDELIV"

            assert smsc.send_mo(BO, "Hi, it's Bo") == 1
            parts = smsc.send_mo(BO, LONG_UCS2, coding="ucs2")
            expected = ucs2_parts(LONG_UCS2)
            assert parts == len(expected) > 1
            delivered = await esme.wait_for(2 + parts, TIMEOUT)
            single, *multi = delivered[1:]
            assert (single.source, single.source_ton, single.short_message) == (
                BO[1:],
                1,
                b"Hi, it's Bo",
            )
            assert [d.data_coding for d in multi] == [8] * parts
            assert all(d.esm_class & 0x40 for d in multi)
            headers = [d.short_message[:6] for d in multi]
            assert [(h[:3], h[4], h[5]) for h in headers] == [
                (b"\x05\x00\x03", parts, n) for n in range(1, parts + 1)
            ]
            assert [d.short_message[6:] for d in multi] == expected

            with pytest.raises(PeerError, match="that GSM 03\\.38 and ASCII share"):
                smsc.send_mo(BO, "Grüße")
            with pytest.raises(PeerError, match="no submit_sm"):
                smsc.receipt("nope")
        finally:
            await esme.close()

    asyncio.run(main())


def test_simulator_killed_and_restarted_keeps_its_port_and_journal(smsc: SmscSimulator) -> None:
    async def main() -> None:
        esme = await bound(smsc.port)
        before = await esme.submit("+15550100", BO, b"before the crash")
        port = smsc.port
        smsc.kill()
        with pytest.raises(SmppError):
            await esme.submit("+15550100", BO, b"into the void")
        await esme.close()

        smsc.start()
        assert smsc.port == port
        esme = await bound(smsc.port)
        try:
            after = await esme.submit("+15550100", BO, b"after the restart")
            assert [s.text for s in smsc.submits()] == ["before the crash", "after the restart"]
            smsc.receipt(before)  # a receipt for a text taken before the crash
            (receipt,) = await esme.wait_for(1, TIMEOUT)
            assert receipt.receipt_fields["id"] == before != after
            assert smsc.drop() == 1
            with pytest.raises(SmppError):
                await esme.submit("+15550100", BO, b"dropped")
        finally:
            await esme.close()

    asyncio.run(main())


def test_jasmin_routes_texts_receipts_and_mo_between_esme_and_simulator(
    jasmin: JasminStack,
) -> None:
    esme_at = jasmin.esme
    smsc = jasmin.smsc

    async def main() -> None:
        with pytest.raises(SmppError, match="refused"):
            await bound(esme_at.port, esme_at.system_id, "wrong")
        esme = await bound(esme_at.port, esme_at.system_id, esme_at.password)
        try:
            taken = len(smsc.submits())
            smsc.auto_receipts("DELIVRD")
            message_id = await esme.submit("+15550100", BO, b"Hello through Jasmin")
            receipt = (await esme.wait_for(1, TIMEOUT))[0]
            assert receipt.is_receipt
            assert receipt.receipt_fields["id"] == message_id
            assert receipt.receipt_fields["stat"] == "DELIVRD"
            assert receipt.tlvs[0x001E].rstrip(b"\0").decode() == message_id
            (submit,) = smsc.submits()[taken:]
            assert (submit.text, submit.destination) == ("Hello through Jasmin", BO[1:])

            parts = smsc.send_mo(BO, LONG_UCS2, coding="ucs2")
            delivered = await esme.wait_for(1 + parts, TIMEOUT)
            mo = [d for d in delivered if not d.is_receipt]
            # Jasmin hands the parts on with their headers, not always in order.
            mo.sort(key=lambda d: d.short_message[5])
            assert [d.short_message[6:] for d in mo] == ucs2_parts(LONG_UCS2)
            assert {d.source for d in mo} == {BO[1:]}
        finally:
            await esme.close()

    asyncio.run(main())


def test_jasmin_killed_and_restarted_serves_the_same_user_and_route(jasmin: JasminStack) -> None:
    esme_at = jasmin.esme

    async def main() -> None:
        esme = await bound(esme_at.port, esme_at.system_id, esme_at.password)
        jasmin.kill_jasmind()
        with pytest.raises(SmppError):
            await esme.submit("+15550100", BO, b"into the void")
        await esme.close()
        started = time.monotonic()
        jasmin.restart_jasmind()
        restart = time.monotonic() - started
        esme = await bound(esme_at.port, esme_at.system_id, esme_at.password)
        try:
            taken = len(jasmin.smsc.submits())
            await esme.submit("+15550100", BO, b"after the restart")
            deadline = time.monotonic() + TIMEOUT
            while len(jasmin.smsc.submits()) == taken:
                assert time.monotonic() < deadline, "Jasmin never forwarded the text"
                await asyncio.sleep(0.05)
            assert [s.text for s in jasmin.smsc.submits()[taken:]] == ["after the restart"]
        finally:
            await esme.close()
        assert restart < TIMEOUT

    asyncio.run(main())


def test_simulator_killed_behind_jasmin_gets_the_text_once_it_is_back(
    jasmin: JasminStack,
) -> None:
    esme_at = jasmin.esme
    smsc = jasmin.smsc

    async def main() -> None:
        esme = await bound(esme_at.port, esme_at.system_id, esme_at.password)
        try:
            taken = len(smsc.submits())
            smsc.kill()
            # Jasmin queues it in RabbitMQ while its connector reconnects.
            await esme.submit("+15550100", BO, b"while the network was down")
            await asyncio.sleep(0.5)
            assert len(smsc.submits()) == taken
            smsc.start()
            jasmin.wait_connector_bound()
            deadline = time.monotonic() + TIMEOUT
            while len(smsc.submits()) == taken:
                assert time.monotonic() < deadline, "the queued text never reached the SMSC"
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.5)
            assert [s.text for s in smsc.submits()[taken:]] == ["while the network was down"]
        finally:
            await esme.close()

    asyncio.run(main())
