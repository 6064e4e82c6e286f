"""The relay's state and rules, without I/O: rooms, pairing channels and rate limits.

The dispatcher (:mod:`textport.relay.server`) owns the sockets; this module decides. A
connection is any hashable object (``C``): the dispatcher passes its own, tests pass plain
objects. Nothing here sends or closes anything: a method that ends other connections
returns them, and the dispatcher tells them why. Time comes from an injected ``clock``
(monotonic seconds). Refusals raise :class:`~textport.errors.ProtocolError` with the code
that docs/protocol.md section 10 names; every collection has a finite limit.
"""

from __future__ import annotations

import enum
import ipaddress
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from textport.errors import ErrorCode, ProtocolError
from textport.protocol import frames

C = TypeVar("C", bound=Hashable)
Clock = Callable[[], float]


def address_key(address: str | None) -> str:
    """The unit that per-address limits count: an IPv4 address or an IPv6 /64."""
    if not address:
        return "?"
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


def data_header(link: int) -> bytes:
    """The five bytes that start every DATA frame for (or from) ``link``."""
    return bytes((frames.DATA,)) + link.to_bytes(4, "big")


# ---------------------------------------------------------------- rate limits


class TokenBucket:
    """``rate`` events per second on average, at most ``burst`` at once."""

    __slots__ = ("_burst", "_rate", "_stamp", "_tokens")

    def __init__(self, rate: float, burst: float, now: float) -> None:
        self._rate = rate
        self._burst = burst
        self._tokens = burst
        self._stamp = now

    def take(self, now: float) -> bool:
        """Spend one token; False (and nothing spent) when the bucket is empty."""
        tokens = self._tokens + (now - self._stamp) * self._rate
        if tokens > self._burst:  # noqa: PLR1730 - per frame: cheaper than min()
            tokens = self._burst
        self._stamp = now
        if tokens < 1.0:
            self._tokens = tokens
            return False
        self._tokens = tokens - 1.0
        return True

    def full(self, now: float) -> bool:
        return self._tokens + (now - self._stamp) * self._rate >= self._burst


class KeyedLimiter:
    """One token bucket per key (a client address); a bucket is forgotten once full again.

    At most ``max_keys`` buckets exist: when that many keys are busy, new keys are refused
    until the next :meth:`sweep` (the limit fails closed).
    """

    def __init__(self, rate: float, burst: float, clock: Clock, max_keys: int = 100_000) -> None:
        self._rate = rate
        self._burst = burst
        self._clock = clock
        self._max_keys = max_keys
        self._buckets: dict[str, TokenBucket] = {}

    def allow(self, key: str) -> bool:
        now = self._clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self._max_keys:
                self.sweep()
                if len(self._buckets) >= self._max_keys:
                    return False
            bucket = self._buckets[key] = TokenBucket(self._rate, self._burst, now)
        return bucket.take(now)

    def sweep(self) -> None:
        now = self._clock()
        for key in [key for key, bucket in self._buckets.items() if bucket.full(now)]:
            del self._buckets[key]

    def __len__(self) -> int:
        return len(self._buckets)


class Counter:
    """Live connections per key (a client address) and in all, each with a limit."""

    def __init__(self, per_key: int, total: int) -> None:
        self._per_key = per_key
        self._total = total
        self._counts: dict[str, int] = {}
        self.live = 0

    def acquire(self, key: str) -> bool:
        count = self._counts.get(key, 0)
        if count >= self._per_key or self.live >= self._total:
            return False
        self._counts[key] = count + 1
        self.live += 1
        return True

    def release(self, key: str) -> None:
        count = self._counts.get(key, 0)
        if count <= 0:
            return
        self.live -= 1
        if count == 1:
            del self._counts[key]
        else:
            self._counts[key] = count - 1

    def count(self, key: str) -> int:
        return self._counts.get(key, 0)


# ---------------------------------------------------------------- rooms


@dataclass(eq=False)
class DeviceLink(Generic[C]):
    """One device connection in a room; ``header`` is its DATA header on the host's socket."""

    id: int
    header: bytes = field(repr=False)
    conn: C = field(repr=False)
    token_hash: bytes = field(repr=False)
    room: Room[C] = field(repr=False)
    live: bool = True


