"""Read an "SMS Backup & Restore" (SyncTech) XML backup as a stream of history records.

The file is read in chunks (``chunk_size``, 1 MiB) through ``charrefs.SurrogateRefs`` into
expat, 64 KiB at a time; each ``<sms>`` and ``<mms>`` becomes a ``HistoryMessage`` when
its element ends, and nothing of it is kept after that, so a file of any size is read in
constant memory (one message, its attachments included, at a time).

    <smses count="N">                 the root; ``count`` is ``declared`` (files lie)
      <sms type address date body read status subject contact_name …/>
      <mms msg_box address date sub read contact_name …>
        <parts><part ct text data name cl chset …/>…</parts>
        <addrs><addr address type/>…</addrs>
      </mms>
    </smses>

What the file says and what textport keeps (docs: /work/shared/notes/sms-sources.md §7):

- ``<sms type>``: 1 received; 2 sent (``status`` 0 delivered, 64 failed); 4 outbox,
  5 failed, 6 queued: failed (never known to have gone out); 3 draft: skipped.
- ``<mms msg_box>``: 1 received; 2 sent; 4 outbox, 5 failed: failed; 3 draft: skipped.
- ``date`` is milliseconds; an MMS's ``date_sent`` is seconds and is never used.
- ``"null"`` means absent, everywhere; ``contact_name="(Unknown)"`` means no name.
- MMS parts: ``text/plain`` parts are the body (joined by newlines), ``application/smil``
  is layout (dropped), any other part is an ``Attachment`` (base64 ``data``, checked).
- MMS participants: ``address`` lists the others joined by ``~``; when it is an RCS group
  id (it has an ``@``) the ``<addr>`` elements say who: 137 FROM, 151 TO, 130 CC, 129 BCC.
  The owner (the FROM of a sent message, the single TO of a received one) is learnt from
  the file as it goes and is never a peer.

Only a file that is not such a backup at all raises ``BackupError``; damage after the
root element starts (a truncated file, garbage bytes) ends the reading with ``damage``
set and every message completed before it yielded. A message the reader cannot use (a
draft, no date, no usable address) is counted in ``skipped`` and ``skip_reasons``.

Limits (every one finite): an attachment over ``max_attachment`` bytes, or that would take
a message's attachments over ``MESSAGE_ATTACHMENTS`` times that, is kept as a broken
placeholder; an MMS with more than ``MAX_PARTS`` parts or ``MAX_ADDRS`` addresses, or
more peers than the protocol's records carry (``MAX_PEERS``, 100), is skipped; one
element (tag) longer than ``MAX_ELEMENT`` bytes (or twice ``max_attachment``) ends the
reading as damage.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO, Final, Literal
from xml.parsers import expat

from textport.errors import BackupError
from textport.numbers import as_written, check_region
from textport.protocol.messages import MAX_PEERS
from textport.store.attachments import MAX_ATTACHMENT
from textport.store.backup.charrefs import SurrogateRefs
from textport.store.backup.records import Attachment, HistoryMessage, HistoryState

CHUNK: Final = 1 << 20
"""Bytes read from the file at a time."""
FEED: Final = 64 << 10
"""Bytes handed to expat at a time: the messages one feed completes are held until yielded."""
MAX_ELEMENT: Final = 256 << 20
"""The longest one element (a tag with its attributes) may run, in bytes."""
MAX_PARTS: Final = 200
MAX_ADDRS: Final = 500
MESSAGE_ATTACHMENTS: Final = 5
"""A message's attachments together may hold this many times ``max_attachment``."""
MAX_OWNERS: Final = 4
"""Owner numbers remembered (dual-SIM phones, a new number during the backup's years)."""
MAX_AT_MS: Final = 2**53 - 1

NOT_INCLUDED: Final = "not included in the backup"
CORRUPT: Final = "the file's copy of this attachment is corrupt (not base64)"
ADDRESS_TOKEN: Final = "insert-address-token"  # noqa: S105 - not a password
"""What Android writes as the FROM of a sent MMS: "me", not a participant."""

