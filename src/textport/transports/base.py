"""The one interface every SMS source implements, and what it tells the host.

A transport is started with a :class:`Sink` (the host). It hands over received texts
whole, one :class:`Incoming` each, and delivery reports by the reference that
:meth:`Transport.submit` returned.

Inbound, the order is fixed: **the host commits, then the transport deletes**.
``Sink.incoming`` returns only once the text is in the store (or was already: a text
read again after a crash is recognised by its ``source_id``) and raises if it could not
be stored; a transport deletes a text from its device only after that call returned.
Transports that read a device's storage do not write this themselves: they implement
:class:`~textport.transports.inbox.Device` and :class:`~textport.transports.inbox.Inbox`
does the reading, reassembly, handing over and deleting, in that order.

Outbound, :meth:`Transport.submit` hands one text to the network, or raises
:class:`~textport.errors.TransportError`: ``permanent`` (the text fails with the error's
message as its reason) or not (the outbox retries it with backoff until it expires). A
submit that raises must not have sent anything the recipient can see; a transport that
finds out part-way (a later part of a long text refused) raises a permanent error that
says so, because a retry would send the first parts twice.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import Literal, Protocol

IncomingMode = Literal["events", "polling"]


@dataclass(frozen=True)
class Capabilities:
    """What a transport can do; the web client shows only what works."""

    delivery_reports: bool
    """The network tells whether a text arrived (``delivered``), not just that it left."""
    mms: bool
    max_parts: int
    """The most SMS one text may be split into."""
    dual_sim: bool = False
    """Texts can be sent from, and are received on, more than one SIM."""
    incoming: IncomingMode = "events"
    """``events``: the source says when a text arrives; ``polling``: it is asked every
    few seconds, so a text can take that long to show."""


@dataclass(frozen=True)
class Incoming:
    """A received text, whole (or after the reassembly timeout, as much as arrived).

    ``source_id`` is stable for the same text read again (after a crash between the
    store's commit and the delete on the device), so the store keeps it once.
    """

    sender: str
    body: str
    at_ms: int
    source_id: str
    name: str | None = None
    parts: int = 1
    """How many SMS the text was sent as."""
    missing: tuple[int, ...] = ()
    """Parts (numbered from 1) that never came: the text is partial when not empty."""

    @property
    def partial(self) -> bool:
        return bool(self.missing)


ReportState = Literal["delivered", "failed"]


class Sink(Protocol):
    """Where a transport reports what happens; the host implements it."""

    def incoming(self, sms: Incoming) -> None:
        """Store ``sms``; return only once it is committed (or was stored before).

        Raises if it could not be stored: the transport keeps it and offers it again.
        """

    def report(self, carrier_ref: str, state: ReportState, reason: str | None) -> None:
        """The network's final word on a text that :meth:`Transport.submit` sent."""


class Transport(abc.ABC):
    name: str
    capabilities: Capabilities

    @abc.abstractmethod
    async def start(self, sink: Sink) -> None:
        """Open the source and begin delivering incoming texts and reports to ``sink``.

        Raises :class:`textport.errors.TransportError` when the source cannot be opened.
        """

    @abc.abstractmethod
    async def stop(self) -> None: ...

    @abc.abstractmethod
    async def submit(self, recipients: list[str], body: str) -> str:
        """Hand a text to the network; return its carrier reference.

        Raises :class:`textport.errors.TransportError` (``permanent`` or not).
        """
