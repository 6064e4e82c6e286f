"""One TCP connection to an SMSC, bound as a transceiver: requests matched to their
responses by sequence number, requests from the SMSC handed to the transport, and
``enquire_link`` keeping the link (and the NAT on the way) alive.

    -> bind_transceiver                       <- bind_transceiver_resp
    -> submit_sm / enquire_link / unbind      <- their _resp, or generic_nack
    <- deliver_sm                             -> deliver_sm_resp (by the transport)
    <- enquire_link                           -> enquire_link_resp
    <- unbind                                 -> unbind_resp, then the connection closes
    <- anything else                          -> generic_nack ESME_RINVCMDID
    <- a PDU that does not decode             -> generic_nack ESME_RINVCMDLEN

A length outside 16..MAX_PDU closes the connection: the stream cannot be trusted after
it. An ``enquire_link`` unanswered for ``response_timeout`` seconds closes it too.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections.abc import Callable

from textport.errors import ProtocolError, TransportError
from textport.transports.smpp import pdu, status
from textport.transports.smpp.settings import SmppSettings

log = logging.getLogger(__name__)

MAX_SEQUENCE = 0x7FFFFFFF


class NotSentError(TransportError):
    """The request never left: the connection was not there (nothing reached the SMSC)."""


class NoAnswerError(TransportError):
    """The request left but no answer came (timeout or a broken connection): whether
    the SMSC acted on it is unknown."""


class Session:
    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        settings: SmppSettings,
        on_request: Callable[[Session, pdu.Pdu], None],
    ) -> None:
        self._reader = reader
        self._writer = writer
        self._settings = settings
        self._on_request = on_request
        self._sequences = itertools.count(1)
        self._pending: dict[int, asyncio.Future[pdu.Pdu]] = {}
        self.closed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @classmethod
    async def open(
        cls, settings: SmppSettings, on_request: Callable[[Session, pdu.Pdu], None]
    ) -> Session:
        """Connect (TCP only: no TLS). Raises NotSentError when the SMSC cannot be reached."""
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(settings.host, settings.port), settings.connect_timeout
            )
        except (OSError, TimeoutError) as exc:
            why = "timed out" if isinstance(exc, TimeoutError) else (exc.strerror or str(exc))
            raise NotSentError(
                f"Cannot reach the SMSC at {settings.host}:{settings.port} ({why})."
            ) from None
        return cls(reader, writer, settings, on_request)

    # ---------------------------------------------------------- requests

    def next_sequence(self) -> int:
        sequence = next(self._sequences)
        if sequence > MAX_SEQUENCE:
            self._sequences = itertools.count(2)
            sequence = 1
        return sequence

    async def request(self, make: Callable[[int], pdu.Pdu]) -> pdu.Pdu:
        """Send the request ``make(sequence)`` and return the SMSC's answer to it (its
        response or a generic_nack). Raises NotSentError or NoAnswerError."""
        if self.closed.is_set():
            raise NotSentError("The connection to the SMSC is closed.")
        request = make(self.next_sequence())
        future: asyncio.Future[pdu.Pdu] = asyncio.get_running_loop().create_future()
        self._pending[request.sequence] = future
        try:
            self.send(request)
            return await asyncio.wait_for(asyncio.shield(future), self._settings.response_timeout)
        except TimeoutError:
            raise NoAnswerError(
                f"The SMSC did not answer within {self._settings.response_timeout:g} s."
            ) from None
        finally:
            self._pending.pop(request.sequence, None)

    def send(self, message: pdu.Pdu) -> None:
        """Write one PDU (a response, or a request :meth:`request` waits for)."""
        if self.closed.is_set() or self._writer.is_closing():
            raise NotSentError("The connection to the SMSC is closed.")
        self._writer.write(pdu.encode(message))

    async def bind(self) -> str:
        """Bind as a transceiver; the SMSC's system_id. Raises TransportError."""
        settings = self._settings
        answer = await self.request(
            lambda sequence: pdu.BindTransceiver(
                sequence=sequence,
                system_id=settings.system_id,
                password=settings.password,
                system_type=settings.system_type,
            )
        )
        if not isinstance(answer, pdu.BindTransceiverResp | pdu.GenericNack):
            raise TransportError("The SMSC answered the bind with something else.")
        if answer.status != status.ESME_ROK:
            raise status.bind_error(answer.status)
        return answer.system_id if isinstance(answer, pdu.BindTransceiverResp) else ""

    async def unbind(self) -> None:
        """Say goodbye (briefly: a peer that does not answer is left), then close."""
        with contextlib.suppress(TransportError, OSError):
            await asyncio.wait_for(self.request(lambda s: pdu.Unbind(sequence=s)), 1.0)
        await self.close()

    async def close(self) -> None:
        self.closed.set()
        task = self._task
        if task is not None and task is not asyncio.current_task() and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for future in self._pending.values():
            if not future.done():
                future.set_exception(NoAnswerError("The connection to the SMSC broke."))
        self._writer.close()
        with contextlib.suppress(OSError, asyncio.CancelledError):
            await self._writer.wait_closed()

    # ---------------------------------------------------------- the connection's life

    def start(self) -> None:
        """Begin reading (before the bind: its answer must be read)."""
        self._task = asyncio.create_task(self._run(), name="smpp session")

    async def wait_closed(self) -> None:
        """Until the connection ended (by either side); the reason is logged."""
        if self._task is not None:
            await asyncio.shield(self._task)

    async def _run(self) -> None:
        keepalive = asyncio.create_task(self._keepalive(), name="smpp enquire_link")
        try:
            await self._read()
        except (OSError, asyncio.IncompleteReadError) as exc:
            log.warning("SMPP connection lost: %s", type(exc).__name__)
        except ProtocolError as exc:
            log.warning("SMPP connection closed: %s", exc.message)
        except Exception:  # a bug must not stop the reconnecting: log it, start again
            log.exception("SMPP connection failed")
        finally:
            keepalive.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keepalive
            await self.close()

    async def _read(self) -> None:
        while not self.closed.is_set():
            header = await self._reader.readexactly(4)
            length = pdu.command_length(header)
            frame = header + await self._reader.readexactly(length - 4)
            try:
                message = pdu.decode(frame)
            except ProtocolError as exc:
                log.warning("SMPP: a PDU from the SMSC was refused: %s", exc.message)
                sequence = int.from_bytes(frame[12:16], "big")
                self.send(pdu.GenericNack(sequence=sequence, status=status.ESME_RINVCMDLEN))
                continue
            if message.is_response:
                future = self._pending.get(message.sequence)
                if future is not None and not future.done():
                    future.set_result(message)
                elif message.sequence:
                    log.debug("SMPP: an answer nobody waits for (%d)", message.sequence)
                continue
            if isinstance(message, pdu.EnquireLink):
                self.send(pdu.response_to(message))
            elif isinstance(message, pdu.Unbind):
                log.info("SMPP: the SMSC unbinds")
                self.send(pdu.response_to(message))
                await self._writer.drain()
                return
            elif isinstance(message, pdu.DeliverSm):
                self._on_request(self, message)
            else:
                self.send(pdu.response_to(message, status.ESME_RINVCMDID))

    async def _keepalive(self) -> None:
        while True:
            await asyncio.sleep(self._settings.enquire_link_interval)
            try:
                await self.request(lambda s: pdu.EnquireLink(sequence=s))
            except TransportError:
                log.warning("SMPP: the SMSC did not answer enquire_link; reconnecting")
                self._writer.close()
                return
