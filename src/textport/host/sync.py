"""One paired device's session on the host: the dispatcher for application messages.

device -> host   hello        -> welcome
device -> host   sync         -> batch…, synced   (or reset: no replay, page instead)
host   -> device event                            every change after synced
device -> host   send         -> ack              after the commit; same ack again
                                                  (at: scheduled, ack "queued"; error{ref: cmid};
                                                  past text_ttl after created: ack "failed")
device -> host   read                             unread = 0
device -> host   search       -> results          full-text, newest first
device -> host   convs        -> conv_page        a folder's conversations, a page at a time
device -> host   conv_set     -> done             pin, archive, mute, block, mark (un)read
device -> host   conv_delete  -> done             a conversation, its messages, its files
device -> host   contact      -> done             a contact name, in every conversation
device -> host   unschedule   -> done             cancel a scheduled text still waiting
device -> host   devices      -> device_list      the paired devices, connected or not
device -> host   revoke       -> done             unpair a device (bye{revoked} on its session)
host   -> device device_changed                   another device was paired or unpaired
device -> host   thread       -> thread_page      a conversation's messages, a page at a time
device -> host   fetch        -> chunk            an attachment's bytes, 45 000 at a time
device -> host   ping         -> pong
device -> host   pong, error                      noted (the spec lets either side send them)
either           bye                              the session ends
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable, Collection
from typing import Final, TypeVar

import msgspec

from textport.errors import ErrorCode, ProtocolError, StoreError
from textport.protocol import derive
from textport.protocol import messages as wire
from textport.store.attachments import AttachmentFiles
from textport.store.search import search
from textport.store.store import Device, Store
from textport.transports.base import Capabilities

log = logging.getLogger(__name__)
Record = TypeVar("Record", wire.ConversationRecord, wire.MessageRecord)

BATCH_BYTES: Final = 60_000
"""Keep each batch well under the largest transport body (65517 bytes)."""
PUSH_LIMIT: Final = 1000
REPLAY_LIMIT: Final = 5000
"""A device further behind than this many events starts afresh from pages (reset)."""
PAGE_BYTES: Final = 60_000


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
        files: AttachmentFiles,
        connected: Callable[[], Collection[bytes]] = frozenset,
        revoked: Callable[[], None] = lambda: None,
    ) -> None:
        """``connected`` gives the ids of the devices with a session now; ``revoked`` is
        called after this session unpaired a device (the host ends its sessions)."""
        self._store = store
        self._connected = connected
        self._revoked = revoked
        self._files = files
        self.device = device
        self._host_name = host_name
        self._caps = caps
        self._send = send
        self._accepted = accepted
        self._ttl = text_ttl
        self.synced = False
        self._sent_seq = 0

    def handle(self, message: wire.Message) -> None:
        try:
            self._dispatch(message)
        except _RequestError as exc:
            log.info("device %s: refused a request: %s", self.device.id.hex()[:8], exc.message)
            self._send(wire.Error(code=exc.code.value, message=exc.message, ref=exc.ref))

    def _dispatch(self, message: wire.Message) -> None:  # noqa: PLR0912 - one case per type
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
                            dual_sim=self._caps.dual_sim,
                            incoming=self._caps.incoming,
                            text_ttl_ms=round(self._ttl * 1000),
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
            case wire.Convs(qid=qid, before=before, limit=limit, folder=folder):
                self._convs(qid, before, limit, folder)
            case wire.ConvSet():
                self._conv_set(message)
            case wire.ConvDelete(qid=qid, conv=conv):
                self._conv_delete(qid, conv)
            case wire.Contact(qid=qid, number=number, name=name):
                self._store.set_contact_name(number, name)
                self._done(qid, changed=True)
            case wire.Unschedule(qid=qid, msg_id=msg_id):
                self._unschedule(qid, msg_id)
            case wire.Devices(qid=qid):
                self._send(wire.DeviceList(qid=qid, devices=self.device_records()))
            case wire.Revoke(qid=qid, device_id=device_id):
                self._revoke(qid, device_id)
            case wire.Thread():
                self._thread(message)
            case wire.Fetch(qid=qid, att=att, offset=offset):
                self._send(self._fetch(qid, att, offset))
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
        if (since == 0 and latest > 0) or since > latest or latest - since > REPLAY_LIMIT:
            # Nothing cached, a cursor this host never gave, or too far behind: history
            # is paged (convs, thread), never replayed. The device answers sync{seq}.
            self.synced = False
            self._send(wire.Reset(seq=latest))
            return
        cursor = since
        while True:
            # Events naming what was deleted render as nothing: the scan, not the last
            # event sent, says how far this got.
            events, scanned = self._store.scan_events(cursor, limit)
            batches = _batches(events)
            for index, batch in enumerate(batches):
                more = index < len(batches) - 1 or scanned < latest
                self._send(wire.Batch(events=batch, more=more))
            if scanned == cursor or scanned >= latest:
                cursor = scanned
                break
            cursor = scanned
        self._send(wire.Synced(seq=cursor))
        self._sent_seq = cursor
        self.synced = True

    def push(self) -> None:
        """Send every event after the last one this device got (live updates)."""
        if not self.synced:
            return
        while True:
            events, scanned = self._store.scan_events(self._sent_seq, PUSH_LIMIT)
            if scanned == self._sent_seq:
                return
            for event in events:
                self._send(wire.EventMessage(event=event))
            self._sent_seq = scanned

    def _accept(self, message: wire.Send) -> None:
        """Store and ack a text. One that reaches the host more than its lifetime after
        the person pressed Send (``created``) is stored and acked ``failed``, never sent."""
        try:
            accepted = self._store.add_outgoing(
                self.device.id,
                message.cmid,
                list(message.to),
                message.body,
                self._ttl,
                at_ms=message.at,
                created_ms=message.created,
            )
        except StoreError as exc:  # scheduled too far ahead: refused, nothing stored
            self._send(
                wire.Error(code=ErrorCode.BAD_MESSAGE.value, message=str(exc), ref=message.cmid)
            )
            return
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
        """Full-text search, newest first; ``before`` names the last hit of the previous
        page (an unknown id gives no hits)."""
        before = None
        if message.before is not None:
            before = self._store.sort_key_of(message.before)
            if before is None:
                return wire.Results(qid=message.qid, hits=[], more=False)
        matches, more = search(
            self._store.db,
            message.query,
            before=before,
            limit=message.limit,
            vocabulary=self._store.vocabulary,
        )
        hits = [wire.Hit(msg_id=m.msg_id, conv=m.conv, at=m.at, snippet=m.snippet) for m in matches]
        return wire.Results(qid=message.qid, hits=hits, more=more)

    def _convs(
        self, qid: int, before: tuple[int, int] | None, limit: int, folder: wire.Folder
    ) -> None:
        convs = self._store.conversations_page(before, limit + 1, folder)
        page = _fit(convs[:limit])
        self._send(wire.ConvPage(qid=qid, convs=page, more=len(convs) > len(page)))

    def _conv_set(self, message: wire.ConvSet) -> None:
        try:
            changed = self._store.set_flags(
                message.conv,
                pinned=message.pinned,
                archived=message.archived,
                muted=message.muted,
                blocked=message.blocked,
                unread=message.unread,
            )
        except StoreError as exc:
            raise _RequestError(message.qid, str(exc)) from exc
        self._done(message.qid, changed=changed)

    def _conv_delete(self, qid: int, conv: int) -> None:
        try:
            orphans = self._store.delete_conversation(conv)
        except StoreError as exc:
            raise _RequestError(qid, "there is no such conversation") from exc
        for sha256 in orphans:
            self._files.remove(sha256)
        self._done(qid, changed=True)

    def _unschedule(self, qid: int, msg_id: int) -> None:
        try:
            self._store.unschedule(msg_id)
        except StoreError as exc:
            raise _RequestError(qid, str(exc)) from exc
        self._done(qid, changed=True)

    def _done(self, qid: int, *, changed: bool) -> None:
        """Answer a change request; its events reach every device (this one too)."""
        self._send(wire.Done(qid=qid))
        if changed:
            self._accepted()

    def device_records(self) -> list[wire.DeviceRecord]:
        connected = self._connected()
        return [
            device_record(d, connected=d.id in connected, current=d.id == self.device.id)
            for d in self._store.devices()
            if d.status == "active"
        ][: wire.MAX_DEVICES]

    def _revoke(self, qid: int, device_id: str) -> None:
        target = derive.unb64url(device_id, derive.ID_LEN)
        if not self._store.revoke(target, "user"):
            raise _RequestError(qid, "that device is not paired (any more)")
        log.info("device %s unpaired by %s", target.hex()[:8], self.device.id.hex()[:8])
        self._send(wire.Done(qid=qid))
        self._revoked()

    def _thread(self, message: wire.Thread) -> None:
        if message.before is not None and message.after is not None:
            raise _RequestError(message.qid, "a thread page is either before or after a message")
        try:
            msgs = self._store.thread_page(
                message.conv, message.before, message.limit + 1, after=message.after
            )
        except StoreError as exc:
            raise _RequestError(message.qid, "there is no such conversation") from exc
        # More in the asked direction: the extra row is the oldest (before) or newest (after).
        extra = len(msgs) > message.limit
        page = msgs[1:] if extra and message.after is not None else msgs[: message.limit]
        fitted = _fit(page) if message.after is None else _fit(page[::-1])[::-1]
        self._send(
            wire.ThreadPage(
                qid=message.qid,
                conv=message.conv,
                msgs=fitted,
                more=extra or len(fitted) < len(page),
            )
        )

    def _fetch(self, qid: int, att_id: int, offset: int) -> wire.Chunk:
        att = self._store.attachment(att_id)
        if att is None or att["sha256"] is None:
            raise _RequestError(qid, "there is no such attachment, or its bytes are missing")
        if offset > att["size"] or (offset == att["size"] and offset > 0):
            raise _RequestError(qid, "that offset is past the attachment's end")
        data = self._files.read(att["sha256"], offset, wire.CHUNK_BYTES)
        return wire.Chunk(
            qid=qid,
            att=att_id,
            offset=offset,
            total=att["size"],
            type=att["content_type"][:128],
            data=base64.b64encode(data).decode(),
        )


def device_record(device: Device, *, connected: bool, current: bool) -> wire.DeviceRecord:
    return wire.DeviceRecord(
        id=derive.b64url(device.id),
        name=device.name[:64] or "?",
        agent=device.agent[:128] or "?",
        created=device.created_at,
        last_seen=device.last_seen_at,
        connected=connected,
        current=current,
        session=device.session_only,
    )


class _RequestError(ProtocolError):
    """A request the host cannot answer: error{ref: qid}, and the session goes on."""

    def __init__(self, qid: int, message: str) -> None:
        super().__init__(message, ErrorCode.BAD_MESSAGE)
        self.ref = str(qid)


def _fit(records: list[Record]) -> list[Record]:
    """The longest head of ``records`` whose JSON fits one transport message."""
    size = 0
    for count, record in enumerate(records):
        size += len(msgspec.json.encode(record)) + 1
        if size > PAGE_BYTES:
            return records[: max(count, 1)]
    return records


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
