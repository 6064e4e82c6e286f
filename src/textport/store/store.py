"""The host's view of its history: conversations, messages, the outbox, devices, events.

One :class:`Store` per host process, used from one thread (one writer). Every change
that a device must learn appends an ``events`` row in the same transaction, so the
event log and the data never disagree; sync reads events and renders each from the
current state of what it names (events are idempotent upserts).
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

from textport.errors import StoreError
from textport.protocol import messages as wire
from textport.store.db import transaction
from textport.store.phrases import WORDS
from textport.store.search import Vocabulary

Clock = Callable[[], float]
SORT_BITS = 20
"""messages.sort_key = -(at * 2**SORT_BITS + a tie-breaker): unique, and ascending from
the newest message, the order in which FTS5 reads its index fastest (migration 0008)."""
EventKind = Literal["msg", "status", "conv", "gone"]
SCHEDULE_SLACK_MS = 5_000
"""A text scheduled for less than this far ahead (or in the past) is sent now."""
MAX_SCHEDULE_MS = 365 * 24 * 3600 * 1000
"""A text is scheduled at most a year ahead."""
CANCELLED = "Cancelled before it was sent."
FTS_AUTOMERGE = 4
FTS_CRISISMERGE = 16
"""FTS5's own defaults, put back after a bulk write."""
PAUSED_CRISISMERGE = 1999
"""The most FTS5 allows: segments merge only if one level ever holds this many."""
CLOCK_SKEW_MS = 120_000
"""A device's clock may run this far behind the host's: a ``send``'s ``created`` counts as
this much later, so a slow clock does not fail a fresh text (a fast one gains nothing:
a text's lifetime never starts after the host accepts it)."""


