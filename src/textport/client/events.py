"""Live changes for one reader: a bounded queue that ends with its session.

A :class:`Subscription` gets every event a synced device applies, in ``seq`` order, and
a :class:`~textport.protocol.messages.Reset` when the host could not replay what was
missed (drop what you cached and page again). It holds at most ``limit`` unread items:
a reader that falls further behind gets an error rather than an ever-growing queue, and
syncs again from the cursor it has.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from types import TracebackType
from typing import Final

from textport.client.cursor import LiveItem
from textport.errors import ErrorCode, ProtocolError, TextportError

DEFAULT_LIMIT: Final = 10_000


class Subscription:
    """``async for item in subscription``; ``with`` (or :meth:`close`) to stop listening."""

    def __init__(self, on_close: Callable[[Subscription], None], limit: int) -> None:
        if limit < 1:
            raise ValueError("a subscription holds at least one item")
        self._on_close = on_close
        self._limit = limit
        self._items: deque[LiveItem] = deque()
        self._ready = asyncio.Event()
        self._end: TextportError | None = None
        self._closed = False

    def put(self, item: LiveItem) -> None:
        if self._closed or self._end is not None:
            return
        if len(self._items) >= self._limit:
            self.end(
                ProtocolError(
                    f"more than {self._limit} events were waiting to be read; sync again",
                    ErrorCode.TOO_LARGE,
                )
            )
            return
        self._items.append(item)
        self._ready.set()

    def end(self, error: TextportError | None) -> None:
        """No more items: the session ended (with ``error``) or the device was closed."""
        if self._end is None and not self._closed:
            self._end = error
            self._closed = error is None
            self._ready.set()

    def close(self) -> None:
        self._closed = True
        self._items.clear()
        self._ready.set()
        self._on_close(self)

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> LiveItem:
        while not self._items:
            if self._end is not None:
                raise self._end
            if self._closed:
                raise StopAsyncIteration
            self._ready.clear()
            await self._ready.wait()
        return self._items.popleft()

    def __enter__(self) -> Subscription:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
