"""One relay socket, and the relay's direct path for forwarding DATA frames.

aiohttp's ``send_bytes`` costs three Python calls and a copy per message; a relayed frame
needs neither. :meth:`Connection.forward` writes RFC 6455's header for an unmasked,
unfragmented binary message (a server's frames are never masked, and the relay never
compresses) followed by the frame, straight to the transport, as a vector of three
buffers: the new five-byte DATA header and a view of the original payload, not a copy.
"""

from __future__ import annotations

import asyncio
import struct
from typing import Final

from aiohttp import web

from textport.protocol import frames
from textport.relay.rooms import TokenBucket

_BINARY: Final = 0x82  # FIN | opcode 2
_SMALL: Final = tuple(bytes((_BINARY, size)) for size in range(126))
_MEDIUM: Final = struct.Struct("!BBH").pack
_LARGE: Final = struct.Struct("!BBQ").pack
_HEADER: Final = frames.DATA_HEADER


def ws_header(size: int) -> bytes:
    """The WebSocket header of a binary message of ``size`` bytes, sent by a server."""
    if size < 126:
        return _SMALL[size]
    if size < 65536:
        return _MEDIUM(_BINARY, 126, size)
    return _LARGE(_BINARY, 127, size)


class Connection:
    """One accepted WebSocket: the socket, its client address, frame budget and liveness."""

    __slots__ = ("address", "bucket", "closer", "pinged", "transport", "ws")

    def __init__(
        self,
        ws: web.WebSocketResponse,
        address: str,
        transport: asyncio.Transport,
        bucket: TokenBucket,
    ) -> None:
        self.ws = ws
        self.address = address
        """The client's address as per-address limits count it (IPv6: its /64)."""
        self.transport = transport
        self.bucket = bucket
        self.closer: asyncio.Task[None] | None = None
        """The task closing this socket from elsewhere, once there is one."""
        self.pinged = False
        """A ping went out and no pong came back yet."""

    def backlog(self) -> int:
        """Bytes written to this socket that the peer has not taken yet."""
        return self.transport.get_write_buffer_size()

    def forward(self, header: bytes, data: bytes) -> None:
        """Send DATA frame ``data`` with its five-byte header replaced by ``header``."""
        transport = self.transport
        if self.ws.closed or transport.is_closing():
            return  # this socket is being closed: the frame is dropped, as at a disconnect
        transport.writelines((ws_header(len(data)), header, memoryview(data)[_HEADER:]))
