"""The relay's settings: who may use it, and a finite default for every limit.

docs/relay.md explains each one to operators; ``tests/relay`` checks that every field is
documented there.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from textport.errors import ConfigError
from textport.protocol import frames


@dataclass(frozen=True)
class RelayConfig:
    """Who may use the relay, and every limit it enforces (docs/relay.md explains each)."""

    host_credential_hashes: frozenset[bytes] = frozenset()
    """``derive.credential_hash`` of each operator credential allowed to claim rooms."""
    allowed_origins: frozenset[str] = frozenset()
    """Browser Origins allowed to connect; a request without an Origin is always allowed."""
    trusted_proxies: frozenset[str] = frozenset()
    """Peer addresses whose ``X-Forwarded-For`` (last entry) names the client."""
    max_frame: int = frames.MAX_FRAME
    """Largest WebSocket message; a larger one closes the socket with code 1009."""
    max_control_frame: int = frames.MAX_CONTROL
    """Largest CONTROL frame; a larger one is refused with ``too_large``."""
    frames_per_second: float = 400.0
    """Average frames per second from one device or pairing socket."""
    frame_burst: int = 800
    """Frames a device or pairing socket may send at once."""
    host_frames_per_second: float = 4000.0
    """Average frames per second from one host socket (it speaks for all its devices)."""
    host_frame_burst: int = 8000
    """Frames a host socket may send at once."""
    max_devices_per_room: int = 64
    """Live device links in one room."""
    max_tokens_per_room: int = 4096
    """Registered device tokens in one room."""
    max_rooms_per_credential: int = 64
    """Rooms one host credential holds; past it, its longest-idle room is forgotten."""
    max_pairing_channels: int = 10_000
    """Pairing channel names at the relay at once (waiting, paired or remembered)."""
    pairing_ttl_cap: float = 600.0
    """An ``offer``'s ttl is cut to this many seconds."""
    pairing_grace: float = 30.0
    """How long an unanswered offer's socket may outlive its ttl."""
    paired_lifetime: float = 600.0
    """How long two paired sockets may stay in their channel."""
    pairing_memory: float = 60.0
    """How long an ended channel's name is remembered past its expiry."""
    accepts_per_minute: int = 30
    """``accept`` attempts per client address (IPv4 address or IPv6 /64) per minute."""
    max_connections_per_ip: int = 64
    """Open sockets per client address; more get HTTP 429."""
    max_connections: int = 10_000
    """Open sockets in all; more get HTTP 429."""
    first_frame_timeout: float = 10.0
    """Seconds from the WebSocket upgrade to the first frame."""
    heartbeat: float = 20.0
    """Seconds between WebSocket pings; a socket that missed the last pong is closed."""
    close_timeout: float = 5.0
    """Seconds to wait for the peer's answer to a WebSocket close."""
    max_send_buffer: int = 256 * 1024
    """Bytes queued towards one socket: past it a device link is dropped, others wait."""
    sweep_interval: float = 1.0
    """Seconds between sweeps of expired pairing channels and idle rate limiters."""

    def __post_init__(self) -> None:
        if not 0 < self.max_frame <= frames.MAX_FRAME:
            raise ConfigError(f"max_frame must be 1 to {frames.MAX_FRAME}")
        if not 0 < self.max_control_frame <= frames.MAX_CONTROL:
            raise ConfigError(f"max_control_frame must be 1 to {frames.MAX_CONTROL}")
        for setting in fields(self):
            value = getattr(self, setting.name)
            if isinstance(value, int | float) and value <= 0:
                raise ConfigError(f"the relay's {setting.name} must be positive, not {value}")
