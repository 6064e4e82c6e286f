"""The host with the SMPP transport, bound to Jasmin 0.11.0 (RabbitMQ, Redis) routed to
Jasmin's SMSC simulator: everything real, as tests/peers/jasmin.py starts it.

- a GSM-7 text (with extension-table characters) and a 4-part UCS-2 text go out as the
  simulator's journal shows, and their receipts make them ``delivered`` in the store;
- MO texts (single GSM, 3-part UCS-2) reach the store and its event log;
- jasmind (the SMSC the ESME is bound to) killed and restarted: the ESME binds again,
  texts typed meanwhile go out once each, MO texts flow again; the simulator behind
  Jasmin killed and restarted: the text queued in Jasmin meanwhile arrives once.

The journal is decoded here, independently of textport's own GSM-7 and UDH code.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from tests.peers.jasmin import JasminStack, Submit
from textport.host.daemon import Host, HostSettings
from textport.protocol import messages as wire
from textport.transports.smpp import from_config

TIMEOUT = 60.0 * float(os.environ.get("TEXTPORT_TIMEOUT_FACTOR", "1"))
NO_RELAY = "ws://127.0.0.1:9/v1"  # nothing listens: the host keeps retrying, quietly
OWN = "+447700900001"
ANA, BO = "+15550100", "+447700900123"
GSM_TEXT = "Meet at {the} [usual] place ~ 7pm | bring €20 ^_^ \\o/"
LONG_UCS2 = "Привет, как дела? Всё хорошо 🙂 " * 8  # 4 parts of UCS-2
MO_UCS2 = "Ответ из сети: всё получил 🙂 " * 6  # 3 parts

GSM_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENSION = {
    0x0A: "\f",
    0x14: "^",
    0x28: "{",
    0x29: "}",
    0x2F: "\\",
    0x3C: "[",
    0x3D: "~",
    0x3E: "]",
    0x40: "|",
    0x65: "€",
}


def gsm_decode(septets: bytes) -> str:
    """GSM 03.38 default alphabet, one septet per octet (as SMPP carries it)."""
    out, escape = [], False
    for septet in septets:
        if escape:
            out.append(GSM_EXTENSION[septet])
            escape = False
        elif septet == 0x1B:
            escape = True
        else:
            out.append(GSM_BASIC[septet])
    return "".join(out)


def text_of(parts: list[Submit]) -> str:
    """The text a group of submits carries, parts put in order by their UDH."""
    ordered = sorted(parts, key=lambda s: s.concat[2] if s.concat else 0)
    return "".join(
        gsm_decode(s.short_message[len(s.udh) :]) if s.data_coding == 0 else s.text for s in ordered
    )


def texts_sent(submits: list[Submit]) -> list[str]:
    """Every text in the journal, long ones reassembled by their concatenation reference."""
    texts: list[str] = []
    groups: dict[tuple[str, int, int], list[Submit]] = {}
    for submit in submits:
        if submit.concat is None:
            texts.append(text_of([submit]))
            continue
        ref, total, _seq = submit.concat
        group = groups.setdefault((submit.destination, ref, total), [])
        group.append(submit)
        if len(group) == total:
            texts.append(text_of(group))
            del groups[submit.destination, ref, total]
    assert not groups, f"parts of texts never completed: {groups}"
    return texts


class Rig:
    """The host, in this event loop, with the SMPP transport bound to Jasmin."""

    def __init__(self, host: Host, jasmin: JasminStack) -> None:
        self.host = host
        self.jasmin = jasmin

    def send(self, to: str, body: str) -> int:
        """Queue a text as a paired device's ``send`` would."""
        accepted = self.host.store.add_outgoing(None, None, [to], body, 3600)
        self.host.outbox.wake()
        return accepted.msg_id

    def state(self, msg_id: int) -> str:
        row = self.host.store.db.execute(
            "SELECT state FROM messages WHERE id = ?", (msg_id,)
        ).fetchone()
        return str(row[0])

    def states(self, ids: list[int]) -> list[str]:
        return [self.state(msg_id) for msg_id in ids]

    def received(self) -> list[tuple[str, str, int]]:
        """(sender, body, parts) of every incoming text, from the events log."""
        events = self.host.store.events_since(0, 100_000)
        return [
            (e.msg.sender or e.msg.peers[0], e.msg.body, e.msg.parts)
            for e in events
            if isinstance(e, wire.MessageEvent) and e.msg.dir == "in"
        ]

    def status_events(self, msg_id: int) -> list[str]:
        events = self.host.store.events_since(0, 100_000)
        return [e.state for e in events if isinstance(e, wire.StatusEvent) and e.id == msg_id]

    async def until(self, check: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + TIMEOUT
        while not check():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {TIMEOUT:.0f} s waiting for {what}")
            await asyncio.sleep(0.05)

    async def delivered(self, ids: list[int]) -> None:
        await self.until(
            lambda: self.states(ids) == ["delivered"] * len(ids),
            f"{len(ids)} text(s) delivered (now {self.states(ids)})",
        )

    async def bound(self) -> None:
        """Until the ESME is bound to Jasmin again (a probe MO text reaches the store)."""
        before = len(self.received())
        probe = f"probe {time.monotonic_ns()}"
        self.jasmin.smsc.send_mo(ANA, probe)
        await self.until(lambda: len(self.received()) > before, "the probe MO text")
        assert self.received()[-1][1] == probe


def run_host(data: Path, jasmin: JasminStack, scenario: Callable[[Rig], object]) -> None:
    esme = jasmin.esme
    table = {
        "host": esme.host,
        "port": esme.port,
        "system_id": esme.system_id,
        "password": esme.password,
        "source_addr": OWN,
        "reconnect_min": 0.1,
        "reconnect_max": 1.0,
        "enquire_link_interval": 5,
    }

    async def main() -> None:
        host = Host(
            HostSettings(data=data, relay=NO_RELAY, seed=False),
            transport=from_config(table, "GB"),
        )
        await host.start()
        rig = Rig(host, jasmin)
        try:
            await rig.bound()
            result = scenario(rig)
            if asyncio.iscoroutine(result):
                await result
        finally:
            await host.stop()

    asyncio.run(main())


def test_gsm7_and_four_part_ucs2_texts_are_delivered(tmp_path: Path, jasmin: JasminStack) -> None:
    smsc = jasmin.smsc
    smsc.auto_receipts("DELIVRD", delay=0.2)
    taken = len(smsc.submits())
    ids: list[int] = []

    async def scenario(rig: Rig) -> None:
        ids.append(rig.send(ANA, GSM_TEXT))
        ids.append(rig.send(BO, LONG_UCS2))
        await rig.delivered(ids)
        for msg_id in ids:
            assert rig.status_events(msg_id)[-1] == "delivered"

    run_host(tmp_path / "data", jasmin, scenario)
    sent = smsc.submits()[taken:]
    assert len(sent) == 1 + 4
    gsm, *ucs2 = sorted(sent, key=lambda s: s.data_coding)
    assert (gsm.data_coding, gsm.destination, gsm.source) == (0, ANA[1:], OWN[1:])
    assert gsm_decode(gsm.short_message) == GSM_TEXT
    assert {s.data_coding for s in ucs2} == {8}
    assert {s.destination for s in ucs2} == {BO[1:]}
    headers = sorted(s.concat for s in ucs2 if s.concat)
    assert len({ref for ref, _, _ in headers}) == 1
    assert [(total, seq) for _, total, seq in headers] == [(4, n) for n in range(1, 5)]
    assert text_of(ucs2) == LONG_UCS2
    assert {s.registered_delivery & 0x03 for s in sent} == {1}, "receipts were asked for"


def test_a_failed_receipt_fails_the_text(tmp_path: Path, jasmin: JasminStack) -> None:
    jasmin.smsc.auto_receipts("UNDELIV", delay=0.1)

    async def scenario(rig: Rig) -> None:
        msg_id = rig.send(ANA, "to a phone that is off for good")
        await rig.until(lambda: rig.state(msg_id) == "failed", "the text failed")

    run_host(tmp_path / "data", jasmin, scenario)


def test_mo_texts_reach_the_store_and_its_events(tmp_path: Path, jasmin: JasminStack) -> None:
    async def scenario(rig: Rig) -> None:
        before = len(rig.received())
        assert jasmin.smsc.send_mo(BO, "Hi, it's Bo") == 1
        assert jasmin.smsc.send_mo(BO, MO_UCS2, coding="ucs2") == 3
        await rig.until(lambda: len(rig.received()) == before + 2, "two MO texts")
        assert sorted(rig.received()[before:]) == sorted([(BO, "Hi, it's Bo", 1), (BO, MO_UCS2, 3)])

    run_host(tmp_path / "data", jasmin, scenario)


def test_smsc_killed_and_restarted_loses_and_repeats_nothing(
    tmp_path: Path, jasmin: JasminStack
) -> None:
    smsc = jasmin.smsc
    smsc.auto_receipts("DELIVRD", delay=0.1)
    taken = len(smsc.submits())
    bodies = [f"text {n} of the outage test" for n in range(9)]
    bodies[4] = LONG_UCS2  # a long one among them

    async def scenario(rig: Rig) -> None:
        ids = [rig.send(ANA, body) for body in bodies[:3]]
        await rig.delivered(ids)

        # The SMSC textport is bound to dies; texts are typed while it is away.
        jasmin.kill_jasmind()
        await asyncio.sleep(0.5)
        ids += [rig.send(BO, body) for body in bodies[3:6]]
        await asyncio.sleep(1.0)
        assert rig.states(ids[3:]) == ["sending"] * 3, "nothing can have gone out"
        started = time.monotonic()
        await asyncio.to_thread(jasmin.restart_jasmind)
        await rig.delivered(ids)
        await rig.bound()  # and MO texts flow again
        took = time.monotonic() - started

        # The network behind Jasmin dies: Jasmin keeps the text until it is back.
        smsc.kill()
        ids += [rig.send(ANA, body) for body in bodies[6:]]
        await asyncio.sleep(1.0)
        await asyncio.to_thread(smsc.start)
        await asyncio.to_thread(jasmin.wait_connector_bound)
        await rig.delivered(ids)
        assert took < TIMEOUT

    run_host(tmp_path / "data", jasmin, scenario)
    sent = texts_sent(smsc.submits()[taken:])
    assert Counter(sent) == Counter(bodies), "each text reached the network exactly once"