def duration_words(ms: int) -> str:
    """``86_400_000`` -> "1 day", ``5_400_000`` -> "90 minutes": the largest whole unit.

    web/src/client/wording.ts ``durationWords`` gives the same words."""
    seconds = max(1, (ms + 500) // 1000)
    unit, size = next((u, n) for u, n in _UNITS if seconds % n == 0)
    count = seconds // size
    return f"{count} {unit}{'' if count == 1 else 's'}"


_UNITS = (("day", 86_400), ("hour", 3_600), ("minute", 60), ("second", 1))


def unreachable_reason(ttl_ms: int, *, scheduled: bool) -> str:
    """Why a text was not sent: it could not reach the host within its lifetime.

    web/src/client/wording.ts ``unreachableReason`` gives the same sentence."""
    since = "the time you scheduled it for" if scheduled else "you pressed Send"
    return (
        f"Not sent: your phone was out of reach for longer than {duration_words(ttl_ms)} "
        f"after {since}."
    )


@dataclass(frozen=True)
class Accepted:
    """The answer to a ``send``: the same for a duplicate cmid."""

    msg_id: int
    state: wire.State
    reason: str | None
    duplicate: bool


@dataclass(frozen=True)
class OutboxItem:
    msg_id: int
    recipients: list[str]
    body: str
    attempts: int
    expires_at: int


@dataclass(frozen=True)
class Device:
    id: bytes
    public_key: bytes
    name: str
    agent: str
    token_hash: bytes
    created_at: int
    last_seen_at: int | None
    status: Literal["active", "revoked"]
    session_only: bool = False
    """Paired for one browser session: unpaired once it stays disconnected."""
    revoked_by: Literal["user", "idle", "session"] | None = None


def peers_key(peers: Iterable[str]) -> str:
    return ",".join(sorted(set(peers)))


def key_range(at_ms: int) -> tuple[int, int]:
    """The lowest and the highest sort key of a message at ``at_ms``: the first one
    stored takes the highest, each later one the next lower."""
    high = -(at_ms << SORT_BITS)
    return high - (1 << SORT_BITS) + 1, high


def key_time(sort_key: int) -> int:
    """The ``at`` (ms) of a sort key."""
    return (-sort_key) >> SORT_BITS


class Store:
    def __init__(self, db: sqlite3.Connection, clock: Clock) -> None:
        self.db = db
        self._clock = clock
        self.vocabulary = Vocabulary(db)
        self._resume_merges()
        self._fill_pairs()

    def now_ms(self) -> int:
        return int(self._clock() * 1000)

    # ------------------------------------------------------------ events

    def _event(self, kind: EventKind, ref: int) -> None:
        self.db.execute(
            "INSERT INTO events (kind, ref, at) VALUES (?, ?, ?)", (kind, ref, self.now_ms())
        )

    def latest_seq(self) -> int:
        row = self.db.execute("SELECT max(seq) FROM events").fetchone()
        return int(row[0] or 0)

    def events_since(self, seq: int, limit: int) -> list[wire.Event]:
        return self.scan_events(seq, limit)[0]

    def scan_events(self, seq: int, limit: int) -> tuple[list[wire.Event], int]:
        """Up to ``limit`` events after ``seq``, and the seq the scan reached.

        The log is append-only, but what an event names may be gone: the messages of a
        deleted conversation (its ``gone`` event follows). Such events render as nothing,
        so there may be fewer events than rows scanned, even none.
        """
        rows = self.db.execute(
            "SELECT seq, kind, ref, at FROM events WHERE seq > ? ORDER BY seq LIMIT ?",
            (seq, limit),
        ).fetchall()
        events = [
            event
            for row in rows
            if (event := self.render_event(row["seq"], row["kind"], row["ref"], row["at"]))
            is not None
        ]
        return events, (rows[-1]["seq"] if rows else seq)

    def render_event(self, seq: int, kind: str, ref: int, at: int) -> wire.Event | None:
        """The event from the current state of what it names; None when that is gone."""
        if kind == "gone":
            return wire.GoneEvent(seq=seq, conv=ref)
        try:
            if kind == "conv":
                return wire.ConversationEvent(seq=seq, conv=self.conversation(ref))
            record = self.message(ref)
        except StoreError:
            return None
        if kind == "msg":
            return wire.MessageEvent(seq=seq, msg=record)
        return wire.StatusEvent(
            seq=seq, id=record.id, state=record.state, reason=record.reason, at=at
        )

    # ------------------------------------------------------------ conversations

    def find_conversation(self, peers: Iterable[str]) -> int | None:
        row = self.db.execute(
            "SELECT id FROM conversations WHERE peers = ?", (peers_key(peers),)
        ).fetchone()
        return None if row is None else int(row[0])

    def conversation_for(self, peers: Iterable[str], name: str | None = None) -> int:
        found = self.find_conversation(peers)
        if found is not None:
            return found
        key = peers_key(peers)
        numbers = key.split(",")
        with transaction(self.db):
            conv = self.db.execute(
                "INSERT INTO conversations (peers, name) VALUES (?, ?)", (key, name)
            ).lastrowid
            if conv is None:
                raise StoreError("SQLite returned no id for a new conversation")
            self.db.executemany(
                "INSERT INTO participants (conv, number) VALUES (?, ?)",
                [(conv, number) for number in numbers],
            )
            if name is not None and len(numbers) == 1:
                self.set_contact(numbers[0], name)
            self._event("conv", conv)
        return conv

    def set_contact(self, number: str, name: str) -> None:
        """Remember a name for a number (imports, the carrier); the latest one wins."""
        self.db.execute(
            "INSERT INTO contacts (number, name) VALUES (?, ?) "
            "ON CONFLICT (number) DO UPDATE SET name = excluded.name",
            (number, name),
        )

    def conversation(self, conv: int) -> wire.ConversationRecord:
        row = self.db.execute(
            f"SELECT {_CONVERSATION} FROM conversations WHERE id = ?",  # noqa: S608 - constant
            (conv,),
        ).fetchone()
        if row is None:
            raise StoreError(f"no conversation {conv}")
        return self._conversation(row)

    def _conversation(self, row: sqlite3.Row) -> wire.ConversationRecord:
        return self._conversations([row])[0]

    def _conversations(self, rows: list[sqlite3.Row]) -> list[wire.ConversationRecord]:
        """Records for conversation rows, their participants named from the contacts in
        one query for the whole page."""
        peers = [row["peers"].split(",")[: wire.MAX_PEERS] for row in rows]
        numbers = sorted({number for each in peers for number in each})
        known: dict[str, str | None] = {}
        for at in range(0, len(numbers), 500):  # within SQLite's limit on parameters
            chunk = numbers[at : at + 500]
            known.update(
                self.db.execute(
                    f"SELECT number, name FROM contacts WHERE number IN "  # noqa: S608
                    f"({','.join('?' * len(chunk))})",
                    chunk,
                ).fetchall()
            )
        return [
            _conversation(row, each, [_name(known.get(peer)) for peer in each])
            for row, each in zip(rows, peers, strict=True)
        ]

    def conversations_page(
        self,
        before: tuple[int, int] | None = None,
        limit: int = 50,
        folder: wire.Folder = "inbox",
    ) -> list[wire.ConversationRecord]:
        """A folder's conversations, newest first; ``before`` = (last_at, id) of the last
        one of the previous page (keyset pagination: no OFFSET, constant cost per page).

        inbox: neither archived, pinned nor blocked; pinned, archived: not blocked;
        blocked: all blocked ones (migration 0004 has an index for each).
        """
        last_at, conv = before if before is not None else (1 << 62, 0)
        rows = self.db.execute(
            f"SELECT {_CONVERSATION} FROM conversations WHERE {_FOLDERS[folder]} "  # noqa: S608
            "AND (last_at, id) < (?, ?) ORDER BY last_at DESC, id DESC LIMIT ?",
            (last_at, conv, limit),
        ).fetchall()
        return self._conversations(rows)

    def set_flags(
        self,
        conv: int,
        *,
        pinned: bool | None = None,
        archived: bool | None = None,
        muted: bool | None = None,
        blocked: bool | None = None,
        unread: bool | None = None,
    ) -> bool:
        """Set the given flags of ``conv`` (None: leave it); True when something changed.

        As in Google Messages, pinning unarchives and archiving unpins; blocking unpins
        and marks read (a blocked conversation's texts never count as unread). At most
        ``wire.MAX_PINNED`` are pinned. Raises StoreError for an unknown conversation,
        a request that both pins and archives, or a sixth pin.
        """
        if pinned and archived:
            raise StoreError("a conversation cannot be pinned and archived at once")
        with transaction(self.db):
            row = self.db.execute(
                "SELECT pinned, archived, muted, blocked, unread FROM conversations WHERE id = ?",
                (conv,),
            ).fetchone()
            if row is None:
                raise StoreError(f"no conversation {conv}")
            new = _flags(dict(row), pinned=pinned, archived=archived, muted=muted, blocked=blocked)
            if unread is not None and not new["blocked"]:
                new["unread"] = max(row["unread"], 1) if unread else 0
            if new["pinned"] and not row["pinned"]:
                count = self.db.execute(
                    "SELECT count(*) FROM conversations WHERE pinned = 1"
                ).fetchone()[0]
                if count >= wire.MAX_PINNED:
                    raise StoreError(
                        f"You can pin up to {wire.MAX_PINNED} conversations; unpin one first."
                    )
            if new == dict(row):
                return False
            self.db.execute(
                "UPDATE conversations SET pinned = :pinned, archived = :archived, "
                "muted = :muted, blocked = :blocked, unread = :unread WHERE id = :id",
                {**new, "id": conv},
            )
            self._event("conv", conv)
        return True

    def set_contact_name(self, number: str, name: str | None) -> list[int]:
        """Name ``number`` (None: forget its name), from a device: its one-to-one
        conversation takes the name, and every conversation it is in is announced.
        Returns those conversations."""
        with transaction(self.db):
            if name is None:
                self.db.execute("DELETE FROM contacts WHERE number = ?", (number,))
            else:
                self.set_contact(number, name)
            self.db.execute("UPDATE conversations SET name = ? WHERE peers = ?", (name, number))
            convs = [
                int(row[0])
                for row in self.db.execute(
                    "SELECT conv FROM participants WHERE number = ? ORDER BY conv", (number,)
                )
            ]
            for conv in convs:
                self._event("conv", conv)
        return convs

    def delete_conversation(self, conv: int) -> list[bytes]:
        """Delete ``conv``: its messages (their search index rows go by trigger, their
        word pairs here), queued texts, attachments, participants and itself, and append
        a ``gone`` event.

        Returns the SHA-256 of attachment files no other message uses: the caller
        removes them after this commit (a crash in between leaves unreferenced files,
        never a row naming a missing file). The events that named what was deleted stay
        in the log and render as nothing (scan_events).
        """
        with transaction(self.db):
            found = self.db.execute("SELECT 1 FROM conversations WHERE id = ?", (conv,))
            if found.fetchone() is None:
                raise StoreError(f"no conversation {conv}")
            hashes = {
                bytes(row[0])
                for row in self.db.execute(
                    "SELECT DISTINCT a.sha256 FROM attachments a "
                    "JOIN messages m ON m.id = a.msg_id WHERE m.conv = ? AND a.sha256 IS NOT NULL",
                    (conv,),
                )
            }
            mine = "SELECT id FROM messages WHERE conv = ?"
            self.db.execute(f"DELETE FROM attachments WHERE msg_id IN ({mine})", (conv,))  # noqa: S608
            self.db.execute(f"DELETE FROM outbox WHERE msg_id IN ({mine})", (conv,))  # noqa: S608
            texts = self.db.execute("SELECT id, body FROM messages WHERE conv = ?", (conv,))
            self.db.executemany(
                "INSERT INTO message_pairs (message_pairs, rowid, pairs) VALUES ('delete', ?, ?)",
                [(msg_id, WORDS.pairs(body)) for msg_id, body in texts],
            )
            self.db.execute("DELETE FROM messages WHERE conv = ?", (conv,))
            self.db.execute("DELETE FROM participants WHERE conv = ?", (conv,))
            self.db.execute("DELETE FROM conversations WHERE id = ?", (conv,))
            self._event("gone", conv)
            orphans = [
                sha
                for sha in sorted(hashes)
                if self.db.execute("SELECT 1 FROM attachments WHERE sha256 = ?", (sha,)).fetchone()
                is None
            ]
        return orphans

    def set_name(self, conv: int, name: str | None) -> None:
        with transaction(self.db):
            self.db.execute("UPDATE conversations SET name = ? WHERE id = ?", (name, conv))
            self._event("conv", conv)

    def mark_read(self, conv: int) -> bool:
        with transaction(self.db):
            changed = self.db.execute(
                "UPDATE conversations SET unread = 0 WHERE id = ? AND unread > 0", (conv,)
            ).rowcount
            if changed:
                self._event("conv", conv)
        return bool(changed)

    def touch_conversation(self, conv: int, at: int, snippet: str, unread: int) -> None:
        self.touch_conversations([(conv, at, snippet, unread)])

    def touch_conversations(
        self, changes: list[tuple[int, int, str, int]], *, history: bool = False
    ) -> None:
        """New messages in conversations: (conv, newest at, its snippet, unread added).

        ``history``: they were added out of time order (an import), so ``hist`` grows and
        devices drop the pages they cached; the importer announces them once at
        its end rather than once per batch. A blocked conversation's texts are never
        unread; a new text (not history) in an archived conversation that is neither
        muted nor blocked brings it back to the inbox, as in Google Messages.
        """
        self.db.executemany(
            "UPDATE conversations SET last_at = max(last_at, ?1), "
            "snippet = CASE WHEN ?1 >= last_at THEN ?2 ELSE snippet END, "
            "unread = unread + CASE WHEN blocked THEN 0 ELSE ?3 END, "
            "archived = CASE WHEN ?5 = 0 AND ?3 > 0 AND muted = 0 AND blocked = 0 THEN 0 "
            "ELSE archived END, hist = hist + ?5 WHERE id = ?4",
            [
                (at, snippet[:200], unread, conv, int(history))
                for conv, at, snippet, unread in changes
            ],
        )
        if not history:
            self.announce(conv for conv, _, _, _ in changes)

    @contextlib.contextmanager
    def bulk_index(self) -> Iterator[None]:
        """FTS5 merges no index segments while a bulk write (an import) runs; it merges
        them all once after (:meth:`compact_index`), rather than the same texts again
        and again as segments pile up: a million texts import 2 s faster (13.7 s against
        11.8 s, measured). A process killed meanwhile leaves merging paused: the next
        Store opened on the database turns it back on."""
        self._merges(automerge=0, crisismerge=PAUSED_CRISISMERGE)
        try:
            yield
        finally:
            self._merges(automerge=FTS_AUTOMERGE, crisismerge=FTS_CRISISMERGE)

    def _merges(self, *, automerge: int, crisismerge: int) -> None:
        with transaction(self.db):
            for table in _INDEXES:
                for key, value in (("automerge", automerge), ("crisismerge", crisismerge)):
                    self.db.execute(
                        f"INSERT INTO {table} ({table}, rank) VALUES (?, ?)",  # noqa: S608
                        (key, value),
                    )

    def _resume_merges(self) -> None:
        """Undo a :meth:`bulk_index` that never ended (its process was killed)."""
        paused = self.db.execute(
            "SELECT 1 FROM messages_fts_config WHERE k = 'automerge' AND v = 0"
        ).fetchone()
        if paused is not None:
            self._merges(automerge=FTS_AUTOMERGE, crisismerge=FTS_CRISISMERGE)

    def compact_index(self) -> None:
        """Merge the search index's segments into one, after a bulk write.

        An import leaves FTS5 with dozens of large segments, and FTS5 merges them a
        little at every later write: for thousands of texts after an import, every 64th
        commit paid 5-15 ms for it. Merging them at once costs the import about half a
        second per million texts (docs/history.md, "Writing it safely").
        """
        with transaction(self.db):
            for table in _INDEXES:
                self.db.execute(f"INSERT INTO {table} ({table}) VALUES ('optimize')")  # noqa: S608

    def index_pairs(self, pairs: Iterable[tuple[int, str]]) -> None:
        """Add new texts' word pairs (``WORDS.pairs``) by message id, ascending: FTS5
        writes out what it holds each time a rowid is lower than the one before it."""
        self.db.executemany("INSERT INTO message_pairs (rowid, pairs) VALUES (?, ?)", pairs)

    def _fill_pairs(self) -> None:
        """Index the word pairs of the texts stored before schema 9, once."""
        if self.get_meta("phrase_pairs") is None:
            return
        with transaction(self.db):
            if self.get_meta("phrase_pairs") is None:
                return  # another process filled it meanwhile
            texts = self.db.execute("SELECT id, body FROM messages ORDER BY id")
            while chunk := texts.fetchmany(10_000):
                self.index_pairs((msg_id, WORDS.pairs(body)) for msg_id, body in chunk)
            self.db.execute("INSERT INTO message_pairs (message_pairs) VALUES ('optimize')")
            self.db.execute("DELETE FROM meta WHERE key = 'phrase_pairs'")

    def announce(self, convs: Iterable[int]) -> None:
        """A ``conv`` event for each conversation: devices learn its new state."""
        now = self.now_ms()
        with transaction(self.db):
            self.db.executemany(
                "INSERT INTO events (kind, ref, at) VALUES ('conv', ?, ?)",
                [(conv, now) for conv in convs],
            )

    # ------------------------------------------------------------ messages

    def message(self, msg_id: int) -> wire.MessageRecord:
        row = self.db.execute(
            f"SELECT {_MESSAGE}, c.peers FROM messages m "  # noqa: S608 - a constant
            "JOIN conversations c ON c.id = m.conv WHERE m.id = ?",
            (msg_id,),
        ).fetchone()
        if row is None:
            raise StoreError(f"no message {msg_id}")
        return self._records([row], row["peers"].split(","))[0]

    def thread_page(
        self,
        conv: int,
        before: tuple[int, int] | None = None,
        limit: int = 50,
        *,
        after: tuple[int, int] | None = None,
    ) -> list[wire.MessageRecord]:
        """A page of a conversation's messages, always listed newest first: those older
        than ``before`` (the newest ones when neither is given), or, with ``after``, the
        ones just newer than it. Positions are (at, id); no OFFSET, constant cost."""
        peers = self.db.execute("SELECT peers FROM conversations WHERE id = ?", (conv,)).fetchone()
        if peers is None:
            raise StoreError(f"no conversation {conv}")
        if after is not None:
            rows = self.db.execute(
                f"SELECT {_MESSAGE} FROM messages m "  # noqa: S608 - a constant
                "WHERE m.conv = ? AND (m.at, m.id) > (?, ?) ORDER BY m.at, m.id LIMIT ?",
                (conv, *after, limit),
            ).fetchall()[::-1]
        else:
            rows = self.db.execute(
                f"SELECT {_MESSAGE} FROM messages m "  # noqa: S608 - a constant
                "WHERE m.conv = ? AND (m.at, m.id) < (?, ?) ORDER BY m.at DESC, m.id DESC "
                "LIMIT ?",
                (conv, *(before or (1 << 62, 0)), limit),
            ).fetchall()
        return self._records(rows, peers[0].split(","))

    def _records(self, rows: list[sqlite3.Row], peers: list[str]) -> list[wire.MessageRecord]:
        """Message records for rows of one conversation, with their attachments."""
        mms = [row["id"] for row in rows if row["kind"] == "mms"]
        atts: dict[int, list[wire.AttachmentRecord]] = {}
        if mms:
            marks = ",".join("?" * len(mms))
            for att in self.db.execute(
                "SELECT id, msg_id, content_type, name, size, broken FROM attachments "  # noqa: S608
                f"WHERE msg_id IN ({marks}) ORDER BY msg_id, seq",
                mms,
            ):
                atts.setdefault(att["msg_id"], []).append(
                    wire.AttachmentRecord(
                        id=att["id"],
                        type=att["content_type"][:128],
                        name=None if att["name"] is None else att["name"][:128],
                        size=att["size"],
                        broken=None if att["broken"] is None else att["broken"][:200],
                    )
                )
        waiting = self._scheduled([row["id"] for row in rows if row["state"] == "sending"])
        return [
            _message(row, peers, atts.get(row["id"], []), scheduled=row["id"] in waiting)
            for row in rows
        ]

    def sort_key_of(self, msg_id: int) -> int | None:
        row = self.db.execute("SELECT sort_key FROM messages WHERE id = ?", (msg_id,)).fetchone()
        return None if row is None else int(row[0])

    def attachment(self, att_id: int) -> sqlite3.Row | None:
        """An attachment's content type, size, sha256 (NULL when broken) and why."""
        row: sqlite3.Row | None = self.db.execute(
            "SELECT id, content_type, size, sha256, broken FROM attachments WHERE id = ?",
            (att_id,),
        ).fetchone()
        return row

    def add_outgoing(
        self,
        device_id: bytes | None,
        cmid: str | None,
        to: list[str],
        body: str,
        ttl: float,
        *,
        at_ms: int | None = None,
        created_ms: int | None = None,
    ) -> Accepted:
        """Store a text to send and queue it, in one transaction; dedupe on (device, cmid).

        ``at_ms`` more than SCHEDULE_SLACK_MS ahead schedules it: the message's ``at`` is
        that time, it shows as "queued" until the worker claims it then, and it expires
        ``ttl`` after it. Over MAX_SCHEDULE_MS ahead is refused (StoreError), nothing stored.

        Otherwise it expires ``ttl`` after ``created_ms`` (when the person pressed Send,
        on the device's clock, given CLOCK_SKEW_MS; or after ``at_ms`` when that is later)
        but never later than ``ttl`` from now; without ``created_ms``, ``ttl`` from now. A
        text already past that is stored ``failed`` with a reason a person can read, and
        never queued: a text typed days ago while the phone was away does not go out.
        """
        if cmid is not None:
            found = self._by_cmid(device_id, cmid)
            if found is not None:
                return found
        now = self.now_ms()
        if at_ms is not None and at_ms > now + MAX_SCHEDULE_MS:
            raise StoreError("a text can be scheduled at most a year ahead")
        scheduled = at_ms is not None and at_ms > now + SCHEDULE_SLACK_MS
        due = at_ms if scheduled and at_ms is not None else now
        ttl_ms = int(ttl * 1000)
        start = due
        if not scheduled and created_ms is not None:
            meant = max(created_ms, at_ms or 0)
            start = min(now, meant + CLOCK_SKEW_MS)
            if start + ttl_ms <= now:
                reason = unreachable_reason(ttl_ms, scheduled=meant > created_ms)
                return self._add_expired(device_id, cmid, to, body, reason)
        conv = self.conversation_for(to)
        with transaction(self.db):
            msg_id = self._insert(
                conv,
                "out",
                "",
                body=body,
                at_ms=due,
                state="sending",
                device_id=device_id,
                cmid=cmid,
                touched_at=now,
            )
            self.db.execute(
                "INSERT INTO outbox (msg_id, recipients, state, next_attempt_at, expires_at, "
                "scheduled) VALUES (?, ?, 'queued', ?, ?, ?)",
                (msg_id, ",".join(to), due, start + ttl_ms, int(scheduled)),
            )
        return Accepted(msg_id, "queued" if scheduled else "sending", None, duplicate=False)

    def _add_expired(
        self, device_id: bytes | None, cmid: str | None, to: list[str], body: str, reason: str
    ) -> Accepted:
        """Store a text that came too late to send: ``failed``, kept (a device may send
        it anew), deduped on its cmid like any other, never in the outbox."""
        now = self.now_ms()
        conv = self.conversation_for(to)
        msg_id = self._insert(
            conv,
            "out",
            "",
            body=body,
            at_ms=now,
            state="failed",
            reason=reason,
            device_id=device_id,
            cmid=cmid,
        )
        return Accepted(msg_id, "failed", reason, duplicate=False)

    def _by_cmid(self, device_id: bytes | None, cmid: str) -> Accepted | None:
        row = self.db.execute(
            "SELECT id, state, reason FROM messages WHERE device_id IS ? AND cmid = ?",
            (device_id, cmid),
        ).fetchone()
        if row is None:
            return None
        state: wire.State = "queued" if self._scheduled([row["id"]]) else row["state"]
        return Accepted(row["id"], state, row["reason"], duplicate=True)

    def _scheduled(self, msg_ids: list[int]) -> set[int]:
        """Which of these messages are scheduled texts still waiting for their time."""
        if not msg_ids:
            return set()
        marks = ",".join("?" * len(msg_ids))
        rows = self.db.execute(
            f"SELECT msg_id FROM outbox WHERE scheduled = 1 AND msg_id IN ({marks})",  # noqa: S608
            msg_ids,
        ).fetchall()
        return {int(row[0]) for row in rows}

    def unschedule(self, msg_id: int) -> None:
        """Cancel a scheduled text that is still waiting: it becomes ``failed`` with the
        reason CANCELLED (its text is kept, so it can be sent anew). StoreError, and
        nothing changes, when it is not waiting: unknown, being sent, or sent."""
        with transaction(self.db):
            removed = self.db.execute(
                "DELETE FROM outbox WHERE msg_id = ? AND scheduled = 1 AND state = 'queued' "
                "AND attempts = 0 AND EXISTS (SELECT 1 FROM messages m WHERE m.id = ? "
                "AND m.state = 'sending')",
                (msg_id, msg_id),
            ).rowcount
            if not removed:
                known = self.db.execute("SELECT 1 FROM messages WHERE id = ?", (msg_id,)).fetchone()
                raise StoreError(
                    "that text is no longer waiting: it is being sent or was sent"
                    if known
                    else "there is no such text"
                )
            self.set_state(msg_id, "failed", CANCELLED)

    def add_incoming(
        self,
        sender: str,
        body: str,
        at_ms: int,
        source_id: str | None,
        name: str | None = None,
        *,
        parts: int = 1,
        missing: Sequence[int] = (),
    ) -> int | None:
        """Store a received text; None when ``source_id`` was stored before (a re-read).

        ``missing`` names the parts (of ``parts``) that never came: the text is partial.
        """
        if (
            source_id is not None
            and self.db.execute(
                "SELECT 1 FROM messages WHERE source_id = ?", (source_id,)
            ).fetchone()
        ):
            return None
        conv = self.conversation_for([sender], name)
        return self._insert(
            conv,
            "in",
            sender,
            body=body,
            at_ms=at_ms,
            state="received",
            source_id=source_id,
            parts=parts,
            missing=",".join(str(n) for n in sorted(missing)) or None,
        )

    def add_sent(self, to: list[str], body: str, at_ms: int, state: wire.State) -> int:
        """Store a text sent before (history, imports): no outbox, no device."""
        return self._insert(
            self.conversation_for(to), "out", "", body=body, at_ms=at_ms, state=state
        )

    def _insert(
        self,
        conv: int,
        direction: wire.Direction,
        sender: str,
        *,
        body: str,
        at_ms: int,
        state: wire.State,
        reason: str | None = None,
        device_id: bytes | None = None,
        cmid: str | None = None,
        source_id: str | None = None,
        kind: str = "sms",
        subject: str | None = None,
        parts: int = 1,
        missing: str | None = None,
        touched_at: int | None = None,
    ) -> int:
        """Insert a message, its event and its conversation's new last message, at once.

        ``touched_at``: the conversation's new ``last_at`` when not ``at_ms`` (a text
        scheduled for later is news now, and must not hold the list's top until then)."""
        with transaction(self.db):
            key = self.sort_key(at_ms)
            msg_id = self.db.execute(
                "INSERT INTO messages (conv, dir, sender, body, at, state, reason, device_id, "
                "cmid, source_id, kind, subject, sort_key, parts, missing) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    conv,
                    direction,
                    sender,
                    body,
                    at_ms,
                    state,
                    reason,
                    device_id,
                    cmid,
                    source_id,
                    kind,
                    subject,
                    key,
                    parts,
                    missing,
                ),
            ).lastrowid
            if msg_id is None:
                raise StoreError("SQLite returned no id for a new message")
            self.index(msg_id, key, body)
            self._event("msg", msg_id)
            touched = at_ms if touched_at is None else touched_at
            self.touch_conversation(conv, touched, body, 1 if direction == "in" else 0)
        return msg_id

    def sort_key(self, at_ms: int) -> int:
        """A unique key, ascending from the newest: ``-(at_ms * 2**20)`` less the first
        free tie-breaker (a later text of the same millisecond sorts as newer)."""
        low, high = key_range(at_ms)
        row = self.db.execute(
            "SELECT min(sort_key) FROM messages WHERE sort_key BETWEEN ? AND ?", (low, high)
        ).fetchone()
        key = high if row[0] is None else int(row[0]) - 1
        if key < low:
            raise StoreError("over a million messages in one millisecond; check the clock")
        return key

    def index(self, msg_id: int, sort_key: int, body: str) -> None:
        """Add a new message's text to the full-text index (migration 0002 says why here)
        and its word pairs to theirs (migration 0009)."""
        self.db.execute("INSERT INTO messages_fts (rowid, body) VALUES (?, ?)", (sort_key, body))
        self.index_pairs([(msg_id, WORDS.pairs(body))])
        self.vocabulary.add(body)

    def set_state(
        self,
        msg_id: int,
        state: wire.State,
        reason: str | None = None,
        carrier_ref: str | None = None,
    ) -> None:
        with transaction(self.db):
            changed = self.db.execute(
                "UPDATE messages SET state = ?, reason = ?, "
                "carrier_ref = coalesce(?, carrier_ref) WHERE id = ?",
                (state, reason, carrier_ref, msg_id),
            ).rowcount
            if changed:  # none when its conversation was deleted while it was being sent
                self._event("status", msg_id)

    def by_carrier_ref(self, carrier_ref: str) -> int | None:
        row = self.db.execute(
            "SELECT id FROM messages WHERE carrier_ref = ?", (carrier_ref,)
        ).fetchone()
        return None if row is None else int(row[0])

    # ------------------------------------------------------------ outbox

    def claim_due(self, limit: int = 10) -> list[OutboxItem]:
        """Mark due texts as being submitted (committed before any is handed over).

        A scheduled text leaves the scheduled state here: a status event tells devices
        it is ``sending`` now, and it can no longer be cancelled."""
        now = self.now_ms()
        with transaction(self.db):
            rows = self.db.execute(
                "SELECT o.msg_id, o.recipients, o.attempts, o.expires_at, o.scheduled, m.body "
                "FROM outbox o JOIN messages m ON m.id = o.msg_id "
                "WHERE o.state = 'queued' AND o.next_attempt_at <= ? "
                "ORDER BY o.next_attempt_at, o.msg_id LIMIT ?",
                (now, limit),
            ).fetchall()
            self.db.executemany(
                "UPDATE outbox SET state = 'submitting', attempts = attempts + 1, scheduled = 0 "
                "WHERE msg_id = ?",
                [(row["msg_id"],) for row in rows],
            )
            for row in rows:
                if row["scheduled"]:
                    self._event("status", row["msg_id"])
        return [
            OutboxItem(
                row["msg_id"],
                row["recipients"].split(","),
                row["body"],
                row["attempts"] + 1,
                row["expires_at"],
            )
            for row in rows
        ]

    def retry_later(self, msg_id: int, at_ms: int) -> None:
        self.db.execute(
            "UPDATE outbox SET state = 'queued', next_attempt_at = ? WHERE msg_id = ?",
            (at_ms, msg_id),
        )

    def finish(
        self,
        msg_id: int,
        state: wire.State,
        reason: str | None = None,
        carrier_ref: str | None = None,
    ) -> None:
        """The outbox is done with a text: record its state and drop it from the queue."""
        with transaction(self.db):
            self.db.execute("DELETE FROM outbox WHERE msg_id = ?", (msg_id,))
            self.set_state(msg_id, state, reason, carrier_ref)

    def recover(self) -> list[int]:
        """At start-up: texts claimed but never confirmed become ``unknown`` (never resent)."""
        rows = self.db.execute("SELECT msg_id FROM outbox WHERE state = 'submitting'").fetchall()
        for row in rows:
            self.finish(
                row["msg_id"],
                "unknown",
                "The host stopped while sending this text; it may or may not have gone out. "
                "Retry it if the recipient did not get it.",
            )
        return [row["msg_id"] for row in rows]

    def next_due_ms(self) -> int | None:
        row = self.db.execute(
            "SELECT min(next_attempt_at) FROM outbox WHERE state = 'queued'"
        ).fetchone()
        return None if row[0] is None else int(row[0])

    # ------------------------------------------------------------ devices

    def add_device(
        self,
        device_id: bytes,
        public_key: bytes,
        name: str,
        agent: str,
        token_hash: bytes,
        *,
        session_only: bool = False,
    ) -> None:
        with transaction(self.db):
            self.db.execute(
                "INSERT INTO devices (id, public_key, name, agent, token_hash, created_at, status, "
                "session_only) VALUES (?, ?, ?, ?, ?, ?, 'active', ?) ON CONFLICT (id) DO UPDATE "
                "SET name = excluded.name, agent = excluded.agent, "
                "token_hash = excluded.token_hash, created_at = excluded.created_at, "
                "last_seen_at = NULL, status = 'active', revoked_at = NULL, revoked_by = NULL, "
                "session_only = excluded.session_only",
                (device_id, public_key, name, agent, token_hash, self.now_ms(), int(session_only)),
            )

    def devices(self) -> list[Device]:
        query = f"SELECT {_DEVICE} FROM devices ORDER BY created_at"  # noqa: S608 - constant
        rows = self.db.execute(query).fetchall()
        return [_device(row) for row in rows]

    def device_by_key(self, public_key: bytes) -> Device | None:
        query = f"SELECT {_DEVICE} FROM devices WHERE public_key = ?"  # noqa: S608 - constant
        row = self.db.execute(query, (public_key,)).fetchone()
        return None if row is None else _device(row)

    def revoke(self, device_id: bytes, by: Literal["user", "idle", "session"] = "user") -> bool:
        with transaction(self.db):
            return bool(
                self.db.execute(
                    "UPDATE devices SET status = 'revoked', revoked_at = ?, revoked_by = ? "
                    "WHERE id = ? AND status = 'active'",
                    (self.now_ms(), by, device_id),
                ).rowcount
            )

    def seen(self, device_id: bytes) -> None:
        """The device connected, or its last session ended: it was there now."""
        self.db.execute(
            "UPDATE devices SET last_seen_at = ? WHERE id = ?", (self.now_ms(), device_id)
        )

    def unpair_stale(
        self, *, idle_ms: int, session_ms: int, connected: Iterable[bytes]
    ) -> list[Device]:
        """Revoke the active devices not ``connected`` now that were last seen (or, never
        seen, paired) more than ``idle_ms`` ago, and session-only ones more than
        ``session_ms`` ago; returns them, as they were before."""
        now = self.now_ms()
        live = set(connected)
        stale: list[tuple[Device, Literal["idle", "session"]]] = []
        for device in self.devices():
            if device.status != "active" or device.id in live:
                continue
            since = now - (device.last_seen_at or device.created_at)
            if device.session_only and since > session_ms:
                stale.append((device, "session"))
            elif since > idle_ms:
                stale.append((device, "idle"))
        for device, why in stale:
            self.revoke(device.id, why)
        return [device for device, _ in stale]

    # ------------------------------------------------------------ meta

    def get_meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        self.db.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )


