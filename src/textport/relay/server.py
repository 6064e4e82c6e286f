"""The relay's WebSocket dispatcher: docs/protocol.md section 4 over aiohttp.

Lines read from the relay's side: ``->`` is a frame a client sends, ``<-`` one the relay
sends. Every message is binary; the first one names the socket's role and must be
``host``, ``join``, ``offer`` or ``accept``.

Host (the daemon beside the SMS source)::

    -> host{room, cred}         claim R; credential_hash(cred) must be in the config
    <- ready{online:true}       R is this socket's; an older host socket of R is closed
    <- opened{link}             ... once per device link already in R
    -> register{token_hash}     allow a device token into R (idempotent)
    -> unregister{token_hash}   revoke it: its links get error{revoked} and are closed
    <- closed{link}             ... one per link that revocation, close or a leaving
                                device ended (exactly one per opened{link})
    -> close{link, reason}      the device gets error{session_closed, reason}, closed
    -> DATA(link) payload       forwarded to that device as DATA(0); unknown link: dropped
    <- DATA(link) payload       from device ``link``
    <- error{session_closed}    a newer host socket for R replaced this one

Device (a paired browser or API client)::

    -> join{room, token}        R unknown (no host claimed it since the relay started)?
                                error{room_unknown}: wait and retry. token_hash(token)
                                not registered in R? error{unauthorized}
    <- ready{online}            joined; is the host connected?
    -> DATA(0) payload          to the host as DATA(link); dropped while it is offline
    <- DATA(0) payload          from the host
    <- presence{online}         the host came (a new host connection: handshake again)
                                or went; device links stay open either way
    <- error{revoked}           the host revoked this device's token; then closed

Pairing (either side of docs/protocol.md sections 5 and 6)::

    -> offer{channel, ttl}      open a single-use channel and wait (no reply until peer)
    -> accept{channel}          enter it; rate-limited per client address
    <- peer{}                   to both: from now on DATA(0) passes between them as is
    <- error{pairing_expired}   the offer outlived its ttl, or pairing took too long

Any socket::

    <- error{code, message}     refused; the relay then closes the socket (code 1008).
                                Only a register over the room's token limit is answered
                                with error{too_large} and keeps the socket open.

The relay holds no keys and decodes no payload: DATA frames are routed by slicing their
five-byte header. docs/relay.md lists every limit; :class:`RelayConfig` holds them.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import hmac
import logging
import os
import sys
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from aiohttp import WSCloseCode, WSMessage, WSMsgType, hdrs, web

from textport.errors import ErrorCode, ProtocolError
from textport.protocol import derive, frames
from textport.relay.config import RelayConfig
from textport.relay.connection import Connection
from textport.relay.rooms import (
    Channel,
    Channels,
    ChannelState,
    Clock,
    Counter,
    DeviceLink,
    Room,
    Rooms,
    TokenBucket,
    address_key,
)

__all__ = [
    "DEFAULT_PATH",
    "DEFAULT_PORT",
    "Relay",
    "RelayConfig",
    "RelayStats",
    "create_app",
    "run_relay",
    "serve",
]

log = logging.getLogger(__name__)

DEFAULT_PATH: Final = "/v1"
DEFAULT_PORT: Final = 8750
LINK0: Final = bytes((frames.DATA, 0, 0, 0, 0))
"""The header of every DATA frame on a device or pairing socket."""
_HEADER: Final = frames.DATA_HEADER
_CONTROL: Final = bytes((frames.CONTROL,))
_POLICY: Final = WSCloseCode.POLICY_VIOLATION


@dataclass
class RelayStats:
    """Counters for operators and tests; nothing here names a room, token or client."""

    unknown_link_frames: int = 0
    """Host DATA frames for a link that is not (or no longer) in the room."""
    offline_drops: int = 0
    """Device DATA frames dropped because the host was offline."""
    slow_drops: int = 0
    """Device links dropped because they did not read fast enough."""
    refusals: collections.Counter[str] = field(default_factory=collections.Counter)
    """Errors sent, by code."""


_LOG_KEY: Final = os.urandom(16)


def _tag(name: bytes) -> str:
    """A short label for a room or channel in logs, stable for this process only.

    Keyed, so that a log does not let anyone search for a typed pairing code (40 bits)
    or a room id offline.
    """
    return hmac.new(_LOG_KEY, name, "sha256").hexdigest()[:8]


def _field(text: str, length: int | None = None) -> bytes:
    try:
        return derive.unb64url(text, length)
    except ProtocolError as exc:
        raise ProtocolError(f"bad control frame: {exc.message}", ErrorCode.BAD_FRAME) from exc


def _control(op: frames.ControlOp) -> bytes:
    return frames.encode_control(op)


def _name(frame: frames.Frame) -> str:
    if isinstance(frame, frames.DataFrame):
        return "DATA with that link"
    return f"{frame.__struct_config__.tag}{{}}"


class Relay:
    """The relay's state and handlers; mount it with :meth:`add_routes`."""

    def __init__(self, config: RelayConfig, *, clock: Clock = time.monotonic) -> None:
        self.config = config
        self._clock = clock
        self.rooms: Rooms[Connection] = Rooms(
            clock=clock,
            max_rooms_per_credential=config.max_rooms_per_credential,
            max_tokens_per_room=config.max_tokens_per_room,
            max_devices_per_room=config.max_devices_per_room,
        )
        self.channels: Channels[Connection] = Channels(
            clock=clock,
            max_channels=config.max_pairing_channels,
            max_ttl=config.pairing_ttl_cap,
            grace=config.pairing_grace,
            paired_lifetime=config.paired_lifetime,
            memory=config.pairing_memory,
            accepts_per_minute=config.accepts_per_minute,
        )
        self.connections = Counter(config.max_connections_per_ip, config.max_connections)
        self.stats = RelayStats()
        self._live: set[Connection] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    # ------------------------------------------------------------ lifecycle

    def add_routes(self, app: web.Application, path: str = DEFAULT_PATH) -> None:
        """Serve the relay at ``path`` of ``app`` (which may serve other things too)."""
        app.router.add_get(path, self.handle)
        app.cleanup_ctx.append(self._lifespan)
        app.on_shutdown.append(self._on_shutdown)

    async def _lifespan(self, _app: web.Application) -> AsyncIterator[None]:
        timers = [
            asyncio.create_task(self._every(self.config.sweep_interval, self.sweep)),
            asyncio.create_task(self._every(self.config.heartbeat, self.heartbeat)),
        ]
        yield
        for task in (*timers, *self._tasks):
            task.cancel()
        await asyncio.gather(*timers, return_exceptions=True)

    async def _on_shutdown(self, _app: web.Application) -> None:
        for conn in list(self._live):
            self._kick(conn, ErrorCode.SESSION_CLOSED, "the relay is shutting down", 1001)
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _every(self, seconds: float, job: Callable[[], Any]) -> None:
        while True:
            await asyncio.sleep(seconds)
            try:
                if asyncio.iscoroutine(result := job()):
                    await result
            except Exception:
                log.exception("the relay's %s failed", getattr(job, "__name__", "timer"))

    def sweep(self) -> None:
        """End overdue pairing channels; forget old channel names and idle rate limiters."""
        for conn, channel in self.channels.sweep():
            self._kick(
                conn,
                ErrorCode.PAIRING_EXPIRED,
                "pairing took too long" if channel.paired_at else "the pairing channel expired",
            )
            log.info("pairing channel %s expired", _tag(channel.name.encode()))

    async def heartbeat(self) -> None:
        """Ping every socket; close those that did not answer the previous ping."""
        for conn in list(self._live):
            if conn.closer is not None or conn.ws.closed:
                continue
            if conn.pinged:
                log.info("socket from %s stopped answering pings", conn.address)
                self._kick(conn, ErrorCode.SESSION_CLOSED, "no answer to ping", 1001)
                continue
            conn.pinged = True
            with contextlib.suppress(ConnectionError):
                await conn.ws.ping()

    # ------------------------------------------------------------ every socket

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """The aiohttp handler: HTTP checks, the WebSocket upgrade, then the first frame."""
        config = self.config
        origin = request.headers.get(hdrs.ORIGIN)
        if origin is not None and origin not in config.allowed_origins:
            log.info("refused a socket from origin %r", origin[:100])
            return web.Response(status=403, text="origin not allowed\n")
        ws = web.WebSocketResponse(
            timeout=config.close_timeout,
            autoping=False,  # the relay answers pings, and sends its own (heartbeat)
            compress=False,
            max_msg_size=config.max_frame + 1,  # aiohttp refuses a message of exactly this size
            # aiohttp would wait for a slow reader inside send_bytes, stalling whoever sends to
            # it (a host's whole room); the relay does its own flow control (max_send_buffer).
            writer_limit=sys.maxsize,
        )
        if not ws.can_prepare(request).ok:
            return web.Response(
                status=426,
                text="a textport relay: WebSocket only\n",
                headers={"Upgrade": "websocket"},
            )
        address = self._address(request)
        if not self.connections.acquire(address):
            log.info("refused a socket from %s: too many connections", address)
            return web.Response(status=429, text="too many connections\n")
        try:
            await ws.prepare(request)
            if request.transport is None:  # the client left during the upgrade
                return ws
            bucket = TokenBucket(config.frames_per_second, config.frame_burst, self._clock())
            conn = Connection(ws, address, request.transport, bucket)
            self._live.add(conn)
            try:
                await self._serve(conn)
                if conn.closer is not None:
                    with contextlib.suppress(Exception):
                        await conn.closer
            finally:
                self._live.discard(conn)
        finally:
            self.connections.release(address)
        return ws

    def _address(self, request: web.Request) -> str:
        remote = request.remote
        if remote in self.config.trusted_proxies:
            forwarded = request.headers.get("X-Forwarded-For")
            if forwarded:
                remote = forwarded.rsplit(",", 1)[-1].strip()
        return address_key(remote)

    async def _serve(self, conn: Connection) -> None:
        try:
            try:
                async with asyncio.timeout(self.config.first_frame_timeout):
                    while (message := await conn.ws.receive()).type is not WSMsgType.BINARY:
                        if not await self._not_binary(conn, message):
                            return
            except TimeoutError:
                raise ProtocolError(
                    f"no first frame within {self.config.first_frame_timeout:g} s",
                    ErrorCode.SESSION_CLOSED,
                ) from None
            await self._begin(conn, self._decode(message.data))
        except ProtocolError as exc:
            await self._refuse(conn, exc.code, exc.message)
        except Exception:
            log.exception("relay bug while serving %s", conn.address)
            await self._refuse(conn, ErrorCode.INTERNAL, "the relay failed; see its log")

    async def _begin(self, conn: Connection, frame: frames.Frame) -> None:
        match frame:
            case frames.HostOp():
                await self.handle_host(conn, frame)
            case frames.JoinOp():
                await self.handle_join(conn, frame)
            case frames.OfferOp():
                await self.handle_offer(conn, frame)
            case frames.AcceptOp():
                await self.handle_accept(conn, frame)
            case _:
                raise ProtocolError(
                    "the first frame must be host, join, offer or accept", ErrorCode.BAD_FRAME
                )

    def _decode(self, data: bytes) -> frames.Frame:
        """Decode a frame the hot paths did not take (frames.decode_frame, tighter limits)."""
        limit = self.config.max_control_frame if data[:1] == _CONTROL else self.config.max_frame
        if len(data) > limit:
            raise ProtocolError(
                f"a frame of this kind is at most {limit} bytes", ErrorCode.TOO_LARGE
            )
        return frames.decode_frame(data)

    async def _not_binary(self, conn: Connection, message: WSMessage) -> bool:
        """Any other WebSocket message: True to go on reading, False at the socket's end.

        Answers pings, notes pongs (see :meth:`heartbeat`), raises for a text message and
        logs a WebSocket error (such as 1009, a message over ``max_frame``).
        """
        kind = message.type
        if kind is WSMsgType.PING:
            with contextlib.suppress(ConnectionError):
                await conn.ws.pong(message.data)
            return True
        if kind is WSMsgType.PONG:
            conn.pinged = False
            return True
        if kind is WSMsgType.TEXT:
            raise ProtocolError("text WebSocket messages are not allowed", ErrorCode.BAD_FRAME)
        if kind is WSMsgType.ERROR:
            log.info("socket from %s failed: %s", conn.address, conn.ws.exception())
        return False

    async def _refuse(self, conn: Connection, code: ErrorCode, message: str) -> None:
        """Tell ``conn`` why, then close it with 1008 (policy violation)."""
        self.stats.refusals[code.value] += 1
        log.info("refused %s: %s (%s)", conn.address, code.value, message)
        if conn.closer is None and not conn.ws.closed:
            await self._close_with(conn, code, message, _POLICY)

    def _kick(self, conn: Connection, code: ErrorCode, message: str, close: int = _POLICY) -> None:
        """Close another socket (its own handler is waiting for frames) in an owned task."""
        if conn.closer is not None or conn.ws.closed:
            return
        self.stats.refusals[code.value] += 1
        conn.closer = self._spawn(self._close_with(conn, code, message, close))

    async def _close_with(
        self, conn: Connection, code: ErrorCode, message: str, close: int
    ) -> None:
        await self._send(conn, _control(frames.ErrorOp(code=code.value, message=message[:200])))
        await conn.ws.close(code=close, message=code.value.encode())

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            log.error("relay task failed", exc_info=exc)

    async def _send(self, conn: Connection, frame: bytes) -> None:
        with contextlib.suppress(ConnectionError):
            await conn.ws.send_bytes(frame)

    async def _wait_writable(self, conn: Connection) -> None:
        """Backpressure: wait while ``conn`` has more than max_send_buffer bytes queued."""
        while conn.backlog() > self.config.max_send_buffer and not conn.transport.is_closing():
            await asyncio.sleep(0.005)

    # ------------------------------------------------------------ hosts

    async def handle_host(self, conn: Connection, op: frames.HostOp) -> None:
        room_id = _field(op.room, derive.ROOM_LEN)
        owner = derive.credential_hash(_field(op.cred))
        if owner not in self.config.host_credential_hashes:
            raise ProtocolError("unknown host credential", ErrorCode.UNAUTHORIZED)
        room, previous = self.rooms.claim(room_id, owner, conn)
        tag = _tag(room_id)
        if previous is not None:
            self._kick(previous, ErrorCode.SESSION_CLOSED, "replaced by a new host connection")
            log.info("host of room %s replaced by a new connection", tag)
        conn.bucket = TokenBucket(
            self.config.host_frames_per_second, self.config.host_frame_burst, self._clock()
        )
        await self._send(conn, _control(frames.ReadyOp(online=True)))
        online = _control(frames.PresenceOp(online=True))
        for link in list(room.links.values()):
            await self._send(conn, _control(frames.OpenedOp(link=link.id)))
            await self._push(link, online)
        log.info("host online: room %s, %d device links", tag, len(room.links))
        try:
            await self._host_loop(conn, room)
        finally:
            if self.rooms.release(room, conn):
                offline = _control(frames.PresenceOp(online=False))
                for link in list(room.links.values()):
                    await self._push(link, offline)
                log.info("host offline: room %s", tag)

    async def _host_loop(self, conn: Connection, room: Room[Connection]) -> None:
        """The host's hot path: DATA(link) goes out as DATA(0) to that device."""
        receive, take, clock, links = conn.ws.receive, conn.bucket.take, self._clock, room.links
        limit, largest = self.config.max_send_buffer, self.config.max_frame
        while True:
            message = await receive()
            if message.type is not WSMsgType.BINARY:
                if await self._not_binary(conn, message):
                    continue
                return
            data: bytes = message.data
            if not take(clock()):
                raise ProtocolError("too many frames; slow down", ErrorCode.RATE_LIMITED)
            if room.host is not conn:
                continue  # replaced: this socket is being closed
            if _HEADER < len(data) <= largest and data[0] == frames.DATA:
                link = links.get(data[:_HEADER])
                if link is None:
                    self.stats.unknown_link_frames += 1
                elif link.conn.backlog() > limit:
                    await self._drop_slow(link)
                else:
                    link.conn.forward(LINK0, data)
                continue
            await self._host_control(conn, room, data)

    async def _host_control(self, conn: Connection, room: Room[Connection], data: bytes) -> None:
        match self._decode(data):
            case frames.RegisterOp() as op:
                await self.handle_register(conn, room, op)
            case frames.UnregisterOp() as op:
                await self.handle_unregister(conn, room, op)
            case frames.CloseOp() as op:
                await self.handle_close(conn, room, op)
            case other:
                raise ProtocolError(f"a host does not send {_name(other)}", ErrorCode.BAD_FRAME)

    async def handle_register(
        self, conn: Connection, room: Room[Connection], op: frames.RegisterOp
    ) -> None:
        try:
            room.register(_field(op.token_hash, 32))
        except ProtocolError as exc:
            if exc.code is not ErrorCode.TOO_LARGE:
                raise
            self.stats.refusals[exc.code.value] += 1
            log.info("room %s: %s", _tag(room.id), exc.message)
            await self._send(
                conn, _control(frames.ErrorOp(code=exc.code.value, message=exc.message))
            )

    async def handle_unregister(
        self, conn: Connection, room: Room[Connection], op: frames.UnregisterOp
    ) -> None:
        for link in room.unregister(_field(op.token_hash, 32)):
            self._kick(link.conn, ErrorCode.REVOKED, "this device was unpaired from the host")
            await self._detach(link, "revoked")

    async def handle_close(
        self, conn: Connection, room: Room[Connection], op: frames.CloseOp
    ) -> None:
        link = room.link(op.link)
        if link is None:
            return  # it may have just left
        self._kick(link.conn, ErrorCode.SESSION_CLOSED, op.reason or "closed by the host")
        await self._detach(link, "closed by the host")

    async def _drop_slow(self, link: DeviceLink[Connection]) -> None:
        self.stats.slow_drops += 1
        self._kick(link.conn, ErrorCode.SESSION_CLOSED, "too slow: the relay dropped this link")
        await self._detach(link, "too slow")

    async def _detach(self, link: DeviceLink[Connection], why: str) -> None:
        """Take a link out of its room; the host hears ``closed{link}`` once."""
        if not link.live:
            return
        host = self.rooms.detach(link)
        log.info("device left room %s: link %d (%s)", _tag(link.room.id), link.id, why)
        if host is not None:
            await self._send(host, _control(frames.ClosedOp(link=link.id)))

    async def _push(self, link: DeviceLink[Connection], frame: bytes) -> None:
        """A relay message to a device, unless it is not reading (then drop its link)."""
        if link.conn.backlog() > self.config.max_send_buffer:
            await self._drop_slow(link)
        else:
            await self._send(link.conn, frame)

    # ------------------------------------------------------------ devices

    async def handle_join(self, conn: Connection, op: frames.JoinOp) -> None:
        room_id = _field(op.room, derive.ROOM_LEN)
        token_hash = derive.token_hash(_field(op.token, derive.TOKEN_LEN))
        link = self.rooms.join(room_id, token_hash, conn)
        host = link.room.host
        log.info("device joined room %s: link %d", _tag(room_id), link.id)
        try:
            await self._send(conn, _control(frames.ReadyOp(online=host is not None)))
            if host is not None:
                await self._send(host, _control(frames.OpenedOp(link=link.id)))
            await self._device_loop(conn, link)
        finally:
            await self._detach(link, "disconnected")

    async def _device_loop(self, conn: Connection, link: DeviceLink[Connection]) -> None:
        """The device's hot path: DATA(0) goes to the host as DATA(link)."""
        receive, take, clock, room = conn.ws.receive, conn.bucket.take, self._clock, link.room
        header, limit, largest = link.header, self.config.max_send_buffer, self.config.max_frame
        while True:
            message = await receive()
            if message.type is not WSMsgType.BINARY:
                if await self._not_binary(conn, message):
                    continue
                return
            data: bytes = message.data
            if not take(clock()):
                raise ProtocolError("too many frames; slow down", ErrorCode.RATE_LIMITED)
            if _HEADER < len(data) <= largest and data.startswith(LINK0):
                host = room.host
                if host is None or not link.live:
                    self.stats.offline_drops += 1
                    continue
                if host.backlog() > limit:
                    await self._wait_writable(host)
                host.forward(header, data)
                continue
            frame = self._decode(data)  # raises for a malformed frame
            raise ProtocolError(
                f"a device sends only DATA with link 0, not {_name(frame)}", ErrorCode.BAD_FRAME
            )

    # ------------------------------------------------------------ pairing channels

    async def handle_offer(self, conn: Connection, op: frames.OfferOp) -> None:
        channel = self.channels.offer(op.channel, op.ttl, conn)
        log.info("pairing channel %s opened for %d s", _tag(op.channel.encode()), op.ttl)
        try:
            await self._pairing_loop(conn, channel)
        finally:
            self._leave(conn, channel)

    async def handle_accept(self, conn: Connection, op: frames.AcceptOp) -> None:
        channel = self.channels.accept(op.channel, conn, conn.address)
        log.info("pairing channel %s paired", _tag(op.channel.encode()))
        try:
            peer = _control(frames.PeerOp())
            await self._send(channel.creator, peer)
            await self._send(conn, peer)
            await self._pairing_loop(conn, channel)
        finally:
            self._leave(conn, channel)

    async def _pairing_loop(self, conn: Connection, channel: Channel[Connection]) -> None:
        receive, take, clock = conn.ws.receive, conn.bucket.take, self._clock
        largest = self.config.max_frame
        while True:
            message = await receive()
            if message.type is not WSMsgType.BINARY:
                if await self._not_binary(conn, message):
                    continue
                return
            data: bytes = message.data
            if not take(clock()):
                raise ProtocolError("too many frames; slow down", ErrorCode.RATE_LIMITED)
            if _HEADER < len(data) <= largest and data.startswith(LINK0):
                other = channel.other(conn)
                if other is not None:
                    await self._wait_writable(other)
                    other.forward(LINK0, data)
                    continue
                if channel.state is ChannelState.ENDED:
                    continue  # this socket is being closed
                raise ProtocolError("nobody accepted this pairing channel yet", ErrorCode.BAD_FRAME)
            frame = self._decode(data)
            raise ProtocolError(
                f"a pairing socket sends only DATA with link 0, not {_name(frame)}",
                ErrorCode.BAD_FRAME,
            )

    def _leave(self, conn: Connection, channel: Channel[Connection]) -> None:
        other = self.channels.leave(channel, conn)
        if other is not None:
            self._kick(other, ErrorCode.SESSION_CLOSED, "the other end left the pairing channel")
            log.info("pairing channel %s ended", _tag(channel.name.encode()))


