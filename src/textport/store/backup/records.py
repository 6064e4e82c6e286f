"""One message of a history file, as the store imports it and the writer exports it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Kind = Literal["sms", "mms"]
HistoryState = Literal["received", "sent", "delivered", "failed"]


@dataclass(frozen=True)
class Attachment:
    """A non-text MMS part. ``data`` is None when the file's copy could not be read."""

    content_type: str
    name: str | None
    data: bytes | None
    broken: str | None = None
    """Why ``data`` is missing, for people: "corrupt base64", "larger than 20 MB"."""


@dataclass(frozen=True)
class HistoryMessage:
    kind: Kind
    direction: Literal["in", "out"]
    peers: tuple[str, ...]
    """The other participants (not the owner), normalised, sorted, without repeats."""
    sender: str
    """Who sent an inbound text (one of ``peers``); "" for outbound."""
    body: str
    """The text: an SMS body, or an MMS's text parts joined by newlines."""
    at_ms: int
    read: bool
    state: HistoryState
    subject: str | None = None
    names: dict[str, str] = field(default_factory=dict)
    """Contact names the file gives for some of ``peers``."""
    attachments: tuple[Attachment, ...] = ()
