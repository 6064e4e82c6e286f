"""History in bulk: import records from a backup, export them back, without duplicates.

An imported message's ``source_id`` is ``import:`` plus a hash of what it says (kind,
direction, participants, sender, time, text, attachments), and a message whose
conversation, time, direction and text are already stored is skipped, so importing the
same file again, or a file exported from this store, adds nothing. Messages are written in batches,
one transaction each; a batch appends one ``conv`` event per conversation it touched
rather than one event per message, so a million imported texts do not become a million
events for every paired device to replay (devices page history on demand).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from textport.protocol import messages as wire
from textport.store.attachments import AttachmentFiles
from textport.store.backup.records import Attachment, HistoryMessage, HistoryState
from textport.store.db import transaction
from textport.store.store import Store

BATCH = 5000


@dataclass
class ImportResult:
    messages: int = 0
    duplicates: int = 0
    conversations: set[int] = field(default_factory=set)
    attachments: int = 0
    broken: int = 0
    """Attachments kept as a broken placeholder (their bytes were unreadable)."""


def source_id(message: HistoryMessage) -> str:
    """The dedupe key of an imported message: the same for the same message, re-exported."""
    digest = hashlib.sha256()
    for value in (
        message.kind,
        message.direction,
        ",".join(message.peers),
        message.sender,
        str(message.at_ms),
        message.body,
    ):
        digest.update(value.encode("utf-8", "surrogatepass") + b"\x00")
    for attachment in message.attachments:
        digest.update(attachment.content_type.encode() + b"\x00")
        if attachment.data is not None:
            digest.update(hashlib.sha256(attachment.data).digest())
        digest.update(b"\x01")
    return "import:" + digest.hexdigest()[:40]


def snippet(body: str, attachments: Iterable[str]) -> str:
    """What the conversation list shows for a message: its text, or what it carries."""
    if body.strip():
        return body
    types = list(attachments)
    if not types:
        return ""
    return "📷 Photo" if types[0].startswith("image/") else "📎 Attachment"


@dataclass
class _Touched:
    at: int = 0
    snippet: str = ""
    unread: int = 0


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
        self.result = ImportResult()

    def run(self, messages: Iterable[HistoryMessage]) -> ImportResult:
        pending: list[HistoryMessage] = []
        for message in messages:
            pending.append(message)
            if len(pending) >= self._batch:
                self._write(pending)
                pending = []
        if pending:
            self._write(pending)
        return self.result

    def _write(self, batch: list[HistoryMessage]) -> None:
        db = self._store.db
        touched: dict[int, _Touched] = {}
        # Attachment bytes first, durable before the rows that name them commit.
        stored = [[self._put(a) for a in message.attachments] for message in batch]
        self._files.flush()
        with transaction(db):
            for message, attachments in zip(batch, stored, strict=True):
                conv = self._conversation(message)
                if self._stored(conv, message):
                    self.result.duplicates += 1
                    continue
                state: wire.State = message.state
                cursor = db.execute(
                    "INSERT OR IGNORE INTO messages (conv, dir, sender, body, at, state, "
                    "source_id, kind, subject, sort_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        conv,
                        message.direction,
                        message.sender,
                        message.body,
                        message.at_ms,
                        state,
                        source_id(message),
                        message.kind,
                        message.subject,
                        self._store.sort_key(message.at_ms),
                    ),
                )
                if not cursor.rowcount:
                    self.result.duplicates += 1
                    continue
                msg_id = cursor.lastrowid
                db.executemany(
                    "INSERT INTO attachments (msg_id, seq, content_type, name, size, sha256, "
                    "broken) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [
                        (msg_id, seq, a.content_type, a.name, size, digest, a.broken)
                        for seq, (a, (digest, size)) in enumerate(
                            zip(message.attachments, attachments, strict=True)
                        )
                    ],
                )
                for attachment in message.attachments:
                    if attachment.data is None:
                        self.result.broken += 1
                    else:
                        self.result.attachments += 1
                self.result.messages += 1
                self.result.conversations.add(conv)
                for number, name in message.names.items():
                    db.execute(
                        "INSERT OR IGNORE INTO contacts (number, name) VALUES (?, ?)",
                        (number, name),
                    )
                seen = touched.setdefault(conv, _Touched())
                if message.at_ms >= seen.at:
                    seen.at = message.at_ms
                    seen.snippet = snippet(
                        message.body, (a.content_type for a in message.attachments)
                    )
                if message.direction == "in" and not message.read:
                    seen.unread += 1
            for conv, seen in touched.items():
                self._store.touch_conversation(conv, seen.at, seen.snippet, seen.unread)
        if self._progress is not None:
            self._progress(len(batch))

    def _stored(self, conv: int, message: HistoryMessage) -> bool:
        """The same text at the same time is already here (e.g. a live one, re-imported)."""
        return (
            self._store.db.execute(
                "SELECT 1 FROM messages WHERE conv = ? AND at = ? AND dir = ? AND body = ?",
                (conv, message.at_ms, message.direction, message.body),
            ).fetchone()
            is not None
        )

    def _conversation(self, message: HistoryMessage) -> int:
        conv = self._convs.get(message.peers)
        if conv is None:
            name = message.names.get(message.peers[0]) if len(message.peers) == 1 else None
            conv = self._store.conversation_for(message.peers, name)
            self._convs[message.peers] = conv
        return conv

    def _put(self, attachment: Attachment) -> tuple[bytes | None, int]:
        if attachment.data is None:
            return None, 0
        return self._files.put(attachment.data), len(attachment.data)


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
    last = -1
    while True:
        rows = db.execute(
            "SELECT m.id, m.kind, m.dir, m.sender, m.body, m.at, m.state, m.subject, m.sort_key, "
            "c.peers FROM messages m JOIN conversations c ON c.id = m.conv "
            "WHERE m.sort_key > ? ORDER BY m.sort_key LIMIT 1000",
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
