"""The store: dedupe, events in step with data, outbox claims and crash recovery."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from textport.errors import StoreError
from textport.protocol import messages as wire
from textport.store.db import SCHEMA_VERSION, connect, migrate
from textport.store.store import Store

NOW = 1_790_000_000.0
DEVICE = b"d" * 16


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store(connect(tmp_path / "t.db"), lambda: NOW)
    s.add_device(DEVICE, b"k" * 32, "Chromium", "ua", b"h" * 32)
    return s


def test_database_file_is_private_and_newer_schemas_are_refused(tmp_path: Path) -> None:
    db = connect(tmp_path / "t.db")
    assert (tmp_path / "t.db").stat().st_mode & 0o777 == 0o600
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()
    with pytest.raises(StoreError, match="newer than this textport"):
        connect(tmp_path / "t.db")


def test_a_duplicate_cmid_gets_the_same_answer_and_no_second_text(store: Store) -> None:
    first = store.add_outgoing(DEVICE, "ab" * 16, ["+15550100"], "hi", 3600)
    again = store.add_outgoing(DEVICE, "ab" * 16, ["+15550100"], "hi", 3600)
    assert (again.msg_id, again.state, again.duplicate) == (first.msg_id, "sending", True)
    assert store.db.execute("SELECT count(*) FROM messages").fetchone()[0] == 1
    assert store.db.execute("SELECT count(*) FROM outbox").fetchone()[0] == 1


def test_a_reread_incoming_text_is_stored_once(store: Store) -> None:
    assert store.add_incoming("+15550100", "yo", 1, "modem-7") is not None
    assert store.add_incoming("+15550100", "yo", 1, "modem-7") is None
    conv = store.conversation(store.conversation_for(["+15550100"]))
    assert conv.unread == 1
    assert conv.snippet == "yo"


def test_events_follow_every_change_in_order(store: Store) -> None:
    accepted = store.add_outgoing(DEVICE, "ab" * 16, ["+15550100"], "hi", 3600)
    store.finish(accepted.msg_id, "sent", carrier_ref="ref-1")
    store.set_state(accepted.msg_id, "delivered")
    events = store.events_since(0, 100)
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    kinds = [type(e).__name__ for e in events]
    assert kinds == [
        "ConversationEvent",
        "MessageEvent",
        "ConversationEvent",
        "StatusEvent",
        "StatusEvent",
    ]
    last = events[-1]
    assert isinstance(last, wire.StatusEvent)
    assert last.state == "delivered"
    assert store.by_carrier_ref("ref-1") == accepted.msg_id
    assert store.events_since(store.latest_seq(), 100) == []


def test_claimed_texts_are_unknown_after_a_crash_and_never_claimed_again(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    store = Store(connect(path), lambda: NOW)
    accepted = store.add_outgoing(None, None, ["+15550100"], "hi", 3600)
    assert [item.msg_id for item in store.claim_due()] == [accepted.msg_id]
    store.db.close()  # the host died between the claim and the network's answer

    reopened = Store(connect(path), lambda: NOW + 5)
    assert reopened.recover() == [accepted.msg_id]
    assert reopened.message(accepted.msg_id).state == "unknown"
    assert reopened.claim_due() == []


def test_retry_later_waits_for_its_time(store: Store) -> None:
    accepted = store.add_outgoing(None, None, ["+15550100"], "hi", 3600)
    (item,) = store.claim_due()
    store.retry_later(item.msg_id, store.now_ms() + 10_000)
    assert store.claim_due() == []
    assert store.next_due_ms() == store.now_ms() + 10_000
    assert accepted.msg_id == item.msg_id


def test_revoked_devices_stay_listed(store: Store) -> None:
    assert store.revoke(DEVICE)
    assert not store.revoke(DEVICE)
    (device,) = store.devices()
    assert device.status == "revoked"


def test_foreign_keys_are_enforced(store: Store) -> None:
    with pytest.raises(sqlite3.IntegrityError):
        store.add_outgoing(b"x" * 16, "cd" * 16, ["+15550100"], "hi", 3600)


# ---------------------------------------------------------------- conversation management


def test_a_version_3_database_keeps_its_events_and_never_reuses_a_seq(tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / "t.db", isolation_level=None)
    migrate(db, upto=3)
    db.execute("INSERT INTO conversations (peers, last_at) VALUES ('+15550100', 5)")
    for _ in range(3):
        db.execute("INSERT INTO events (kind, ref, at) VALUES ('conv', 1, 5)")
    db.execute("DELETE FROM events WHERE seq = 3")  # the high-water mark is 3, max(seq) 2
    db.close()
    store = Store(connect(tmp_path / "t.db"), lambda: NOW)
    assert [e.seq for e in store.events_since(0, 10)] == [1, 2]
    store.set_flags(1, archived=True)
    assert store.latest_seq() == 4
    plan = store.db.execute(
        "EXPLAIN QUERY PLAN SELECT id FROM conversations WHERE blocked = 0 AND archived = 1 "
        "AND pinned = 0 AND (last_at, id) < (?, ?) ORDER BY last_at DESC, id DESC LIMIT 5",
        (1 << 62, 0),
    ).fetchall()
    assert "conversations_folder" in str([tuple(row) for row in plan])
    assert "TEMP B-TREE" not in str([tuple(row) for row in plan])


def test_pinning_unarchives_archiving_unpins_and_blocking_unpins_and_reads(store: Store) -> None:
    conv = store.conversation_for(["+15550100"])
    store.add_incoming("+15550100", "hi", 1000, "s1")
    store.set_flags(conv, archived=True)
    store.set_flags(conv, pinned=True)
    record = store.conversation(conv)
    assert (record.pinned, record.archived, record.unread) == (True, False, 1)
    store.set_flags(conv, archived=True)
    record = store.conversation(conv)
    assert (record.pinned, record.archived) == (False, True)
    store.set_flags(conv, pinned=True)
    store.set_flags(conv, blocked=True)
    record = store.conversation(conv)
    assert (record.pinned, record.blocked, record.unread) == (False, True, 0)
    store.set_flags(conv, unread=True)
    assert store.conversation(conv).unread == 0, "a blocked conversation is never unread"
    store.set_flags(conv, blocked=False, unread=True)
    assert store.conversation(conv).unread == 1
    store.set_flags(conv, unread=False)
    assert store.conversation(conv).unread == 0


def test_a_new_text_unarchives_unless_muted_and_an_import_never_does(store: Store) -> None:
    conv = store.conversation_for(["+15550100"])
    store.set_flags(conv, archived=True)
    store.add_sent(["+15550100"], "mine", 900, "sent")
    assert store.conversation(conv).archived, "an outgoing text leaves it archived"
    store.touch_conversations([(conv, 950, "old", 1)], history=True)
    assert store.conversation(conv).archived, "imported history leaves it archived"
    store.add_incoming("+15550100", "back", 1000, "s1")
    assert not store.conversation(conv).archived
    store.set_flags(conv, archived=True, muted=True)
    store.add_incoming("+15550100", "quiet", 2000, "s2")
    assert store.conversation(conv).archived, "muted: it stays archived"


def test_a_text_finished_after_its_conversation_was_deleted_makes_no_event(
    store: Store,
) -> None:
    accepted = store.add_outgoing(DEVICE, "cd" * 16, ["+15550100"], "hi", 3600)
    (claimed,) = store.claim_due()
    conv = store.find_conversation(["+15550100"])
    assert conv is not None
    assert store.delete_conversation(conv) == []
    seq = store.latest_seq()
    store.finish(claimed.msg_id, "sent")
    assert store.latest_seq() == seq
    assert store.db.execute("SELECT count(*) FROM outbox").fetchone()[0] == 0
    assert [type(e) for e in store.events_since(0, 10)] == [wire.GoneEvent]
    assert accepted.msg_id == claimed.msg_id
    with pytest.raises(StoreError):
        store.delete_conversation(conv)


# ---------------------------------------------------------------- scheduled texts


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clocked(tmp_path: Path) -> tuple[Store, Clock]:
    clock = Clock()
    s = Store(connect(tmp_path / "t.db"), clock)
    s.add_device(DEVICE, b"k" * 32, "Chromium", "ua", b"h" * 32)
    return s, clock


def test_a_scheduled_text_is_queued_at_its_time_and_claimed_then_not_before(
    clocked: tuple[Store, Clock],
) -> None:
    store, clock = clocked
    at = store.now_ms() + 60_000
    accepted = store.add_outgoing(DEVICE, "ab" * 16, ["+15550100"], "later", 3600, at_ms=at)
    assert (accepted.state, accepted.duplicate) == ("queued", False)
    record = store.message(accepted.msg_id)
    assert (record.state, record.at, record.body) == ("queued", at, "later")
    row = store.db.execute(
        "SELECT state, attempts, next_attempt_at, expires_at, scheduled FROM outbox"
    ).fetchone()
    assert tuple(row) == ("queued", 0, at, at + 3_600_000, 1)
    stored = store.db.execute("SELECT state FROM messages").fetchone()[0]
    assert stored == "sending", "messages.state has no 'queued': the outbox row says it"
    conv = store.conversation(record.conv)
    assert (conv.last_at, conv.snippet) == (store.now_ms(), "later"), "news now, not then"
    again = store.add_outgoing(DEVICE, "ab" * 16, ["+15550100"], "later", 3600, at_ms=at)
    assert (again.msg_id, again.state, again.duplicate) == (accepted.msg_id, "queued", True)
    assert store.next_due_ms() == at

    clock.now = NOW + 59.999
    assert store.claim_due() == []
    seq = store.latest_seq()
    clock.now = NOW + 60
    (item,) = store.claim_due()
    assert (item.msg_id, item.body, item.attempts) == (accepted.msg_id, "later", 1)
    (event,) = store.events_since(seq, 10)
    assert isinstance(event, wire.StatusEvent)
    assert (event.id, event.state) == (accepted.msg_id, "sending")
    assert store.message(accepted.msg_id).state == "sending"
    with pytest.raises(StoreError, match="no longer waiting"):
        store.unschedule(accepted.msg_id)


def test_an_at_in_the_past_or_within_5_s_sends_now_and_over_a_year_is_refused(
    store: Store,
) -> None:
    now = store.now_ms()
    for cmid, at in (("a1" * 16, now - 1000), ("a2" * 16, now + 5000), ("a3" * 16, None)):
        accepted = store.add_outgoing(DEVICE, cmid, ["+15550100"], "now", 3600, at_ms=at)
        assert accepted.state == "sending"
        assert store.message(accepted.msg_id).at == now
    assert len(store.claim_due()) == 3
    year = 365 * 24 * 3600 * 1000
    assert store.add_outgoing(
        DEVICE, "b1" * 16, ["+15550100"], "x", 60, at_ms=now + year
    ).state == ("queued")
    count = store.db.execute("SELECT count(*) FROM messages").fetchone()[0]
    with pytest.raises(StoreError, match="at most a year ahead"):
        store.add_outgoing(DEVICE, "b2" * 16, ["+15550100"], "x", 60, at_ms=now + year + 1)
    assert store.db.execute("SELECT count(*) FROM messages").fetchone()[0] == count


def test_unschedule_cancels_a_waiting_text_only_and_keeps_its_text(store: Store) -> None:
    at = store.now_ms() + 60_000
    accepted = store.add_outgoing(DEVICE, "ab" * 16, ["+15550100"], "never", 3600, at_ms=at)
    seq = store.latest_seq()
    store.unschedule(accepted.msg_id)
    record = store.message(accepted.msg_id)
    assert (record.state, record.reason, record.body) == (
        "failed",
        "Cancelled before it was sent.",
        "never",
    )
    (event,) = store.events_since(seq, 10)
    assert isinstance(event, wire.StatusEvent)
    assert (event.state, event.reason) == ("failed", "Cancelled before it was sent.")
    assert store.db.execute("SELECT count(*) FROM outbox").fetchone()[0] == 0
    assert store.next_due_ms() is None
    with pytest.raises(StoreError, match="no longer waiting"):
        store.unschedule(accepted.msg_id)
    with pytest.raises(StoreError, match="no such text"):
        store.unschedule(999)
    now = store.add_outgoing(DEVICE, "cd" * 16, ["+15550100"], "now", 3600)
    seq = store.latest_seq()
    with pytest.raises(StoreError, match="no longer waiting"):
        store.unschedule(now.msg_id)  # not scheduled: it is being sent
    assert store.message(now.msg_id).state == "sending"
    assert store.db.execute("SELECT count(*) FROM outbox").fetchone()[0] == 1
    assert store.latest_seq() == seq, "a refusal changes nothing"


def test_a_scheduled_text_survives_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    store = Store(connect(path), lambda: NOW)
    at = store.now_ms() + 60_000
    msg_id = store.add_outgoing(None, None, ["+15550100"], "hi", 3600, at_ms=at).msg_id
    store.db.close()
    reopened = Store(connect(path), lambda: NOW + 120)
    assert reopened.recover() == []
    assert reopened.message(msg_id).state == "queued"
    assert [item.msg_id for item in reopened.claim_due()] == [msg_id]
