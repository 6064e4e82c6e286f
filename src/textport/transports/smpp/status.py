"""SMPP ``command_status`` values: their names, and what an error means for a text.

:func:`submit_error` turns a ``submit_sm_resp`` error into a
:class:`~textport.errors.TransportError` with a sentence for people: transient (the
outbox retries the text with backoff until it expires) for throttling, a full queue and
the SMSC's own troubles; permanent (the text fails with the reason) for what this text
or this account will keep getting. Unknown codes count as transient: the text's expiry
bounds the retries. No I/O.
"""

from __future__ import annotations

from typing import Final

from textport.errors import TransportError

ESME_ROK: Final = 0x00
ESME_RINVMSGLEN: Final = 0x01
ESME_RINVCMDLEN: Final = 0x02
ESME_RINVCMDID: Final = 0x03
ESME_RINVBNDSTS: Final = 0x04
ESME_RALYBND: Final = 0x05
ESME_RSYSERR: Final = 0x08
ESME_RBINDFAIL: Final = 0x0D
ESME_RINVPASWD: Final = 0x0E
ESME_RINVSYSID: Final = 0x0F
ESME_RMSGQFUL: Final = 0x14
ESME_RTHROTTLED: Final = 0x58
ESME_RX_T_APPN: Final = 0x64
"""The ESME's answer to a deliver_sm it cannot take now: the SMSC delivers it again."""

NAMES: Final = {
    0x00: "ESME_ROK",
    0x01: "ESME_RINVMSGLEN",
    0x02: "ESME_RINVCMDLEN",
    0x03: "ESME_RINVCMDID",
    0x04: "ESME_RINVBNDSTS",
    0x05: "ESME_RALYBND",
    0x06: "ESME_RINVPRTFLG",
    0x07: "ESME_RINVREGDLVFLG",
    0x08: "ESME_RSYSERR",
    0x0A: "ESME_RINVSRCADR",
    0x0B: "ESME_RINVDSTADR",
    0x0C: "ESME_RINVMSGID",
    0x0D: "ESME_RBINDFAIL",
    0x0E: "ESME_RINVPASWD",
    0x0F: "ESME_RINVSYSID",
    0x11: "ESME_RCANCELFAIL",
    0x13: "ESME_RREPLACEFAIL",
    0x14: "ESME_RMSGQFUL",
    0x15: "ESME_RINVSERTYP",
    0x33: "ESME_RINVNUMDESTS",
    0x34: "ESME_RINVDLNAME",
    0x40: "ESME_RINVDESTFLAG",
    0x42: "ESME_RINVSUBREP",
    0x43: "ESME_RINVESMCLASS",
    0x44: "ESME_RCNTSUBDL",
    0x45: "ESME_RSUBMITFAIL",
    0x48: "ESME_RINVSRCTON",
    0x49: "ESME_RINVSRCNPI",
    0x50: "ESME_RINVDSTTON",
    0x51: "ESME_RINVDSTNPI",
    0x53: "ESME_RINVSYSTYP",
    0x54: "ESME_RINVREPFLAG",
    0x55: "ESME_RINVNUMMSGS",
    0x58: "ESME_RTHROTTLED",
    0x61: "ESME_RINVSCHED",
    0x62: "ESME_RINVEXPIRY",
    0x63: "ESME_RINVDFTMSGID",
    0x64: "ESME_RX_T_APPN",
    0x65: "ESME_RX_P_APPN",
    0x66: "ESME_RX_R_APPN",
    0x67: "ESME_RQUERYFAIL",
    0xC0: "ESME_RINVOPTPARSTREAM",
    0xC1: "ESME_ROPTPARNOTALLWD",
    0xC2: "ESME_RINVPARLEN",
    0xC3: "ESME_RMISSINGOPTPARAM",
    0xC4: "ESME_RINVOPTPARAMVAL",
    0xFE: "ESME_RDELIVERYFAILURE",
    0xFF: "ESME_RUNKNOWNERR",
}

_TRANSIENT: Final = {
    ESME_RTHROTTLED: "The SMSC asks to send more slowly (throttled)",
    ESME_RMSGQFUL: "The SMSC's message queue is full",
    ESME_RSYSERR: "The SMSC reported a system error",
    ESME_RINVBNDSTS: "The SMSC did not consider this connection bound",
    ESME_RX_T_APPN: "The SMSC reported a temporary error",
    0x45: "The SMSC could not take the text now (submit failed)",
    0xFE: "The SMSC could not deliver it now",
    0xFF: "The SMSC reported an unknown error",
}
"""Errors where the same text may go through later, unchanged."""

_PERMANENT: Final = {
    0x01: "The SMSC refused the text's length",
    0x0A: "The SMSC refused the sender address (check source_addr in the config)",
    0x0B: "The SMSC refused the recipient's number",
    0x33: "The SMSC refused the number of recipients",
    0x40: "The SMSC refused the recipient's number",
    0x43: 'The SMSC refused the message class (try concatenation = "sar")',
    0x48: "The SMSC refused the sender address type (check source_addr in the config)",
    0x49: "The SMSC refused the sender numbering plan (check source_addr in the config)",
    0x50: "The SMSC refused the recipient's number type",
    0x51: "The SMSC refused the recipient's numbering plan",
    0x15: "The SMSC refused the service type",
    0x62: "The SMSC refused the validity period",
    0x65: "The SMSC refused the text (permanent application error)",
    0x66: "The SMSC rejected the text",
    0xC0: "The SMSC refused an optional parameter",
    0xC1: 'The SMSC does not allow an optional parameter sent (try concatenation = "udh")',
    0xC2: "The SMSC refused an optional parameter's length",
    0xC4: "The SMSC refused an optional parameter's value",
}
"""Errors this text (or this account) will keep getting: it fails with the reason."""


def name(status: int) -> str:
    return NAMES.get(status, f"0x{status:08X}")


def submit_error(status: int) -> TransportError:
    """A submit_sm_resp's error status as a TransportError a person can read."""
    suffix = f". ({name(status)})"
    if status in _PERMANENT:
        return TransportError(_PERMANENT[status] + suffix, permanent=True)
    if status in _TRANSIENT:
        return TransportError(_TRANSIENT[status] + suffix)
    return TransportError("The SMSC refused the text for a reason SMPP does not name" + suffix)


def is_throttling(status: int) -> bool:
    """The SMSC asks to slow down: wait, then send the same PDU again."""
    return status in (ESME_RTHROTTLED, ESME_RMSGQFUL)


def bind_error(status: int) -> TransportError:
    """Why a bind was refused, for the log and for ``start``."""
    if status in (ESME_RINVPASWD, ESME_RINVSYSID, ESME_RBINDFAIL, 0x53):
        what = {
            ESME_RINVPASWD: "the password",
            ESME_RINVSYSID: "the system_id",
            ESME_RBINDFAIL: "the login (system_id, password or the client's address)",
            0x53: "the system_type",
        }[status]
        return TransportError(
            f"The SMSC refused {what}: check [smpp] in the config. ({name(status)})",
            permanent=True,
        )
    if status == ESME_RALYBND:
        return TransportError(f"The SMSC says this account is already bound. ({name(status)})")
    return TransportError(f"The SMSC refused the bind. ({name(status)})")
