"""The one interface every SMS source implements, and what it tells the host."""

from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import Literal, Protocol


@dataclass(frozen=True)
class Capabilities:
    """What a transport can do; the web client shows only what works."""

    delivery_reports: bool
    mms: bool
    max_parts: int


@dataclass(frozen=True)
class Incoming:
    """A complete received text. ``source_id`` is the transport's own id, used to dedupe."""

    sender: str
    body: str
    at_ms: int
    source_id: str
    name: str | None = None


class Sink(Protocol):
    """Where a transport reports what happens; the host implements it."""

    def incoming(self, sms: Incoming) -> None: ...

    def report(
        self, carrier_ref: str, state: Literal["delivered", "failed"], reason: str | None
    ) -> None: ...


class Transport(abc.ABC):
    name: str
    capabilities: Capabilities

    @abc.abstractmethod
    async def start(self, sink: Sink) -> None:
        """Begin delivering incoming texts and reports to ``sink``."""

    @abc.abstractmethod
    async def stop(self) -> None: ...

    @abc.abstractmethod
    async def submit(self, recipients: list[str], body: str) -> str:
        """Hand a text to the network; return its carrier reference.

        Raises :class:`textport.errors.TransportError` (``permanent`` or not).
        """
