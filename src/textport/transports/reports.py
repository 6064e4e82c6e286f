"""Delivery reports from the network, mapped to what a text's status becomes. No I/O.

Sources speak two dialects: the GSM status report's TP-Status octet (TS 23.040
9.2.3.15; Gammu's ``DeliveryStatus``, ModemManager's ``DeliveryState``) and the SMPP
receipt's ``stat`` word (SMPP 3.4 Appendix B). Both end in one of three outcomes:
``delivered``, ``failed`` with a reason a person can read, or ``pending`` (the network is
still trying: the text stays ``sent``). Reasons never repeat numbers or bodies.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

Outcome = Literal["delivered", "failed", "pending"]


@dataclass(frozen=True)
class Verdict:
    outcome: Outcome
    reason: str | None = None


DELIVERED: Final = Verdict("delivered")
PENDING: Final = Verdict("pending")

_CAUSES: Final = {
    0x00: "the network was congested",
    0x01: "the recipient's phone was busy",
    0x02: "the recipient's phone did not answer",
    0x03: "the recipient's network refused the service",
    0x04: "the quality of service was not available",
    0x05: "the recipient's phone reported an error",
}
"""The low bits of temporary-error statuses (0x20-0x25 and 0x60-0x65)."""

_PERMANENT: Final = {
    0x40: "the network could not deliver it (remote procedure error)",
    0x41: "the recipient cannot receive this kind of message",
    0x42: "the recipient's phone refused it",
    0x43: "the number cannot be reached",
    0x44: "the quality of service was not available",
    0x45: "no route to the recipient's network",
    0x46: "it expired before it could be delivered",
    0x47: "it was deleted by the sender",
    0x48: "it was deleted by the message centre",
    0x49: "the message centre no longer knows it",
}


def from_tp_status(status: int) -> Verdict:
    """A GSM status report's TP-Status (0-255) as an outcome."""
    status &= 0xFF
    if status < 0x20:
        return DELIVERED  # 0x00 received, 0x01 forwarded, 0x02 replaced, rest: completed
    if status < 0x40:
        return PENDING  # temporary error, the message centre keeps trying
    if status < 0x60:
        why = _PERMANENT.get(status, "the network gave up on it (permanent error)")
        return Verdict("failed", f"Not delivered: {why}.")
    if status < 0x80:
        why = _CAUSES.get(status - 0x60, "a temporary error lasted too long")
        return Verdict("failed", f"Not delivered: {why}, and the network stopped trying.")
    return Verdict("failed", "Not delivered: the network reported an unknown error.")


_SMPP: Final = {
    "DELIVRD": DELIVERED,
    "ACCEPTD": PENDING,
    "ENROUTE": PENDING,
    "UNKNOWN": PENDING,
    "EXPIRED": Verdict("failed", "Not delivered: it expired before it could be delivered."),
    "DELETED": Verdict("failed", "Not delivered: it was deleted by the message centre."),
    "UNDELIV": Verdict("failed", "Not delivered: the number cannot be reached."),
    "REJECTD": Verdict("failed", "Not delivered: the network rejected it."),
}


def from_smpp_stat(stat: str) -> Verdict:
    """An SMPP receipt's ``stat`` (``DELIVRD``, ``UNDELIV``, …) as an outcome."""
    return _SMPP.get(stat.strip().upper(), PENDING)


def from_smpp_state(state: int) -> Verdict:
    """An SMPP ``message_state`` TLV (1 ENROUTE … 8 REJECTED) as an outcome."""
    names = {1: "ENROUTE", 2: "DELIVRD", 3: "EXPIRED", 4: "DELETED", 5: "UNDELIV", 6: "ACCEPTD"}
    names |= {7: "UNKNOWN", 8: "REJECTD"}
    return from_smpp_stat(names.get(state, "UNKNOWN"))
