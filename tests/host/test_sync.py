"""DeviceSession, the host's dispatcher for one paired device's messages, with a real store.

No sockets: what the session sends is collected in a list; the store is SQLite in a
temporary folder, checked from a second connection where "after the commit" matters.
"""

from __future__ import annotations

import base64
import sqlite3
from pathlib import Path

import msgspec
import pytest

from textport.errors import ErrorCode, ProtocolError
from textport.host import sync
from textport.host.sync import BATCH_BYTES, DeviceSession
from textport.protocol import derive, session
from textport.protocol import messages as wire
from textport.store.attachments import AttachmentFiles
from textport.store.backup.records import Attachment, HistoryMessage
from textport.store.db import connect
from textport.store.history import HistoryImport
from textport.store.store import CLOCK_SKEW_MS, Device, Store
from textport.transports.base import Capabilities

NOW = 1_790_000_000.0
PUBLIC = b"\x07" * 32
DEVICE_ID = derive.device_id(PUBLIC)
CAPS = Capabilities(delivery_reports=True, mms=False, max_parts=7)
ANA, BO = "+15550100", "+15550101"
CMID = "0123456789abcdef" * 2


class Rig:
    """A store, one device, its session, and everything the session sent."""

    def __init__(self, tmp_path: Path) -> None:
        self.path = tmp_path / "textport.db"
        self.store = Store(connect(self.path), lambda: NOW)
        self.files = AttachmentFiles(tmp_path / "attachments")
        self.store.add_device(DEVICE_ID, PUBLIC, "Firefox on Linux", "ua", b"\x08" * 32)
        (device,) = self.store.devices()
        self.device: Device = device
        self.sent: list[wire.Message] = []
        self.accepted = 0
        self.on_send: list[wire.Message] = []
        self.session = DeviceSession(
            self.store,
            device,
            host_name="Test host",
            caps=CAPS,
            send=self.sent.append,
            accepted=self._accepted,
            text_ttl=3600,
            files=self.files,
        )

    def _accepted(self) -> None:
        self.accepted += 1

    def take(self) -> list[wire.Message]:
        sent, self.sent[:] = list(self.sent), []
        return sent

    def one(self) -> wire.Message:
        (message,) = self.take()
        return message

    def go_live(self) -> int:
        """What a device with nothing cached does: sync{0} -> reset{seq} -> sync{seq}."""
        batches, reset = self.sync(0)
        assert batches == []
        if isinstance(reset, wire.Synced):  # an empty host: nothing to page
            return reset.seq
        assert isinstance(reset, wire.Reset)
        batches, synced = self.sync(reset.seq)
        assert synced == wire.Synced(seq=reset.seq)
        return reset.seq

    def sync(self, since: int, limit: int = 1000) -> tuple[list[wire.Batch], wire.Message]:
        """Sync from ``since``: the batches, then the last message (synced or reset)."""
        self.session.handle(wire.Sync(since=since, limit=limit))
        *batches, last = self.take()
        assert all(isinstance(b, wire.Batch) for b in batches), batches
        return [b for b in batches if isinstance(b, wire.Batch)], last


@pytest.fixture
def rig(tmp_path: Path) -> Rig:
    return Rig(tmp_path)


def _events(batches: list[wire.Batch]) -> list[wire.Event]:
    return [event for batch in batches for event in batch.events]


def _fill(store: Store, texts: int, body_chars: int) -> None:
    for n in range(texts):
        store.add_incoming(ANA if n % 2 else BO, f"{n:04d} " + "x" * body_chars, n + 1, f"s{n}")


# ---------------------------------------------------------------- hello, ping, bye


def test_hello_is_answered_with_welcome_naming_the_device_caps_and_newest_seq(rig: Rig) -> None:
    _fill(rig.store, 3, 10)
    rig.session.handle(wire.Hello(proto=1, agent="test"))
    assert rig.one() == wire.Welcome(
        proto=1,
        host_name="Test host",
        device_id=derive.b64url(DEVICE_ID),
        seq=rig.store.latest_seq(),
        caps=wire.Capabilities(
            delivery_reports=True, mms=False, max_parts=7, text_ttl_ms=3_600_000
        ),
    )
    # Texts to two new conversations and a third to one of them: conv, msg, conv for each
    # new conversation (created, text, its new last message), msg and conv after that.
    assert rig.store.latest_seq() == 3 + 3 + 2


def test_ping_gets_pong_with_the_same_number_and_bye_ends_the_session(rig: Rig) -> None:
    rig.session.handle(wire.Ping(n=41))
    assert rig.one() == wire.Pong(n=41)
    with pytest.raises(ProtocolError) as raised:
        rig.session.handle(wire.Bye(reason="tab closed"))
    assert raised.value.code == ErrorCode.SESSION_CLOSED
    assert rig.take() == []


def test_pong_and_error_from_a_device_are_accepted_quietly(rig: Rig) -> None:
    """Both are "either -> either" in the spec: a device answering a ping, or reporting."""
    rig.session.handle(wire.Pong(n=3))
    rig.session.handle(wire.Error(code="bad_message", message="could not apply", ref=None))
    assert rig.take() == []
    rig.session.handle(wire.Ping(n=4))
    assert rig.one() == wire.Pong(n=4), "the session goes on"


