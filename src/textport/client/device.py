"""A paired device for scripts: the same protocol as the browser, as asyncio calls.

    device -> host   hello                -> welcome                      connect()
    device -> host   sync{since}          -> batch…, synced | reset        sync()
    host   -> device event{…}                                              events()
    device -> host   convs{qid, folder}   -> conv_page{qid}                conversations()
    device -> host   conv_set{qid}        -> done{qid}                     set_flags()
    device -> host   conv_delete{qid}     -> done{qid}                     delete_conversation()
    device -> host   contact{qid}         -> done{qid}                     set_contact()
    device -> host   thread{qid}          -> thread_page{qid}              thread()
    device -> host   search{qid}          -> results{qid}                  search()
    device -> host   fetch{qid}…          -> chunk{qid}…                   attachment()
    device -> host   send{cmid}           -> ack{cmid}                     send()
    device -> host   read{conv}                                            read()
    device -> host   ping{n}              -> pong{n}                       ping()
    host   -> device error{ref: qid|cmid}    that one call raises RefusedError
    host   -> device error{ref: null}, bye   the session ends: SessionClosedError

One task reads the session and hands each answer to the call waiting for its ``qid``
(``cmid`` for a send, ``n`` for a ping), so calls may run concurrently and live events
may arrive between their answers. Every call waits at most ``timeout`` seconds; a host
that does not answer in that time ends the session. Nothing here reconnects: when the
session ends, every waiting call and every subscription gets the same error, and a
script connects again (and syncs from the cursor it kept).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import itertools
import logging
import secrets
import time
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Final, TypeVar

import aiohttp

from textport.client.connection import Connection, SessionClosedError
from textport.client.credentials import Credentials
from textport.client.cursor import Cursor, Outcome, SyncResult
from textport.client.events import DEFAULT_LIMIT, Subscription
from textport.errors import ErrorCode, ProtocolError, TextportError
from textport.protocol import derive
from textport.protocol import messages as wire

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT: Final = 30.0
MAX_ATTACHMENT: Final = 64 * 2**20
"""The largest attachment :meth:`Device.attachment` accepts, by default."""
SYNC_LIMIT: Final = 1000
_CODES: Final = frozenset(code.value for code in ErrorCode)
Answer = TypeVar("Answer", bound=wire.Message)
T = TypeVar("T")
Position = tuple[int, int]


class RefusedError(ProtocolError):
    """The host refused one request (``error{ref}``); the session goes on."""

    def __init__(self, message: str, code: ErrorCode, ref: str) -> None:
        super().__init__(message, code)
        self.ref = ref


class Device:
    """``async with Device(credentials) as device:`` connects; every call needs that."""

    def __init__(
        self,
        credentials: Credentials,
        *,
        agent: str = "textport-python",
        timeout: float = DEFAULT_TIMEOUT,
        max_attachment: int = MAX_ATTACHMENT,
        http: aiohttp.ClientSession | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.credentials = credentials
        self._agent = agent
        self._timeout = timeout
        self._max_attachment = max_attachment
        self._http = http
        self._own_http = http is None
        self._clock = clock
        self._connection: Connection | None = None
        self._reader: asyncio.Task[None] | None = None
        self._welcome: wire.Welcome | None = None
        self._ids = itertools.count(1)
        self._pending: dict[str, asyncio.Future[wire.Message]] = {}
        self._sync_lock = asyncio.Lock()
        self._synced: asyncio.Future[SyncResult] | None = None
        self._cursor = Cursor()
        self._subscriptions: set[Subscription] = set()
        self._ended: TextportError | None = None

    # ------------------------------------------------------------ lifecycle

    async def connect(self) -> wire.Welcome:
        """Join the room, handshake, hello → welcome.

        Waits at most ``timeout`` for the host: also while a restarted relay does not know
        its room yet (``room_unknown``, retried; raised when the time is over).
        """
        if self._connection is not None:
            if self._ended is None:
                raise ProtocolError("this device is already connected", ErrorCode.HANDSHAKE_STATE)
            await self._disconnect()  # the last session ended by itself
        if self._http is None:
            self._http = aiohttp.ClientSession()
        try:
            connection = await Connection.open(
                self._http, self.credentials, timeout=self._timeout, clock=self._clock
            )
            try:
                welcome = await self._hello(connection)
            except BaseException:
                await connection.close()
                raise
        except BaseException:
            if self._own_http:  # a failed connect leaves nothing open behind it
                await self._http.close()
                self._http = None
            raise
        self._connection, self._welcome, self._ended = connection, welcome, None
        self._cursor.disconnected()
        self._reader = asyncio.create_task(self._read(connection), name="textport client")
        log.info("connected to the host as device %s", self.credentials.device_id.hex()[:8])
        return welcome

    async def _hello(self, connection: Connection) -> wire.Welcome:
        await connection.send(wire.Hello(proto=derive.PROTO, agent=self._agent))
        try:
            async with asyncio.timeout(self._timeout):
                welcome = await connection.receive()
        except TimeoutError:
            raise SessionClosedError("the host did not answer hello") from None
        if not isinstance(welcome, wire.Welcome):
            raise ProtocolError("the host did not answer hello with welcome")
        if welcome.device_id != derive.b64url(self.credentials.device_id):
            raise ProtocolError("the host names another device in its welcome")
        return welcome

    @property
    def cursor(self) -> int:
        """The ``seq`` of the last event this device applied (or was reset to)."""
        return self._cursor.seq

    @property
    def welcome(self) -> wire.Welcome:
        if self._welcome is None:
            raise SessionClosedError("not connected")
        return self._welcome

    async def close(self) -> None:
        self._end(None)
        await self._disconnect()
        if self._own_http and self._http is not None:
            await self._http.close()
            self._http = None

    async def _disconnect(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            await asyncio.gather(self._reader, return_exceptions=True)
            self._reader = None
        if self._connection is not None:
            await self._connection.close()
            self._connection = None

    async def __aenter__(self) -> Device:
        await self.connect()
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    # ------------------------------------------------------------ calls

    async def sync(self, since: int) -> SyncResult:
        """Events after ``since`` (the cursor kept from the last sync), then live events."""
        async with self._sync_lock:
            self._synced = asyncio.get_running_loop().create_future()
            try:
                self._cursor.call()
                await self._send(wire.Sync(since=since, limit=SYNC_LIMIT))
                return await self._wait(self._synced)
            finally:
                self._synced = None

    def events(self, limit: int = DEFAULT_LIMIT) -> Subscription:
        """Live events (and resets) from now on, once :meth:`sync` has returned."""
        subscription = Subscription(self._subscriptions.discard, limit)
        if self._ended is not None or self._connection is None:
            subscription.end(self._ended or SessionClosedError("not connected"))
        else:
            self._subscriptions.add(subscription)
        return subscription

    async def conversations(
        self, before: Position | None = None, limit: int = 50, folder: wire.Folder = "inbox"
    ) -> wire.ConvPage:
        """A page of a folder's conversations, newest first; ``before`` is ``(last_at, id)``
        of the previous page's last one."""
        qid = next(self._ids)
        message = wire.Convs(qid=qid, before=before, limit=limit, folder=folder)
        return await self._ask(str(qid), message, wire.ConvPage)

    async def set_flags(
        self,
        conv: int,
        *,
        pinned: bool | None = None,
        archived: bool | None = None,
        muted: bool | None = None,
        blocked: bool | None = None,
        unread: bool | None = None,
    ) -> None:
        """Set the given flags of ``conv`` (None: leave it); ``unread`` False marks it read.
        A refusal (an unknown conversation, a sixth pin) raises RefusedError; the new state
        arrives as a ``conv`` event."""
        qid = next(self._ids)
        message = wire.ConvSet(
            qid=qid,
            conv=conv,
            pinned=pinned,
            archived=archived,
            muted=muted,
            blocked=blocked,
            unread=unread,
        )
        await self._ask(str(qid), message, wire.Done)

    async def delete_conversation(self, conv: int) -> None:
        """Delete ``conv`` with its messages and attachments; a ``gone`` event follows."""
        qid = next(self._ids)
        await self._ask(str(qid), wire.ConvDelete(qid=qid, conv=conv), wire.Done)

    async def set_contact(self, number: str, name: str | None) -> None:
        """Name ``number`` (None: forget its name) in every conversation it is in."""
        qid = next(self._ids)
        await self._ask(str(qid), wire.Contact(qid=qid, number=number, name=name), wire.Done)

    async def thread(
        self,
        conv: int,
        before: Position | None = None,
        after: Position | None = None,
        limit: int = 50,
    ) -> wire.ThreadPage:
        """A page of ``conv``'s messages, newest first: older than ``before`` ``(at, id)``,
        newer than ``after``, or the newest. An unknown ``conv`` raises RefusedError."""
        qid = next(self._ids)
        message = wire.Thread(qid=qid, conv=conv, before=before, after=after, limit=limit)
        return await self._ask(str(qid), message, wire.ThreadPage)

    async def search(self, query: str, before: int | None = None, limit: int = 50) -> wire.Results:
        """Messages matching ``query``, newest first; ``before`` is the previous page's last
        ``msg_id``."""
        qid = next(self._ids)
        message = wire.Search(qid=qid, query=query, limit=limit, before=before)
        return await self._ask(str(qid), message, wire.Results)

    async def attachment(self, att: int) -> bytes:
        """An attachment's bytes, fetched chunk by chunk."""
        data = bytearray()
        total: int | None = None
        while total is None or len(data) < total:
            qid = next(self._ids)
            fetch = wire.Fetch(qid=qid, att=att, offset=len(data))
            chunk = await self._ask(str(qid), fetch, wire.Chunk)
            if (
                chunk.att != att
                or chunk.offset != len(data)
                or chunk.total != (total or chunk.total)
            ):
                raise ProtocolError("the host answered with another part of an attachment")
            if chunk.total > self._max_attachment:
                raise ProtocolError(
                    f"the attachment is over {self._max_attachment} bytes", ErrorCode.TOO_LARGE
                )
            total = chunk.total
            try:
                piece = base64.b64decode(chunk.data, validate=True)
            except binascii.Error as exc:
                raise ProtocolError("an attachment chunk is not base64") from exc
            if len(data) + len(piece) > total or (not piece and len(data) < total):
                raise ProtocolError("an attachment chunk does not fit its total")
            data += piece
        return bytes(data)

    async def send(self, to: str | Sequence[str], body: str, cmid: str | None = None) -> wire.Ack:
        """Queue a text; the ack comes after the host's commit. Resending with the same
        ``cmid`` (after a lost connection) gets the same ack and never a second text."""
        cmid = cmid if cmid is not None else secrets.token_hex(16)
        message = wire.Send(cmid=cmid, to=[to] if isinstance(to, str) else list(to), body=body)
        return await self._ask(cmid, message, wire.Ack)

    async def read(self, conv: int) -> None:
        """Tell the host the user saw ``conv``: its unread count drops to 0."""
        await self._send(wire.Read(conv=conv))

    async def ping(self) -> None:
        """One round trip to the host and back."""
        n = next(self._ids)
        await self._ask(f"ping {n}", wire.Ping(n=n), wire.Pong)

    # ------------------------------------------------------------ requests and answers

    async def _ask(self, key: str, message: wire.Message, answer: type[Answer]) -> Answer:
        future: asyncio.Future[wire.Message] = asyncio.get_running_loop().create_future()
        if key in self._pending:
            raise ProtocolError("a request with this cmid is already waiting for its answer")
        self._pending[key] = future
        try:
            await self._send(message)
            reply = await self._wait(future)
        finally:
            self._pending.pop(key, None)
        if not isinstance(reply, answer):
            raise ProtocolError(f"the host answered {answer.__name__} with another message")
        return reply

    async def _send(self, message: wire.Message) -> None:
        wire.decode(wire.encode(message))  # the host's checks, before anything is sent
        if self._ended is not None:
            raise self._ended
        if self._connection is None:
            raise SessionClosedError("not connected")
        await self._connection.send(message)

    async def _wait(self, future: asyncio.Future[T]) -> T:
        try:
            async with asyncio.timeout(self._timeout):
                return await future
        except TimeoutError:
            error = SessionClosedError(f"the host did not answer within {self._timeout:g} s")
            self._end(error)
            if self._connection is not None:
                await self._connection.close()
            raise error from None

    async def _read(self, connection: Connection) -> None:
        try:
            while True:
                await self._dispatch(await connection.receive())
        except TextportError as exc:
            log.info("session ended: %s", exc.code)
            self._end(exc)
        except Exception:
            log.exception("the client failed reading its session")
            self._end(SessionClosedError("the client failed; see its log", ErrorCode.INTERNAL))
        finally:
            await connection.close()

    async def _dispatch(self, message: wire.Message) -> None:  # noqa: PLR0912 - one case each
        match message:
            case wire.ConvPage(qid=qid) | wire.ThreadPage(qid=qid) | wire.Results(qid=qid):
                self._answer(str(qid), message)
            case wire.Chunk(qid=qid) | wire.Done(qid=qid):
                self._answer(str(qid), message)
            case wire.Ack(cmid=cmid):
                self._answer(cmid, message)
            case wire.Pong(n=n):
                self._answer(f"ping {n}", message)
            case wire.Batch(events=events):
                await self._follow(self._cursor.batch(events))
            case wire.Synced(seq=seq):
                await self._follow(self._cursor.synced(seq))
            case wire.Reset(seq=seq):
                await self._follow(self._cursor.reset(seq))
            case wire.EventMessage(event=event):
                await self._follow(self._cursor.event(event))
            case wire.Ping(n=n):
                await self._send(wire.Pong(n=n))
            case wire.Error(ref=ref, code=code, message=text) if ref is not None:
                future = self._pending.get(ref)
                if future is not None and not future.done():
                    future.set_exception(RefusedError(text or code, _code(code), ref))
            case wire.Error(code=code, message=text):
                raise SessionClosedError(f"the host ended the session: {text}", _code(code))
            case wire.Bye(reason=reason):
                code = ErrorCode.REVOKED if reason == "revoked" else ErrorCode.SESSION_CLOSED
                raise SessionClosedError(f"the host ended the session: {reason}", code)
            case _:
                raise ProtocolError(
                    f"a host does not send {message.__struct_config__.tag} here",
                    ErrorCode.BAD_MESSAGE,
                )

    def _answer(self, key: str, message: wire.Message) -> None:
        future = self._pending.get(key)
        if future is not None and not future.done():
            future.set_result(message)
        # else: the answer to a call that timed out or was cancelled

    # ------------------------------------------------------------ sync and live events

    async def _follow(self, outcome: Outcome) -> None:
        if outcome.result is not None and self._synced is not None and not self._synced.done():
            self._synced.set_result(outcome.result)
        for item in outcome.publish:
            for subscription in list(self._subscriptions):
                subscription.put(item)
        if outcome.resync is not None:
            await self._send(wire.Sync(since=outcome.resync, limit=SYNC_LIMIT))

    def _end(self, error: TextportError | None) -> None:
        """The session is over: fail what waits, end the subscriptions."""
        if self._ended is not None:
            return
        self._ended = error or SessionClosedError("the device was closed")
        for future in self._pending.values():
            if not future.done():
                future.set_exception(self._ended)
        if self._synced is not None and not self._synced.done():
            self._synced.set_exception(self._ended)
        for subscription in list(self._subscriptions):
            subscription.end(error)
        self._subscriptions.clear()


def _code(code: str) -> ErrorCode:
    return ErrorCode(code) if code in _CODES else ErrorCode.INTERNAL