# ---------------------------------------------------------------- standalone


def create_app(config: RelayConfig, *, path: str = DEFAULT_PATH) -> web.Application:
    """A standalone relay application (``textport relay``)."""
    app = web.Application()
    Relay(config).add_routes(app, path)
    return app


async def run_relay(
    config: RelayConfig,
    host: str = "127.0.0.1",
    port: int = DEFAULT_PORT,
    *,
    path: str = DEFAULT_PATH,
    listening: Callable[[Sequence[str]], None] | None = None,
    setup: Callable[[web.Application], None] | None = None,
) -> None:
    """Serve a standalone relay until cancelled; ``listening`` gets its ``ws://`` URLs;
    ``setup`` adds routes of its own to the application first (``textport relay --web``
    serves the web client)."""
    app = create_app(config, path=path)
    if setup is not None:
        setup(app)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        urls = [_url(address, path) for address in runner.addresses]
        log.info("relay listening on %s", ", ".join(urls))
        if listening is not None:
            listening(urls)
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


def _url(address: Any, path: str) -> str:
    host, port = address[0], address[1]
    if ":" in host:
        host = f"[{host}]"
    return f"ws://{host}:{port}{path}"


def serve(
    config: RelayConfig,
    host: str = "127.0.0.1",
    port: int = DEFAULT_PORT,
    *,
    path: str = DEFAULT_PATH,
    listening: Callable[[Sequence[str]], None] | None = None,
    setup: Callable[[web.Application], None] | None = None,
) -> None:
    """Run a standalone relay until interrupted, on uvloop where it is installed.

    The entry point for ``textport relay``: KeyboardInterrupt propagates to the caller.
    """
    main = run_relay(config, host, port, path=path, listening=listening, setup=setup)
    try:
        import uvloop  # noqa: PLC0415 - optional: not built everywhere (e.g. Termux)
    except ImportError:
        asyncio.run(main)
    else:
        uvloop.run(main)
