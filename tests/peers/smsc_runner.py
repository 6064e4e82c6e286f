"""Jasmin's SMSC simulator served on 127.0.0.1, with a control channel for the tests.

Runs in Jasmin's own venv (Twisted, smpp.pdu3), never in textport's:
``.peers/jasmin/venv/bin/python tests/peers/smsc_runner.py --sdist DIR --journal FILE``.
The SMSC is the sdist's ``tests/protocols/smpp/smsc_simulator.py``
``ManualDeliveryReceiptHappySMSC``: it accepts any bind and answers every ``submit_sm``
with ``ESME_ROK`` and a fresh message id. This runner adds what tests need around it:

* **a journal**: each ``submit_sm`` is appended to ``--journal`` as one JSON line
  (``message_id``, addresses, ``data_coding``, ``esm_class``, ``registered_delivery``,
  ``short_message`` in hex) *before* its ``submit_sm_resp`` is written, so what the
  journal holds survives a SIGKILL of this process and is a superset of what any ESME
  was told was accepted. A restarted runner reads it back, for receipts of texts taken
  before the restart.
* **a control channel** on a second port: one JSON object per line in, one out:

  -> {"op": "mo", "source": "+447700900123", "destination": "1234", "text": "...",
      "coding": "gsm" | "ucs2"}
  <- {"ok": true, "parts": N}          # deliver_sm PDUs sent to the newest receiving bind
  -> {"op": "dlr", "message_id": "...", "stat": "DELIVRD"}
  <- {"ok": true}                      # a receipt deliver_sm for that submit
  -> {"op": "receipts", "auto": true, "stat": "DELIVRD", "delay": 0.0}
  <- {"ok": true}                      # from now on, a receipt follows every submit
  -> {"op": "binds"}
  <- {"ok": true, "binds": ["transceiver", ...]}
  -> {"op": "drop"}
  <- {"ok": true, "dropped": N}        # closes every SMPP connection (no unbind)
  <- {"ok": false, "error": "..."}     # on any failure

Prints ``ready SMPP_PORT CONTROL_PORT`` once both listen. SIGTERM stops it.

MO texts are split here, independently of textport's own code: ``gsm`` takes only the
characters on which GSM 03.38 and ASCII agree and sends them one per octet
(data_coding 0, 160 per SMS, 153 per part), ``ucs2`` sends UTF-16BE (data_coding 8,
70 units, 67 per part); parts carry an 8-bit-reference concatenation UDH
(``05 00 03 ref total seq``) and ``esm_class`` UDHI. Numbers written ``+…`` go as
international (TON 1, NPI 1) without the plus.
"""

# This file runs under Jasmin's interpreter; textport's mypy sees Twisted and smpp.pdu
# as Any (pyproject: ignore_missing_imports), hence the few ignores on subclassing.

from __future__ import annotations

import argparse
import itertools
import json
import random
import re
import signal
import sys
from pathlib import Path
from typing import Any

from smpp.pdu.operations import BindReceiver, BindTransceiver, BindTransmitter, DeliverSM, Unbind
from smpp.pdu.pdu_encoding import DataCodingEncoder, EsmClassEncoder, RegisteredDeliveryEncoder
from smpp.pdu.pdu_types import (
    AddrNpi,
    AddrTon,
    CommandStatus,
    DataCoding,
    DataCodingDefault,
    EsmClass,
    EsmClassGsmFeatures,
    EsmClassMode,
    EsmClassType,
)
from twisted.internet import reactor
from twisted.internet.protocol import Factory
from twisted.protocols.basic import LineReceiver
from twisted.python import log

GSM_SAFE = re.compile(r"[A-Za-z0-9 .,!?'\"#%&()*+\-/:;<=>\n\r]*")
"""Characters that are the same octet in GSM 03.38's default alphabet and in ASCII."""
BINDS = {BindTransceiver: "transceiver", BindReceiver: "receiver", BindTransmitter: "transmitter"}
RECEIVING = {"transceiver", "receiver"}
MESSAGE_STATES = {"DELIVRD", "UNDELIV", "REJECTD", "EXPIRED", "DELETED", "UNKNOWN", "ACCEPTD"}


def load_simulator(sdist: Path) -> Any:
    sys.path.insert(0, str(sdist / "tests" / "protocols" / "smpp"))
    import smsc_simulator  # noqa: PLC0415 - found in the sdist given on the command line

    return smsc_simulator


def octet(encoder: Any, value: Any) -> int:
    return 0 if value is None else int(encoder.encode(value)[0])