HOST_ONLY: list[wire.Message] = [
    wire.Welcome(
        proto=1,
        host_name="h",
        device_id=derive.b64url(bytes(16)),
        seq=0,
        caps=wire.Capabilities(delivery_reports=False, mms=False, max_parts=1),
    ),
    wire.Batch(events=[], more=False),
    wire.Synced(seq=0),
    wire.Reset(seq=0),
    wire.EventMessage(event=wire.StatusEvent(seq=1, id=1, state="sent", reason=None, at=1)),
    wire.Ack(cmid=CMID, msg_id=1, state="sending", reason=None),
    wire.Results(qid=1, hits=[], more=False),
    wire.ConvPage(qid=1, convs=[], more=False),
    wire.ThreadPage(qid=1, conv=1, msgs=[], more=False),
    wire.Chunk(qid=1, att=1, offset=0, total=1, type="image/png", data="AA=="),
    wire.Done(qid=1),
    wire.DeviceList(qid=1, devices=[]),
    wire.DeviceChanged(
        change="paired",
        device=wire.DeviceRecord(
            id=derive.b64url(bytes(16)),
            name="n",
            agent="a",
            created=1,
            last_seen=None,
            connected=False,
            current=False,
        ),
    ),
    wire.PairRequest(name="n", agent="a"),
    wire.PairAccept(
        host_name="h",
        room=derive.b64url(bytes(16)),
        token=derive.b64url(bytes(32)),
        relay="ws://127.0.0.1:1/v1",
    ),
    wire.PairReject(reason="no"),
]


@pytest.mark.parametrize("message", HOST_ONLY, ids=lambda m: m.__struct_config__.tag)
def test_a_message_a_device_does_not_send_is_refused_as_bad_message(
    rig: Rig, message: wire.Message
) -> None:
    before = rig.store.latest_seq()
    with pytest.raises(ProtocolError) as raised:
        rig.session.handle(message)
    assert raised.value.code == ErrorCode.BAD_MESSAGE
    assert str(message.__struct_config__.tag) in raised.value.message
    assert rig.take() == []
    assert rig.store.latest_seq() == before


def test_every_message_type_is_either_handled_or_refused(rig: Rig) -> None:
    """Nothing falls through: the refused list is exactly what a device never sends."""
    device_sends = {
        *("hello", "sync", "send", "read", "search", "convs", "thread", "fetch"),
        *("conv_set", "conv_delete", "contact", "ping", "pong", "error", "bye"),
        *("devices", "revoke", "unschedule"),
    }
    refused = {m.__struct_config__.tag for m in HOST_ONLY}
    assert device_sends | refused == set(wire.MESSAGE_TYPES)
    assert not device_sends & refused


# ---------------------------------------------------------------- sync


def test_a_device_with_nothing_cached_gets_reset_not_a_replay(rig: Rig) -> None:
    _fill(rig.store, 60, 40)
    latest = rig.store.latest_seq()
    assert rig.sync(0) == ([], wire.Reset(seq=latest))
    assert not rig.session.synced
    assert rig.go_live() == latest
    assert rig.session.synced


def test_a_cursor_too_far_behind_gets_reset(rig: Rig, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sync, "REPLAY_LIMIT", 10)
    _fill(rig.store, 6, 5)
    latest = rig.store.latest_seq()
    assert rig.sync(latest - 11) == ([], wire.Reset(seq=latest))
    batches, last = rig.sync(latest - 10)
    assert len(_events(batches)) == 10
    assert last == wire.Synced(seq=latest)


def test_an_empty_host_syncs_from_zero_without_a_reset(tmp_path: Path) -> None:
    """Nothing to page: a reset{0} would only send the device back to sync{0}."""
    assert Rig(tmp_path).sync(0) == ([], wire.Synced(seq=0))


def test_sync_sends_every_later_event_in_batches_under_the_size_limit(rig: Rig) -> None:
    _fill(rig.store, 60, 4000)  # 180 events, about 250 kB of JSON
    latest = rig.store.latest_seq()
    batches, last = rig.sync(1)

    assert len(batches) >= 4
    events = _events(batches)
    assert [e.seq for e in events] == list(range(2, latest + 1))
    assert events == rig.store.events_since(1, 1000)
    assert [b.more for b in batches] == [True] * (len(batches) - 1) + [False]
    for batch in batches:
        if len(batch.events) > 1:
            size = sum(len(msgspec.json.encode(e)) + 1 for e in batch.events)
            assert size <= BATCH_BYTES
        session.pad(wire.encode(batch))  # fits one transport message (raises otherwise)
    assert last == wire.Synced(seq=latest)
    assert rig.session.synced


def test_sync_pages_by_limit_and_still_reaches_the_end(rig: Rig) -> None:
    _fill(rig.store, 10, 5)
    latest = rig.store.latest_seq()
    assert latest == 3 + 3 + 8 * 2
    batches, last = rig.sync(1, limit=4)
    assert all(1 <= len(b.events) <= 4 for b in batches)
    assert [e.seq for e in _events(batches)] == list(range(2, latest + 1))
    assert [b.more for b in batches][-1] is False
    assert all(b.more for b in batches[:-1])
    assert last == wire.Synced(seq=latest)


