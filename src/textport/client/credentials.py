"""What a paired device keeps: where its host is, how to get in, and who it is.

A pairing (docs/protocol.md sections 5 and 6) ends with the host's ``pair_accept``: the
relay URL, the room and the device's token, beside the host's static key that the
device learnt in the handshake and the device's own static key. Those five values are
all a device needs to connect again; :class:`Credentials` holds them and never shows
the secret ones in its repr.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from textport.errors import ConfigError
from textport.protocol import derive, messages
from textport.protocol.noise import KeyPair


@dataclass(frozen=True)
class Credentials:
    relay: str
    """``ws://`` or ``wss://`` URL of the relay the host is connected to."""
    room: bytes = field(repr=False)
    """The host's room at the relay (16 bytes)."""
    token: bytes = field(repr=False)
    """This device's capability to join the room (32 bytes)."""
    host_public: bytes = field(repr=False)
    """The host's static X25519 public key (32 bytes)."""
    device_key: KeyPair = field(repr=False)
    """This device's static X25519 key pair."""

    def __post_init__(self) -> None:
        if not re.match(messages.RELAY_PATTERN, self.relay) or len(self.relay) > 512:
            raise ConfigError("the relay must be a ws:// or wss:// URL without query")
        if len(self.room) != derive.ROOM_LEN:
            raise ConfigError(f"a room is {derive.ROOM_LEN} bytes")
        if len(self.token) != derive.TOKEN_LEN:
            raise ConfigError(f"a device token is {derive.TOKEN_LEN} bytes")
        if len(self.host_public) != 32:
            raise ConfigError("a host key is 32 bytes")

    @property
    def device_id(self) -> bytes:
        """The 16 bytes the host names this device by (``welcome.device_id``)."""
        return derive.device_id(self.device_key.public)

    @property
    def host_id(self) -> bytes:
        return derive.host_id(self.host_public)
