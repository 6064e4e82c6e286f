"""The relay's rules without sockets: connections are plain objects, the clock is a number."""

from __future__ import annotations

import pytest

from tests.relay.harness import FakeClock
from textport.errors import ErrorCode, ProtocolError
from textport.protocol import frames
from textport.relay.rooms import (
    Channels,
    ChannelState,
    Counter,
    KeyedLimiter,
    Rooms,
    TokenBucket,
    address_key,
    data_header,
)

OWNER, STRANGER = b"\x01" * 32, b"\x02" * 32
ROOM = b"\x10" * 16
TOKEN = b"\x20" * 32


class Conn:
    """A stand-in for a socket: only its identity matters."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"Conn({self.name})"


def refused(code: ErrorCode) -> pytest.RaisesExc[ProtocolError]:
    return pytest.raises(ProtocolError, check=lambda exc: exc.code is code)


def make_rooms(clock: FakeClock | None = None, **limits: int) -> Rooms[Conn]:
    return Rooms(clock=clock or FakeClock(), **limits)


# ---------------------------------------------------------------- limits


def test_token_bucket_allows_the_burst_then_the_rate() -> None:
    bucket = TokenBucket(rate=2.0, burst=3, now=0.0)
    assert [bucket.take(0.0) for _ in range(4)] == [True, True, True, False]
    assert bucket.take(0.4) is False  # 0.8 of a token
    assert bucket.take(0.5) is True
    assert bucket.take(100.0) is True
    assert bucket.full(100.0) is False
    assert bucket.full(101.0) is True


def test_keyed_limiter_counts_per_key_and_forgets_full_buckets() -> None:
    clock = FakeClock()
    limiter = KeyedLimiter(rate=1.0, burst=2, clock=clock, max_keys=2)
    assert [limiter.allow("a") for _ in range(3)] == [True, True, False]
    assert limiter.allow("b") is True
    assert limiter.allow("c") is False  # two keys busy: fails closed
    clock.now += 10
    limiter.sweep()
    assert len(limiter) == 0
    assert limiter.allow("c") is True


def test_counter_limits_per_key_and_in_all() -> None:
    counter = Counter(per_key=2, total=3)
    assert [counter.acquire("a") for _ in range(3)] == [True, True, False]
    assert counter.acquire("b") is True
    assert counter.acquire("c") is False  # three live in all
    counter.release("a")
    assert counter.count("a") == 1
    assert counter.acquire("c") is True
    counter.release("zz")  # never acquired: ignored
    assert counter.live == 3


@pytest.mark.parametrize(
    ("address", "key"),
    [
        ("192.0.2.7", "192.0.2.7"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff::1", "2001:db8:1:2::/64"),
        ("::ffff:192.0.2.7", "192.0.2.7"),
        (None, "?"),
        ("unix-socket", "unix-socket"),
    ],
)
def test_address_key_groups_ipv6_by_64(address: str | None, key: str) -> None:
    assert address_key(address) == key


# ---------------------------------------------------------------- rooms


def test_first_claim_wins_and_a_second_connection_replaces_the_first() -> None:
    rooms = make_rooms()
    first, second = Conn("first"), Conn("second")
    room, previous = rooms.claim(ROOM, OWNER, first)
    assert (room.host, previous, room.owner) == (first, None, OWNER)
    again, previous = rooms.claim(ROOM, OWNER, second)
    assert again is room
    assert (room.host, previous) == (second, first)
    assert rooms.release(room, first) is False  # the replaced one ending changes nothing
    assert room.host is second
    with refused(ErrorCode.UNAUTHORIZED):
        rooms.claim(ROOM, STRANGER, Conn("stranger"))
    assert rooms.release(room, second) is True
    assert room.host is None
    assert rooms.get(ROOM) is room  # rooms and tokens outlive their host connection


def test_join_needs_a_registered_token_and_gets_fresh_link_ids() -> None:
    rooms = make_rooms()
    host = Conn("host")
    room, _ = rooms.claim(ROOM, OWNER, host)
    with refused(ErrorCode.UNAUTHORIZED):  # the room exists, the token is not in it
        rooms.join(ROOM, TOKEN, Conn("d"))
    with refused(ErrorCode.ROOM_UNKNOWN):  # no host claimed this one: wait and retry
        rooms.join(b"\x11" * 16, TOKEN, Conn("d"))
    room.register(TOKEN)
    room.register(TOKEN)  # idempotent
    a, b = rooms.join(ROOM, TOKEN, Conn("a")), rooms.join(ROOM, TOKEN, Conn("b"))
    assert (a.id, b.id) == (1, 2)
    assert a.header == bytes([frames.DATA, 0, 0, 0, 1])
    assert room.link(2) is b
    assert room.link(0) is None
    assert rooms.detach(a) is host
    assert rooms.detach(a) is None  # once only
    assert room.link(1) is None
    c = rooms.join(ROOM, TOKEN, Conn("c"))
    assert c.id == 3  # ids move on; a live one is never reused


def test_a_restarted_relay_knows_no_room_until_its_host_claims_it_and_registers() -> None:
    before = make_rooms()
    room, _ = before.claim(ROOM, OWNER, Conn("host"))
    room.register(TOKEN)
    before.join(ROOM, TOKEN, Conn("device"))
    after = make_rooms()  # a restart: rooms live in memory only
    with refused(ErrorCode.ROOM_UNKNOWN):
        after.join(ROOM, TOKEN, Conn("device"))
    host = Conn("host again")
    room, _ = after.claim(ROOM, OWNER, host)
    with refused(ErrorCode.UNAUTHORIZED):  # claimed, its tokens not registered yet
        after.join(ROOM, TOKEN, Conn("device"))
    room.register(TOKEN)
    assert after.join(ROOM, TOKEN, Conn("device")).id == 1
    assert after.release(room, host) is True
    assert after.join(ROOM, TOKEN, Conn("device")).id == 2  # a known room, its host away


def test_link_ids_wrap_and_skip_live_ones() -> None:
    rooms = make_rooms()
    room, _ = rooms.claim(ROOM, OWNER, Conn("host"))
    room.register(TOKEN)
    first = rooms.join(ROOM, TOKEN, Conn("first"))
    room._next_link = frames.MAX_LINK
    last = rooms.join(ROOM, TOKEN, Conn("last"))
    wrapped = rooms.join(ROOM, TOKEN, Conn("wrapped"))
    assert (first.id, last.id, wrapped.id) == (1, frames.MAX_LINK, 2)
    assert last.header == data_header(frames.MAX_LINK) == b"\x02\xff\xff\xff\xff"


def test_unregister_names_the_links_to_close_and_refuses_the_token() -> None:
    rooms = make_rooms()
    room, _ = rooms.claim(ROOM, OWNER, Conn("host"))
    other = b"\x21" * 32
    room.register(TOKEN)
    room.register(other)
    a, b = rooms.join(ROOM, TOKEN, Conn("a")), rooms.join(ROOM, TOKEN, Conn("b"))
    keep = rooms.join(ROOM, other, Conn("keep"))
    assert room.unregister(TOKEN) == [a, b]
    assert room.unregister(TOKEN) == [a, b]  # still attached until detached
    with refused(ErrorCode.UNAUTHORIZED):
        rooms.join(ROOM, TOKEN, Conn("again"))
    assert room.link(keep.id) is keep


def test_room_limits() -> None:
    rooms = make_rooms(max_tokens_per_room=2, max_devices_per_room=2)
    room, _ = rooms.claim(ROOM, OWNER, Conn("host"))
    room.register(b"\x01" * 32)
    room.register(b"\x02" * 32)
    with refused(ErrorCode.TOO_LARGE):
        room.register(b"\x03" * 32)
    rooms.join(ROOM, b"\x01" * 32, Conn("a"))
    rooms.join(ROOM, b"\x01" * 32, Conn("b"))
    with refused(ErrorCode.RATE_LIMITED):
        rooms.join(ROOM, b"\x02" * 32, Conn("c"))


def test_a_credential_past_its_room_limit_forgets_its_longest_idle_room() -> None:
    clock = FakeClock()
    rooms = make_rooms(clock, max_rooms_per_credential=2)
    busy, idle = Conn("busy"), Conn("idle")
    rooms.claim(b"\x01" * 16, OWNER, busy)
    old, _ = rooms.claim(b"\x02" * 16, OWNER, idle)
    clock.now += 1
    rooms.release(old, idle)
    rooms.claim(b"\x03" * 16, STRANGER, Conn("other owner"))  # counts apart
    rooms.claim(b"\x04" * 16, OWNER, Conn("new"))
    assert rooms.get(b"\x02" * 16) is None
    with refused(ErrorCode.ROOM_UNKNOWN):  # its devices wait for the host to claim it again
        rooms.join(b"\x02" * 16, TOKEN, Conn("device"))
    assert rooms.get(b"\x01" * 16) is not None
    with refused(ErrorCode.RATE_LIMITED):  # both remaining rooms have a host
        rooms.claim(b"\x05" * 16, OWNER, Conn("one too many"))
    assert len(rooms) == 3


# ---------------------------------------------------------------- pairing channels


def make_channels(clock: FakeClock, **limits: float) -> Channels[Conn]:
    return Channels(clock=clock, grace=5.0, paired_lifetime=60.0, memory=30.0, **limits)  # type: ignore[arg-type]


def test_accept_pairs_once() -> None:
    clock = FakeClock()
    channels = make_channels(clock)
    creator, acceptor = Conn("creator"), Conn("acceptor")
    channel = channels.offer("abc", 60, creator)
    with refused(ErrorCode.PAIRING_USED):
        channels.offer("abc", 60, Conn("squatter"))
    with refused(ErrorCode.PAIRING_UNKNOWN):
        channels.accept("abd", acceptor, "192.0.2.1")
    assert channels.accept("abc", acceptor, "192.0.2.1") is channel
    assert channel.state is ChannelState.PAIRED
    assert (channel.other(creator), channel.other(acceptor)) == (acceptor, creator)
    with refused(ErrorCode.PAIRING_USED):
        channels.accept("abc", Conn("late"), "192.0.2.2")
    assert channels.leave(channel, acceptor) is creator
    assert channels.leave(channel, creator) is None
    assert channel.other(creator) is None
    with refused(ErrorCode.PAIRING_USED):  # ended, but the name is remembered
        channels.accept("abc", Conn("later"), "192.0.2.3")


def test_expiry_and_abandonment() -> None:
    clock = FakeClock()
    channels = make_channels(clock)
    creator = Conn("creator")
    channel = channels.offer("abc", 10, creator)
    clock.now += 10
    with refused(ErrorCode.PAIRING_EXPIRED):
        channels.accept("abc", Conn("late"), "192.0.2.1")
    gone = channels.offer("gone", 100, Conn("gone"))
    channels.leave(gone, gone.creator)
    with refused(ErrorCode.PAIRING_EXPIRED):  # its creator gave up: show a new code
        channels.accept("gone", Conn("x"), "192.0.2.1")
    assert channels.sweep() == []  # within the grace period
    clock.now += 5
    assert channels.sweep() == [(creator, channel)]
    assert channel.state is ChannelState.ENDED
    clock.now += 30
    assert channels.sweep() == []
    assert channels.get("abc") is None  # forgotten: the name may be offered again
    assert channels.get("gone") is not None  # remembered until its own expiry + memory
    channels.offer("abc", 10, Conn("again"))


def test_ttl_is_capped_and_paired_channels_end() -> None:
    clock = FakeClock()
    channels = make_channels(clock, max_ttl=20.0)
    creator, acceptor = Conn("creator"), Conn("acceptor")
    channel = channels.offer("abc", 600, creator)
    assert channel.expires == clock.now + 20
    channels.accept("abc", acceptor, "192.0.2.1")
    clock.now += 59
    assert channels.sweep() == []
    clock.now += 1
    assert channels.sweep() == [(creator, channel), (acceptor, channel)]
    assert channel.other(creator) is None


def test_accept_attempts_are_limited_per_address_failures_included() -> None:
    clock = FakeClock()
    channels = make_channels(clock, accepts_per_minute=3)
    for _ in range(3):
        with refused(ErrorCode.PAIRING_UNKNOWN):
            channels.accept("nope", Conn("guesser"), "192.0.2.1")
    channels.offer("real", 60, Conn("creator"))
    with refused(ErrorCode.RATE_LIMITED):
        channels.accept("real", Conn("guesser"), "192.0.2.1")
    assert channels.accept("real", Conn("someone else"), "192.0.2.2").state is ChannelState.PAIRED
    clock.now += 20  # one attempt back
    with refused(ErrorCode.PAIRING_USED):
        channels.accept("real", Conn("guesser"), "192.0.2.1")


def test_channel_count_is_bounded() -> None:
    clock = FakeClock()
    channels = make_channels(clock, max_channels=2)
    channels.offer("a", 60, Conn("a"))
    channels.offer("b", 60, Conn("b"))
    with refused(ErrorCode.RATE_LIMITED):
        channels.offer("c", 60, Conn("c"))