def test_the_largest_single_event_still_fits_one_batch(rig: Rig) -> None:
    """JSON escapes a control character as six bytes: 10 000 of them exceed BATCH_BYTES."""
    rig.store.add_incoming(ANA, "\x01" * wire.MAX_BODY_CHARS, 1, "s1")
    rig.store.add_incoming(ANA, "\x01" * wire.MAX_BODY_CHARS, 2, "s2")
    batches, last = rig.sync(1)
    latest = rig.store.latest_seq()
    assert [e.seq for e in _events(batches)] == list(range(2, latest + 1))
    assert max(len(wire.encode(b)) for b in batches) > BATCH_BYTES, "the case at hand"
    for batch in batches:
        session.pad(wire.encode(batch))
    assert last == wire.Synced(seq=latest)


def test_sync_from_a_cursor_sends_only_later_events(rig: Rig) -> None:
    _fill(rig.store, 4, 5)
    latest = rig.store.latest_seq()
    batches, last = rig.sync(latest - 3)
    assert [e.seq for e in _events(batches)] == [latest - 2, latest - 1, latest]
    assert _events(batches) == rig.store.events_since(latest - 3, 10)
    assert last == wire.Synced(seq=latest)


def test_sync_at_the_newest_seq_sends_no_batch_and_synced(rig: Rig) -> None:
    _fill(rig.store, 2, 5)
    latest = rig.store.latest_seq()
    batches, last = rig.sync(latest)
    assert batches == []
    assert last == wire.Synced(seq=latest)


def test_a_cursor_ahead_of_the_host_gets_reset_and_no_live_events(rig: Rig) -> None:
    _fill(rig.store, 2, 5)
    latest = rig.store.latest_seq()
    batches, last = rig.sync(latest + 1)
    assert (batches, last) == ([], wire.Reset(seq=latest))
    assert not rig.session.synced
    rig.store.add_incoming(ANA, "while reset", 10, "s10")
    rig.session.push()
    assert rig.take() == [], "no live events until the device synced again"
    batches, last = rig.sync(latest)
    assert [e.seq for e in _events(batches)] == [latest + 1, latest + 2]
    assert last == wire.Synced(seq=latest + 2)


# ---------------------------------------------------------------- live events


def test_push_sends_nothing_before_synced_then_only_new_events_once(rig: Rig) -> None:
    _fill(rig.store, 2, 5)
    rig.session.push()
    assert rig.take() == []
    rig.go_live()
    rig.session.push()
    assert rig.take() == [], "synced already covered every event"

    synced = rig.store.latest_seq()
    rig.store.add_incoming(BO, "new", 50, "s50")
    rig.session.push()
    pushed = rig.take()
    assert all(isinstance(m, wire.EventMessage) for m in pushed)
    assert pushed == [wire.EventMessage(event=e) for e in rig.store.events_since(synced, 10)]
    assert [m.event.seq for m in pushed if isinstance(m, wire.EventMessage)] == [
        synced + 1,
        synced + 2,
    ]
    rig.session.push()
    assert rig.take() == [], "each event is pushed once"


def test_push_catches_up_past_its_per_call_limit(rig: Rig, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sync, "PUSH_LIMIT", 3)
    rig.go_live()
    _fill(rig.store, 4, 5)  # ten new events at once, over three times the limit
    rig.session.push()
    seqs = [m.event.seq for m in rig.take() if isinstance(m, wire.EventMessage)]
    assert seqs == list(range(1, rig.store.latest_seq() + 1))
    assert len(seqs) > 3 * 3


# ---------------------------------------------------------------- send


def test_send_is_acked_after_the_commit_and_a_duplicate_gets_the_same_ack(rig: Rig) -> None:
    committed: list[tuple[int, int]] = []

    def check_committed(message: wire.Message) -> None:
        """At the moment of the ack, another connection already sees the text."""
        if isinstance(message, wire.Ack):
            other = sqlite3.connect(rig.path)
            try:
                messages = other.execute(
                    "SELECT count(*) FROM messages WHERE cmid = ?", (message.cmid,)
                ).fetchone()[0]
                queued = other.execute(
                    "SELECT count(*) FROM outbox WHERE msg_id = ?", (message.msg_id,)
                ).fetchone()[0]
            finally:
                other.close()
            committed.append((messages, queued))
        rig.sent.append(message)

    rig.session._send = check_committed
    send = wire.Send(cmid=CMID, to=[ANA], body="See you at 8")
    rig.session.handle(send)
    ack = rig.one()
    assert isinstance(ack, wire.Ack)
    assert (ack.cmid, ack.state, ack.reason) == (CMID, "sending", None)
    stored = rig.store.message(ack.msg_id)
    assert (stored.body, stored.peers, stored.cmid) == ("See you at 8", [ANA], CMID)
    assert (stored.dir, stored.state) == ("out", "sending")
    assert committed == [(1, 1)]
    assert rig.accepted == 1

    rig.session.handle(send)
    assert rig.one() == ack
    assert committed == [(1, 1), (1, 1)]
    assert rig.accepted == 1, "a duplicate does not wake the outbox"
    assert rig.store.db.execute("SELECT count(*) FROM outbox").fetchone()[0] == 1
    assert rig.store.db.execute("SELECT count(*) FROM messages").fetchone()[0] == 1


