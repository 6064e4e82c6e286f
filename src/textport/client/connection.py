"""One socket to the relay carrying one Noise session with the host.

    device -> relay  join{room, token}
    relay  -> device ready{online}              (presence{online:true} when the host comes)
    device -> relay  DATA IK message 1          -> host
    relay  -> device DATA IK message 2          <- host
    device <-> host  DATA transport messages    sealed and opened by textport.protocol

The socket and the session live and die together: any failure (a frame that does not
decode, a message that does not open, the relay's ``error``, the host coming or going)
ends both, as docs/protocol.md section 8 says; the device then connects again. The
protocol work is textport.protocol's; this module only moves its bytes.

While connecting, the relay's ``room_unknown`` (it restarted and the host has not claimed
its room again yet) is the host being away, not a refusal of this device: the join is
tried again, with backoff, until the host is back or the time to connect is over; so is
an ``unauthorized`` after it (the host is back and registering its devices' tokens).
Every other refusal, and an ``unauthorized`` straight away, ends the attempt at once.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable
from typing import Final

import aiohttp

from textport.client.credentials import Credentials
from textport.errors import ErrorCode, ProtocolError, TextportError
from textport.protocol import derive, frames, session
from textport.protocol import messages as wire

log = logging.getLogger(__name__)

HEARTBEAT: Final = 20.0
"""Seconds between WebSocket pings, as the relay and the host use."""
ROOM_RETRY_FIRST: Final = 0.5
ROOM_RETRY_CAP: Final = 5.0
"""Seconds between joins while the relay does not know the room (full jitter, doubling)."""
_WAIT_FOR_HOST: Final = frozenset({ErrorCode.ROOM_UNKNOWN, ErrorCode.UNAUTHORIZED})
_CODES: Final = frozenset(code.value for code in ErrorCode)


class SessionClosedError(ProtocolError):
    """The connection to the host ended (or never started); connect again."""

    default_code = ErrorCode.SESSION_CLOSED


class Connection:
    """An open, handshaken session: :meth:`send` and :meth:`receive` application messages."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse, transport: session.Session) -> None:
        self._ws = ws
        self._session = transport
        self._send_lock = asyncio.Lock()

    @classmethod
    async def open(
        cls,
        http: aiohttp.ClientSession,
        credentials: Credentials,
        *,
        timeout: float,
        clock: Callable[[], float] = time.time,
    ) -> Connection:
        """Join the host's room, wait (at most ``timeout`` in all) for the host, run IK.

        ``room_unknown`` is retried until ``timeout`` is over, and so is an ``unauthorized``
        that follows it (the host claimed the room and is registering its tokens); at the
        end the last refusal is raised.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        delay = ROOM_RETRY_FIRST
        restarted = False
        while True:
            ws = await _ws_connect(http, credentials)
            try:
                async with asyncio.timeout_at(deadline):
                    return cls(ws, await _handshake(ws, credentials, clock))
            except TimeoutError:
                await ws.close()
                raise SessionClosedError(
                    f"no session with the host within {timeout:g} s (is it connected to the relay?)"
                ) from None
            except SessionClosedError as exc:
                await ws.close()
                restarted = restarted or exc.code == ErrorCode.ROOM_UNKNOWN
                if not restarted or exc.code not in _WAIT_FOR_HOST:
                    raise
                if loop.time() < deadline:
                    log.info("the relay does not have the room or token yet (%s); again", exc.code)
                    await asyncio.sleep(min(deadline - loop.time(), random.uniform(0, delay)))  # noqa: S311 - jitter
                    delay = min(ROOM_RETRY_CAP, delay * 2)
                if loop.time() >= deadline:
                    if exc.code != ErrorCode.ROOM_UNKNOWN:
                        raise
                    raise SessionClosedError(
                        f"no session with the host within {timeout:g} s: the relay does not "
                        "know its room (the relay restarted and the host has not reconnected "
                        "since)",
                        ErrorCode.ROOM_UNKNOWN,
                    ) from None
            except BaseException:
                await ws.close()
                raise

    @property
    def closed(self) -> bool:
        return self._session.closed or self._ws.closed

    async def send(self, message: wire.Message) -> None:
        """Seal and send one message; nonces go out in the order the calls were made."""
        async with self._send_lock:
            data = frames.encode_data(0, self._session.seal(message))
            try:
                await self._ws.send_bytes(data)
            except (aiohttp.ClientError, OSError) as exc:
                self._session.close()
                raise SessionClosedError("the relay connection is gone") from exc

    async def receive(self) -> wire.Message:
        """The host's next message; raises (and closes the session) on any failure."""
        try:
            frame = await _frame(self._ws)
            match frame:
                case frames.DataFrame(payload=payload):
                    return self._session.open(payload)
                case frames.PresenceOp(online=online):
                    raise SessionClosedError(
                        "the host reconnected to the relay; connect again"
                        if online
                        else "the host went offline"
                    )
                case frames.ErrorOp():
                    raise refusal(frame)
                case _:
                    raise _unexpected(frame, "in a session")
        except TextportError:
            self._session.close()
            raise

    async def close(self) -> None:
        self._session.close()
        await self._ws.close()


