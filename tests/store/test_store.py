"""The store: dedupe, events in step with data, outbox claims and crash recovery."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from textport.errors import StoreError
from textport.protocol import messages as wire
from textport.store.db import SCHEMA_VERSION, connect
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