def test_a_duplicate_after_the_text_failed_gets_the_failed_ack(rig: Rig) -> None:
    rig.session.handle(wire.Send(cmid=CMID, to=[ANA], body="hi"))
    first = rig.one()
    assert isinstance(first, wire.Ack)
    rig.store.finish(first.msg_id, "failed", "refused")
    rig.session.handle(wire.Send(cmid=CMID, to=[ANA], body="hi"))
    assert rig.one() == wire.Ack(cmid=CMID, msg_id=first.msg_id, state="failed", reason="refused")


def test_a_send_that_arrives_past_its_lifetime_is_acked_failed_stored_and_never_queued(
    rig: Rig,
) -> None:
    """The browser held it while the phone was away for longer than the host's text_ttl
    (3600 s here): the host keeps it as failed, says why, and never sends it."""
    seq = rig.go_live()
    typed = int(NOW * 1000) - 2 * 3_600_000
    send = wire.Send(cmid=CMID, to=[ANA], body="too late", created=typed)
    rig.session.handle(send)
    ack = rig.one()
    reason = "Not sent: your phone was out of reach for longer than 1 hour after you pressed Send."
    assert isinstance(ack, wire.Ack)
    assert (ack.cmid, ack.state, ack.reason) == (CMID, "failed", reason)
    stored = rig.store.message(ack.msg_id)
    assert (stored.state, stored.reason, stored.cmid, stored.body) == (
        "failed",
        reason,
        CMID,
        "too late",
    )
    assert rig.store.db.execute("SELECT count(*) FROM outbox").fetchone()[0] == 0
    assert rig.store.claim_due() == []
    assert rig.accepted == 1, "every device hears of it"
    rig.session.push()
    msgs = [
        m.event.msg
        for m in rig.take()
        if isinstance(m, wire.EventMessage) and isinstance(m.event, wire.MessageEvent)
    ]
    assert [(m.id, m.state, m.reason, m.cmid) for m in msgs] == [
        (ack.msg_id, "failed", reason, CMID)
    ]
    assert rig.store.latest_seq() > seq

    rig.session.handle(send)
    assert rig.one() == ack, "a resend of the cmid gets the same failed ack"
    assert rig.accepted == 1
    assert rig.store.db.execute("SELECT count(*) FROM messages").fetchone()[0] == 1


def test_a_send_within_its_lifetime_expires_counting_from_when_it_was_typed(rig: Rig) -> None:
    typed = int(NOW * 1000) - 1_800_000  # half an hour ago, on a clock in step with the host's
    rig.session.handle(wire.Send(cmid=CMID, to=[ANA], body="late but fine", created=typed))
    ack = rig.one()
    assert isinstance(ack, wire.Ack)
    assert (ack.state, ack.reason) == ("sending", None)
    (item,) = rig.store.claim_due()
    assert item.msg_id == ack.msg_id
    assert item.expires_at == typed + CLOCK_SKEW_MS + 3_600_000


def test_the_same_cmid_from_another_device_is_another_text(rig: Rig) -> None:
    rig.store.add_device(b"\x09" * 16, b"\x0a" * 32, "Other", "ua", b"\x0b" * 32)
    other_device = next(d for d in rig.store.devices() if d.id == b"\x09" * 16)
    got: list[wire.Message] = []
    other = DeviceSession(
        rig.store,
        other_device,
        host_name="h",
        caps=CAPS,
        send=got.append,
        accepted=lambda: None,
        text_ttl=60,
        files=rig.files,
    )
    rig.session.handle(wire.Send(cmid=CMID, to=[ANA], body="mine"))
    other.handle(wire.Send(cmid=CMID, to=[ANA], body="theirs"))
    (mine,), (theirs,) = rig.take(), got
    assert isinstance(mine, wire.Ack)
    assert isinstance(theirs, wire.Ack)
    assert mine.msg_id != theirs.msg_id
    assert rig.store.db.execute("SELECT count(*) FROM outbox").fetchone()[0] == 2


def test_a_send_with_at_is_scheduled_acked_queued_and_can_be_unscheduled(rig: Rig) -> None:
    seq = rig.go_live()
    at = int(NOW * 1000) + 60_000
    rig.session.handle(wire.Send(cmid=CMID, to=[ANA], body="later", at=at))
    ack = rig.one()
    assert isinstance(ack, wire.Ack)
    assert (ack.state, ack.reason) == ("queued", None)
    rig.session.push()
    msg = next(
        m.event.msg
        for m in rig.take()
        if isinstance(m, wire.EventMessage) and isinstance(m.event, wire.MessageEvent)
    )
    assert (msg.id, msg.state, msg.at, msg.cmid) == (ack.msg_id, "queued", at, CMID)
    assert rig.store.latest_seq() > seq

    rig.session.handle(wire.Unschedule(qid=7, msg_id=ack.msg_id))
    assert rig.one() == wire.Done(qid=7)
    assert rig.accepted == 2, "the ack and the done each tell every device"
    rig.session.push()
    (status,) = rig.take()
    assert isinstance(status, wire.EventMessage)
    assert isinstance(status.event, wire.StatusEvent)
    assert (status.event.id, status.event.state, status.event.reason) == (
        ack.msg_id,
        "failed",
        "Cancelled before it was sent.",
    )
    assert rig.store.db.execute("SELECT count(*) FROM outbox").fetchone()[0] == 0


