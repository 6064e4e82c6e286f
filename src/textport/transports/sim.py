"""``sim``: a simulated carrier on loopback, with scripted contacts, for demos and tests.

It is a transport like the others: the host submits texts and receives texts and
delivery reports through the same interface. Its "network" keeps a log of every
submission in ``DATA/sim/submitted.jsonl`` (appended and fsynced before ``submit``
returns), so tests can check that a text never reached the network twice, even across a
host crash.

Scripted contacts (numbers in the fictional 555-01xx range):

=============  ========  ==============================================================
number         name      behaviour
=============  ========  ==============================================================
+15550100      Ana       answers every text a moment later; reports delivery
+15550101      Bo        delivery reports arrive late (5 s)
+15550102      Carrier   every send fails: the carrier refuses the number
+15550103      Dee       writes first now and then (every ``chatty_every`` seconds)
+15550104      Eli       the first two attempts fail transiently, then it works
+15550105      Fay       an iPhone: reacts to every text with a tapback, ``Loved “…”``
anything else            delivered after a second
=============  ========  ==============================================================
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import itertools
import json
import os
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path

from textport.errors import TransportError
from textport.transports.base import Capabilities, Incoming, Sink, Transport

ANA, BO, CARRIER, DEE, ELI = "+15550100", "+15550101", "+15550102", "+15550103", "+15550104"
FAY = "+15550105"
CONTACTS = {ANA: "Ana", BO: "Bo", CARRIER: "Carrier test", DEE: "Dee", ELI: "Eli", FAY: "Fay"}
REFUSED_REASON = "The carrier refused this number: it cannot receive texts (error 21610)."
DEE_LINES = (
    "Are we still on for Saturday?",
    "Just landed ✈️",
    "Can you send me the address?",
    "Running 10 min late, sorry!",
    "Did you see the game last night?",
)


@dataclass
class SimSettings:
    """Timings in seconds, divided by ``speed`` (tests run the carrier faster)."""

    speed: float = 1.0
    reply_after: float = 1.5
    deliver_after: float = 1.0
    late_deliver_after: float = 5.0
    chatty_every: float = 0.0
    """How often Dee writes first; 0 = never."""


class SimCarrier(Transport):
    name = "sim"
    capabilities = Capabilities(
        delivery_reports=True, mms=False, max_parts=10, dual_sim=False, incoming="events"
    )

    def __init__(
        self,
        folder: Path,
        settings: SimSettings | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._folder = folder
        self._settings = settings or SimSettings()
        self._clock = clock
        self._sink: Sink | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._attempts: dict[tuple[str, str], int] = {}
        folder.mkdir(parents=True, exist_ok=True)
        self._log = folder / "submitted.jsonl"
        self._refs = itertools.count(self._count_submitted() + 1)

    def _count_submitted(self) -> int:
        if not self._log.exists():
            return 0
        return sum(1 for _ in self._log.open("rb"))

    def submitted(self) -> list[dict[str, object]]:
        """Every text the network accepted, in order (for tests and the demo)."""
        if not self._log.exists():
            return []
        return [json.loads(line) for line in self._log.read_text().splitlines() if line]

    async def start(self, sink: Sink) -> None:
        self._sink = sink
        if self._settings.chatty_every > 0:
            self._spawn(self._chatty())

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._sink = None

    async def submit(self, recipients: list[str], body: str) -> str:
        for number in recipients:
            if number == CARRIER:
                raise TransportError(REFUSED_REASON, permanent=True)
            if number == ELI:
                key = (number, body)
                self._attempts[key] = self._attempts.get(key, 0) + 1
                if self._attempts[key] <= 2:
                    raise TransportError("No network coverage right now (simulated).")
        ref = f"sim-{next(self._refs)}"
        record = {"ref": ref, "to": recipients, "body": body, "at": int(self._clock() * 1000)}
        with self._log.open("a") as log:
            log.write(json.dumps(record, ensure_ascii=False) + "\n")
            log.flush()
            os.fsync(log.fileno())
        for number in recipients:
            late = number == BO
            self._later(
                self._settings.late_deliver_after if late else self._settings.deliver_after,
                lambda: self._report(ref),
            )
            if number == ANA:
                self._later(
                    self._settings.reply_after, functools.partial(self._reply, number, body)
                )
            if number == FAY:
                self._later(
                    self._settings.reply_after, functools.partial(self._tapback, number, body)
                )
        return ref

    def incoming_from(self, sender: str, body: str) -> None:
        """Make ``sender`` text the host now (tests and the demo)."""
        if self._sink is not None:
            now = int(self._clock() * 1000)
            source = f"sim-in-{now}-{os.urandom(4).hex()}"
            self._sink.incoming(Incoming(sender, body, now, source, CONTACTS.get(sender)))

    def _reply(self, sender: str, body: str) -> None:
        self.incoming_from(sender, f"Got it: “{_quoted(body)}”")

    def _tapback(self, sender: str, body: str) -> None:
        """What an iPhone sends over SMS when its user taps a heart on ``body``."""
        self.incoming_from(sender, f"Loved “{_quoted(body)}”")

    def _report(self, ref: str) -> None:
        if self._sink is not None:
            self._sink.report(ref, "delivered", None)

    def _later(self, seconds: float, action: Callable[[], None]) -> None:
        async def run() -> None:
            await asyncio.sleep(seconds / self._settings.speed)
            action()

        self._spawn(run())

    def _spawn(self, coro: Coroutine[object, object, None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _chatty(self) -> None:
        for line in itertools.cycle(DEE_LINES):
            await asyncio.sleep(self._settings.chatty_every / self._settings.speed)
            self.incoming_from(DEE, line)


def _quoted(body: str) -> str:
    """``body`` as a reply quotes it: cut to 40 characters with "…"."""
    return body if len(body) <= 40 else body[:39] + "…"
