"""Subscription: items in order, a bounded queue, and an end that says why."""

from __future__ import annotations

import asyncio

import pytest

from textport.client.connection import SessionClosedError
from textport.client.events import Subscription
from textport.errors import ErrorCode, ProtocolError
from textport.protocol import messages as wire

EVENTS = [wire.StatusEvent(seq=n, id=n, state="sent", reason=None, at=n) for n in range(1, 5)]


async def _drain(subscription: Subscription) -> list[wire.Event | wire.Reset]:
    return [item async for item in subscription]


def test_items_come_in_order_and_a_clean_end_stops_the_iteration() -> None:
    closed: list[Subscription] = []
    subscription = Subscription(closed.append, limit=10)
    for event in EVENTS:
        subscription.put(event)
    subscription.put(wire.Reset(seq=9))
    subscription.end(None)
    assert asyncio.run(_drain(subscription)) == [*EVENTS, wire.Reset(seq=9)]
    subscription.put(EVENTS[0])  # after the end: dropped
    assert asyncio.run(_drain(subscription)) == []
    assert closed == []


def test_a_reader_that_falls_behind_gets_what_fitted_then_an_error() -> None:
    subscription = Subscription(lambda _: None, limit=2)
    for event in EVENTS:
        subscription.put(event)

    async def read() -> list[wire.Event | wire.Reset]:
        got = [await anext(subscription), await anext(subscription)]
        with pytest.raises(ProtocolError) as behind:
            await anext(subscription)
        assert behind.value.code == ErrorCode.TOO_LARGE
        return got

    assert asyncio.run(read()) == EVENTS[:2]


def test_the_end_of_the_session_reaches_a_waiting_reader() -> None:
    async def scenario() -> None:
        subscription = Subscription(lambda _: None, limit=2)
        waiting = asyncio.ensure_future(anext(subscription))
        await asyncio.sleep(0)
        subscription.end(SessionClosedError("gone", ErrorCode.REVOKED))
        with pytest.raises(SessionClosedError):
            await waiting

    asyncio.run(scenario())


def test_closing_forgets_the_queue_and_unsubscribes() -> None:
    closed: list[Subscription] = []
    with Subscription(closed.append, limit=2) as subscription:
        subscription.put(EVENTS[0])
    assert closed == [subscription]
    assert asyncio.run(_drain(subscription)) == []
    with pytest.raises(ValueError, match="at least one"):
        Subscription(closed.append, limit=0)