def address(number: str) -> dict[str, Any]:
    if number.startswith("+"):
        return {"addr": number[1:], "ton": AddrTon.INTERNATIONAL, "npi": AddrNpi.ISDN}
    return {"addr": number, "ton": AddrTon.UNKNOWN, "npi": AddrNpi.UNKNOWN}


def split_mo(text: str, coding: str, ref: int) -> list[tuple[bytes, bool]]:
    """The short_message of each SMS for ``text``, and whether it has a UDH."""
    if coding == "gsm":
        if not GSM_SAFE.fullmatch(text):
            raise ValueError("coding gsm takes only characters that GSM 03.38 and ASCII share")
        data, single, size, unit = text.encode("ascii"), 160, 153, 1
    elif coding == "ucs2":
        data, single, size, unit = text.encode("utf-16-be"), 70, 67, 2
    else:
        raise ValueError(f"unknown coding {coding!r}")
    if len(data) <= single * unit:
        return [(data, False)]
    chunks: list[bytes] = []
    rest = data
    while rest:
        take = size * unit
        # Never split a UTF-16 surrogate pair across two SMS.
        if unit == 2 and len(rest) > take and 0xD8 <= rest[take - 2] <= 0xDB:
            take -= 2
        chunks.append(rest[:take])
        rest = rest[take:]
    if len(chunks) > 255:
        raise ValueError("text too long")
    total = len(chunks)
    return [
        (bytes([5, 0, 3, ref, total, seq]) + chunk, True)
        for seq, chunk in enumerate(chunks, start=1)
    ]


class Simulator:
    """The shared state: the journal, the live SMPP connections, the receipt mode."""

    def __init__(self, simulator: Any, journal: Path) -> None:
        self.smsc_class = simulator.ManualDeliveryReceiptHappySMSC
        self.states = simulator.message_state_map
        self.journal_path = journal
        self.submits: dict[str, dict[str, Any]] = {}
        if journal.exists():
            for line in journal.read_text().splitlines():
                if line.strip():
                    record = json.loads(line)
                    self.submits[record["message_id"]] = record
        self.journal = journal.open("a", encoding="utf-8")
        self.connections: list[Any] = []
        self.auto_stat: str | None = None
        self.auto_delay = 0.0
        self.refs = itertools.count(random.randrange(256))
        self.ids = itertools.count(random.randrange(10**9, 9 * 10**9, 10**6))

    def record_submit(self, pdu: Any) -> str:
        message_id = str(next(self.ids))
        params = pdu.params
        short = params.get("short_message") or b""
        payload = params.get("message_payload") or b""
        source, destination = (
            (params.get(key) or b"").decode("ascii", "replace")
            for key in ("source_addr", "destination_addr")
        )
        record = {
            "message_id": message_id,
            "source": source,
            "destination": destination,
            "data_coding": octet(DataCodingEncoder(), params.get("data_coding")),
            "esm_class": octet(EsmClassEncoder(), params.get("esm_class")),
            "registered_delivery": octet(
                RegisteredDeliveryEncoder(), params.get("registered_delivery")
            ),
            "short_message": bytes(short).hex(),
            "message_payload": bytes(payload).hex(),
        }
        self.journal.write(json.dumps(record) + "\n")
        self.journal.flush()
        self.submits[message_id] = record
        return message_id

    def receivers(self) -> list[Any]:
        return [c for c in self.connections if c.bind_mode in RECEIVING]

    def send_receipt(self, message_id: str, stat: str) -> None:
        if stat not in MESSAGE_STATES:
            raise ValueError(f"unknown stat {stat!r}")
        record = self.submits.get(message_id)
        if record is None:
            raise ValueError(f"no submit_sm was given the id {message_id!r}")
        receivers = self.receivers()
        if not receivers:
            raise ValueError("no ESME is bound to receive")
        smsc = receivers[-1]
        err = "000" if stat == "DELIVRD" else "001"
        text = "".join(
            chr(b) if 32 <= b < 127 else "." for b in bytes.fromhex(record["short_message"])[:20]
        )
        smsc.trigger_deliver_sm(
            DeliverSM(
                source_addr=record["destination"],
                destination_addr=record["source"],
                esm_class=EsmClass(EsmClassMode.DEFAULT, EsmClassType.SMSC_DELIVERY_RECEIPT),
                short_message=(
                    f"id:{message_id} sub:001 dlvrd:001 submit date:1305050826 "
                    f"done date:1305050826 stat:{stat} err:{err} text:{text}"
                ).encode("ascii"),
                message_state=self.states[stat],
                receipted_message_id=message_id,
            )
        )

    def send_mo(self, source: str, destination: str, text: str, coding: str) -> int:
        receivers = self.receivers()
        if not receivers:
            raise ValueError("no ESME is bound to receive")
        smsc = receivers[-1]
        parts = split_mo(text, coding, next(self.refs) % 256)
        src, dst = address(source), address(destination)
        for short_message, udh in parts:
            smsc.trigger_deliver_sm(
                DeliverSM(
                    source_addr=src["addr"],
                    source_addr_ton=src["ton"],
                    source_addr_npi=src["npi"],
                    destination_addr=dst["addr"],
                    dest_addr_ton=dst["ton"],
                    dest_addr_npi=dst["npi"],
                    esm_class=EsmClass(
                        EsmClassMode.DEFAULT,
                        EsmClassType.DEFAULT,
                        [EsmClassGsmFeatures.UDHI_INDICATOR_SET] if udh else [],
                    ),
                    data_coding=DataCoding(
                        schemeData=DataCodingDefault.UCS2
                        if coding == "ucs2"
                        else DataCodingDefault.SMSC_DEFAULT_ALPHABET
                    ),
                    short_message=short_message,
                )
            )
        return len(parts)

    def handle(self, request: dict[str, Any]) -> dict[str, Any]:
        op = request.get("op")
        if op == "mo":
            parts = self.send_mo(
                request["source"],
                request["destination"],
                request["text"],
                request.get("coding", "gsm"),
            )
            return {"ok": True, "parts": parts}
        if op == "dlr":
            self.send_receipt(str(request["message_id"]), request.get("stat", "DELIVRD"))
            return {"ok": True}
        if op == "receipts":
            stat = request.get("stat", "DELIVRD") if request.get("auto") else None
            if stat is not None and stat not in MESSAGE_STATES:
                raise ValueError(f"unknown stat {stat!r}")
            self.auto_stat = stat
            self.auto_delay = float(request.get("delay", 0.0))
            return {"ok": True}
        if op == "binds":
            return {"ok": True, "binds": [c.bind_mode for c in self.connections if c.bind_mode]}
        if op == "drop":
            connections = list(self.connections)
            for connection in connections:
                connection.transport.abortConnection()
            return {"ok": True, "dropped": len(connections)}
        raise ValueError(f"unknown op {op!r}")


