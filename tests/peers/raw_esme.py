"""A minimal SMPP 3.4 ESME over one asyncio socket, written from the specification.

It is what the harness smoke tests bind with (independently of textport's own ESME) and
the baseline of ``bench/transport.py``: ``bind_transceiver``, pipelined ``submit_sm``,
``enquire_link``, and every ``deliver_sm`` answered and kept (receipts and MO texts).
Nothing else: no reconnects, no throttling, no concatenation of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
from dataclasses import dataclass

BIND_TRANSCEIVER = 0x00000009
SUBMIT_SM = 0x00000004
DELIVER_SM = 0x00000005
UNBIND = 0x00000006
ENQUIRE_LINK = 0x00000015
GENERIC_NACK = 0x80000000
RESP = 0x80000000
HEADER = struct.Struct("!IIII")
MAX_PDU = 64 * 1024


class SmppError(Exception):
    """The peer answered with a non-zero command_status, or broke the protocol."""


def cstring(value: str | bytes) -> bytes:
    raw = value.encode("ascii") if isinstance(value, str) else value
    return raw + b"\0"


def take_cstring(body: bytes, at: int) -> tuple[bytes, int]:
    end = body.index(b"\0", at)
    return body[at:end], end + 1


@dataclass(frozen=True)
class DeliverSm:
    source: str
    source_ton: int
    destination: str
    esm_class: int
    data_coding: int
    short_message: bytes
    tlvs: dict[int, bytes]

    @property
    def is_receipt(self) -> bool:
        return bool(self.esm_class & 0x04)

    @property
    def receipt_fields(self) -> dict[str, str]:
        """``id:… sub:… stat:…`` of a receipt's text, by name."""
        text = self.short_message.decode("ascii", "replace")
        head = text.split(" text:", 1)[0]
        fields: dict[str, str] = {}
        for name in ("id", "sub", "dlvrd", "submit date", "done date", "stat", "err"):
            marker = f"{name}:"
            at = head.find(marker)
            if at >= 0 and (at == 0 or head[at - 1] == " "):
                fields[name] = head[at + len(marker) :].split(" ", 1)[0]
        return fields


def parse_deliver_sm(body: bytes) -> DeliverSm:
    at = 0
    _service_type, at = take_cstring(body, at)
    source_ton = body[at]
    at += 2
    source, at = take_cstring(body, at)
    at += 2
    destination, at = take_cstring(body, at)
    esm_class = body[at]
    at += 3  # esm_class, protocol_id, priority_flag
    _schedule, at = take_cstring(body, at)
    _validity, at = take_cstring(body, at)
    at += 3  # registered_delivery, replace_if_present_flag, data_coding is next
    data_coding = body[at - 1]
    at += 1  # sm_default_msg_id
    length = body[at]
    short_message = body[at + 1 : at + 1 + length]
    at += 1 + length
    tlvs: dict[int, bytes] = {}
    while at + 4 <= len(body):
        tag, size = struct.unpack_from("!HH", body, at)
        tlvs[tag] = body[at + 4 : at + 4 + size]
        at += 4 + size
    return DeliverSm(
        source.decode("ascii", "replace"),
        source_ton,
        destination.decode("ascii", "replace"),
        esm_class,
        data_coding,
        short_message,
        tlvs,
    )


def submit_sm_body(
    source: str,
    destination: str,
    short_message: bytes,
    *,
    data_coding: int = 0,
    esm_class: int = 0,
    registered_delivery: int = 1,
) -> bytes:
    if len(short_message) > 254:
        raise ValueError("short_message is at most 254 octets")
    src_ton = 1 if source.startswith("+") else 0
    dst_ton = 1 if destination.startswith("+") else 0
    return b"".join(
        [
            cstring(""),  # service_type
            bytes([src_ton, src_ton]),
            cstring(source.lstrip("+")),
            bytes([dst_ton, dst_ton]),
            cstring(destination.lstrip("+")),
            bytes([esm_class, 0, 0]),  # esm_class, protocol_id, priority_flag
            cstring(""),  # schedule_delivery_time
            cstring(""),  # validity_period
            bytes([registered_delivery, 0, data_coding, 0, len(short_message)]),
            short_message,
        ]
    )


