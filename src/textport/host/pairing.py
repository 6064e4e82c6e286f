"""The host's side of pairing a device over a relay channel (docs/protocol.md §5, §6).

:func:`pair` runs one pairing: the QR/link offer a device made (the host reads it and
initiates), a typed code (the host commits, then responds), or an offer the host made
itself (a link printed in its terminal; the device initiates). It returns the new
device once the user confirmed and the device has its token.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import aiohttp

from textport.errors import ErrorCode, ProtocolError
from textport.host.identity import HostIdentity
from textport.protocol import derive, frames, messages, pairing
from textport.protocol.session import Handshake, Session

log = logging.getLogger(__name__)

PAIR_TIMEOUT = 300.0
"""How long a pairing waits for the other side and for the person confirming."""


@dataclass(frozen=True)
class Request:
    """What the host's user is asked to confirm."""

    device_name: str
    agent: str
    code: str
    """The confirmation code (QR/link) or comparison code (typed code) both sides show."""
    device_public: bytes
    session_only: bool = False
    """The browser asked to be paired for its session only (pair_request ``session``)."""


@dataclass(frozen=True)
class Paired:
    device_id: bytes
    name: str


Confirm = Callable[[Request], Awaitable[bool]]
Register = Callable[[Request, bytes], Awaitable[None]]
"""Store the device with this token hash and allow its token at the relay."""


class _Channel:
    """A pairing channel at the relay: DATA frames with link 0, in order."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self._ws = ws

    async def control(self, op: frames.ControlOp) -> None:
        await self._ws.send_bytes(frames.encode_control(op))

    async def send(self, payload: bytes) -> None:
        await self._ws.send_bytes(frames.encode_data(0, payload))

    async def receive(self) -> frames.Frame:
        message = await self._ws.receive(timeout=PAIR_TIMEOUT)
        if message.type != aiohttp.WSMsgType.BINARY:
            raise ProtocolError("the relay closed the pairing channel", ErrorCode.SESSION_CLOSED)
        frame = frames.decode_frame(message.data)
        if isinstance(frame, frames.ErrorOp):
            raise ProtocolError(frame.message, ErrorCode(frame.code))
        return frame

    async def data(self) -> bytes:
        frame = await self.receive()
        if not isinstance(frame, frames.DataFrame):
            raise ProtocolError(f"unexpected {type(frame).__name__} while pairing")
        return frame.payload

    async def wait_peer(self) -> None:
        frame = await self.receive()
        if not isinstance(frame, frames.PeerOp):
            raise ProtocolError(f"expected the device to arrive, got {type(frame).__name__}")


async def pair(
    identity: HostIdentity,
    *,
    confirm: Confirm,
    register: Register,
    offer: pairing.PairingOffer | None = None,
    code: str | None = None,
    made_offer: bool = False,
    http: aiohttp.ClientSession | None = None,
) -> Paired:
    """Run one pairing to the end; raises TextportError with a code on any refusal."""
    if offer is None and code is not None:
        pairing.normalize_code(code)  # refuse a malformed code before connecting
    owns_http = http is None
    http = http or aiohttp.ClientSession()
    relay = offer.relay if offer is not None else identity.relay
    try:
        # aiohttp refuses a message of exactly max_msg_size bytes: allow a full frame.
        async with http.ws_connect(relay, max_msg_size=frames.MAX_FRAME + 1) as ws:
            channel = _Channel(ws)
            if offer is not None:
                if made_offer:
                    ttl = max(1, min(600, offer.expires - int(time.time())))
                    await channel.control(frames.OfferOp(channel=offer.channel_name, ttl=ttl))
                else:
                    await channel.control(frames.AcceptOp(channel=offer.channel_name))
                await channel.wait_peer()
                handshake = pairing.offer_handshake(offer, identity.key, made_offer=made_offer)
                if made_offer:
                    handshake.read(await channel.data())
                    await channel.send(handshake.write())
                    handshake.read(await channel.data())
                else:
                    await channel.send(handshake.write())
                    handshake.read(await channel.data())
                    await channel.send(handshake.write())
                session = handshake.session(time.time())
                shown = derive.confirmation_code(session.handshake_hash)
            elif code is not None:
                await channel.control(frames.AcceptOp(channel=pairing.code_channel(code)))
                await channel.wait_peer()
                code_handshake = pairing.CodeHostHandshake(code, relay, identity.key)
                await channel.send(code_handshake.commitment)
                code_handshake.read(await channel.data())
                await channel.send(code_handshake.write())
                code_handshake.read(await channel.data())
                session = code_handshake.session(time.time())
                shown = code_handshake.comparison_code()
                handshake = code_handshake
            else:
                raise ProtocolError("pair() needs an offer or a typed code")
            return await _conclude(
                channel,
                handshake=handshake,
                session=session,
                shown=shown,
                identity=identity,
                confirm=confirm,
                register=register,
            )
    except (aiohttp.ClientError, OSError, TimeoutError) as exc:
        raise ProtocolError(
            f"cannot reach the relay at {relay}: {exc or type(exc).__name__}",
            ErrorCode.SESSION_CLOSED,
        ) from exc
    finally:
        if owns_http:
            await http.close()


async def _conclude(
    channel: _Channel,
    *,
    handshake: Handshake,
    session: Session,
    shown: str,
    identity: HostIdentity,
    confirm: Confirm,
    register: Register,
) -> Paired:
    device_public = handshake.remote_static
    if device_public is None:
        raise ProtocolError("the handshake gave no device key", ErrorCode.HANDSHAKE_STATE)
    request = session.open(await channel.data())
    if not isinstance(request, messages.PairRequest):
        raise ProtocolError(f"expected pair_request, got {type(request).__name__}")
    asked = Request(request.name, request.agent, shown, device_public, request.session)
    if not await confirm(asked):
        await channel.send(session.seal(messages.PairReject(reason="Declined on the host")))
        raise ProtocolError("pairing declined on the host", ErrorCode.PAIRING_REJECTED)
    token = secrets.token_bytes(derive.TOKEN_LEN)
    await register(asked, derive.token_hash(token))
    await channel.send(
        session.seal(
            messages.PairAccept(
                host_name=identity.name,
                room=derive.b64url(identity.room),
                token=derive.b64url(token),
                relay=identity.relay,
            )
        )
    )
    log.info("paired a new device (%s)", derive.device_id(device_public).hex()[:8])
    await asyncio.sleep(0)  # let the frame leave before the socket closes
    return Paired(derive.device_id(device_public), request.name)