def test_unschedule_of_a_text_no_longer_waiting_is_refused_naming_the_qid(rig: Rig) -> None:
    rig.session.handle(wire.Send(cmid=CMID, to=[ANA], body="now"))
    now = rig.one()
    assert isinstance(now, wire.Ack)
    assert now.state == "sending"
    at = int(NOW * 1000) + 60_000
    rig.session.handle(wire.Send(cmid="f" * 32, to=[ANA], body="later", at=at))
    later = rig.one()
    assert isinstance(later, wire.Ack)
    rig.store.unschedule(later.msg_id)
    seq = rig.store.latest_seq()
    for qid, msg_id, says in (
        (3, now.msg_id, "no longer waiting"),
        (4, later.msg_id, "no longer waiting"),
        (5, 9999, "no such text"),
    ):
        rig.session.handle(wire.Unschedule(qid=qid, msg_id=msg_id))
        refused = rig.one()
        assert isinstance(refused, wire.Error)
        assert (refused.code, refused.ref) == ("bad_message", str(qid))
        assert says in refused.message
    assert rig.store.latest_seq() == seq
    assert rig.store.message(now.msg_id).state == "sending"


def test_a_send_scheduled_over_a_year_ahead_is_refused_by_cmid_and_nothing_stored(
    rig: Rig,
) -> None:
    at = int(NOW * 1000) + 366 * 24 * 3600 * 1000
    rig.session.handle(wire.Send(cmid=CMID, to=[ANA], body="too late", at=at))
    refused = rig.one()
    assert isinstance(refused, wire.Error)
    assert (refused.code, refused.ref) == ("bad_message", CMID)
    assert "a year" in refused.message
    assert rig.store.db.execute("SELECT count(*) FROM messages").fetchone()[0] == 0
    assert rig.accepted == 0


# ---------------------------------------------------------------- read


def test_read_sets_unread_to_zero_and_makes_one_event(rig: Rig) -> None:
    _fill(rig.store, 4, 5)  # BO gets texts 0 and 2, ANA 1 and 3
    conv = rig.store.conversation_for([ANA])
    assert rig.store.conversation(conv).unread == 2
    rig.go_live()
    before = rig.store.latest_seq()

    rig.session.handle(wire.Read(conv=conv))
    assert rig.take() == [], "read has no answer of its own"
    assert rig.store.conversation(conv).unread == 0
    assert rig.accepted == 1, "the host is told to push the change"
    (event,) = rig.store.events_since(before, 10)
    assert isinstance(event, wire.ConversationEvent)
    assert (event.conv.id, event.conv.unread) == (conv, 0)
    rig.session.push()
    assert rig.take() == [wire.EventMessage(event=event)]

    rig.session.handle(wire.Read(conv=conv))  # already read: nothing changes
    rig.session.handle(wire.Read(conv=9999))  # no such conversation
    assert rig.store.latest_seq() == before + 1
    assert rig.accepted == 1
    assert rig.store.conversation(rig.store.conversation_for([BO])).unread == 2


# ---------------------------------------------------------------- search


def _incoming(store: Store, body: str, at: int) -> int:
    msg_id = store.add_incoming(ANA, body, at, f"s{at}")
    assert msg_id is not None
    return msg_id


def _search(rig: Rig, query: str, limit: int = 10, before: int | None = None) -> wire.Results:
    rig.session.handle(wire.Search(qid=7, query=query, limit=limit, before=before))
    results = rig.one()
    assert isinstance(results, wire.Results)
    assert results.qid == 7
    return results


def test_search_finds_bodies_newest_first_and_marks_the_match(rig: Rig) -> None:
    first = rig.store.add_incoming(ANA, "Dinner at eight?", 100, "a")
    rig.store.add_incoming(ANA, "no match here", 200, "b")
    second = rig.store.add_incoming(BO, "was the DINNER good", 300, "c")
    results = _search(rig, "dinner")
    assert [h.msg_id for h in results.hits] == [second, first]
    assert results.more is False
    assert results.hits[0].snippet == "was the \x02DINNER\x03 good"
    assert results.hits[1].snippet == "\x02Dinner\x03 at eight?"
    assert results.hits[0].conv == rig.store.conversation_for([BO])
    assert results.hits[0].at == 300


