"""A real relay on 127.0.0.1, a RelayLink over a real store, and Python devices.

The relay is textport.relay (the one tests/relay checks) on a port that survives a
restart; the host side is RelayLink wired to a Store and DeviceSession the way the daemon
wires them; a :class:`Device` joins the host's room with its token and runs the IK
handshake of textport.protocol.session. Nothing is mocked; every wait is bounded by
:data:`TIMEOUT` (scaled by ``TEXTPORT_TIMEOUT_FACTOR``) and none is a timed assertion.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from tests.relay.harness import CONFIG, CREDENTIAL, ROOM
from textport.host.identity import HostIdentity
from textport.host.relay_link import Link, RelayLink
from textport.host.sync import DeviceSession
from textport.protocol import derive, frames, session
from textport.protocol import messages as wire
from textport.protocol.noise import KeyPair
from textport.relay.server import Relay, RelayConfig
from textport.store.attachments import AttachmentFiles
from textport.store.db import connect
from textport.store.store import Device as StoredDevice
from textport.store.store import Store
from textport.transports.base import Capabilities

TIMEOUT = 15.0 * float(os.environ.get("TEXTPORT_TIMEOUT_FACTOR", "1"))
HOST_NAME = "Test host"
CAPS = Capabilities(delivery_reports=True, mms=False, max_parts=10)


async def until(check: Callable[[], bool], what: str) -> None:
    """Poll ``check`` until it holds; fail after TIMEOUT saying what never happened."""
    deadline = time.monotonic() + TIMEOUT
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


class RelayServer:
    """textport.relay on 127.0.0.1, restartable on the same port."""

    def __init__(self, config: RelayConfig = CONFIG) -> None:
        self.config = config
        self.port = 0
        self.relay: Relay | None = None
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/v1"

    async def start(self) -> None:
        self.relay = Relay(self.config)
        app = web.Application()
        self.relay.add_routes(app)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()
        self.port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        self._runner = None
        self.relay = None

    def tokens(self) -> set[bytes]:
        """The token hashes registered in the host's room at this relay."""
        room = None if self.relay is None else self.relay.rooms.get(ROOM)
        return set() if room is None else set(room.tokens)


class DeviceClosedError(Exception):
    """The relay closed the device's socket."""


class Device:
    """A paired device (or an impostor) in Python, speaking to the host through the relay."""

    def __init__(self, rig: HostRig, key: KeyPair, token: bytes) -> None:
        self.rig = rig
        self.key = key
        self.token = token
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.session: session.Session | None = None
        self.sent_payloads: list[bytes] = []

    @property
    def id(self) -> bytes:
        return derive.device_id(self.key.public)

    def secrets(self) -> list[str]:
        """Strings that must never appear in a log."""
        private = self.key.private_bytes()
        return [
            *(f(b) for b in (private, self.key.public, self.token) for f in (bytes.hex, _b64)),
            _b64(derive.token_hash(self.token)),
        ]

    async def join(self) -> frames.Frame:
        """Join the host's room with this device's token; the relay's answer."""
        self.ws = await self.rig.http.ws_connect(self.rig.relay.url, max_msg_size=0)
        await self.ws.send_bytes(
            frames.encode_control(frames.JoinOp(room=_b64(ROOM), token=_b64(self.token)))
        )
        return await self.frame()

    async def connect(self) -> None:
        """Join, and check that the relay let this device in with the host online."""
        assert await self.join() == frames.ReadyOp(online=True)

    async def handshake_message_1(self) -> session.Handshake:
        """Send IK message 1 (and wait for nothing)."""
        handshake = session.device_handshake(self.key, self.rig.identity.key.public, ROOM)
        await self.data(handshake.write())
        return handshake

    async def handshake(self) -> None:
        """IK as the initiator: message 1 out, message 2 in."""
        handshake = await self.handshake_message_1()
        handshake.read(await self.payload())
        self.session = handshake.session(time.time())

    async def start(self) -> wire.Welcome:
        """Connect, handshake, hello; the host's welcome."""
        await self.connect()
        await self.handshake()
        await self.send(wire.Hello(proto=1, agent="tests/host"))
        welcome = await self.recv()
        assert isinstance(welcome, wire.Welcome), welcome
        return welcome

    async def data(self, payload: bytes) -> None:
        assert self.ws is not None
        self.sent_payloads.append(payload)
        await self.ws.send_bytes(frames.encode_data(0, payload))

    async def send(self, message: wire.Message) -> None:
        assert self.session is not None
        await self.data(self.session.seal(message))

    async def frame(self) -> frames.Frame:
        assert self.ws is not None
        message = await self.ws.receive(timeout=TIMEOUT)
        if message.type != aiohttp.WSMsgType.BINARY:
            raise DeviceClosedError(message.type, message.data)
        return frames.decode_frame(message.data)

    async def payload(self) -> bytes:
        frame = await self.frame()
        assert isinstance(frame, frames.DataFrame), frame
        return frame.payload

    async def recv(self) -> wire.Message:
        assert self.session is not None
        return self.session.open(await self.payload())

    async def ping(self, n: int) -> None:
        """A round trip: the host still serves this device."""
        await self.send(wire.Ping(n=n))
        assert await self.recv() == wire.Pong(n=n)

    async def expect_closed(self, code: str, message: str | None = None) -> None:
        """The relay's error{code} (with ``message`` if given), then the socket's close."""
        frame = await self.frame()
        assert isinstance(frame, frames.ErrorOp), frame
        assert frame.code == code, frame
        if message is not None:
            assert frame.message == message, frame
        await self.expect_socket_closed()

    async def expect_socket_closed(self, close_code: int | None = None) -> None:
        assert self.ws is not None
        closing = await self.ws.receive(timeout=TIMEOUT)
        assert closing.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED), closing
        if close_code is not None:
            assert self.ws.close_code == close_code, (self.ws.close_code, closing)

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()


