"""Delivery receipts: which submitted message a ``deliver_sm`` reports on, and how it ended.

The TLVs ``receipted_message_id`` (0x001E) and ``message_state`` (0x0427) are preferred
when present; otherwise the de-facto text of SMPP 3.4 Appendix B is read:

    id:IIIIIIIIII sub:SSS dlvrd:DDD submit date:YYMMDDhhmm done date:YYMMDDhhmm
    stat:DDDDDDD err:E Text:...

Field names are matched without regard to case, fields may come in any order and the
``Text`` field (the first characters of the text) is never kept. Message ids are
compared by :func:`match_keys`, because some SMSCs answer submit_sm in decimal and
report in hexadecimal, or the reverse. No I/O; never raises on odd input.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from textport.transports import reports
from textport.transports.smpp.pdu import (
    MESSAGE_STATE,
    NETWORK_ERROR_CODE,
    RECEIPTED_MESSAGE_ID,
    DeliverSm,
)

_FIELD: Final = re.compile(r"(?i)\b(id|stat|err):(\S*)")
_TEXT: Final = re.compile(r"(?i)\btext:")
MAX_ID: Final = 64


@dataclass(frozen=True)
class Receipt:
    message_id: str
    verdict: reports.Verdict
    error: str | None = None
    """The network's error code as the SMSC wrote it (``err:``, or network_error_code)."""


def is_receipt(pdu: DeliverSm) -> bool:
    """A receipt by its esm_class (0x04), or by the TLV some SMSCs set without it."""
    return pdu.is_receipt or pdu.tlv(RECEIPTED_MESSAGE_ID) is not None


def parse(pdu: DeliverSm) -> Receipt | None:
    """The receipt ``pdu`` carries, or None when it names no message id."""
    text = pdu.short_message.decode("latin-1")
    text = text[: m.start()] if (m := _TEXT.search(text)) else text
    fields = {key.lower(): value for key, value in _FIELD.findall(text)}
    raw_id = pdu.tlv(RECEIPTED_MESSAGE_ID)
    message_id = (
        raw_id.split(b"\x00", 1)[0].decode("latin-1") if raw_id else fields.get("id", "")
    ).strip()
    if not message_id or len(message_id) > MAX_ID:
        return None
    state = pdu.tlv(MESSAGE_STATE)
    if state is not None and len(state) == 1:
        verdict = reports.from_smpp_state(state[0])
    else:
        verdict = reports.from_smpp_stat(fields.get("stat", "UNKNOWN"))
    network = pdu.tlv(NETWORK_ERROR_CODE)
    error = fields.get("err") or (network.hex() if network else None)
    return Receipt(message_id, verdict, error)


def match_keys(message_id: str) -> tuple[str, ...]:
    """Every spelling of ``message_id`` a receipt may use: as written (case and leading
    zeros ignored), and its decimal ↔ hexadecimal counterpart when it is a number."""
    written = message_id.strip().lower().lstrip("0") or "0"
    keys = [written]
    if written.isdigit() and len(written) <= 20:
        keys.append(f"{int(written):x}")
    if all(c in "0123456789abcdef" for c in written) and len(written) <= 16:
        keys.append(str(int(written, 16)))
    return tuple(dict.fromkeys(keys))
