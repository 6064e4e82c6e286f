"""One paired device's session on the host: the dispatcher for application messages.

device -> host   hello        -> welcome
device -> host   sync         -> batch…, synced   (or reset)
host   -> device event                            every change after synced
device -> host   send         -> ack              after the commit; same ack again
device -> host   read                             unread = 0
device -> host   search       -> results
device -> host   ping         -> pong
device -> host   pong, error                      noted (the spec lets either side send them)
either           bye                              the session ends
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Final

import msgspec

from textport.errors import ErrorCode, ProtocolError
from textport.protocol import derive
from textport.protocol import messages as wire
from textport.store.store import Device, Store
from textport.transports.base import Capabilities

log = logging.getLogger(__name__)

BATCH_BYTES: Final = 60_000
"""Keep each batch well under the largest transport body (65517 bytes)."""
PUSH_LIMIT: Final = 1000


class DeviceSession:
    def __init__(
        self,
        store: Store,
        device: Device,
        *,
        host_name: str,
        caps: Capabilities,
        send: Callable[[wire.Message], None],
        accepted: Callable[[], None],
        text_ttl: float,
    ) -> None:
        self._store = store
        self.device = device
        self._host_name = host_name
        self._caps = caps
        self._send = send
        self._accepted = accepted
        self._ttl = text_ttl
        self.synced = False
        self._sent_seq = 0

    def handle(self, message: wire.Message) -> None:
        match message:
            case wire.Hello():
                self._send(
                    wire.Welcome(
                        proto=derive.PROTO,
                        host_name=self._host_name,
                        device_id=derive.b64url(self.device.id),
                        seq=self._store.latest_seq(),
                        caps=wire.Capabilities(
                            delivery_reports=self._caps.delivery_reports,
                            mms=self._caps.mms,
                            max_parts=self._caps.max_parts,
                        ),
                    )
                )
            case wire.Sync(since=since, limit=limit):
                self._sync(since, limit)
            case wire.Send():
                self._accept(message)
            case wire.Read(conv=conv):
                if self._store.mark_read(conv):
                    self._accepted()
            case wire.Search():
                self._send(self._search(message))
            case wire.Ping(n=n):
                self._send(wire.Pong(n=n))
            case wire.Pong():
                pass
            case wire.Error(code=code):
                log.info("device %s reported %s", self.device.id.hex()[:8], code)
            case wire.Bye():
                raise ProtocolError("the device said goodbye", ErrorCode.SESSION_CLOSED)
            case _:
                raise ProtocolError(
                    f"a device does not send {message.__struct_config__.tag}",
                    ErrorCode.BAD_MESSAGE,
                )

    def _sync(self, since: int, limit: int) -> None:
        latest = self._store.latest_seq()
        if since > latest:
            self.synced = False
            self._send(wire.Reset(seq=latest))
            return
        cursor = since
        while True:
            events = self._store.events_since(cursor, limit)
            for batch in _batches(events):
                cursor = batch[-1].seq
                more = cursor < latest
                self._send(wire.Batch(events=batch, more=more))
            if not events or cursor >= latest:
                break
        self._send(wire.Synced(seq=cursor))
        self._sent_seq = cursor
        self.synced = True

    def push(self) -> None:
        """Send every event after the last one this device got (live updates)."""
        if not self.synced:
            return
        while events := self._store.events_since(self._sent_seq, PUSH_LIMIT):
            for event in events:
                self._send(wire.EventMessage(event=event))
                self._sent_seq = event.seq

    def _accept(self, message: wire.Send) -> None:
        accepted = self._store.add_outgoing(
            self.device.id, message.cmid, list(message.to), message.body, self._ttl
        )
        self._send(
            wire.Ack(
                cmid=message.cmid,
                msg_id=accepted.msg_id,
                state=accepted.state,
                reason=accepted.reason,
            )
        )
        if not accepted.duplicate:
            self._accepted()

    def _search(self, message: wire.Search) -> wire.Results:
        """Plain substring search, newest first (full-text search is a later issue).

        Pages in the order of the results, (at, id) descending: ``before`` names the last
        hit of the previous page. Ids do not follow time (texts arrive late, history is
        imported), so comparing ids alone would skip hits.
        """
        pattern = (
            "%" + message.query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        )
        before_at = None
        if message.before is not None:
            row = self._store.db.execute(
                "SELECT at FROM messages WHERE id = ?", (message.before,)
            ).fetchone()
            if row is None:
                return wire.Results(qid=message.qid, hits=[], more=False)
            before_at = row["at"]
        rows = self._store.db.execute(
            "SELECT id, conv, at, body FROM messages WHERE body LIKE ? ESCAPE '\\' "
            "AND (? IS NULL OR at < ? OR (at = ? AND id < ?)) "
            "ORDER BY at DESC, id DESC LIMIT ?",
            (pattern, before_at, before_at, before_at, message.before, message.limit + 1),
        ).fetchall()
        hits = [
            wire.Hit(
                msg_id=row["id"],
                conv=row["conv"],
                at=row["at"],
                snippet=_snippet(row["body"], message.query),
            )
            for row in rows[: message.limit]
        ]
        return wire.Results(qid=message.qid, hits=hits, more=len(rows) > message.limit)


def _snippet(body: str, query: str) -> str:
    index = body.lower().find(query.lower())
    if index < 0:
        return body[:200]
    start = max(0, index - 60)
    end = index + len(query)
    return (
        ("…" if start else "")
        + body[start:index]
        + "\x02"
        + body[index:end]
        + "\x03"
        + body[end : end + 120]
    )[:500]


def _batches(events: list[wire.Event]) -> list[list[wire.Event]]:
    batches: list[list[wire.Event]] = []
    current: list[wire.Event] = []
    size = 0
    for event in events:
        event_size = len(msgspec.json.encode(event)) + 1
        if current and size + event_size > BATCH_BYTES:
            batches.append(current)
            current, size = [], 0
        current.append(event)
        size += event_size
    if current:
        batches.append(current)
    return batches
