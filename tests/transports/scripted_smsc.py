"""An SMSC whose every answer a test chooses, for the faults Jasmin's simulator cannot make.

The simulator (tests/peers/) accepts any bind and answers every ``submit_sm`` with
``ESME_ROK``: it cannot throttle, refuse a password, leave a request unanswered, send a
malformed PDU, or show when a ``deliver_sm_resp`` came. This peer can; it speaks through
textport's own codec (tested on its own, and against the simulator, elsewhere), over a
real socket on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
from dataclasses import dataclass, field

from textport.transports.smpp import pdu


@dataclass
class ScriptedSmsc:
    bind_status: int = 0
    submit_statuses: list[int | None] = field(default_factory=list)
    """The status of each coming submit_sm_resp, in order (None: no answer at all);
    ROK once the list is used up."""
    answer_enquire_link: bool = True
    submits: list[pdu.SubmitSm] = field(default_factory=list)
    received: list[pdu.Pdu] = field(default_factory=list)
    binds: int = 0
    port: int = 0
    _server: asyncio.Server | None = None
    _writers: list[asyncio.StreamWriter] = field(default_factory=list)
    _answers: dict[int, asyncio.Future[pdu.Pdu]] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1000))
    _sequences: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        self.drop()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    def drop(self) -> None:
        for writer in self._writers:
            writer.transport.abort()
        self._writers.clear()

    async def deliver(self, message: pdu.DeliverSm) -> asyncio.Future[pdu.Pdu]:
        """Send a deliver_sm (its sequence chosen here); the future gets the answer."""
        sequence = next(self._sequences)
        future: asyncio.Future[pdu.Pdu] = asyncio.get_running_loop().create_future()
        self._answers[sequence] = future
        self.send(dataclasses.replace(message, sequence=sequence))
        return future

    def send(self, message: pdu.Pdu) -> None:
        self.send_raw(pdu.encode(message))

    def send_raw(self, data: bytes) -> None:
        self._writers[-1].write(data)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.append(writer)
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
            while True:
                header = await reader.readexactly(4)
                frame = header + await reader.readexactly(pdu.command_length(header) - 4)
                message = pdu.decode(frame)
                self.received.append(message)
                self._handle(message, writer)

    def _handle(self, message: pdu.Pdu, writer: asyncio.StreamWriter) -> None:
        answer: pdu.Pdu | None = None
        if isinstance(message, pdu.BindTransceiver):
            self.binds += 1
            answer = pdu.BindTransceiverResp(
                sequence=message.sequence, status=self.bind_status, system_id="scripted"
            )
        elif isinstance(message, pdu.SubmitSm):
            self.submits.append(message)
            code = self.submit_statuses.pop(0) if self.submit_statuses else 0
            if code is not None:
                message_id = str(next(self._ids)) if code == 0 else ""
                answer = pdu.SubmitSmResp(
                    sequence=message.sequence, status=code, message_id=message_id
                )
        elif isinstance(message, pdu.EnquireLink):
            if self.answer_enquire_link:
                answer = pdu.EnquireLinkResp(sequence=message.sequence)
        elif isinstance(message, pdu.Unbind):
            answer = pdu.UnbindResp(sequence=message.sequence)
        elif message.is_response:
            future = self._answers.pop(message.sequence, None)
            if future is not None and not future.done():
                future.set_result(message)
        if answer is not None:
            writer.write(pdu.encode(answer))