class RawEsme:
    """One bound SMPP session; ``delivered`` collects every deliver_sm, in order."""

    def __init__(self) -> None:
        self.delivered: list[DeliverSm] = []
        self.arrived = asyncio.Condition()
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._sequence = 0
        self._pending: dict[int, asyncio.Future[tuple[int, bytes]]] = {}
        self._task: asyncio.Task[None] | None = None

    async def bind(self, host: str, port: int, system_id: str, password: str) -> None:
        self._reader, self._writer = await asyncio.open_connection(host, port)
        self._task = asyncio.create_task(self._read())
        body = cstring(system_id) + cstring(password) + cstring("") + bytes([0x34, 0, 0]) + b"\0"
        try:
            await self.request(BIND_TRANSCEIVER, body)
        except BaseException:
            await self.close()
            raise

    def send(self, command: int, body: bytes) -> asyncio.Future[tuple[int, bytes]]:
        """Write one request; the future holds its response (status, body)."""
        if self._writer is None or self._task is None or self._task.done():
            raise SmppError("not connected")
        self._sequence = self._sequence % 0x7FFFFFFF + 1
        future: asyncio.Future[tuple[int, bytes]] = asyncio.get_running_loop().create_future()
        self._pending[self._sequence] = future
        self._writer.write(HEADER.pack(16 + len(body), command, 0, self._sequence) + body)
        return future

    async def request(self, command: int, body: bytes) -> bytes:
        status, resp = await self.send(command, body)
        if status:
            raise SmppError(f"command 0x{command:08x} refused with status 0x{status:08x}")
        return resp

    async def submit(self, source: str, destination: str, short_message: bytes, **kw: int) -> str:
        """Submit one SMS; its message_id."""
        resp = await self.request(
            SUBMIT_SM, submit_sm_body(source, destination, short_message, **kw)
        )
        return take_cstring(resp, 0)[0].decode("ascii")

    async def wait_for(self, count: int, timeout: float) -> list[DeliverSm]:
        """Until at least ``count`` deliver_sm have arrived in all."""
        async with asyncio.timeout(timeout), self.arrived:
            await self.arrived.wait_for(lambda: len(self.delivered) >= count)
        return self.delivered

    async def close(self) -> None:
        if self._writer is not None and not self._writer.is_closing():
            with contextlib.suppress(SmppError, OSError, TimeoutError):
                async with asyncio.timeout(2):
                    await self.request(UNBIND, b"")
            self._writer.close()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _read(self) -> None:
        assert self._reader is not None and self._writer is not None
        try:
            while True:
                length, command, status, sequence = HEADER.unpack(
                    await self._reader.readexactly(16)
                )
                if not 16 <= length <= MAX_PDU:
                    break
                body = await self._reader.readexactly(length - 16)
                if command & RESP:
                    future = self._pending.pop(sequence, None)
                    if future is not None and not future.done():
                        future.set_result((status, body))
                    continue
                if command == DELIVER_SM:
                    self._answer(command, sequence, b"\0")
                    async with self.arrived:
                        self.delivered.append(parse_deliver_sm(body))
                        self.arrived.notify_all()
                elif command in (ENQUIRE_LINK, UNBIND):
                    self._answer(command, sequence, b"")
                else:
                    self._writer.write(HEADER.pack(16, GENERIC_NACK, 3, sequence))
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            for future in self._pending.values():
                if not future.done():
                    future.set_exception(SmppError("the connection was lost"))
            self._pending.clear()

    def _answer(self, command: int, sequence: int, body: bytes) -> None:
        assert self._writer is not None
        self._writer.write(HEADER.pack(16 + len(body), command | RESP, 0, sequence) + body)