class Room(Generic[C]):
    """A host's room: who may claim it, its host connection, device tokens and links."""

    __slots__ = (
        "_max_tokens",
        "_next_link",
        "host",
        "id",
        "idle_since",
        "links",
        "owner",
        "tokens",
    )

    def __init__(self, room_id: bytes, owner: bytes, max_tokens: int, now: float) -> None:
        self.id = room_id
        self.owner = owner
        """The credential hash that claimed the room first."""
        self.host: C | None = None
        self.tokens: set[bytes] = set()
        self.links: dict[bytes, DeviceLink[C]] = {}
        """Live device links by DATA header: the host's hot path looks them up by it."""
        self.idle_since = now
        self._max_tokens = max_tokens
        self._next_link = 1

    @property
    def idle(self) -> bool:
        return self.host is None and not self.links

    def link(self, link_id: int) -> DeviceLink[C] | None:
        if not 1 <= link_id <= frames.MAX_LINK:
            return None
        return self.links.get(data_header(link_id))

    def register(self, token_hash: bytes) -> None:
        if token_hash in self.tokens:
            return
        if len(self.tokens) >= self._max_tokens:
            raise ProtocolError(
                f"a room holds at most {self._max_tokens} device tokens", ErrorCode.TOO_LARGE
            )
        self.tokens.add(token_hash)

    def unregister(self, token_hash: bytes) -> list[DeviceLink[C]]:
        """Revoke a token; returns the live links that joined with it (still attached)."""
        self.tokens.discard(token_hash)
        return [link for link in self.links.values() if link.token_hash == token_hash]

    def attach(self, token_hash: bytes, conn: C) -> DeviceLink[C]:
        """A new link with an id (1 to 2**32 - 1) that no live link of the room has."""
        link_id = self._next_link
        while data_header(link_id) in self.links:
            link_id = link_id % frames.MAX_LINK + 1
        self._next_link = link_id % frames.MAX_LINK + 1
        link = DeviceLink(link_id, data_header(link_id), conn, token_hash, self)
        self.links[link.header] = link
        return link


class Rooms(Generic[C]):
    """Every room of the relay, created by the first host that claims it.

    Rooms and their tokens live until the relay restarts (hosts re-register their tokens
    after every ``ready``). A credential holds at most ``max_rooms_per_credential`` rooms;
    past that, its idle room (no host, no device) idle the longest is forgotten.
    """

    def __init__(
        self,
        *,
        clock: Clock,
        max_rooms_per_credential: int = 64,
        max_tokens_per_room: int = 4096,
        max_devices_per_room: int = 64,
    ) -> None:
        self._clock = clock
        self._max_rooms = max_rooms_per_credential
        self._max_tokens = max_tokens_per_room
        self._max_devices = max_devices_per_room
        self._rooms: dict[bytes, Room[C]] = {}
        self._owned: dict[bytes, dict[bytes, Room[C]]] = {}

    def __len__(self) -> int:
        return len(self._rooms)

    def __iter__(self) -> Iterator[Room[C]]:
        return iter(list(self._rooms.values()))

    def get(self, room_id: bytes) -> Room[C] | None:
        return self._rooms.get(room_id)

    def claim(self, room_id: bytes, owner: bytes, conn: C) -> tuple[Room[C], C | None]:
        """Make ``conn`` the room's host; returns the room and the host connection it replaced.

        ``owner`` is the hash of a credential the caller already checked; the first one to
        claim a room keeps it.
        """
        room = self._rooms.get(room_id)
        if room is None:
            owned = self._owned.setdefault(owner, {})
            if len(owned) >= self._max_rooms:
                idle = [r for r in owned.values() if r.idle]
                if not idle:
                    raise ProtocolError(
                        f"this credential already serves {self._max_rooms} rooms",
                        ErrorCode.RATE_LIMITED,
                    )
                self._forget(min(idle, key=lambda r: r.idle_since))
            room = Room(room_id, owner, self._max_tokens, self._clock())
            self._rooms[room_id] = room
            self._owned.setdefault(owner, {})[room_id] = room
        elif room.owner != owner:
            raise ProtocolError("this room belongs to another credential", ErrorCode.UNAUTHORIZED)
        previous, room.host = room.host, conn
        return room, previous

    def release(self, room: Room[C], conn: C) -> bool:
        """``conn`` (a host connection) ended; True when it was the room's current host."""
        if room.host is not conn:
            return False
        room.host = None
        room.idle_since = self._clock()
        return True

    def join(self, room_id: bytes, token_hash: bytes, conn: C) -> DeviceLink[C]:
        """A new link for a registered token.

        A room the relay does not know (no host has claimed it since the relay started,
        or it was forgotten as idle) is ``room_unknown``: its host registers the tokens
        again when it comes back, so the device waits and retries. A room that exists but
        does not hold the token is ``unauthorized`` (revoked, or not registered yet).
        """
        room = self._rooms.get(room_id)
        if room is None:
            raise ProtocolError(
                "no host has claimed this room since the relay started; retry later",
                ErrorCode.ROOM_UNKNOWN,
            )
        if token_hash not in room.tokens:
            raise ProtocolError(
                "unknown device token: revoked, or not registered by the host yet",
                ErrorCode.UNAUTHORIZED,
            )
        if len(room.links) >= self._max_devices:
            raise ProtocolError(
                f"a room holds at most {self._max_devices} device connections",
                ErrorCode.RATE_LIMITED,
            )
        return room.attach(token_hash, conn)

    def detach(self, link: DeviceLink[C]) -> C | None:
        """End a device link (idempotent); returns the host to tell ``closed{link}``, if any."""
        if not link.live:
            return None
        link.live = False
        room = link.room
        del room.links[link.header]
        if room.idle:
            room.idle_since = self._clock()
        return room.host

    def _forget(self, room: Room[C]) -> None:
        del self._rooms[room.id]
        del self._owned[room.owner][room.id]


