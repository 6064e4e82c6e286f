"""Cursor: what a device does with each sync answer and live event (no I/O)."""

from __future__ import annotations

from textport.client.cursor import Cursor, Outcome, SyncResult
from textport.protocol import messages as wire


def ev(seq: int) -> wire.Event:
    return wire.StatusEvent(seq=seq, id=seq, state="sent", reason=None, at=seq)


def test_a_sync_call_gets_its_batches_and_then_events_are_published() -> None:
    cursor = Cursor(3)
    cursor.call()
    assert cursor.batch([ev(3), ev(4), ev(5)]) == Outcome()  # 3 is already applied
    assert cursor.synced(5) == Outcome(result=SyncResult(5, [ev(4), ev(5)], reset=False))
    assert cursor.event(ev(6)) == Outcome(publish=[ev(6)])
    assert cursor.event(ev(6)) == Outcome()  # a repeat changes nothing
    assert cursor.seq == 6


def test_no_live_event_is_applied_before_synced() -> None:
    cursor = Cursor(0)
    cursor.call()
    assert cursor.event(ev(1)) == Outcome()
    assert cursor.seq == 0


def test_a_reset_answers_the_call_and_goes_live_from_its_seq() -> None:
    cursor = Cursor(0)
    cursor.call()
    assert cursor.reset(40) == Outcome(resync=40, result=SyncResult(40, [], reset=True))
    assert cursor.event(ev(41)) == Outcome()  # still catching up: the batch brings it
    assert cursor.batch([ev(41)]) == Outcome(publish=[ev(41)])
    assert cursor.synced(41) == Outcome()
    assert cursor.event(ev(42)) == Outcome(publish=[ev(42)])


def test_a_gap_syncs_again_from_the_cursor_and_a_later_reset_is_published() -> None:
    cursor = Cursor(0)
    cursor.call()
    cursor.synced(10)
    assert cursor.event(ev(12)) == Outcome(resync=10)
    assert cursor.event(ev(13)) == Outcome()
    assert cursor.batch([ev(11), ev(12), ev(13)]) == Outcome(publish=[ev(11), ev(12), ev(13)])
    assert cursor.synced(13) == Outcome()
    assert cursor.event(ev(20_000)) == Outcome(resync=13)
    assert cursor.reset(20_000) == Outcome(publish=[wire.Reset(seq=20_000)], resync=20_000)
    cursor.disconnected()
    assert cursor.event(ev(20_001)) == Outcome()
    assert cursor.seq == 20_000