async def _ws_connect(
    http: aiohttp.ClientSession, credentials: Credentials
) -> aiohttp.ClientWebSocketResponse:
    try:
        return await http.ws_connect(
            credentials.relay,
            heartbeat=HEARTBEAT,
            # aiohttp refuses a message of exactly max_msg_size bytes: allow a full frame.
            max_msg_size=frames.MAX_FRAME + 1,
        )
    except (aiohttp.ClientError, OSError) as exc:
        raise SessionClosedError(f"cannot reach the relay: {type(exc).__name__}") from exc


async def _handshake(
    ws: aiohttp.ClientWebSocketResponse, credentials: Credentials, clock: Callable[[], float]
) -> session.Session:
    await ws.send_bytes(
        frames.encode_control(
            frames.JoinOp(
                room=derive.b64url(credentials.room), token=derive.b64url(credentials.token)
            )
        )
    )
    online = False
    while True:
        while not online:  # ready{online}, then presence{online} until the host is there
            match await _frame(ws):
                case frames.ReadyOp(online=online) | frames.PresenceOp(online=online):
                    pass
                case frames.ErrorOp() as error:
                    raise refusal(error)
                case other:
                    raise _unexpected(other, "before the handshake")
        handshake = session.device_handshake(
            credentials.device_key, credentials.host_public, credentials.room
        )
        await ws.send_bytes(frames.encode_data(0, handshake.write()))
        match await _frame(ws):
            case frames.DataFrame(payload=payload):
                handshake.read(payload)
                return handshake.session(clock())
            case frames.PresenceOp(online=online):
                continue  # the host came or went in between: message 1 may be lost, again
            case frames.ErrorOp() as error:
                raise refusal(error)
            case other:
                raise _unexpected(other, "in the handshake")


def _unexpected(frame: frames.Frame, where: str) -> ProtocolError:
    return ProtocolError(f"the relay sent {type(frame).__name__} {where}", ErrorCode.BAD_FRAME)


async def _frame(ws: aiohttp.ClientWebSocketResponse) -> frames.Frame:
    message = await ws.receive()
    if message.type == aiohttp.WSMsgType.BINARY:
        return frames.decode_frame(message.data)
    if message.type == aiohttp.WSMsgType.TEXT:
        raise ProtocolError("the relay sent a text message", ErrorCode.BAD_FRAME)
    raise SessionClosedError("the relay closed the connection")


def refusal(error: frames.ErrorOp) -> SessionClosedError:
    """The relay's ``error{code, message}``, after which it closes the socket.

    When the host closes a device's link the relay says ``session_closed`` with the
    host's reason as the message, which is itself a code (``not_paired``, ``revoked``,
    ``decrypt_failed``…): that one is the more useful.
    """
    code = ErrorCode(error.code) if error.code in _CODES else ErrorCode.INTERNAL
    if code == ErrorCode.SESSION_CLOSED:
        reason = ErrorCode(error.message) if error.message in _CODES else code
        return SessionClosedError(f"the host closed the session ({error.message})", reason)
    return SessionClosedError(f"the relay refused: {error.message}", code)
