"""The SMPP transport against Jasmin 0.11.0 (RabbitMQ, Redis) routed to its SMSC
simulator: the acceptance of issue 5's SMPP part.

Texts go textport → Jasmin → simulator, receipts come back the same way (Jasmin's own
message ids, its own ``deliver_sm`` receipts), MO texts come simulator → Jasmin →
textport. Then jasmind, the SMSC textport is bound to, is killed and restarted, and the
simulator behind it too: textport binds again and nothing is lost or sent twice.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from collections.abc import Callable

from tests.peers.jasmin import JasminStack, Submit
from textport.errors import TransportError
from textport.transports import gsm
from textport.transports.base import Incoming, ReportState
from textport.transports.smpp import SmppSettings, SmppTransport

TIMEOUT = 30.0 * float(os.environ.get("TEXTPORT_TIMEOUT_FACTOR", "1"))
ANA, BO = "+15550100", "+447700900123"
LONG_UCS2 = "Привет, как дела? Всё хорошо 🙂 " * 8


class Sink:
    def __init__(self) -> None:
        self.texts: list[Incoming] = []
        self.reports: list[tuple[str, ReportState, str | None]] = []

    def incoming(self, sms: Incoming) -> None:
        self.texts.append(sms)

    def report(self, carrier_ref: str, state: ReportState, reason: str | None) -> None:
        self.reports.append((carrier_ref, state, reason))


async def until(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + TIMEOUT
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


def transport_for(jasmin: JasminStack) -> SmppTransport:
    esme = jasmin.esme
    table = {
        "host": esme.host,
        "port": esme.port,
        "system_id": esme.system_id,
        "password": esme.password,
        "source_addr": BO,
        "reconnect_min": 0.2,
        "reconnect_max": 1,
        "connect_timeout": 5,
    }
    return SmppTransport(SmppSettings.from_table(table, "GB"), rng=random.Random(1))


def text_of(submits: list[Submit]) -> str:
    """What the recipient's phone shows for these parts, in their concatenation order."""
    ordered = sorted(submits, key=lambda s: s.concat[2] if s.concat else 0)
    return "".join(
        gsm.from_septets(s.short_message[len(s.udh) :]) if s.data_coding == 0 else s.text
        for s in ordered
    )


def test_gsm7_and_four_part_ucs2_are_delivered_and_mo_comes_in(jasmin: JasminStack) -> None:
    smsc = jasmin.smsc
    long_mo = "Всё хорошо, спасибо! " * 9

    async def main() -> None:
        sink = Sink()
        transport = transport_for(jasmin)
        await transport.start(sink)
        try:
            taken = len(smsc.submits())
            await asyncio.to_thread(smsc.auto_receipts, "DELIVRD")
            short = await transport.submit([ANA], "Hello through Jasmin")
            long = await transport.submit([ANA], LONG_UCS2)
            await until(lambda: len(sink.reports) == 2, "both texts' receipts")
            assert sorted(sink.reports) == sorted(
                [(short, "delivered", None), (long, "delivered", None)]
            )
            await until(lambda: len(smsc.submits()) == taken + 5, "five SMS at the SMSC")
            submits = smsc.submits()[taken:]
            singles = [s for s in submits if s.concat is None]
            parts = [s for s in submits if s.concat is not None]
            assert [(s.destination, s.data_coding) for s in singles] == [(ANA[1:], 0)]
            assert text_of(singles) == "Hello through Jasmin"
            assert sorted(s.concat[1:] for s in parts if s.concat) == [(4, n) for n in (1, 2, 3, 4)]
            assert {s.data_coding for s in parts} == {8}
            assert text_of(parts) == LONG_UCS2

            await asyncio.to_thread(smsc.send_mo, BO, "Hi from the network")
            await asyncio.to_thread(smsc.send_mo, ANA, long_mo, "1234", "ucs2")
            await until(lambda: len(sink.texts) == 2, "both MO texts")
        finally:
            await asyncio.to_thread(smsc.auto_receipts, None)
            await transport.stop()
        texts = {sms.body: sms for sms in sink.texts}
        assert texts["Hi from the network"].sender == BO
        assert (texts[long_mo].sender, texts[long_mo].parts) == (ANA, 3)

    asyncio.run(main())


def test_killing_jasmin_and_the_smsc_loses_nothing_and_sends_nothing_twice(
    jasmin: JasminStack,
) -> None:
    smsc = jasmin.smsc

    async def main() -> None:
        sink = Sink()
        transport = transport_for(jasmin)
        await transport.start(sink)
        try:
            taken = len(smsc.submits())
            await transport.submit([ANA], "one")
            await asyncio.to_thread(jasmin.kill_jasmind)
            try:
                await transport.submit([ANA], "into the void")
            except TransportError as exc:
                assert not exc.permanent, exc.message  # nothing went out: retried later
            else:
                raise AssertionError("a text was taken by a killed jasmind")
            await asyncio.to_thread(jasmin.restart_jasmind)
            await until(lambda: transport.binds == 2, "textport bound again to jasmind")
            await transport.submit([ANA], "two")
            await asyncio.to_thread(smsc.send_mo, BO, "after the restart")
            await until(lambda: len(sink.texts) == 1, "the MO text after the restart")

            # The network behind Jasmin goes away: Jasmin queues, then forwards once.
            await asyncio.to_thread(smsc.kill)
            await transport.submit([ANA], "three")
            await asyncio.to_thread(smsc.start)
            await asyncio.to_thread(jasmin.wait_connector_bound)
            await until(lambda: len(smsc.submits()) == taken + 3, "three texts at the SMSC")
            await asyncio.sleep(1.0)  # time enough for a duplicate to show
            assert [text_of([s]) for s in smsc.submits()[taken:]] == ["one", "two", "three"]
        finally:
            await transport.stop()
        assert [sms.body for sms in sink.texts] == ["after the restart"]

    asyncio.run(main())
