"""The host's connection to its relay, and the device links that arrive over it.

    host  -> relay  host{room, cred}        then register{token_hash} per active device
    relay -> host   opened{link} / closed{link}
    relay -> host   DATA(link) IK message 1 -> DATA(link) IK message 2 (known key only)
    relay -> host   DATA(link) transport    -> DeviceSession.handle

A frame or message that fails a check ends only its own link, with the error code as
the close reason and a log line that names the link, the code and the stage, never the
content; so does a failure while handling one (``internal``, logged with its traceback).
A ``send`` that decrypts but cannot be accepted as it is (a bad number, a body too long)
is answered with ``error{ref: cmid}`` and its session goes on.

Connects out (works behind NAT), reconnects with exponential backoff and full jitter,
and re-registers every active device's token after each (re)connection: the relay
keeps no state worth trusting.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import aiohttp

from textport.errors import ErrorCode, ProtocolError, TextportError
from textport.host.identity import HostIdentity
from textport.host.sync import DeviceSession
from textport.protocol import derive, frames, session
from textport.protocol import messages as wire
from textport.store.store import Device

log = logging.getLogger(__name__)

RECONNECT_FIRST = 0.5
RECONNECT_CAP = 30.0
READY_TIMEOUT = 10.0


@dataclass
class Link:
    id: int
    handshake: session.Handshake
    transport: session.Session | None = None
    device: Device | None = None
    sync: DeviceSession | None = field(default=None, repr=False)


class RelayLink:
    def __init__(
        self,
        identity: HostIdentity,
        *,
        devices: Callable[[], list[Device]],
        find_device: Callable[[bytes], Device | None],
        open_session: Callable[[Device, Callable[[wire.Message], None]], DeviceSession],
        seen: Callable[[Device], None],
    ) -> None:
        self._identity = identity
        self._devices = devices
        self._find_device = find_device
        self._open_session = open_session
        self._seen = seen
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._outgoing: asyncio.Queue[bytes | asyncio.Future[None]] = asyncio.Queue()
        self.links: dict[int, Link] = {}
        self._registered: set[bytes] = set()
        self.connected = asyncio.Event()

    # ------------------------------------------------------------ connection

    async def run(self) -> None:
        delay = RECONNECT_FIRST
        async with aiohttp.ClientSession() as http:
            while True:
                try:
                    await self._connect_once(http)
                    delay = RECONNECT_FIRST
                except (aiohttp.ClientError, OSError, TimeoutError, TextportError) as exc:
                    log.warning("relay connection lost: %s", exc or type(exc).__name__)
                finally:
                    self._drop_all()
                await asyncio.sleep(random.uniform(0, delay))  # noqa: S311 - jitter
                delay = min(RECONNECT_CAP, delay * 2)

    async def _connect_once(self, http: aiohttp.ClientSession) -> None:
        async with http.ws_connect(
            # aiohttp refuses a message of exactly max_msg_size bytes: allow a full frame.
            self._identity.relay,
            heartbeat=20,
            max_msg_size=frames.MAX_FRAME + 1,
        ) as ws:
            await ws.send_bytes(
                frames.encode_control(
                    frames.HostOp(
                        room=derive.b64url(self._identity.room),
                        cred=derive.b64url(self._identity.credential),
                    )
                )
            )
            reply = await ws.receive(timeout=READY_TIMEOUT)
            if reply.type != aiohttp.WSMsgType.BINARY:
                raise ProtocolError("the relay closed the connection", ErrorCode.SESSION_CLOSED)
            first = frames.decode_frame(reply.data)
            if isinstance(first, frames.ErrorOp):
                raise ProtocolError(
                    f"the relay refused the host: {first.message}", ErrorCode(first.code)
                )
            if not isinstance(first, frames.ReadyOp):
                raise ProtocolError("the relay did not answer with ready")
            self._ws = ws
            self._registered.clear()
            writer = asyncio.create_task(self._write(ws))
            try:
                self.sync_devices()
                log.info("connected to the relay")
                self.connected.set()
                async for message in ws:
                    if message.type == aiohttp.WSMsgType.BINARY:
                        self._dispatch(frames.decode_frame(message.data))
                        continue
                    if message.type == aiohttp.WSMsgType.ERROR:  # e.g. a frame over the limit
                        log.warning("relay connection lost: %s", message.data)
                    else:
                        log.warning("relay connection lost: a %s message", message.type.name)
                    break
                else:
                    log.warning("the relay closed the connection (code %s)", ws.close_code)
            finally:
                self.connected.clear()
                self._ws = None
                writer.cancel()

    async def _write(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        while True:
            item = await self._outgoing.get()
            if isinstance(item, asyncio.Future):
                item.set_result(None)
            else:
                await ws.send_bytes(item)

    async def flush(self) -> bool:
        """Wait until everything queued so far went out; False when not connected."""
        if self._ws is None:
            return False
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._outgoing.put_nowait(done)
        await done
        return True

    def _queue(self, frame: bytes) -> None:
        if self._ws is not None:
            self._outgoing.put_nowait(frame)

    def _drop_all(self) -> None:
        for link in self.links.values():
            self._ended(link)
        self.links.clear()
        while not self._outgoing.empty():
            item = self._outgoing.get_nowait()
            if isinstance(item, asyncio.Future):
                item.set_result(None)

    # ------------------------------------------------------------ devices at the relay

    def sync_devices(self) -> None:
        """Allow exactly the active devices' tokens; end the sessions of revoked ones.

        A revoked device's session gets ``bye{revoked}`` and its link is closed before
        its token is unregistered: the relay drops a link's frames once it unregisters it.
        """
        active = {d.token_hash for d in self._devices() if d.status == "active"}
        for link in list(self.links.values()):
            if link.device is not None and link.device.token_hash not in active:
                self._send(link, wire.Bye(reason="revoked"))
                self._close(link, "revoked")
                log.info("device %s revoked on link %d", link.device.id.hex()[:8], link.id)
        for token_hash in active - self._registered:
            self._queue(
                frames.encode_control(frames.RegisterOp(token_hash=derive.b64url(token_hash)))
            )
        for token_hash in self._registered - active:
            self._queue(
                frames.encode_control(frames.UnregisterOp(token_hash=derive.b64url(token_hash)))
            )
        self._registered = active

    # ------------------------------------------------------------ frames from the relay

    def _dispatch(self, frame: frames.Frame) -> None:
        match frame:
            case frames.DataFrame(link=link_id, payload=payload):
                link = self.links.get(link_id)
                if link is not None:
                    self._on_data(link, payload)
            case frames.OpenedOp(link=link_id):
                self.links[link_id] = Link(
                    link_id, session.host_handshake(self._identity.key, self._identity.room)
                )
            case frames.ClosedOp(link=link_id):
                ended = self.links.pop(link_id, None)
                if ended is not None:
                    log.info("link %d ended at the relay", link_id)
                    self._ended(ended)
            case frames.ErrorOp(code=code, message=message):
                log.warning("relay error %s: %s", code, message)
            case _:
                log.warning("unexpected %s from the relay", type(frame).__name__)

    def _on_data(self, link: Link, payload: bytes) -> None:
        stage = "handshake" if link.transport is None else "transport message"
        try:
            if link.transport is None:
                self._handshake(link, payload)
                return
            message = self._open(link, link.transport, payload)
            if message is not None:
                assert link.sync is not None
                link.sync.handle(message)
        except TextportError as exc:
            log.info(
                "link %d closed: %s in a %s (%s)", link.id, exc.code, stage, type(exc).__name__
            )
            self._end(link, exc.code, exc.message)
        except Exception:  # a bug or a disk error: end this link, keep serving the others
            log.exception("link %d closed: internal error in a %s", link.id, stage)
            self._end(link, ErrorCode.INTERNAL, "the host failed; see its log")

    def _end(self, link: Link, code: ErrorCode, message: str) -> None:
        """Tell the device why (when its session still works), then close its link."""
        if link.transport is not None and not link.transport.closed:
            self._send(link, wire.Error(code=code.value, message=message[:500], ref=None))
            link.transport.close()
        self._close(link, code.value)

    def _open(self, link: Link, transport: session.Session, payload: bytes) -> wire.Message | None:
        """Decrypt and decode; None when a refused ``send`` was answered by its cmid."""
        body = transport.open_body(payload)  # any failure here closes the session
        try:
            return wire.decode(body)
        except ProtocolError as exc:
            cmid = wire.refused_send(body)
            if cmid is None:
                raise
            log.info("link %d: refused a send: %s", link.id, exc.code)
            self._send(link, wire.Error(code=exc.code.value, message=_refusal(exc), ref=cmid))
            return None

    def _handshake(self, link: Link, payload: bytes) -> None:
        link.handshake.read(payload)
        static = link.handshake.remote_static
        device = None if static is None else self._find_device(static)
        if device is None:
            raise ProtocolError("unknown device key", ErrorCode.NOT_PAIRED)
        if device.status != "active":
            raise ProtocolError("revoked device key", ErrorCode.REVOKED)
        self._queue(frames.encode_data(link.id, link.handshake.write()))
        link.transport = link.handshake.session(time.time())
        link.device = device
        link.sync = self._open_session(device, lambda message: self._send(link, message))
        self._seen(device)
        log.info("device %s connected on link %d", device.id.hex()[:8], link.id)

    def _send(self, link: Link, message: wire.Message) -> None:
        if link.transport is None or link.transport.closed:
            return
        self._queue(frames.encode_data(link.id, link.transport.seal(message)))

    def _ended(self, link: Link) -> None:
        """A device's session ended: it was last seen now (idle and session-only
        unpairing count from here)."""
        if link.device is not None:
            self._seen(link.device)

    def connected_ids(self) -> set[bytes]:
        """The devices with a session now."""
        return {link.device.id for link in self.links.values() if link.device is not None}

    def announce(self, message: wire.Message, *, skip: bytes) -> None:
        """Send ``message`` to every synced session but device ``skip``'s."""
        for link in list(self.links.values()):
            device = link.device
            if link.sync is not None and link.sync.synced and device and device.id != skip:
                self._send(link, message)

    def _close(self, link: Link, reason: str) -> None:
        if self.links.pop(link.id, None) is not None:
            self._ended(link)
        self._queue(frames.encode_control(frames.CloseOp(link=link.id, reason=reason[:200])))

    def push_all(self) -> None:
        """Send each synced device the events it has not seen yet."""
        for link in list(self.links.values()):
            if link.sync is not None:
                try:
                    link.sync.push()
                except TextportError as exc:
                    log.info("link %d closed: %s while pushing events", link.id, exc.code)
                    self._close(link, exc.code.value)
                except Exception:
                    log.exception("link %d closed: internal error while pushing events", link.id)
                    self._end(link, ErrorCode.INTERNAL, "the host failed; see its log")


def _refusal(exc: ProtocolError) -> str:
    """What the device shows under a text the host refused."""
    if exc.code == ErrorCode.INVALID_NUMBER:
        return "A recipient is not a phone number: use + and the country code, or a short code."
    if exc.code == ErrorCode.BODY_TOO_LONG:
        return f"This text is longer than {wire.MAX_BODY_CHARS} characters."
    return f"The host could not read this text: {exc.message}"[:500]
