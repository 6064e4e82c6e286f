"""A text's lifetime in the store counts from when the person pressed Send (``created``).

A text typed while the phone was away reaches the host late: within its lifetime it is
queued with what is left of it; past it, it is stored ``failed`` with a reason a person
can read and never reaches the outbox. A scheduled text keeps its own rule.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from textport.protocol import messages as wire
from textport.store.db import connect
from textport.store.store import CLOCK_SKEW_MS, Store, duration_words, unreachable_reason

NOW = 1_790_000_000.0
NOW_MS = int(NOW * 1000)
DEVICE = b"d" * 16
TO = ["+15550100"]
HOUR, HOUR_MS = 3600.0, 3_600_000
LATE = "Not sent: your phone was out of reach for longer than 1 hour after you pressed Send."


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store(connect(tmp_path / "t.db"), lambda: NOW)
    s.add_device(DEVICE, b"k" * 32, "Chromium", "ua", b"h" * 32)
    return s


def _expires_at(store: Store, msg_id: int) -> int | None:
    row = store.db.execute("SELECT expires_at FROM outbox WHERE msg_id = ?", (msg_id,)).fetchone()
    return None if row is None else int(row[0])


def test_a_text_typed_longer_ago_than_its_lifetime_is_stored_failed_and_never_queued(
    store: Store,
) -> None:
    created = NOW_MS - 2 * HOUR_MS
    seq = store.latest_seq()
    accepted = store.add_outgoing(DEVICE, "ab" * 16, TO, "still on?", HOUR, created_ms=created)
    assert (accepted.state, accepted.reason, accepted.duplicate) == ("failed", LATE, False)
    record = store.message(accepted.msg_id)
    assert (record.dir, record.state, record.reason, record.body) == (
        "out",
        "failed",
        LATE,
        "still on?",
    )
    assert record.at == NOW_MS, "shown where the host learnt of it"
    assert _expires_at(store, accepted.msg_id) is None
    assert store.claim_due() == []
    assert store.next_due_ms() is None
    kinds = [type(e) for e in store.events_since(seq, 10)]
    assert kinds == [wire.ConversationEvent, wire.MessageEvent, wire.ConversationEvent]
    assert store.conversation(record.conv).snippet == "still on?"

    again = store.add_outgoing(DEVICE, "ab" * 16, TO, "still on?", HOUR, created_ms=created)
    assert (again.msg_id, again.state, again.reason, again.duplicate) == (
        accepted.msg_id,
        "failed",
        LATE,
        True,
    )
    assert store.db.execute("SELECT count(*) FROM messages").fetchone()[0] == 1


def test_the_lifetime_counts_from_created_with_slack_for_a_slow_clock(store: Store) -> None:
    half = store.add_outgoing(DEVICE, "a1" * 16, TO, "x", HOUR, created_ms=NOW_MS - HOUR_MS // 2)
    assert half.state == "sending"
    assert _expires_at(store, half.msg_id) == NOW_MS - HOUR_MS // 2 + CLOCK_SKEW_MS + HOUR_MS

    # A device whose clock runs ahead gains nothing: never later than the lifetime from now.
    ahead = store.add_outgoing(DEVICE, "a2" * 16, TO, "x", HOUR, created_ms=NOW_MS + HOUR_MS)
    assert _expires_at(store, ahead.msg_id) == NOW_MS + HOUR_MS

    # A clock up to CLOCK_SKEW_MS slow does not fail a fresh text.
    slow = store.add_outgoing(DEVICE, "a3" * 16, TO, "x", 1.0, created_ms=NOW_MS - CLOCK_SKEW_MS)
    assert slow.state == "sending"
    assert _expires_at(store, slow.msg_id) == NOW_MS + 1000

    # The edge: exactly its lifetime (and the slack) ago has expired, a millisecond less not.
    edge = NOW_MS - HOUR_MS - CLOCK_SKEW_MS
    assert store.add_outgoing(DEVICE, "b1" * 16, TO, "x", HOUR, created_ms=edge).state == "failed"
    just = store.add_outgoing(DEVICE, "b2" * 16, TO, "x", HOUR, created_ms=edge + 1)
    assert just.state == "sending"
    assert _expires_at(store, just.msg_id) == NOW_MS + 1

    # An older device says nothing: the lifetime counts from now, as before.
    old = store.add_outgoing(DEVICE, "b3" * 16, TO, "x", HOUR)
    assert _expires_at(store, old.msg_id) == NOW_MS + HOUR_MS
    assert len(store.claim_due()) == 5


def test_a_scheduled_text_keeps_its_rule_and_a_passed_time_counts_from_that_time(
    store: Store,
) -> None:
    # Scheduled ahead: it expires its lifetime after its time, however long ago it was typed.
    at = NOW_MS + 60_000
    later = store.add_outgoing(
        DEVICE, "c1" * 16, TO, "later", HOUR, at_ms=at, created_ms=NOW_MS - 10 * HOUR_MS
    )
    assert later.state == "queued"
    assert _expires_at(store, later.msg_id) == at + HOUR_MS

    # Its time passed while the phone was away, but within its lifetime: it goes now.
    recent = NOW_MS - HOUR_MS // 2
    late = store.add_outgoing(
        DEVICE, "c2" * 16, TO, "x", HOUR, at_ms=recent, created_ms=NOW_MS - 10 * HOUR_MS
    )
    assert late.state == "sending"
    assert _expires_at(store, late.msg_id) == recent + CLOCK_SKEW_MS + HOUR_MS

    # Its time is longer ago than its lifetime: failed, saying which time it counted from.
    gone = store.add_outgoing(
        DEVICE,
        "c3" * 16,
        TO,
        "x",
        HOUR,
        at_ms=NOW_MS - 2 * HOUR_MS,
        created_ms=NOW_MS - 10 * HOUR_MS,
    )
    assert (gone.state, gone.reason) == (
        "failed",
        "Not sent: your phone was out of reach for longer than 1 hour "
        "after the time you scheduled it for.",
    )


@pytest.mark.parametrize(
    ("ms", "words"),
    [
        (86_400_000, "1 day"),
        (3 * 86_400_000, "3 days"),
        (36 * HOUR_MS, "36 hours"),
        (90 * 60_000, "90 minutes"),
        (61_000, "61 seconds"),
        (1000, "1 second"),
        (2500, "3 seconds"),
        (1, "1 second"),
    ],
)
def test_durations_read_as_their_largest_whole_unit(ms: int, words: str) -> None:
    """web/tests/client/outbox.test.ts checks the browser's words for the same values."""
    assert duration_words(ms) == words


def test_the_reason_names_the_lifetime() -> None:
    assert unreachable_reason(86_400_000, scheduled=False) == (
        "Not sent: your phone was out of reach for longer than 1 day after you pressed Send."
    )
