"""The sync cursor of docs/protocol.md section 9, without I/O.

    sync{since}  -> batch…, synced{seq}   the events after since; then live
                 -> reset{seq}            no replay: page instead; sync{seq} to go live
    event{…}                              live: applied when its seq is cursor + 1;
                                          a gap is filled by sync{cursor} again

:class:`Cursor` takes what the host sent and says what to do about it in an
:class:`Outcome`: items for the subscribers, a ``sync`` to send, the result of the
``sync()`` call that waits. Events at or below the cursor are dropped (a replay after a
gap repeats nothing).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from textport.protocol import messages as wire

LiveItem = wire.Event | wire.Reset


@dataclass(frozen=True)
class SyncResult:
    seq: int
    """The cursor after this sync: keep it, and sync from it next time."""
    events: list[wire.Event] = field(repr=False)
    """The events after ``since``, in ``seq`` order (none after a reset)."""
    reset: bool
    """The host does not replay from ``since``: drop what was cached and page instead.
    The device has already asked to go live from ``seq``; later events reach
    ``Device.events()``."""


@dataclass
class Outcome:
    publish: list[LiveItem] = field(default_factory=list)
    """For the subscribers, in order."""
    resync: int | None = None
    """Send ``sync{since: resync}``."""
    result: SyncResult | None = None
    """What the waiting ``sync()`` call returns."""


class Cursor:
    def __init__(self, seq: int = 0) -> None:
        self.seq = seq
        """The ``seq`` of the last event applied (or the last reset's)."""
        self._call: list[wire.Event] | None = None
        """The events of the ``sync()`` call waiting for its answer, if one is."""
        self._live = False
        self._catching_up = False

    def call(self) -> None:
        """A ``sync()`` call sent its ``sync``: the batches are its answer."""
        self._call = []

    def disconnected(self) -> None:
        self._call, self._live, self._catching_up = None, False, False

    def batch(self, events: list[wire.Event]) -> Outcome:
        outcome = Outcome()
        for event in events:
            if event.seq > self.seq:
                self.seq = event.seq
                (outcome.publish if self._call is None else self._call).append(event)
        return outcome

    def synced(self, seq: int) -> Outcome:
        self.seq = max(self.seq, seq)
        self._live, self._catching_up = True, False
        outcome = Outcome()
        if self._call is not None:
            outcome.result = SyncResult(self.seq, self._call, reset=False)
            self._call = None
        return outcome

    def reset(self, seq: int) -> Outcome:
        self.seq = seq
        self._catching_up = True
        outcome = Outcome(resync=seq)
        if self._call is not None:
            outcome.result = SyncResult(seq, [], reset=True)
            self._call = None
        else:
            outcome.publish.append(wire.Reset(seq=seq))
        return outcome

    def event(self, event: wire.Event) -> Outcome:
        if not self._live or self._catching_up or event.seq <= self.seq:
            return Outcome()  # before synced, or the catching-up batches bring it
        if event.seq != self.seq + 1:
            self._catching_up = True  # an event went missing: sync again from the cursor
            return Outcome(resync=self.seq)
        return self.batch([event])
