"""A GSM modem made of Python: an AT command responder on an abstract unix socket.

ModemManager in test mode attaches it (``Test.SetProfile(id, "generic",
["abstract:NAME"])``) and drives it like a USB modem's AT port, so the transport under
test talks to the real ModemManager over D-Bus and ModemManager talks to this.

What it does:

- answers the commands ModemManager's generic plugin probes, initialises and enables a
  modem with (identity, SIM, registration, signal, SMS setup); anything else gets
  ``ERROR`` and is recorded in :attr:`VirtualModem.unknown`;
- SMS in PDU mode only (``AT+CMGF=0``): a storage of 30 entries in ``"SM"``,
  ``AT+CMGL``/``AT+CMGR``/``AT+CMGD``; received texts are stored there and announced
  with ``+CMTI``, as a modem with ``AT+CNMI=2,1,…`` does;
- ``AT+CMGS`` takes a SUBMIT PDU, decodes it with libGammu (``gammu.DecodePDU``) into
  :attr:`VirtualModem.sent`, and answers with a message reference; with a status report
  requested it can send one back (``+CDS``) on demand;
- commands fail on demand (:meth:`VirtualModem.fail`), e.g. ``+CMS ERROR: 38`` twice for
  ``AT+CMGS``, then success.

The socket server runs on a thread of its own, so it keeps answering while a test's
event loop is busy; everything it records is guarded by one lock.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import logging
import socket
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Final

import gammu

log = logging.getLogger(__name__)

CTRL_Z: Final = b"\x1a"
ESC: Final = b"\x1b"
SLOTS: Final = 30
SMSC: Final = "+447700900000"
URC_GAP: Final = 0.1
"""Seconds between two unsolicited result codes."""


@dataclass(frozen=True)
class SentPart:
    """One SMS the modem was asked to send, as libGammu decodes its PDU."""

    number: str
    text: str
    coding: str
    """libGammu's ``Coding``: ``Unicode_No_Compression`` or ``Default_No_Compression``."""
    udh: bytes
    reference: int
    """The message reference the modem answered with."""
    status_report: bool
    """Whether the PDU asked for a status report (TP-SRR)."""

    @property
    def concat(self) -> tuple[int, int] | None:
        """(part number, of total) from the concatenation header, if any."""
        if len(self.udh) >= 6 and self.udh[1] == 0x00:
            return self.udh[5], self.udh[4]
        if len(self.udh) >= 7 and self.udh[1] == 0x08:
            return self.udh[6], self.udh[5]
        return None


@dataclass
class _Failure:
    prefix: str
    reply: str
    times: int
    skip: int


@dataclass
class _State:
    stored: dict[int, tuple[int, bytes]] = field(default_factory=dict)
    """Index → (stat: 0 unread, 1 read; the PDU with its SMSC)."""
    sent: list[SentPart] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    """Each command that was answered with an injected error."""
    unknown: list[str] = field(default_factory=list)
    failures: deque[_Failure] = field(default_factory=deque)
    cops_format: int = 0
    reporting: dict[str, int] = field(default_factory=dict)
    """``+CREG``/``+CGREG`` → the ``n`` set by ``AT+CREG=n``: answers to ``?`` carry it."""
    sim: bool = True