def test_search_is_by_words_and_search_syntax_is_plain_text(rig: Rig) -> None:
    rig.store.add_incoming(ANA, "100% sure", 1, "a")
    rig.store.add_incoming(ANA, "cats AND dogs", 2, "b")
    rig.store.add_incoming(ANA, "plain text", 3, "c")
    assert [h.snippet for h in _search(rig, "100%").hits] == ["\x02100\x03% sure"]
    assert _search(rig, "%").hits == [], "no word, no hit, no error"
    assert [h.snippet for h in _search(rig, "AND").hits] == ["cats \x02AND\x03 dogs"]
    assert [h.snippet for h in _search(rig, 'dogs" OR "text').hits] == []
    assert [h.at for h in _search(rig, "pla").hits] == [3], "the last word is a prefix"
    assert _search(rig, "zzz").hits == []


def test_search_pages_by_time_with_before_and_misses_nothing(rig: Rig) -> None:
    """Ids do not follow time (a late-arriving text, history): paging must still see all."""
    times = [500, 100, 400, 200, 300, 600]
    ids = [_incoming(rig.store, f"match {at}", at) for at in times]
    newest_first = [i for _, i in sorted(zip(times, ids, strict=True), reverse=True)]

    seen: list[int] = []
    before: int | None = None
    for _ in range(len(times) + 1):
        page = _search(rig, "match", limit=2, before=before)
        seen.extend(h.msg_id for h in page.hits)
        if not page.more:
            break
        before = page.hits[-1].msg_id
    assert seen == newest_first
    assert _search(rig, "match", before=max(ids) + 1) == wire.Results(qid=7, hits=[], more=False)


def test_search_long_bodies_give_a_bounded_snippet_around_the_match(rig: Rig) -> None:
    body = "hay " * 100 + "needle" + " straw" * 100
    rig.store.add_incoming(ANA, body, 1, "a")
    (hit,) = _search(rig, "needle").hits
    assert "\x02needle\x03" in hit.snippet
    assert hit.snippet.startswith("…")
    assert len(hit.snippet) <= 500


# ---------------------------------------------------------------- pages and attachments


def _page_convs(rig: Rig, limit: int) -> list[wire.ConvPage]:
    pages: list[wire.ConvPage] = []
    before: tuple[int, int] | None = None
    while True:
        rig.session.handle(wire.Convs(qid=len(pages), before=before, limit=limit))
        page = rig.one()
        assert isinstance(page, wire.ConvPage)
        assert page.qid == len(pages)
        pages.append(page)
        if not page.more:
            return pages
        before = (page.convs[-1].last_at, page.convs[-1].id)


def test_conversation_pages_cover_every_conversation_once_newest_first(rig: Rig) -> None:
    for n in range(11):
        rig.store.add_incoming(f"+1555011{n:02d}", f"text {n}", 1000 - n * 7, f"s{n}")
    pages = _page_convs(rig, limit=3)
    assert [len(p.convs) for p in pages] == [3, 3, 3, 2]
    listed = [c.id for p in pages for c in p.convs]
    ordered = rig.store.db.execute("SELECT id FROM conversations ORDER BY last_at DESC, id DESC")
    assert listed == [row[0] for row in ordered]
    assert pages[0].convs[0].snippet == "text 0"


def _thread(rig: Rig, conv: int, **position: tuple[int, int] | None) -> wire.Message:
    rig.session.handle(
        wire.Thread(
            qid=9,
            conv=conv,
            before=position.get("before"),
            after=position.get("after"),
            limit=4,
        )
    )
    return rig.one()


def test_thread_pages_go_back_in_time_and_forward_from_a_search_hit(rig: Rig) -> None:
    ids = [_incoming(rig.store, f"line {n}", 100 + n) for n in range(10)]
    conv = rig.store.conversation_for([ANA])
    newest = _thread(rig, conv)
    assert isinstance(newest, wire.ThreadPage)
    assert [m.id for m in newest.msgs] == ids[:-5:-1]
    assert newest.more
    older = _thread(rig, conv, before=(newest.msgs[-1].at, newest.msgs[-1].id))
    assert isinstance(older, wire.ThreadPage)
    assert [m.id for m in older.msgs] == ids[5:1:-1]
    last = _thread(rig, conv, before=(older.msgs[-1].at, older.msgs[-1].id))
    assert isinstance(last, wire.ThreadPage)
    assert ([m.id for m in last.msgs], last.more) == ([ids[1], ids[0]], False)

    # Around a hit (message 3): the page before (at, id + 1) ends with it, the page after
    # it holds the next four, still listed newest first.
    hit = rig.store.message(ids[3])
    around = _thread(rig, conv, before=(hit.at, hit.id + 1))
    assert isinstance(around, wire.ThreadPage)
    assert [m.id for m in around.msgs] == [ids[3], ids[2], ids[1], ids[0]]
    newer = _thread(rig, conv, after=(hit.at, hit.id))
    assert isinstance(newer, wire.ThreadPage)
    assert ([m.id for m in newer.msgs], newer.more) == ([ids[7], ids[6], ids[5], ids[4]], True)
    end = _thread(rig, conv, after=(newer.msgs[0].at, newer.msgs[0].id))
    assert isinstance(end, wire.ThreadPage)
    assert ([m.id for m in end.msgs], end.more) == ([ids[9], ids[8]], False)


