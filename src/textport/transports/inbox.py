"""Reading a device's message storage: read, reassemble, hand over, then delete.

Shared by every transport whose source keeps received SMS until they are deleted (a
modem's SIM or phone memory through Gammu; later ModemManager). The transport writes a
:class:`Device` (read everything stored, delete one entry); :class:`Inbox` does the rest,
in the one order that loses nothing:

1. read every stored part and status report;
2. put parts together (:mod:`textport.transports.reassembly`);
3. hand each whole text to the host (``Sink.incoming``, which returns after the commit);
4. only then delete its parts from the device.

A crash after 3 and before 4 leaves the parts on the device: they are read and handed
over again, with the same ``source_id``, and the store keeps the text once. A delete that
fails is retried before the next read. A text the host could not store stays on the
device and is offered again next round.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from textport.errors import TransportError
from textport.transports.base import Incoming, Sink
from textport.transports.reassembly import Assembled, Part, Reassembler

log = logging.getLogger(__name__)

H = TypeVar("H", bound=Hashable)


@dataclass(frozen=True)
class StatusReport(Generic[H]):
    """A delivery report stored on the device, for the text with this reference."""

    recipient: str
    reference: int
    status: int
    """TP-Status, see :func:`textport.transports.reports.from_tp_status`."""
    handle: H


@dataclass(frozen=True)
class Reading(Generic[H]):
    parts: list[Part[H]]
    reports: list[StatusReport[H]]


class Device(Protocol[H]):
    async def read(self) -> Reading[H]:
        """Every received part and status report stored now."""
        ...

    async def delete(self, handle: H) -> None:
        """Delete one entry; one that is already gone is no error."""
        ...


class Inbox(Generic[H]):
    def __init__(
        self,
        device: Device[H],
        *,
        prefix: str,
        on_report: Callable[[StatusReport[H]], None],
        reassembler: Reassembler[H] | None = None,
        clock_ms: Callable[[], int],
    ) -> None:
        self._device = device
        self._prefix = prefix
        self._on_report = on_report
        self._parts = reassembler or Reassembler()
        self._clock_ms = clock_ms
        self._undeleted: dict[H, None] = {}  # in order, once each
        self._reported: set[H] = set()
        self._lock = asyncio.Lock()

    @property
    def waiting(self) -> int:
        """Texts that wait for more parts."""
        return self._parts.waiting

    async def poll(self, sink: Sink) -> int:
        """One round: read, hand over what is whole (or timed out), delete. Returns how
        many texts were handed over. Rounds never overlap."""
        async with self._lock:
            return await self._poll(sink)

    async def _poll(self, sink: Sink) -> int:
        await self._retry_deletes()
        reading = await self._device.read()
        for report in reading.reports:
            if report.handle not in self._reported:
                self._on_report(report)
                self._reported.add(report.handle)
            await self._delete((report.handle,))
        handed = 0
        now = self._clock_ms()
        for part in reading.parts:
            for text in self._parts.add(part, now):
                await self._hand_over(sink, text)
                handed += 1
        for text in self._parts.expire(now):
            await self._hand_over(sink, text)
            handed += 1
        return handed

    async def run(self, sink: Sink, interval: float) -> None:
        """Poll every ``interval`` seconds until cancelled; a failed round (the device, or
        the store) is logged once and tried again: the texts stay on the device."""
        failing = False
        while True:
            try:
                await self.poll(sink)
            except TransportError as exc:
                if not failing:
                    log.warning("reading received texts failed: %s", exc.message)
                failing = True
            except Exception:  # the store refused: the texts stay on the device
                if not failing:
                    log.exception("storing received texts failed")
                failing = True
            else:
                if failing:
                    log.info("reading received texts works again")
                failing = False
            await asyncio.sleep(interval)

    def source_id(self, text: Assembled[H]) -> str:
        """The same for the same parts read again; differs for any other text."""
        digest = hashlib.sha256()
        for field in (text.sender, str(text.at_ms), text.text, *map(repr, text.handles)):
            digest.update(field.encode("utf-8", "surrogatepass") + b"\x00")
        return f"{self._prefix}:{digest.hexdigest()[:32]}"

    async def _hand_over(self, sink: Sink, text: Assembled[H]) -> None:
        sms = Incoming(
            text.sender,
            text.text,
            text.at_ms,
            self.source_id(text),
            parts=text.total,
            missing=text.missing,
        )
        try:
            sink.incoming(sms)
        except BaseException:
            self._parts.forget(text.handles)  # read and offered again next round
            raise
        if text.partial:
            log.warning("a text came in without %d of its %d parts", len(text.missing), text.total)
        await self._delete(text.handles)

    async def _delete(self, handles: tuple[H, ...]) -> None:
        for handle in handles:
            try:
                await self._device.delete(handle)
            except TransportError as exc:
                log.warning("could not delete a stored text (tried again later): %s", exc.message)
                self._undeleted[handle] = None
            else:
                self._parts.forget((handle,))
                self._reported.discard(handle)

    async def _retry_deletes(self) -> None:
        handles, self._undeleted = tuple(self._undeleted), {}
        await self._delete(handles)
