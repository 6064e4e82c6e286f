"""Paired devices in the store: session-only pairings, idle and session expiry."""

from __future__ import annotations

from pathlib import Path

from textport.store.db import connect
from textport.store.store import Store

T0 = 1_790_000_000.0
A, B, C = b"\x01" * 16, b"\x02" * 16, b"\x03" * 16
DAY_MS = 86_400_000


def _store(tmp_path: Path, clock: list[float]) -> Store:
    store = Store(connect(tmp_path / "textport.db"), lambda: clock[0])
    store.add_device(A, b"\x11" * 32, "A", "ua", b"\x21" * 32)
    store.add_device(B, b"\x12" * 32, "B", "ua", b"\x22" * 32, session_only=True)
    store.add_device(C, b"\x13" * 32, "C", "ua", b"\x23" * 32)
    return store


def _status(store: Store) -> dict[bytes, tuple[str, str | None]]:
    rows = store.db.execute("SELECT id, status, revoked_by FROM devices").fetchall()
    return {row[0]: (row[1], row[2]) for row in rows}


def test_idle_devices_are_unpaired_counting_from_last_seen_or_pairing(tmp_path: Path) -> None:
    clock = [T0]
    store = _store(tmp_path, clock)
    clock[0] = T0 + 5 * 86400
    store.seen(C)  # C connected on day 5
    clock[0] = T0 + 10 * 86400 + 1
    stale = store.unpair_stale(idle_ms=10 * DAY_MS, session_ms=DAY_MS * 100, connected=[])
    assert [d.id for d in stale] == [A, B]
    assert _status(store) == {
        A: ("revoked", "idle"),
        B: ("revoked", "idle"),
        C: ("active", None),
    }
    assert store.unpair_stale(idle_ms=10 * DAY_MS, session_ms=DAY_MS, connected=[]) == []


def test_a_connected_device_is_never_idle(tmp_path: Path) -> None:
    clock = [T0]
    store = _store(tmp_path, clock)
    clock[0] = T0 + 400 * 86400  # a year later
    stale = store.unpair_stale(idle_ms=DAY_MS, session_ms=1000, connected=[A, B, C])
    assert stale == []


def test_a_session_only_device_goes_soon_after_its_last_session_ended(tmp_path: Path) -> None:
    clock = [T0]
    store = _store(tmp_path, clock)
    store.seen(B)  # its session ended now
    clock[0] = T0 + 60
    assert store.unpair_stale(idle_ms=DAY_MS, session_ms=120_000, connected=[]) == []
    clock[0] = T0 + 121
    (gone,) = store.unpair_stale(idle_ms=DAY_MS, session_ms=120_000, connected=[])
    assert (gone.id, gone.session_only) == (B, True)
    assert _status(store)[B] == ("revoked", "session")
    assert _status(store)[A] == ("active", None)


def test_pairing_a_revoked_device_again_makes_it_a_new_pairing(tmp_path: Path) -> None:
    clock = [T0]
    store = _store(tmp_path, clock)
    store.seen(B)
    store.revoke(B)
    clock[0] = T0 + 50
    store.add_device(B, b"\x12" * 32, "B again", "ua", b"\x24" * 32)
    (again,) = [d for d in store.devices() if d.id == B]
    assert (again.status, again.session_only, again.name) == ("active", False, "B again")
    assert (again.created_at, again.last_seen_at) == (int((T0 + 50) * 1000), None)
    assert _status(store)[B] == ("active", None)
