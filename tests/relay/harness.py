"""A relay on 127.0.0.1:0 and aiohttp clients that speak its frames, for the relay tests.

Every helper waits at most :data:`TIMEOUT` (scaled by ``TEXTPORT_TIMEOUT_FACTOR``) and
checks what it receives byte for byte; nothing here is mocked.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace

import aiohttp
from aiohttp import web

from textport.protocol import derive, frames
from textport.relay.server import Relay, RelayConfig

TIMEOUT = 5.0 * float(os.environ.get("TEXTPORT_TIMEOUT_FACTOR", "1"))
CREDENTIAL = bytes(range(32))
OTHER_CREDENTIAL = bytes(range(1, 33))
ORIGIN = "http://app.example:8080"
ROOM = bytes(range(16))
CONFIG = RelayConfig(
    host_credential_hashes=frozenset(
        {derive.credential_hash(CREDENTIAL), derive.credential_hash(OTHER_CREDENTIAL)}
    ),
    allowed_origins=frozenset({ORIGIN}),
    close_timeout=1.0,
)


def run(scenario: Callable[[], Awaitable[None]]) -> None:
    """Run one async test scenario to the end on a fresh event loop."""

    async def bounded() -> None:
        await asyncio.wait_for(scenario(), 10 * TIMEOUT)

    asyncio.run(bounded())


def token(n: int) -> bytes:
    return bytes([n]) * 32


class FakeClock:
    """Monotonic seconds that move only when a test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Peer:
    """One client socket: send ops or raw bytes, receive decoded frames."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws

    async def send(self, op: frames.ControlOp) -> None:
        await self.ws.send_bytes(frames.encode_control(op))

    async def data(self, payload: bytes, link: int = 0) -> None:
        await self.ws.send_bytes(frames.encode_data(link, payload))

    async def raw(self) -> bytes:
        message = await self.ws.receive(timeout=TIMEOUT)
        assert message.type == aiohttp.WSMsgType.BINARY, (message.type, message.data)
        assert isinstance(message.data, bytes)
        return message.data

    async def recv(self) -> frames.Frame:
        return frames.decode_frame(await self.raw())

    async def expect(self, expected: frames.Frame) -> None:
        assert await self.recv() == expected

    async def expect_error(self, code: str, close_code: int = 1008) -> str:
        """The relay's error frame with ``code``, then its close; returns the message."""
        frame = await self.recv()
        assert isinstance(frame, frames.ErrorOp), frame
        assert frame.code == code, frame
        await self.expect_closed(close_code)
        return frame.message

    async def expect_closed(self, close_code: int | None = None) -> None:
        message = await self.ws.receive(timeout=TIMEOUT)
        assert message.type == aiohttp.WSMsgType.CLOSE, (message.type, message.data)
        if close_code is not None:
            assert message.data == close_code, message

    async def expect_silence(self, seconds: float = 0.2) -> None:
        try:  # not receive(timeout): pings answered on the way would restart that timeout
            message = await asyncio.wait_for(self.ws.receive(), seconds)
        except TimeoutError:
            return
        raise AssertionError(f"expected nothing, got {message.type}: {message.data!r}")

    async def close(self) -> None:
        await self.ws.close()


@dataclass
class Harness:
    relay: Relay
    url: str
    http: aiohttp.ClientSession

    async def connect(self, origin: str | None = None) -> Peer:
        ws = await self.http.ws_connect(
            self.url, origin=origin, max_msg_size=0, autoclose=True, autoping=True
        )
        return Peer(ws)

    async def host(
        self, room: bytes = ROOM, credential: bytes = CREDENTIAL, tokens: tuple[bytes, ...] = ()
    ) -> Peer:
        """A host that claimed ``room`` and registered ``tokens`` (acknowledged by a probe)."""
        peer = await self.connect()
        await peer.send(frames.HostOp(room=derive.b64url(room), cred=derive.b64url(credential)))
        await peer.expect(frames.ReadyOp(online=True))
        for t in tokens:
            await peer.send(frames.RegisterOp(token_hash=derive.b64url(derive.token_hash(t))))
        await self.settle()
        return peer

    async def join(self, room: bytes, device_token: bytes) -> Peer:
        peer = await self.connect()
        await peer.send(frames.JoinOp(room=derive.b64url(room), token=derive.b64url(device_token)))
        return peer

    async def settle(self) -> None:
        """Let the relay process what was sent so far (frames on one socket are ordered)."""
        for _ in range(20):
            await asyncio.sleep(0.005)


@asynccontextmanager
async def running(
    config: RelayConfig = CONFIG, clock: Callable[[], float] | None = None, **changes: object
) -> AsyncIterator[Harness]:
    if changes:
        config = replace(config, **changes)  # type: ignore[arg-type]
    relay = Relay(config) if clock is None else Relay(config, clock=clock)
    app = web.Application()
    relay.add_routes(app)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        async with aiohttp.ClientSession() as http:
            yield Harness(relay, f"ws://127.0.0.1:{port}/v1", http)
    finally:
        await runner.cleanup()