_INDEXES = ("messages_fts", "message_pairs")
"""The FTS5 tables, merged alike."""

# Column lists shared by the queries that build records (constants, never user input).
_DEVICE = (
    "id, public_key, name, agent, token_hash, created_at, last_seen_at, status, session_only, "
    "revoked_by"
)
_CONVERSATION = "id, peers, name, last_at, snippet, unread, hist, pinned, archived, muted, blocked"
_FOLDERS: dict[wire.Folder, str] = {
    "inbox": "blocked = 0 AND archived = 0 AND pinned = 0",
    "pinned": "blocked = 0 AND archived = 0 AND pinned = 1",
    "archived": "blocked = 0 AND archived = 1 AND pinned = 0",
    "blocked": "blocked = 1",
}
_MESSAGE = (
    "m.id, m.conv, m.dir, m.body, m.at, m.state, m.reason, m.cmid, m.kind, m.sender, m.subject, "
    "m.parts, m.missing"
)


def _device(row: sqlite3.Row) -> Device:
    fields = dict(row)
    fields["session_only"] = bool(fields["session_only"])
    return Device(**fields)


def _flags(row: dict[str, int], **change: bool | None) -> dict[str, int]:
    """A conversation's flags after ``change`` (None: unchanged): pinning unarchives,
    archiving unpins, and blocking unpins and marks read."""
    new = dict(row)
    for flag, value in change.items():
        if value is not None:
            new[flag] = int(value)
    if change.get("pinned"):
        new["archived"] = 0
    if change.get("archived"):
        new["pinned"] = 0
    if new["blocked"]:
        new["pinned"] = new["unread"] = 0
    return new