def test_a_bad_page_request_gets_an_error_naming_its_qid_and_the_session_goes_on(
    rig: Rig,
) -> None:
    conv = rig.store.conversation_for([ANA])
    refused = _thread(rig, 9999)
    assert isinstance(refused, wire.Error)
    assert (refused.code, refused.ref) == ("bad_message", "9")
    both = _thread(rig, conv, before=(1, 1), after=(1, 1))
    assert isinstance(both, wire.Error)
    assert both.ref == "9"
    rig.session.handle(wire.Ping(n=1))
    assert rig.one() == wire.Pong(n=1)


def _mms(rig: Rig, data: bytes | None) -> int:
    HistoryImport(rig.store, rig.files).run(
        [
            HistoryMessage(
                kind="mms",
                direction="in",
                peers=(ANA, BO),
                sender=BO,
                body="look",
                at_ms=5000,
                read=True,
                state="received",
                subject="Trip",
                attachments=(
                    Attachment("image/png", "cat.png", data, None if data else "corrupt"),
                ),
            )
        ]
    )
    conv = rig.store.conversation_for([ANA, BO])
    page = _thread(rig, conv)
    assert isinstance(page, wire.ThreadPage)
    (record,) = page.msgs
    assert (record.kind, record.sender, record.subject) == ("mms", BO, "Trip")
    (att,) = record.atts
    assert (att.type, att.name) == ("image/png", "cat.png")
    return att.id


def test_an_attachment_is_fetched_in_chunks_and_reassembles_exactly(rig: Rig) -> None:
    data = bytes(range(256)) * 500  # 128 000 bytes: three chunks
    att = _mms(rig, data)
    got = b""
    while True:
        rig.session.handle(wire.Fetch(qid=3, att=att, offset=len(got)))
        chunk = rig.one()
        assert isinstance(chunk, wire.Chunk)
        assert (chunk.qid, chunk.att, chunk.total, chunk.type) == (3, att, len(data), "image/png")
        assert chunk.offset == len(got)
        piece = base64.b64decode(chunk.data)
        assert 0 < len(piece) <= wire.CHUNK_BYTES
        session.pad(wire.encode(chunk))  # fits one transport message
        got += piece
        if len(got) == chunk.total:
            break
    assert got == data
    rig.session.handle(wire.Fetch(qid=4, att=att, offset=len(data)))
    past = rig.one()
    assert isinstance(past, wire.Error)
    assert past.ref == "4"


def test_a_broken_or_unknown_attachment_cannot_be_fetched(rig: Rig) -> None:
    att = _mms(rig, None)
    for qid, wanted in ((5, att), (6, att + 100)):
        rig.session.handle(wire.Fetch(qid=qid, att=wanted, offset=0))
        refused = rig.one()
        assert isinstance(refused, wire.Error)
        assert (refused.code, refused.ref) == ("bad_message", str(qid))


def test_a_page_of_huge_messages_is_cut_to_fit_one_transport_message(rig: Rig) -> None:
    """JSON escapes a control character as six bytes: one such text nearly fills a page."""
    for n in range(3):
        rig.store.add_incoming(ANA, "\x01" * wire.MAX_BODY_CHARS, 10 + n, f"h{n}")
    conv = rig.store.conversation_for([ANA])
    seen: list[int] = []
    before: tuple[int, int] | None = None
    while True:
        page = _thread(rig, conv, before=before)
        assert isinstance(page, wire.ThreadPage)
        session.pad(wire.encode(page))  # raises if it does not fit
        seen += [m.id for m in page.msgs]
        if not page.more:
            break
        before = (page.msgs[-1].at, page.msgs[-1].id)
    assert len(seen) == len(set(seen)) == 3


# ---------------------------------------------------------------- conversation management


def _live(rig: Rig) -> None:
    rig.go_live()
    rig.take()


def _pushed(rig: Rig) -> list[wire.Event]:
    rig.session.push()
    return [m.event for m in rig.take() if isinstance(m, wire.EventMessage)]


def test_conv_set_answers_done_and_every_device_gets_the_new_record(rig: Rig) -> None:
    conv = rig.store.conversation_for([ANA])
    _live(rig)
    rig.session.handle(wire.ConvSet(qid=4, conv=conv, pinned=True, muted=True))
    assert rig.one() == wire.Done(qid=4)
    assert rig.accepted == 1, "the daemon is told, so every device gets the event"
    (event,) = _pushed(rig)
    assert isinstance(event, wire.ConversationEvent)
    assert (event.conv.pinned, event.conv.muted, event.conv.archived) == (True, True, False)
    rig.session.handle(wire.ConvSet(qid=5, conv=conv, archived=True, unread=True))
    assert rig.one() == wire.Done(qid=5)
    (event,) = _pushed(rig)
    assert isinstance(event, wire.ConversationEvent)
    record = event.conv
    assert (record.pinned, record.archived, record.muted, record.unread) == (False, True, True, 1)
    rig.session.handle(wire.ConvSet(qid=6, conv=conv, muted=True))
    assert rig.one() == wire.Done(qid=6)
    assert _pushed(rig) == [], "nothing changed, no event"