class VirtualModem:
    def __init__(
        self,
        name: str,
        *,
        imei: str = "490154203237518",
        number: str = "+447700900999",
    ) -> None:
        self.name = name
        """The abstract socket is ``\\0abstract:<name>``; ModemManager's port is
        ``abstract:<name>``."""
        self.imei = imei
        self.number = number
        self._state = _State()
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._references = itertools.count(1)
        self._listener: socket.socket | None = None
        self._conn: socket.socket | None = None
        self._threads: list[threading.Thread] = []
        self._closed = threading.Event()
        self._stalling = False
        self.stalled = threading.Event()
        """Set when a send was taken and its answer is being held (:meth:`stall_sends`)."""
        self._release = threading.Event()

    @property
    def port(self) -> str:
        return f"abstract:{self.name}"

    # ---------------------------------------------------------- lifecycle

    def start(self) -> None:
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(f"\0{self.port}")
        listener.listen(4)
        self._listener = listener
        self._spawn(self._accept, "virtual modem accept")

    def close(self) -> None:
        """Unplug: stop listening and hang up on ModemManager."""
        self._closed.set()
        self._release.set()
        if self._listener is not None:
            with contextlib.suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)
            self._listener.close()
        with self._lock:
            conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            conn.close()
        for thread in self._threads:
            thread.join(5)

    def __enter__(self) -> VirtualModem:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _spawn(self, target: Any, name: str, *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def _accept(self) -> None:
        assert self._listener is not None
        while not self._closed.is_set():
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                self._conn = conn
            self._spawn(self._serve, "virtual modem port", conn)

    # ---------------------------------------------------------- what tests do

    @property
    def sent(self) -> list[SentPart]:
        with self._lock:
            return list(self._state.sent)

    @property
    def refused(self) -> list[str]:
        with self._lock:
            return list(self._state.refused)

    @property
    def unknown(self) -> list[str]:
        with self._lock:
            return list(self._state.unknown)

    def stored(self) -> list[int]:
        """Indexes of the SMS in the modem's storage."""
        with self._lock:
            return sorted(self._state.stored)

    def fail(self, prefix: str, reply: str, times: int = 1, *, after: int = 0) -> None:
        """Answer ``times`` commands starting with ``prefix`` with ``reply`` (e.g.
        ``"AT+CMGS"``, ``"+CMS ERROR: 38"``), once ``after`` of them went through.
        ``AT+CMGS`` fails after its PDU."""
        with self._lock:
            self._state.failures.append(_Failure(prefix.upper(), reply, times, after))

    def stall_sends(self) -> None:
        """Take the next ``AT+CMGS`` (it counts as sent) but hold its answer until
        :meth:`close`, as a modem or host that hangs after the network took the text."""
        self._stalling = True

    def remove_sim(self) -> None:
        """Answer ``AT+CPIN?`` and SIM reads as a modem without a SIM card does."""
        with self._lock:
            self._state.sim = False

    def receive(
        self,
        sender: str,
        text: str,
        *,
        unicode: bool | None = None,
        at: dt.datetime | None = None,
        announce: bool = True,
    ) -> list[int]:
        """Store ``text`` from ``sender`` as received SMS (one per part, encoded by
        libGammu) and announce each with ``+CMTI``; returns the indexes."""
        when = at or dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)
        parts = gammu.EncodeSMS(
            {
                "Class": -1,
                "Unicode": unicode if unicode is not None else not text.isascii(),
                "Entries": [{"ID": "ConcatenatedTextLong", "Buffer": text}],
            }
        )
        pdus = [
            gammu.EncodePDU(
                part
                | {"Type": "Deliver", "Number": sender, "SMSC": {"Number": SMSC}, "DateTime": when},
                Layout="Deliver",
            )
            for part in parts
        ]
        return [self.store_pdu(pdu, announce=announce) for pdu in pdus]

    def store_pdu(self, pdu: bytes, *, announce: bool = True) -> int:
        """Store one received PDU (with its SMSC) and announce it with ``+CMTI``."""
        with self._lock:
            index = next(n for n in range(SLOTS) if n not in self._state.stored)
            self._state.stored[index] = (0, pdu)
        if announce:
            self.unsolicited(f'+CMTI: "SM",{index}')
        return index

    def report(self, part: SentPart, status: int = 0x00) -> None:
        """Send the network's status report for ``part`` (TP-Status ``status``) as
        ``+CDS``, as a modem with ``AT+CNMI=…,1,…`` does."""
        tpdu = _status_report(part.number, part.reference, status)
        self.unsolicited(f"+CDS: {len(tpdu)}\r\n00{tpdu.hex().upper()}")

    def unsolicited(self, line: str) -> None:
        """Send an unsolicited result code, never inside an answer, and give
        ModemManager a moment before the next (it reads one +CMTI per chunk)."""
        with self._lock:
            conn = self._conn
        if conn is None:
            raise RuntimeError("ModemManager has not opened the modem's port")
        with self._write_lock:
            conn.sendall(f"\r\n{line}\r\n".encode())
        time.sleep(URC_GAP)

    # ---------------------------------------------------------- the AT port

    def _serve(self, conn: socket.socket) -> None:
        buffer = b""
        with conn:
            while not self._closed.is_set():
                try:
                    chunk = conn.recv(4096)
                except OSError:
                    return
                if not chunk:
                    return
                buffer += chunk
                while b"\r" in buffer:
                    line, _, buffer = buffer.partition(b"\r")
                    command = line.strip(b"\n ").decode("ascii", "replace")
                    if not command:
                        continue
                    if command.upper().startswith("AT+CMGS="):
                        while CTRL_Z not in buffer and ESC not in buffer:
                            conn.sendall(b"\r\n> ")
                            more = conn.recv(4096)
                            if not more:
                                return
                            buffer += more
                        end = min(i for i in (buffer.find(CTRL_Z), buffer.find(ESC)) if i >= 0)
                        pdu, cancelled = buffer[:end], buffer[end : end + 1] == ESC
                        buffer = buffer[end + 1 :]
                        reply = "" if cancelled else self._send(pdu.decode("ascii", "replace"))
                    else:
                        reply = self._answer(command)
                    with contextlib.suppress(OSError), self._write_lock:
                        conn.sendall(_frame(reply or "OK"))

    def _injected(self, command: str) -> str | None:
        with self._lock:
            for failure in self._state.failures:
                if command.upper().startswith(failure.prefix):
                    if failure.skip > 0:
                        failure.skip -= 1
                        return None
                    failure.times -= 1
                    if failure.times <= 0:
                        self._state.failures.remove(failure)
                    self._state.refused.append(command)
                    return failure.reply
        return None

    def _send(self, pdu_hex: str) -> str:
        failed = self._injected("AT+CMGS")
        if failed is not None:
            return failed
        try:
            data = bytes.fromhex(pdu_hex.strip())
            sms = gammu.DecodePDU(data, SMSC=True)
        except (ValueError, gammu.GSMError):
            return "+CMS ERROR: 304"  # invalid PDU mode parameter
        reference = next(self._references) % 256
        udh = sms.get("UDH") or {}
        smsc_len = data[0]
        first_octet = data[1 + smsc_len]
        with self._lock:
            self._state.sent.append(
                SentPart(
                    number=str(sms["Number"]),
                    text=str(sms["Text"]),
                    coding=str(sms["Coding"]),
                    udh=bytes(udh.get("Text") or b""),
                    reference=reference,
                    status_report=bool(first_octet & 0x20),
                )
            )
        if self._stalling:
            self.stalled.set()
            self._release.wait()
        return f"+CMGS: {reference}\r\nOK"

    def _answer(self, command: str) -> str:
        upper = command.upper()
        failed = self._injected(upper)
        if failed is not None:
            return failed
        state = self._state
        ok = "OK"
        if upper in ("AT", "ATZ", "AT&F", "ATE0", "ATE1", "ATV1", "ATQ0", "AT+CMEE=1"):
            return ok
        if upper in ("AT+CMEE=2", "AT+CMGF=0", "AT+CFUN=1", 'AT+CSCS="IRA"', 'AT+CSCS="GSM"'):
            return ok
        if upper in ("ATI", "ATI0"):
            return "Textport virtual modem\r\nOK"
        if upper == "AT+GCAP":
            return "+GCAP: +CGSM\r\nOK"
        if upper in ("AT+CGMI", "AT+GMI"):
            return "Textport\r\nOK"
        if upper in ("AT+CGMM", "AT+GMM"):
            return "Virtual Modem\r\nOK"
        if upper in ("AT+CGMR", "AT+GMR"):
            return "1.0\r\nOK"
        if upper in ("AT+CGSN", "AT+GSN"):
            return f"{self.imei}\r\nOK"
        if upper == "AT+CPIN?":
            return "+CPIN: READY\r\nOK" if state.sim else "+CME ERROR: 10"
        if upper == "AT+CIMI":
            return "001010123456789\r\nOK" if state.sim else "+CME ERROR: 10"
        if upper == "AT+CNUM":
            return f'+CNUM: ,"{self.number}",145\r\nOK'
        if upper == "AT+CFUN?":
            return "+CFUN: 1\r\nOK"
        if upper == "AT+CMGF=?":
            return "+CMGF: (0,1)\r\nOK"
        if upper == "AT+CSCS=?":
            return '+CSCS: ("IRA","GSM")\r\nOK'
        if upper == "AT+CSCS?":
            return '+CSCS: "IRA"\r\nOK'
        if upper == "AT+CSCA?":
            return f'+CSCA: "{SMSC}",145\r\nOK'
        if upper == "AT+CSQ":
            return "+CSQ: 20,99\r\nOK"
        if upper in ("AT+CREG?", "AT+CGREG?"):
            # The answer carries n, or ModemManager takes it for an unsolicited one.
            what = upper[2:-1]
            n = state.reporting.get(what, 0)
            cell = ',"1A2B","01C2D3E4"' if n >= 2 else ""
            return f"{what}: {n},1{cell}\r\nOK"
        if upper.startswith(("AT+CREG=", "AT+CGREG=")) and upper[-1].isdigit():
            what, _, mode = upper[2:].partition("=")
            state.reporting[what] = int(mode)
            return ok
        if upper == "AT+CRSM=176,12258,0,0,10":  # EF_ICCID
            return '+CRSM: 144,0,"98101430121181157002"\r\nOK' if state.sim else "+CME ERROR: 10"
        if upper.startswith("AT+COPS=3,"):
            state.cops_format = int(upper[-1])
            return ok
        if upper == "AT+COPS?":
            name = ["Textport", "Textport", "00101"][state.cops_format]
            return f'+COPS: 0,{state.cops_format},"{name}",0\r\nOK'
        if upper == "AT+CPMS=?":
            return '+CPMS: ("SM"),("SM"),("SM")\r\nOK'
        if upper.startswith("AT+CPMS"):
            used = len(state.stored)
            return f"+CPMS: {used},{SLOTS},{used},{SLOTS},{used},{SLOTS}\r\nOK"
        if upper == "AT+CNMI=?":
            return "+CNMI: (0-2),(0-3),(0-3),(0-2),(0,1)\r\nOK"
        if upper.startswith("AT+CNMI="):
            return ok
        if upper.startswith("AT+CMGL"):
            return self._list()
        if upper.startswith("AT+CMGR="):
            return self._read(int(upper[8:]))
        if upper.startswith("AT+CMGD="):
            with self._lock:
                state.stored.pop(int(upper[8:].split(",")[0]), None)
            return ok
        with self._lock:
            state.unknown.append(command)
        return "ERROR"

    def _entries(self) -> Iterator[tuple[int, int, bytes]]:
        with self._lock:
            items = sorted(self._state.stored.items())
        for index, (stat, pdu) in items:
            yield index, stat, pdu

    def _list(self) -> str:
        lines = [
            f"+CMGL: {index},{stat},,{len(pdu) - 1 - pdu[0]}\r\n{pdu.hex().upper()}"
            for index, stat, pdu in self._entries()
        ]
        return "\r\n".join([*lines, "OK"])

    def _read(self, index: int) -> str:
        with self._lock:
            entry = self._state.stored.get(index)
            if entry is None:
                return "+CMS ERROR: 321"  # invalid memory index
            stat, pdu = entry
            self._state.stored[index] = (1, pdu)
        return f"+CMGR: {stat},,{len(pdu) - 1 - pdu[0]}\r\n{pdu.hex().upper()}\r\nOK"


def _frame(reply: str) -> bytes:
    """``reply``'s information text, then its final result code on a line of its own,
    each framed by CR LF as a modem in verbose mode (``ATV1``) sends them."""
    info, _, final = reply.rpartition("\r\n")
    return (f"\r\n{info}\r\n" if info else "").encode() + f"\r\n{final}\r\n".encode()


def _status_report(recipient: str, reference: int, status: int) -> bytes:
    """A STATUS-REPORT TPDU (TS 23.040 9.2.2.3), without the SMSC."""
    digits = recipient.lstrip("+")
    kind = 0x91 if recipient.startswith("+") else 0x81
    swapped = (digits + "F" * (len(digits) % 2)).upper()
    address = bytes.fromhex("".join(swapped[i + 1] + swapped[i] for i in range(0, len(swapped), 2)))
    stamp = bytes.fromhex("62301021000000")  # 2026-03-01 12:00:00 +00, semi-octets
    return bytes([0x06, reference, len(digits), kind]) + address + stamp + stamp + bytes([status])