def _name(name: str | None) -> str | None:
    return None if name is None else name[:128]


def _conversation(
    row: sqlite3.Row, peers: list[str], names: list[str | None]
) -> wire.ConversationRecord:
    return wire.ConversationRecord(
        id=row["id"],
        peers=peers,
        name=_name(row["name"]),
        last_at=row["last_at"],
        snippet=row["snippet"],
        unread=row["unread"],
        hist=row["hist"],
        pinned=bool(row["pinned"]),
        archived=bool(row["archived"]),
        muted=bool(row["muted"]),
        blocked=bool(row["blocked"]),
        names=names,
    )


def _message(
    row: sqlite3.Row, peers: list[str], atts: list[wire.AttachmentRecord], *, scheduled: bool
) -> wire.MessageRecord:
    """``scheduled``: a text waiting for its time, stored as 'sending' (migration 0006)."""
    subject = row["subject"]
    return wire.MessageRecord(
        id=row["id"],
        conv=row["conv"],
        dir=row["dir"],
        peers=peers[: wire.MAX_PEERS],
        body=row["body"][: wire.MAX_BODY_CHARS],
        at=row["at"],
        state="queued" if scheduled else row["state"],
        reason=row["reason"],
        cmid=row["cmid"],
        kind=row["kind"],
        sender=row["sender"],
        subject=None if subject is None else subject[:200],
        atts=atts[: wire.MAX_ATTACHMENTS],
        parts=row["parts"],
        missing=[] if row["missing"] is None else [int(n) for n in row["missing"].split(",")],
    )