class HostRig:
    """RelayLink, a store and DeviceSessions, wired the way textport.host.daemon wires them."""

    def __init__(self, folder: Path, relay: RelayServer, http: aiohttp.ClientSession) -> None:
        self.relay = relay
        self.http = http
        self.store = Store(connect(folder / "textport.db"), time.time)
        self.files = AttachmentFiles(folder / "attachments")
        self.identity = HostIdentity(
            key=KeyPair.generate(),
            room=ROOM,
            credential=CREDENTIAL,
            relay=relay.url,
            name=HOST_NAME,
        )
        self.link = RelayLink(
            self.identity,
            devices=self.store.devices,
            find_device=self.store.device_by_key,
            open_session=self._open_session,
            seen=lambda device: self.store.seen(device.id),
        )
        self._task: asyncio.Task[None] | None = None

    def _open_session(
        self, device: StoredDevice, send: Callable[[wire.Message], None]
    ) -> DeviceSession:
        return DeviceSession(
            self.store,
            device,
            host_name=HOST_NAME,
            caps=CAPS,
            send=send,
            accepted=self.link.push_all,
            text_ttl=3600,
            files=self.files,
        )

    def secrets(self) -> list[str]:
        private = self.identity.key.private_bytes()
        return [
            f(b) for b in (private, self.identity.key.public, CREDENTIAL) for f in (bytes.hex, _b64)
        ]

    async def start(self) -> None:
        self._task = asyncio.create_task(self.link.run())
        await asyncio.wait_for(self.link.connected.wait(), TIMEOUT)

    async def go_offline(self) -> None:
        """End the host's relay connection (the store stays open); :meth:`start` again."""
        if self._task is not None:
            self._task.cancel()
            with suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def stop(self) -> None:
        await self.go_offline()
        self.store.db.close()

    def new_device(self, name: str = "Firefox on Linux", *, paired: bool = True) -> Device:
        """A device with a fresh key and token; ``paired`` stores it as the host's."""
        device = Device(self, KeyPair.generate(), secrets.token_bytes(32))
        if paired:
            self.store.add_device(
                device.id, device.key.public, name, "tests/host", derive.token_hash(device.token)
            )
        return device

    async def allow(self) -> None:
        """Tell the relay about the store's devices and wait until it has taken them in."""
        self.link.sync_devices()
        assert await self.link.flush()
        wanted = {d.token_hash for d in self.store.devices() if d.status == "active"}
        await until(lambda: self.relay.tokens() == wanted, "the relay to have the tokens")

    async def paired(self, name: str = "Firefox on Linux") -> Device:
        device = self.new_device(name)
        await self.allow()
        return device

    async def link_gone(self, device: Device) -> None:
        await until(
            lambda: all(
                link.device is None or link.device.id != device.id for link in self.links()
            ),
            "the host to drop the device's link",
        )

    def links(self) -> list[Link]:
        return list(self.link.links.values())


@asynccontextmanager
async def running_host(folder: Path) -> AsyncIterator[HostRig]:
    relay = RelayServer()
    await relay.start()
    try:
        async with aiohttp.ClientSession() as http:
            rig = HostRig(folder, relay, http)
            await rig.start()
            try:
                yield rig
            finally:
                await rig.stop()
    finally:
        await relay.stop()


def run(scenario: Callable[[], Coroutine[Any, Any, None]]) -> None:
    """Run an async scenario to the end on a fresh event loop, bounded."""

    async def bounded() -> None:
        await asyncio.wait_for(scenario(), 10 * TIMEOUT)

    asyncio.run(bounded())


def log_text(records: list[logging.LogRecord]) -> str:
    """The records as a log file shows them, tracebacks included."""
    formatter = logging.Formatter("%(levelname)s %(name)s: %(message)s")
    return "\n".join(formatter.format(record) for record in records)


def assert_clean(text: str, secrets_: list[str]) -> None:
    """No secret (key, token, body, full number) appears in ``text``."""
    for secret in secrets_:
        assert secret not in text, f"the log holds a secret: …{secret[:6]}…"


def _b64(data: bytes) -> str:
    return derive.b64url(data)