FROM, TO, CC, BCC = "137", "151", "130", "129"
Direction = Literal["in", "out"]
_SMS_TYPES: Final[dict[str, tuple[Direction, HistoryState] | None]] = {
    "1": ("in", "received"),
    "2": ("out", "sent"),
    "3": None,
    "4": ("out", "failed"),
    "5": ("out", "failed"),
    "6": ("out", "failed"),
}
_MMS_BOXES: Final[dict[str, tuple[Direction, HistoryState] | None]] = {
    "1": ("in", "received"),
    "2": ("out", "sent"),
    "3": None,
    "4": ("out", "failed"),
    "5": ("out", "failed"),
}
_SMS_STATUS: Final[dict[str, HistoryState]] = {"0": "delivered", "64": "failed"}
_CHARSETS: Final = {
    "3": "ascii",
    "4": "latin-1",
    "106": "utf-8",
    "1000": "utf-16-be",
    "1013": "utf-16-be",
    "1014": "utf-16-le",
    "1015": "utf-16",
}
"""IANA MIBenum → codec, for a text part given as ``data`` (106, UTF-8, when unknown)."""
_NO_NAMES: Final = frozenset({"", "null", "(Unknown)"})
_DIGITS: Final = re.compile(r"[0-9]{1,16}")
_NO_ELEMENT: Final = expat.errors.codes[expat.errors.XML_ERROR_NO_ELEMENTS]
_TRUNCATED: Final = frozenset(
    {
        expat.errors.codes[expat.errors.XML_ERROR_NO_ELEMENTS],
        expat.errors.codes[expat.errors.XML_ERROR_UNCLOSED_TOKEN],
        expat.errors.codes[expat.errors.XML_ERROR_PARTIAL_CHAR],
    }
)


@dataclass(frozen=True)
class Damage:
    """Where a backup stops being readable: line and column count from 1, offset (bytes) from 0."""

    line: int
    column: int
    offset: int
    message: str


class _Skip(Exception):  # noqa: N818 - not an error: control flow inside the reader
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class _Mms:
    """An ``<mms>`` whose element has not ended yet."""

    attrs: dict[str, str]
    direction: Direction
    state: HistoryState
    texts: list[str] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    addrs: list[tuple[str, str]] = field(default_factory=list)
    stored: int = 0
    too_many: bool = False


def _value(attrs: dict[str, str], name: str) -> str | None:
    """The attribute, or None when it is missing, empty or the literal ``"null"``."""
    value = attrs.get(name)
    return None if value is None or value in ("", "null") else value


def _size(count: int) -> str:
    for unit, scale in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if count >= scale:
            return f"{count / scale:.3g} {unit}"
    return f"{count} bytes"