def smsc_factory(sim: Simulator) -> Factory:
    class SMSC(sim.smsc_class):  # type: ignore[misc,name-defined]
        bind_mode: str | None = None

        def connectionMade(self) -> None:
            sim.connections.append(self)

        def connectionLost(self, reason: Any = None) -> None:
            if self in sim.connections:
                sim.connections.remove(self)

        def PDUReceived(self, pdu: Any) -> None:
            super().PDUReceived(pdu)
            if type(pdu) in BINDS:
                self.bind_mode = BINDS[type(pdu)]
            elif isinstance(pdu, Unbind):
                self.bind_mode = None

        def handleSubmit(self, pdu: Any) -> None:
            message_id = sim.record_submit(pdu)
            self.lastSubmitSmPDU = pdu
            self.lastSubmitSmRestPDU = pdu.requireAck(
                pdu.seqNum, status=CommandStatus.ESME_ROK, message_id=message_id
            )
            self.sendPDU(self.lastSubmitSmRestPDU)
            if sim.auto_stat is not None:
                reactor.callLater(sim.auto_delay, self.auto_receipt, message_id, sim.auto_stat)

        def auto_receipt(self, message_id: str, stat: str) -> None:
            if sim.receivers():
                sim.send_receipt(message_id, stat)

    factory = Factory()
    factory.protocol = SMSC
    return factory


def control_factory(sim: Simulator) -> Factory:
    class Control(LineReceiver):  # type: ignore[misc]
        delimiter = b"\n"

        def lineReceived(self, line: bytes) -> None:
            try:
                answer = sim.handle(json.loads(line))
            except Exception as exc:  # every failure goes back to the test
                answer = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
            self.sendLine(json.dumps(answer).encode())

    factory = Factory()
    factory.protocol = Control
    return factory


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sdist", type=Path, required=True)
    parser.add_argument("--journal", type=Path, required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--control-port", type=int, default=0)
    args = parser.parse_args()
    log.startLogging(sys.stderr, setStdout=False)
    sim = Simulator(load_simulator(args.sdist), args.journal)
    smpp = reactor.listenTCP(args.port, smsc_factory(sim), interface="127.0.0.1")
    control = reactor.listenTCP(args.control_port, control_factory(sim), interface="127.0.0.1")
    signal.signal(signal.SIGTERM, lambda *_: reactor.callFromThread(reactor.stop))
    print(f"ready {smpp.getHost().port} {control.getHost().port}", flush=True)
    reactor.run(installSignalHandlers=False)


if __name__ == "__main__":
    main()
