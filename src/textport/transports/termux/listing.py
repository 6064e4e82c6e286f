"""What ``termux-sms-list`` prints, and what the ``termux`` transport handed over. No I/O.

:func:`parse_listing` reads the JSON that Termux:API's ``SmsInboxAPI.writeElement``
writes (``threadid``, ``type``, ``read``, ``sender`` when a contact matches,
``address``, ``number``, ``received``, ``body``, ``_id``), tolerating fields that are
missing, extra or of another type; :class:`Seen` is the transport's memory of what it
handed over (see :mod:`textport.transports.termux` for why it has one).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from textport.errors import TransportError

MAX_SEEN: Final = 20_000
"""Keys of handed-over texts remembered at most (at least 2 pages are always kept)."""
MAX_OUTPUT: Final = 64 << 20
"""Bytes a command may print at most; more is refused, not parsed."""
MAX_NAME: Final = 100
"""Characters of a contact's name kept."""


@dataclass(frozen=True)
class Listed:
    """One entry of ``termux-sms-list``'s JSON, as far as it was there."""

    id: int | None
    kind: str | None
    """``type``: inbox, sent, draft, failed, outbox or "" (None when missing)."""
    address: str
    received: str
    body: str
    name: str | None = None

    @property
    def key(self) -> str:
        """The same for this text read again; differs for any other text."""
        digest = hashlib.sha256()
        for value in (self.address, self.received, self.body):
            digest.update(value.encode("utf-8", "surrogatepass") + b"\x00")
        return f"{'-' if self.id is None else self.id}:{digest.hexdigest()[:20]}"


def shown(output: bytes, limit: int = 120) -> str:
    """A command's own words, safe to log: its first line, escaped and cut short. JSON
    is not shown: cut short, a listing could show a number or a body."""
    text = output.decode("utf-8", "replace").strip()
    if text.startswith(("[", "{")):
        return "(JSON, not shown)"
    line = text.splitlines()[0] if text else ""
    escaped = line.encode("unicode_escape").decode("ascii")
    return escaped if len(escaped) <= limit else escaped[: limit - 1] + "…"


def refusal(answer: Mapping[str, Any]) -> TransportError:
    """Termux:API's ``{"error": …}`` (a permission not granted) as what to do."""
    said = str(answer.get("error", ""))
    advice = (
        "Grant Termux:API its SMS and phone permissions (Android settings, Apps, "
        "Termux:API, Permissions), then textport tries again"
        if "permission" in said.lower()
        else "Check the Termux:API app"
    )
    return TransportError(f"Termux:API refused: {shown(said.encode())}. {advice}.")


def parse_listing(output: bytes) -> list[Listed]:
    """``termux-sms-list``'s output as entries. Fields missing or of another type are
    tolerated (entries that are not objects are skipped); output that is not a JSON
    list raises :class:`TransportError` saying what to do. Never raises anything else.
    """
    if len(output) > MAX_OUTPUT:
        raise TransportError("termux-sms-list printed over 64 MiB: lower list_limit")
    try:
        doc = json.loads(output)
    except (ValueError, RecursionError):
        said = shown(output)
        if not said:
            raise TransportError(
                "termux-sms-list printed nothing: is the Termux:API app installed (from "
                "F-Droid or GitHub, the same source as Termux) and up to date?"
            ) from None
        if said == "(JSON, not shown)":
            raise TransportError(
                "termux-sms-list printed JSON that is cut short or damaged (was it "
                "stopped?): textport tries again"
            ) from None
        raise TransportError(
            f"termux-sms-list did not print a list of texts but {said!r}: install the "
            "Termux:API app and `pkg install termux-api`, both up to date"
        ) from None
    if isinstance(doc, dict) and "error" in doc:
        raise refusal(doc)
    if not isinstance(doc, list):
        raise TransportError(
            "termux-sms-list printed JSON that is not a list of texts: is termux-api up to "
            "date (`pkg upgrade termux-api`)?"
        )
    return [entry for item in doc if (entry := _entry(item)) is not None]


def _entry(item: object) -> Listed | None:
    if not isinstance(item, dict):
        return None
    raw_id = item.get("_id")
    ident = raw_id if isinstance(raw_id, int) and not isinstance(raw_id, bool) else None
    address = item.get("address", item.get("number"))
    kind, name = item.get("type"), item.get("sender")
    return Listed(
        id=ident,
        kind=kind if isinstance(kind, str) else None,
        address=address if isinstance(address, str) else "",
        received=_text(item.get("received")),
        body=_text(item.get("body")),
        name=name[:MAX_NAME] if isinstance(name, str) and name.strip() else None,
    )


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def received_ms(received: str, now_ms: int) -> int:
    """``received`` (``yyyy-MM-dd HH:mm:ss``, the phone's local time, which is ours: the
    host runs on the phone) in ms, or now when it is missing or implausible."""
    try:
        at = int(dt.datetime.strptime(received, "%Y-%m-%d %H:%M:%S").timestamp() * 1000)
    except (ValueError, OverflowError, OSError):
        return now_ms
    if not 946_684_800_000 <= at <= now_ms + 86_400_000:  # 2000-01-01 .. tomorrow
        return now_ms
    return at


# ------------------------------------------------------------ what was handed over


@dataclass
class Seen:
    """What was handed over (no I/O): the keys of the newest texts handed over, oldest
    first, at most ``limit``, and the ``floor``: the largest ``_id`` in the inbox at the
    first start (texts at or under it are history, left to ``textport import``)."""

    limit: int = MAX_SEEN
    floor: int | None = None
    """None until the first round: everything is history then."""
    keys: OrderedDict[str, None] = field(default_factory=OrderedDict)

    def is_new(self, entry: Listed) -> bool:
        if self.floor is None or entry.key in self.keys:
            return False
        return entry.id is None or entry.id > self.floor

    def add(self, key: str) -> None:
        self.keys[key] = None
        self.keys.move_to_end(key)
        while len(self.keys) > self.limit:
            self.keys.popitem(last=False)

    def dump(self) -> bytes:
        return json.dumps({"version": 1, "floor": self.floor, "seen": list(self.keys)}).encode()

    @classmethod
    def load(cls, raw: bytes, limit: int = MAX_SEEN) -> Seen:
        """Raises ValueError when ``raw`` is not a file this class wrote."""
        doc = json.loads(raw)
        if not isinstance(doc, dict) or doc.get("version") != 1:
            raise ValueError("not a version 1 file")
        floor, keys = doc.get("floor"), doc.get("seen")
        floor_ok = isinstance(floor, int) and not isinstance(floor, bool)
        if not floor_ok or not isinstance(keys, list):
            raise ValueError("no floor or no list of keys")
        if not all(isinstance(key, str) for key in keys):
            raise ValueError("a key that is not a string")
        seen = cls(limit, floor)
        for key in keys:
            seen.add(key)
        return seen
