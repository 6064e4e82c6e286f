"""Gammu's dummy phone as a test peer: a folder that libGammu treats as a phone.

Incoming SMS are injected as files in ``sms/1`` (Gammu's SMS backup format, written by
libGammu itself); what the transport sends leaves nothing on disk, but libGammu's debug
log (``log_format = textall``) shows every part it encoded, which :func:`sent_parts`
reads back: recipient, user data header and text.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gammu

from textport.transports.gammu import GammuSettings, GammuTransport


@dataclass(frozen=True)
class SentPart:
    number: str
    udh: bytes
    coding: str
    """``Unicode`` or ``7bit``."""
    text: str


class DummyPhone:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.device = folder / "phone"
        self.device.mkdir(parents=True, exist_ok=True)
        self.log = folder / "gammu.log"
        self._next = 1

    def settings(self, **overrides: Any) -> GammuSettings:
        table: dict[str, Any] = {
            "device": str(self.device),
            "connection": "none",
            "model": "dummy",
            "poll_interval": 0.05,
            "log_file": str(self.log),
            "log_format": "textall",
        }
        return GammuSettings.from_table(table | overrides)

    def transport(self, **overrides: Any) -> GammuTransport:
        return GammuTransport(self.settings(**overrides))

    def inject(
        self,
        sender: str,
        text: str,
        *,
        unicode: bool | None = None,
        at: dt.datetime | None = None,
        folder: int = 1,
    ) -> list[int]:
        """Store ``text`` from ``sender`` as received, one file per part; the locations."""
        when = at or dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)
        parts = gammu.EncodeSMS(
            {
                "Class": -1,
                "Unicode": unicode if unicode is not None else not text.isascii(),
                "Entries": [{"ID": "ConcatenatedTextLong", "Buffer": text}],
            }
        )
        locations = []
        for part in parts:
            part |= {
                "Type": "Deliver",
                "Number": sender,
                "DateTime": when,
                "SMSCDateTime": when,
                "State": "UnRead",
                "SMSC": {"Number": "+447700900000"},
            }
            locations.append(self.store(part, folder))
        return locations

    def inject_part(self, part: dict[str, Any], folder: int = 1) -> int:
        return self.store(part, folder)

    def store(self, sms: dict[str, Any], folder: int = 1) -> int:
        while (self.device / "sms" / str(folder) / str(self._next)).exists():
            self._next += 1
        (self.device / "sms" / str(folder)).mkdir(parents=True, exist_ok=True)
        gammu.SaveSMSBackup(str(self.device / "sms" / str(folder) / str(self._next)), [sms])
        self._next += 1
        return self._next - 1

    def inject_report(self, recipient: str, reference: int, status: int) -> int:
        when = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)
        return self.store(
            {
                "Type": "Status_Report",
                "Number": recipient,
                "MessageReference": reference,
                "DeliveryStatus": status,
                "DateTime": when,
                "SMSCDateTime": when,
                "SMSC": {"Number": "+447700900000"},
                "Text": "",
                "Coding": "Default_No_Compression",
                "State": "UnRead",
            }
        )

    def stored(self, folder: int = 1) -> list[str]:
        return sorted(path.name for path in (self.device / "sms" / str(folder)).iterdir())

    def sent_parts(self) -> list[SentPart]:
        return parse_sent(self.log.read_text(errors="replace"))


def _hexdump(lines: list[str], at: int, count: int) -> tuple[bytes, int]:
    """``count`` bytes of libGammu's dump: rows of 16 ``XXc|`` cells, then the ASCII."""
    out = bytearray()
    while len(out) < count and at < len(lines):
        row = lines[at]
        for cell in range(min(16, count - len(out))):
            out.append(int(row[4 * cell : 4 * cell + 2], 16))
        at += 1
    return bytes(out), at


def parse_sent(log: str) -> list[SentPart]:
    """Every part libGammu's dummy driver encoded for sending, from its textall log."""
    lines = log.splitlines()
    parts: list[SentPart] = []
    at = 0
    number: str | None = None
    udh = b""
    while at < len(lines):
        line = lines[at]
        if line == "Entering GSM_SendSMS":
            number, udh = None, b""
        elif match := re.fullmatch(r'Recipient number "(.*)"', line):
            number = match.group(1)
        elif match := re.fullmatch(r"UDH, length (\d+)", line):
            udh, at = _hexdump(lines, at + 2, int(match.group(1)))
            continue
        elif (match := re.fullmatch(r"Unicode SMS, length (\d+)", line)) and number is not None:
            data, at = _hexdump(lines, at + 2, 2 * int(match.group(1)))
            parts.append(SentPart(number, udh, "Unicode", data.decode("utf-16-be")))
            continue
        elif line.startswith("7 bit SMS, length") and number is not None:
            end = at + 1
            while end < len(lines) and lines[end] != "Leaving GSM_SendSMS":
                end += 1
            parts.append(SentPart(number, udh, "7bit", "\n".join(lines[at + 1 : end])))
            at = end
            continue
        at += 1
    return parts
