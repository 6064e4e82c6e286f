"""The outbox worker: hands queued texts to the transport, at most once each.

A text is claimed (committed as ``submitting``) before it is handed over; transient
transport errors put it back with exponential backoff and full jitter; permanent errors
and expiry fail it with a reason a person can read. A text found claimed at start-up is
``unknown`` (see Store.recover): SMS has no idempotency key, so it is never resent
silently.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable

from textport.errors import TransportError
from textport.store.store import OutboxItem, Store
from textport.transports.base import Transport

log = logging.getLogger(__name__)

BACKOFF_FIRST = 2.0
BACKOFF_CAP = 600.0


def backoff(attempts: int, rng: random.Random, first: float = BACKOFF_FIRST) -> float:
    """Full jitter: uniform in [0, min(cap, first * 2**(attempts-1))] seconds."""
    return rng.uniform(0, min(BACKOFF_CAP, first * 2 ** (attempts - 1)))


class OutboxWorker:
    def __init__(
        self,
        store: Store,
        transport: Transport,
        changed: Callable[[], None],
        rng: random.Random | None = None,
        backoff_first: float = BACKOFF_FIRST,
    ) -> None:
        self._store = store
        self._transport = transport
        self._changed = changed
        self._rng = rng or random.SystemRandom()
        self._backoff_first = backoff_first
        self._wake = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        while True:
            self._wake.clear()
            items = self._store.claim_due()
            for item in items:
                await self._submit(item)
            if items:
                continue
            due = self._store.next_due_ms()
            timeout = None if due is None else max(0.0, (due - self._store.now_ms()) / 1000)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout)

    async def _submit(self, item: OutboxItem) -> None:
        if self._store.now_ms() > item.expires_at:
            self._store.finish(
                item.msg_id, "failed", "Not sent: it expired before the network took it."
            )
            self._changed()
            return
        try:
            ref = await self._transport.submit(item.recipients, item.body)
        except TransportError as exc:
            if exc.permanent:
                self._store.finish(item.msg_id, "failed", exc.message)
            else:
                delay = backoff(item.attempts, self._rng, self._backoff_first)
                log.info("text %d: transient error, retrying in %.1f s", item.msg_id, delay)
                self._store.retry_later(item.msg_id, self._store.now_ms() + int(delay * 1000))
        else:
            self._store.finish(item.msg_id, "sent", carrier_ref=ref)
        self._changed()