class BackupReader:
    """``for message in BackupReader(stream).messages()``; then look at ``damage`` etc."""

    def __init__(
        self,
        stream: BinaryIO,
        *,
        region: str = "US",
        max_attachment: int = MAX_ATTACHMENT,
        chunk_size: int = CHUNK,
    ) -> None:
        if max_attachment < 0 or chunk_size < 1:
            raise ValueError("max_attachment must be 0 or more and chunk_size 1 or more")
        self._stream = stream
        self._region = check_region(region)
        self._max_attachment = max_attachment
        self._max_element = max(MAX_ELEMENT, 2 * max_attachment)
        self._chunk_size = chunk_size
        self.declared: int | None = None
        """The root's ``count`` attribute (None when absent): what the file claims."""
        self.damage: Damage | None = None
        self.skipped = 0
        """Message elements not turned into records; ``skip_reasons`` says why."""
        self.skip_reasons: dict[str, int] = {}
        self._owners: list[str] = []
        self._numbers: dict[str, str | None] = {}
        self._started = False
        self._parser = expat.ParserCreate()
        self._depth = 0
        self._root_seen = False
        self._sms: dict[str, str] | None = None
        self._mms: _Mms | None = None
        self._ready: list[HistoryMessage] = []
        self._event = (1, 0, 0)

    @property
    def owners(self) -> frozenset[str]:
        """The phone's own numbers, as learnt from the file so far (never peers)."""
        return frozenset(self._owners)

    def messages(self) -> Iterator[HistoryMessage]:
        """Every message of the file, in file order; the stream is read once."""
        if self._started:
            raise RuntimeError("BackupReader.messages() reads its stream once")
        self._started = True
        parser = self._parser
        parser.StartElementHandler = self._start
        parser.EndElementHandler = self._end
        parser.StartDoctypeDeclHandler = self._doctype
        refs = SurrogateRefs()
        fed = 0
        while chunk := self._stream.read(self._chunk_size):
            view = memoryview(chunk)
            for start in range(0, len(chunk), FEED):
                data = refs.feed(view[start : start + FEED])
                ok = self._parse(data, final=False, fed=fed)
                fed += len(data)
                yield from self._drain()
                if not ok or self._oversized(fed):
                    return
        data = refs.close()
        self._parse(data, final=True, fed=fed)
        yield from self._drain()

    # Parsing: expat, errors, limits.

    def _parse(self, data: bytes, *, final: bool, fed: int) -> bool:
        try:
            self._parser.Parse(data, final)
        except expat.ExpatError as exc:
            self._failed(exc, fed + len(data), final=final)
            return False
        except (LookupError, ValueError) as exc:
            # expat asks Python's codecs for an encoding it does not know; they may know
            # none by that name, or only a multi-byte one expat cannot use.
            if self._root_seen:  # never: the encoding is declared before the root
                raise BackupError(f"The file cannot be read further: {exc}.") from exc
            raise BackupError(
                "The file is not an SMS Backup & Restore XML backup: it declares a character "
                "encoding that cannot be read (the app writes UTF-8). Choose the .xml file "
                "the app exported."
            ) from exc
        return True

    def _failed(self, exc: expat.ExpatError, fed: int, *, final: bool) -> None:
        line, column = exc.lineno, exc.offset + 1
        offset = self._parser.ErrorByteIndex
        reason = expat.ErrorString(exc.code)
        if not self._root_seen:
            if fed == 0:
                raise BackupError(
                    "The file is empty: choose the .xml file SMS Backup & Restore exported."
                )
            if exc.code == _NO_ELEMENT:
                raise BackupError(
                    "The file is not an SMS Backup & Restore XML backup: it ends before its "
                    "first element. Choose the .xml file the app exported."
                )
            raise BackupError(
                "The file is not an SMS Backup & Restore XML backup: it is not XML (line "
                f"{line}, column {column}: {reason}). Choose the .xml file the app exported."
            )
        if final and exc.code in _TRUNCATED:
            message = (
                f"The file ends in the middle of a message (line {line}, byte {offset}): it "
                "was cut short while being exported or copied. Every complete message "
                "before that was read; export or copy the backup again for the rest."
            )
        else:
            message = (
                f"The file is damaged at line {line}, column {column} (byte {offset}): "
                f"{reason}. Every complete message before that point was read, nothing "
                "after it; export the backup again, or repair the file there."
            )
        self.damage = Damage(line, column, offset, message)

    def _oversized(self, fed: int) -> bool:
        line, column, offset = self._event
        if fed - offset <= self._max_element:
            return False
        if not self._root_seen:
            raise BackupError(
                f"The file is not an SMS Backup & Restore XML backup: it has no <smses> in "
                f"its first {_size(self._max_element)}."
            )
        self.damage = Damage(
            line,
            column,
            offset,
            f"After line {line}, column {column} (byte {offset}) one element runs on for "
            f"more than {_size(self._max_element)}: the file is damaged there, or holds an "
            "attachment far over the import limit. Every message before it was read, "
            "nothing after it.",
        )
        return True

    def _drain(self) -> Iterator[HistoryMessage]:
        ready, self._ready = self._ready, []
        yield from ready

    def _mark(self) -> None:
        parser = self._parser
        self._event = (
            parser.CurrentLineNumber,
            parser.CurrentColumnNumber + 1,
            parser.CurrentByteIndex,
        )

    def _skip(self, reason: str) -> None:
        self.skipped += 1
        self.skip_reasons[reason] = self.skip_reasons.get(reason, 0) + 1

    # expat handlers.

    def _doctype(self, name: str, *_: object) -> None:
        raise BackupError(
            "The file is not an SMS Backup & Restore backup: it declares a document type "
            "(<!DOCTYPE>), which these backups never have."
        )

    def _start(self, name: str, attrs: dict[str, str]) -> None:
        self._mark()
        depth = self._depth
        self._depth += 1
        if depth == 0:
            self._root(name, attrs)
        elif depth == 1:
            if name == "sms":
                self._sms = attrs
            elif name == "mms":
                self._mms = self._open_mms(attrs)
            else:
                self._skip("not a message (an element other than <sms> or <mms>)")
        elif self._mms is not None:
            if name == "part":
                self._part(self._mms, attrs)
            elif name == "addr":
                self._addr(self._mms, attrs)

    def _end(self, name: str) -> None:
        self._mark()
        self._depth -= 1
        if self._depth != 1:
            return
        try:
            if name == "sms" and self._sms is not None:
                self._ready.append(self._sms_message(self._sms))
            elif name == "mms" and self._mms is not None:
                self._ready.append(self._mms_message(self._mms))
        except _Skip as skip:
            self._skip(skip.reason)
        finally:
            self._sms = None
            self._mms = None

    def _root(self, name: str, attrs: dict[str, str]) -> None:
        if name == "calls":
            raise BackupError(
                "This is a call log backup from SMS Backup & Restore (<calls>), not a "
                "message backup: choose the file whose name starts with sms-."
            )
        if name != "smses":
            raise BackupError(
                "The file is XML but not an SMS Backup & Restore message backup: its root "
                f"element is <{name[:40]}>, not <smses>. Choose the .xml file the app exported."
            )
        self._root_seen = True
        count = attrs.get("count", "")
        self.declared = int(count) if _DIGITS.fullmatch(count) else None

    # <sms>

    def _sms_message(self, attrs: dict[str, str]) -> HistoryMessage:
        kind = attrs.get("type", "")
        if kind not in _SMS_TYPES:
            raise _Skip("unknown message type")
        box = _SMS_TYPES[kind]
        if box is None:
            raise _Skip("draft")
        direction, state = box
        if direction == "out" and attrs.get("type") == "2":
            state = _SMS_STATUS.get(attrs.get("status", ""), "sent")
        at_ms = self._date(attrs)
        raw = _value(attrs, "address")
        peer = self._number(raw) if raw is not None else None
        if peer is None:
            raise _Skip("no usable address")
        return HistoryMessage(
            kind="sms",
            direction=direction,
            peers=(peer,),
            sender=peer if direction == "in" else "",
            body=_value(attrs, "body") or "",
            at_ms=at_ms,
            read=attrs.get("read") != "0",
            state=state,
            subject=_value(attrs, "subject"),
            names=self._names((peer,), attrs, raw),
        )

    # <mms>

    def _open_mms(self, attrs: dict[str, str]) -> _Mms | None:
        kind = attrs.get("msg_box", "")
        if kind not in _MMS_BOXES:
            self._skip("unknown message box")
            return None
        box = _MMS_BOXES[kind]
        if box is None:
            self._skip("draft")
            return None
        return _Mms(attrs, *box)

    def _part(self, mms: _Mms, attrs: dict[str, str]) -> None:
        if len(mms.texts) + len(mms.attachments) >= MAX_PARTS:
            mms.too_many = True
            return
        content_type = _value(attrs, "ct") or ""
        kind = content_type.split(";")[0].strip().lower()
        if kind == "application/smil":
            return
        text = _value(attrs, "text")
        if kind == "text/plain" or (not kind and text is not None):
            if text is not None:
                mms.texts.append(text)
                return
            if _value(attrs, "data") is None:
                return  # an empty text part
        data = self._decode(mms, attrs)
        if kind == "text/plain" and isinstance(data, bytes):
            codec = _CHARSETS.get(attrs.get("chset", ""), "utf-8")
            mms.texts.append(data.decode(codec, "replace"))
            return
        name = _value(attrs, "name") or _value(attrs, "cl") or _value(attrs, "fn")
        mms.attachments.append(
            Attachment(
                content_type=content_type.strip() or "application/octet-stream",
                name=name.strip() if name is not None else None,
                data=data if isinstance(data, bytes) else None,
                broken=data if isinstance(data, str) else None,
            )
        )

    def _decode(self, mms: _Mms, attrs: dict[str, str]) -> bytes | str:
        """A part's ``data``, or why it cannot be had."""
        encoded = _value(attrs, "data")
        if encoded is None:
            return NOT_INCLUDED
        limit = self._max_attachment
        if len(encoded) * 3 // 4 - 2 > limit:
            return f"larger than the {_size(limit)} import limit; left out"
        room = MESSAGE_ATTACHMENTS * limit - mms.stored
        try:
            data = base64.b64decode(encoded, validate=True)
        except ValueError:
            try:  # base64 wrapped in lines (XML turns the line breaks into spaces)
                data = base64.b64decode("".join(encoded.split()), validate=True)
            except ValueError:
                return CORRUPT
        if len(data) > limit:
            return f"larger than the {_size(limit)} import limit; left out"
        if len(data) > room:
            return (
                "left out: the message's attachments together are over the "
                f"{_size(MESSAGE_ATTACHMENTS * limit)} import limit"
            )
        mms.stored += len(data)
        return data

    def _addr(self, mms: _Mms, attrs: dict[str, str]) -> None:
        if len(mms.addrs) >= MAX_ADDRS:
            mms.too_many = True
            return
        address = _value(attrs, "address")
        if address is not None:
            mms.addrs.append((attrs.get("type", ""), address))

    def _mms_message(self, mms: _Mms) -> HistoryMessage:
        if mms.too_many:
            raise _Skip(f"more than {MAX_PARTS} parts or {MAX_ADDRS} addresses")
        attrs = mms.attrs
        at_ms = self._date(attrs)
        raw = _value(attrs, "address")
        peers, sender = self._mms_people(mms, raw)
        return HistoryMessage(
            kind="mms",
            direction=mms.direction,
            peers=peers,
            sender=sender,
            body="\n".join(mms.texts),
            at_ms=at_ms,
            read=attrs.get("read") != "0",
            state=mms.state,
            subject=_value(attrs, "sub"),
            names=self._names(peers, attrs, raw),
            attachments=tuple(mms.attachments),
        )

    def _mms_people(self, mms: _Mms, raw: str | None) -> tuple[tuple[str, ...], str]:
        """(peers, sender) of an MMS; learns the owner's number on the way."""
        froms = self._numbers_of(a for kind, a in mms.addrs if kind == FROM)
        tos = self._numbers_of(a for kind, a in mms.addrs if kind == TO)
        everyone = self._numbers_of(a for _, a in mms.addrs)
        listed: list[str] | None = None
        if raw is not None and ("@" not in raw or not everyone):
            listed = self._numbers_of(raw.split("~"))
        elif not everyone:
            raise _Skip("no usable address")
        # The owner: the FROM of a sent message, the single TO of a received one; never
        # one of the others the ``address`` list names (some exports get FROM wrong).
        mine = froms if mms.direction == "out" else tos
        if len(mine) == 1 and (listed is None or mine[0] not in listed):
            self._owner(mine[0])
        named = listed if listed is not None else everyone
        peers = {p for p in named if p not in self._owners} or set(named)
        sender = ""
        if mms.direction == "in":
            if froms:
                sender = froms[0]
            elif len(peers) == 1:
                sender = next(iter(peers))
            if sender in self._owners and sender not in peers:
                sender = ""  # "from me", received: the file does not say from whom
            elif sender:
                peers.add(sender)
        if not peers:
            raise _Skip("no usable address")
        if len(peers) > MAX_PEERS:
            raise _Skip(f"more than {MAX_PEERS} participants")
        return tuple(sorted(peers)), sender

    def _owner(self, number: str) -> None:
        if number not in self._owners and len(self._owners) < MAX_OWNERS:
            self._owners.append(number)

    # Values.

    def _date(self, attrs: dict[str, str]) -> int:
        text = attrs.get("date", "")
        if not _DIGITS.fullmatch(text) or int(text) > MAX_AT_MS:
            raise _Skip("no usable date")
        return int(text)

    def _number(self, raw: str) -> str | None:
        """``raw`` normalised, None when it is no address (cached: files repeat a few)."""
        if raw in self._numbers:
            return self._numbers[raw]
        number = as_written(raw, self._region)
        if number == ADDRESS_TOKEN:
            number = None
        if len(self._numbers) >= 4096:
            self._numbers.clear()
        self._numbers[raw] = number
        return number

    def _numbers_of(self, raws: Iterator[str] | list[str]) -> list[str]:
        """The usable ones, normalised, in order, without repeats."""
        found: dict[str, None] = {}
        for raw in raws:
            number = self._number(raw)
            if number is not None:
                found[number] = None
        return list(found)

    def _names(
        self, peers: tuple[str, ...], attrs: dict[str, str], raw: str | None
    ) -> dict[str, str]:
        if len(peers) != 1:
            return {}
        name = (attrs.get("contact_name") or "").strip()
        if name in _NO_NAMES or name in (peers[0], raw):
            return {}
        return {peers[0]: name}
