"""History in bulk: import records from a backup, export them back, without duplicates.

A message whose conversation, time (to the millisecond), direction and text are already
stored is skipped (found per batch by one join on the thread index), so importing the
same file again, a file with repeated entries, or a file exported from this store, adds
nothing.

Messages are written in batches, one transaction each. The import ends with one
``conv`` event per conversation it added to, rather than one event per message or per
batch, so a million imported texts do not become a flood of events for every paired
device (devices page history on demand, and drop cached pages when ``hist`` grows).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import count

from textport.errors import StoreError
from textport.store.attachments import AttachmentFiles
from textport.store.backup.records import Attachment, HistoryMessage, HistoryState
from textport.store.db import transaction
from textport.store.phrases import WORDS
from textport.store.store import SORT_BITS, Store, key_range, key_time

BATCH = 25_000
"""Messages per transaction: bigger batches amortise the per-conversation statements."""
BATCH_BYTES = 16 << 20
"""A batch is written early once its attachments hold this much memory."""


@dataclass
class ImportResult:
    messages: int = 0
    duplicates: int = 0
    conversations: set[int] = field(default_factory=set)
    attachments: int = 0
    broken: int = 0
    """Attachments kept as a broken placeholder (their bytes were unreadable)."""


def snippet(body: str, attachments: Iterable[str]) -> str:
    """What the conversation list shows for a message: its text, or what it carries."""
    if body.strip():
        return body
    types = list(attachments)
    if not types:
        return ""
    return "📷 Photo" if types[0].startswith("image/") else "📎 Attachment"


class HistoryImport:
    """Write history records into ``store``, a batch per transaction."""

    def __init__(
        self,
        store: Store,
        files: AttachmentFiles,
        *,
        batch: int = BATCH,
        progress: Callable[[int], None] | None = None,
    ) -> None:
        self._store = store
        self._files = files
        self._batch = batch
        self._progress = progress
        self._convs: dict[tuple[str, ...], int] = {}
        self._named: set[str] = set()
        self.result = ImportResult()

    def run(self, messages: Iterable[HistoryMessage]) -> ImportResult:
        pending: list[HistoryMessage] = []
        held = 0
        try:
            with self._store.bulk_index(), ThreadPoolExecutor(1) as indexer:
                for message in messages:
                    pending.append(message)
                    if message.attachments:
                        held += sum(len(a.data) for a in message.attachments if a.data)
                    if len(pending) >= self._batch or held >= BATCH_BYTES:
                        self._write(pending, indexer)
                        pending, held = [], 0
                if pending:
                    self._write(pending, indexer)
            if self.result.messages:
                self._store.compact_index()
        finally:
            # Even when the file or the disk fails midway, what was written is announced.
            self._store.announce(sorted(self.result.conversations))
            self._store.vocabulary.invalidate()
        return self.result

    def _write(self, batch: list[HistoryMessage], indexer: Executor) -> None:
        """One batch in one transaction, set-wise: a query per conversation for repeats,
        one for the sort keys in use, ``executemany`` for the rows, one for the full-text
        index and one for the word pairs (phrases.py)."""
        db = self._store.db
        # Attachment bytes first, durable before the rows that name them commit.
        stored = [[self._put(a) for a in message.attachments] for message in batch]
        self._files.flush()
        with transaction(db):
            convs = [self._conversation(message) for message in batch]
            fresh = self._fresh(batch, convs)
            keys = self._sort_keys(batch, fresh)
            first = int(db.execute("SELECT coalesce(max(id), 0) + 1 FROM messages").fetchone()[0])
            plain = [i for i in fresh if not batch[i].attachments]
            rich = [i for i in fresh if batch[i].attachments]
            db.executemany(
                "INSERT INTO messages (conv, dir, sender, body, at, state, kind, subject, "
                "sort_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [_row(convs[i], batch[i], keys[i]) for i in plain],
            )
            for i in rich:
                cursor = db.execute(
                    "INSERT INTO messages (conv, dir, sender, body, at, state, kind, "
                    "subject, sort_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    _row(convs[i], batch[i], keys[i]),
                )
                self._attach(cursor.lastrowid, batch[i], stored[i])
            # This transaction holds the only write lock: every id from ``first`` on is
            # this batch's, given in the order of insertion. One statement indexes them
            # all, in the index's order: FTS5 writes out what it holds each time a rowid
            # is lower than the one before. SQLite runs it on the indexer thread without
            # the GIL while this one makes the word pairs, and nothing else uses the
            # connection meanwhile: a million texts import a second or more faster.
            indexed = indexer.submit(
                db.execute,
                "WITH batch AS MATERIALIZED (SELECT sort_key, body FROM messages WHERE id >= ?) "
                "INSERT INTO messages_fts (rowid, body) SELECT sort_key, body FROM batch "
                "ORDER BY sort_key",
                (first,),
            )
            try:
                pairs = [WORDS.pairs(batch[i].body) for i in plain + rich]
            finally:
                indexed.result()
            self._store.index_pairs(zip(count(first), pairs))
            self._contacts(batch[i] for i in fresh)
            self._store.touch_conversations(_touched(batch, convs, fresh), history=True)
        self.result.messages += len(fresh)
        self.result.duplicates += len(batch) - len(fresh)
        self.result.conversations.update(convs[i] for i in fresh)
        if self._progress is not None:
            self._progress(len(batch))

    def _fresh(self, batch: list[HistoryMessage], convs: list[int]) -> list[int]:
        """Indexes of the batch's messages not stored yet: the same conversation, time to
        the millisecond, direction and text mean the same message (imported before, a
        repeat in the file, or a live text exported and imported back)."""
        spans: dict[int, list[int]] = {}  # conversation: [earliest, latest]
        for conv, message in zip(convs, batch, strict=True):
            at = message.at_ms
            span = spans.get(conv)
            if span is None:
                spans[conv] = [at, at]
            elif at < span[0]:
                span[0] = at
            elif at > span[1]:
                span[1] = at
        db = self._store.db
        db.execute(
            "CREATE TEMP TABLE IF NOT EXISTS import_spans "
            "(conv INTEGER PRIMARY KEY, low INTEGER NOT NULL, high INTEGER NOT NULL)"
        )
        db.execute("DELETE FROM import_spans")
        db.executemany(
            "INSERT INTO import_spans (conv, low, high) VALUES (?, ?, ?)",
            [(conv, low, high) for conv, (low, high) in spans.items()],
        )
        rows = db.cursor()
        rows.row_factory = None  # plain tuples, the identities themselves
        seen: set[tuple[int, int, str, str]] = set(
            rows.execute(
                # CROSS JOIN keeps the spans outside: a seek per conversation into the
                # thread index, where the planner would otherwise scan every message.
                "SELECT m.conv, m.at, m.dir, m.body FROM import_spans s "
                "CROSS JOIN messages m ON m.conv = s.conv AND m.at BETWEEN s.low AND s.high"
            )
        )
        fresh = []
        for i, (conv, message) in enumerate(zip(convs, batch, strict=True)):
            identity = (conv, message.at_ms, message.direction, message.body)
            if identity not in seen:
                seen.add(identity)
                fresh.append(i)
        return fresh

    def _sort_keys(self, batch: list[HistoryMessage], fresh: list[int]) -> dict[int, int]:
        """A free sort key for each new message, by its index in the batch."""
        if not fresh:
            return {}
        times = [batch[i].at_ms for i in fresh]
        lowest = key_range(max(times))[0]
        highest = key_range(min(times))[1]
        used: dict[int, int] = {}  # the lowest key in use of each millisecond
        for (key,) in self._store.db.execute(
            "SELECT sort_key FROM messages WHERE sort_key BETWEEN ? AND ?", (lowest, highest)
        ):
            at = key_time(key)
            used[at] = min(used.get(at, key), key)
        keys: dict[int, int] = {}
        for i, at in zip(fresh, times, strict=True):
            last = used.get(at)
            if last is None:
                key = -(at << SORT_BITS)  # key_range(at)[1], inline: a million calls
            else:
                key = last - 1
                if key_time(key) != at:
                    raise StoreError(f"over {1 << SORT_BITS} messages in one millisecond ({at})")
            used[at] = keys[i] = key
        return keys

    def _contacts(self, messages: Iterable[HistoryMessage]) -> None:
        names = []
        for message in messages:
            if message.names.keys() <= self._named:  # the usual case, checked in C
                continue
            for number, name in message.names.items():
                if number not in self._named:
                    self._named.add(number)
                    names.append((number, name))
        self._store.db.executemany(
            "INSERT OR IGNORE INTO contacts (number, name) VALUES (?, ?)", names
        )

    def _attach(
        self,
        msg_id: int | None,
        message: HistoryMessage,
        stored: list[tuple[bytes | None, int]],
    ) -> None:
        self._store.db.executemany(
            "INSERT INTO attachments (msg_id, seq, content_type, name, size, sha256, broken) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                (msg_id, seq, a.content_type, a.name, size, digest, a.broken)
                for seq, (a, (digest, size)) in enumerate(
                    zip(message.attachments, stored, strict=True)
                )
            ],
        )
        for attachment in message.attachments:
            if attachment.data is None:
                self.result.broken += 1
            else:
                self.result.attachments += 1

    def _conversation(self, message: HistoryMessage) -> int:
        conv = self._convs.get(message.peers)
        if conv is None:
            conv = self._store.find_conversation(message.peers)
            if conv is None:
                name = message.names.get(message.peers[0]) if len(message.peers) == 1 else None
                conv = self._store.conversation_for(message.peers, name)
            self._convs[message.peers] = conv
        return conv

    def _put(self, attachment: Attachment) -> tuple[bytes | None, int]:
        if attachment.data is None:
            return None, 0
        return self._files.put(attachment.data), len(attachment.data)


def _row(
    conv: int, message: HistoryMessage, key: int
) -> tuple[int, str, str, str, int, str, str, str | None, int]:
    return (
        conv,
        message.direction,
        message.sender,
        message.body,
        message.at_ms,
        message.state,
        message.kind,
        message.subject,
        key,
    )


def _touched(
    batch: list[HistoryMessage], convs: list[int], fresh: list[int]
) -> list[tuple[int, int, str, int]]:
    """Per conversation: its newest new message (for the list) and how many are unread."""
    newest: dict[int, HistoryMessage] = {}
    unread: dict[int, int] = {}
    for i in fresh:
        conv, message = convs[i], batch[i]
        if conv not in newest or message.at_ms >= newest[conv].at_ms:
            newest[conv] = message
        if message.direction == "in" and not message.read:
            unread[conv] = unread.get(conv, 0) + 1
    return [
        (
            conv,
            message.at_ms,
            snippet(message.body, (a.content_type for a in message.attachments)),
            unread.get(conv, 0),
        )
        for conv, message in newest.items()
    ]


_EXPORTED_STATE: dict[str, HistoryState] = {
    "received": "received",
    "sent": "sent",
    "delivered": "delivered",
    "failed": "failed",
    # Not known to have gone out: exported as failed, so a restore never claims a send.
    "sending": "failed",
    "queued": "failed",
    "unknown": "failed",
}


def export_history(store: Store, files: AttachmentFiles) -> Iterator[HistoryMessage]:
    """Every message, oldest first, as history records (attachments read from their files)."""
    db = store.db
    contacts = dict(db.execute("SELECT number, name FROM contacts").fetchall())
    last = (1 << 63) - 1
    while True:
        rows = db.execute(
            "SELECT m.id, m.kind, m.dir, m.sender, m.body, m.at, m.state, m.subject, m.sort_key, "
            "c.peers FROM messages m JOIN conversations c ON c.id = m.conv "
            "WHERE m.sort_key < ? ORDER BY m.sort_key DESC LIMIT 1000",
            (last,),
        ).fetchall()
        if not rows:
            return
        for row in rows:
            last = row["sort_key"]
            peers = tuple(row["peers"].split(","))
            yield HistoryMessage(
                kind=row["kind"],
                direction=row["dir"],
                peers=peers,
                sender=row["sender"],
                body=row["body"],
                at_ms=row["at"],
                read=True,
                state=_EXPORTED_STATE[row["state"]],
                subject=row["subject"],
                names={number: contacts[number] for number in peers if number in contacts},
                attachments=tuple(_attachments(store, files, row["id"])),
            )


def _attachments(store: Store, files: AttachmentFiles, msg_id: int) -> Iterator[Attachment]:
    for row in store.db.execute(
        "SELECT content_type, name, sha256, broken FROM attachments WHERE msg_id = ? ORDER BY seq",
        (msg_id,),
    ):
        data = None if row["sha256"] is None else files.get(row["sha256"])
        yield Attachment(row["content_type"], row["name"], data, row["broken"])