def test_a_sixth_pin_or_an_unknown_conversation_is_refused_naming_the_qid(rig: Rig) -> None:
    convs = [rig.store.conversation_for([f"+1555010{n}"]) for n in range(6)]
    for qid, conv in enumerate(convs[:5]):
        rig.session.handle(wire.ConvSet(qid=qid, conv=conv, pinned=True))
        assert rig.one() == wire.Done(qid=qid)
    rig.session.handle(wire.ConvSet(qid=9, conv=convs[5], pinned=True))
    refused = rig.one()
    assert isinstance(refused, wire.Error)
    assert (refused.code, refused.ref) == ("bad_message", "9")
    assert "up to 5" in refused.message
    assert not rig.store.conversation(convs[5]).pinned
    for qid, message in (
        (10, wire.ConvSet(qid=10, conv=999, muted=True)),
        (11, wire.ConvDelete(qid=11, conv=999)),
        (12, wire.ConvSet(qid=12, conv=convs[0], pinned=True, archived=True)),
    ):
        rig.session.handle(message)
        error = rig.one()
        assert isinstance(error, wire.Error)
        assert error.ref == str(qid)
    rig.session.handle(wire.Ping(n=1))
    assert rig.one() == wire.Pong(n=1), "the session goes on"


def test_folders_page_apart_and_blocked_texts_are_kept_hidden_and_never_unread(rig: Rig) -> None:
    store = rig.store
    ana, bo, dee = (store.conversation_for([n]) for n in (ANA, BO, "+15550103"))
    store.add_incoming(ANA, "hi", 1000, "a")
    store.add_incoming(BO, "yo", 2000, "b")
    store.add_incoming("+15550103", "hey", 3000, "c")
    store.set_flags(ana, pinned=True)
    store.set_flags(bo, blocked=True)
    _live(rig)

    def folder(name: wire.Folder) -> list[int]:
        rig.session.handle(wire.Convs(qid=1, before=None, limit=10, folder=name))
        page = rig.one()
        assert isinstance(page, wire.ConvPage)
        return [c.id for c in page.convs]

    assert (folder("inbox"), folder("pinned"), folder("blocked"), folder("archived")) == (
        [dee],
        [ana],
        [bo],
        [],
    )
    store.add_incoming(BO, "still here", 4000, "d")
    assert store.conversation(bo).unread == 0
    assert folder("blocked") == [bo]
    assert store.thread_page(bo)[0].body == "still here"
    rig.session.handle(wire.Search(qid=2, query="still here", limit=10, before=None))
    assert rig.one() == wire.Results(qid=2, hits=[], more=False), "never found by search"
    store.set_flags(bo, blocked=False)
    rig.session.handle(wire.Search(qid=3, query="still here", limit=10, before=None))
    found = rig.one()
    assert isinstance(found, wire.Results)
    assert [h.conv for h in found.hits] == [bo]


def test_conv_delete_drops_messages_index_files_and_tells_devices_gone(rig: Rig) -> None:
    data = b"picture bytes"
    att = _mms(rig, data)
    conv = rig.store.conversation_for([ANA, BO])
    sha = rig.store.attachment(att)["sha256"]  # type: ignore[index]
    assert rig.files.path(sha).exists()
    _live(rig)
    rig.session.handle(wire.Search(qid=6, query="look", limit=10, before=None))
    found = rig.one()
    assert isinstance(found, wire.Results)
    assert len(found.hits) == 1
    rig.session.handle(wire.ConvDelete(qid=7, conv=conv))
    assert rig.one() == wire.Done(qid=7)
    (gone,) = _pushed(rig)
    assert gone == wire.GoneEvent(seq=rig.store.latest_seq(), conv=conv)
    assert not rig.files.path(sha).exists()
    db = rig.store.db
    for table in ("messages", "attachments", "participants", "conversations"):
        assert db.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == 0, table
    rig.session.handle(wire.Search(qid=8, query="look", limit=10, before=None))
    assert rig.one() == wire.Results(qid=8, hits=[], more=False)
    # A device that was behind gets what is left of the log: no event names a deleted row.
    batches, synced = rig.sync(1)
    assert _events(batches)[-1] == gone
    assert all(not isinstance(e, wire.MessageEvent) for e in _events(batches))
    assert synced == wire.Synced(seq=rig.store.latest_seq())


def test_contact_names_a_number_in_its_conversation_and_in_groups(rig: Rig) -> None:
    one = rig.store.conversation_for([BO])
    group = rig.store.conversation_for([ANA, BO])
    _live(rig)
    rig.session.handle(wire.Contact(qid=3, number=BO, name="Bo Smith"))
    assert rig.one() == wire.Done(qid=3)
    events = _pushed(rig)
    records = {e.conv.id: e.conv for e in events if isinstance(e, wire.ConversationEvent)}
    assert records[one].name == "Bo Smith"
    assert records[one].names == ["Bo Smith"]
    assert records[group].names == [None, "Bo Smith"]
    rig.session.handle(wire.Contact(qid=4, number=BO, name=None))
    assert rig.one() == wire.Done(qid=4)
    assert rig.store.conversation(one).name is None
    assert rig.store.conversation(group).names == [None, None]