# ---------------------------------------------------------------- pairing channels


class ChannelState(enum.Enum):
    WAITING = "waiting"
    """The creator waits for someone to accept."""
    PAIRED = "paired"
    """Both ends are present; DATA flows between them."""
    ENDED = "ended"
    """Used up, abandoned or expired: the name is remembered, never reused before expiry."""


@dataclass(eq=False)
class Channel(Generic[C]):
    name: str = field(repr=False)
    creator: C = field(repr=False)
    expires: float
    state: ChannelState = ChannelState.WAITING
    acceptor: C | None = field(default=None, repr=False)
    paired_at: float = 0.0
    ended_at: float = 0.0

    def other(self, conn: C) -> C | None:
        """The other end of a paired channel, else None."""
        if self.state is not ChannelState.PAIRED:
            return None
        return self.acceptor if conn is self.creator else self.creator


class Channels(Generic[C]):
    """Single-use pairing channels by name (docs/protocol.md sections 4 to 6).

    An offer waits at most its TTL plus ``grace``; a paired channel lives at most
    ``paired_lifetime`` (pairing waits for a person to compare codes); an ended channel's
    name is remembered ``memory`` seconds past its expiry, so that late ``accept``s get
    ``pairing_used`` or ``pairing_expired`` rather than ``pairing_unknown``. At most
    ``max_channels`` names (remembered ones included) exist at once.
    """

    def __init__(
        self,
        *,
        clock: Clock,
        max_channels: int = 10_000,
        max_ttl: float = 600.0,
        grace: float = 30.0,
        paired_lifetime: float = 600.0,
        memory: float = 60.0,
        accepts_per_minute: int = 30,
    ) -> None:
        self._clock = clock
        self._max_channels = max_channels
        self._max_ttl = max_ttl
        self._grace = grace
        self._paired_lifetime = paired_lifetime
        self._memory = memory
        self._channels: dict[str, Channel[C]] = {}
        self.attempts = KeyedLimiter(accepts_per_minute / 60.0, accepts_per_minute, clock)
        """``accept`` attempts per client address, successful or not."""

    def __len__(self) -> int:
        return len(self._channels)

    def get(self, name: str) -> Channel[C] | None:
        return self._channels.get(name)

    def offer(self, name: str, ttl: float, conn: C) -> Channel[C]:
        now = self._clock()
        old = self._channels.get(name)
        if old is not None:
            if old.state is not ChannelState.ENDED or now < old.expires:
                raise ProtocolError("this pairing channel is taken", ErrorCode.PAIRING_USED)
            del self._channels[name]
        if len(self._channels) >= self._max_channels:
            raise ProtocolError("too many pairing channels at this relay", ErrorCode.RATE_LIMITED)
        channel = Channel(name, conn, now + min(ttl, self._max_ttl))
        self._channels[name] = channel
        return channel

    def accept(self, name: str, conn: C, address: str) -> Channel[C]:
        if not self.attempts.allow(address):
            raise ProtocolError("too many pairing attempts; wait a minute", ErrorCode.RATE_LIMITED)
        channel = self._channels.get(name)
        if channel is None:
            raise ProtocolError("no such pairing channel", ErrorCode.PAIRING_UNKNOWN)
        if channel.acceptor is not None:
            raise ProtocolError("this pairing channel was already used", ErrorCode.PAIRING_USED)
        now = self._clock()
        if channel.state is not ChannelState.WAITING or now >= channel.expires:
            raise ProtocolError("this pairing channel expired", ErrorCode.PAIRING_EXPIRED)
        channel.state = ChannelState.PAIRED
        channel.acceptor = conn
        channel.paired_at = now
        return channel

    def leave(self, channel: Channel[C], conn: C) -> C | None:
        """``conn`` left the channel; returns the other end, which must be closed too."""
        other = channel.other(conn)
        self._end(channel, self._clock())
        return other

    def sweep(self) -> list[tuple[C, Channel[C]]]:
        """End overdue channels and forget old names; returns the connections to close."""
        now = self._clock()
        overdue: list[tuple[C, Channel[C]]] = []
        for name, channel in list(self._channels.items()):
            if channel.state is ChannelState.WAITING:
                if now >= channel.expires + self._grace:
                    overdue.append((channel.creator, channel))
                    self._end(channel, now)
            elif channel.state is ChannelState.PAIRED:
                if now >= channel.paired_at + self._paired_lifetime:
                    overdue.append((channel.creator, channel))
                    if channel.acceptor is not None:
                        overdue.append((channel.acceptor, channel))
                    self._end(channel, now)
            elif now >= max(channel.expires, channel.ended_at) + self._memory:
                del self._channels[name]
        self.attempts.sweep()
        return overdue

    @staticmethod
    def _end(channel: Channel[C], now: float) -> None:
        if channel.state is not ChannelState.ENDED:
            channel.state = ChannelState.ENDED
            channel.ended_at = now
