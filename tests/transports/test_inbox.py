"""The shared inbox: the host commits before anything is deleted, whatever fails."""

from __future__ import annotations

import asyncio

import pytest

from textport.errors import StoreError, TransportError
from textport.transports.base import Incoming, ReportState
from textport.transports.inbox import Inbox, Reading, StatusReport
from textport.transports.reassembly import Part, Reassembler

T0 = 1_790_000_000_000


class FakeDevice:
    def __init__(self, journal: list[str]) -> None:
        self.stored: dict[str, Part[str] | StatusReport[str]] = {}
        self.journal = journal
        self.failing_deletes = 0

    def put(self, item: Part[str] | StatusReport[str]) -> None:
        self.stored[item.handle] = item

    async def read(self) -> Reading[str]:
        parts = [item for item in self.stored.values() if isinstance(item, Part)]
        reports = [item for item in self.stored.values() if isinstance(item, StatusReport)]
        return Reading(parts, reports)

    async def delete(self, handle: str) -> None:
        if self.failing_deletes:
            self.failing_deletes -= 1
            raise TransportError("the modem did not answer")
        self.journal.append(f"delete {handle}")
        self.stored.pop(handle, None)


class Store:
    def __init__(self, journal: list[str]) -> None:
        self.journal = journal
        self.texts: dict[str, Incoming] = {}
        self.broken = False

    def incoming(self, sms: Incoming) -> None:
        if self.broken:
            raise StoreError("disk full")
        self.journal.append(f"commit {sms.body}")
        self.texts.setdefault(sms.source_id, sms)

    def report(self, carrier_ref: str, state: ReportState, reason: str | None) -> None:
        self.journal.append(f"report {carrier_ref}")


def make(timeout_ms: int = 60_000) -> tuple[FakeDevice, Store, Inbox[str], list[str], list[int]]:
    journal: list[str] = []
    clock = [T0]
    device, store = FakeDevice(journal), Store(journal)
    inbox = Inbox(
        device,
        prefix="fake",
        on_report=lambda _report: None,
        reassembler=Reassembler(timeout_ms),
        clock_ms=lambda: clock[0],
    )
    return device, store, inbox, journal, clock


def long_text(device: FakeDevice, ref: int, body: str, total: int, tag: str) -> None:
    size = -(-len(body) // total)
    for number in range(1, total + 1):
        chunk = body[(number - 1) * size : number * size]
        device.put(Part("+15550100", chunk, T0, f"{tag}{number}", ref, total, number))


def test_commit_then_delete_every_part() -> None:
    device, store, inbox, journal, _clock = make()
    device.put(Part("+15550100", "short", T0, "s"))
    long_text(device, 1, "aaabbbccc", 3, "l")
    assert asyncio.run(inbox.poll(store)) == 2
    assert journal == [
        "commit short",
        "delete s",
        "commit aaabbbccc",
        "delete l1",
        "delete l2",
        "delete l3",
    ]
    assert device.stored == {}


def test_incomplete_text_waits_on_the_device_then_comes_in_partial() -> None:
    device, store, inbox, journal, clock = make(timeout_ms=1000)
    long_text(device, 1, "aaabbbccc", 3, "l")
    del device.stored["l2"]
    assert asyncio.run(inbox.poll(store)) == 0
    assert asyncio.run(inbox.poll(store)) == 0, "the same parts read again"
    assert sorted(device.stored) == ["l1", "l3"], "nothing deleted while it waits"
    clock[0] += 1000
    assert asyncio.run(inbox.poll(store)) == 1
    (text,) = store.texts.values()
    assert (text.body, text.missing, text.parts, text.partial) == ("aaaccc", (2,), 3, True)
    assert journal == ["commit aaaccc", "delete l1", "delete l3"]


def test_a_store_failure_deletes_nothing_and_the_text_comes_again() -> None:
    device, store, inbox, journal, _clock = make()
    long_text(device, 1, "aaabbb", 2, "l")
    store.broken = True
    with pytest.raises(StoreError):
        asyncio.run(inbox.poll(store))
    assert sorted(device.stored) == ["l1", "l2"]
    store.broken = False
    assert asyncio.run(inbox.poll(store)) == 1
    assert journal == ["commit aaabbb", "delete l1", "delete l2"]


def test_a_failed_delete_is_retried_without_a_second_hand_over() -> None:
    device, store, inbox, journal, _clock = make()
    device.put(Part("+15550100", "hi", T0, "s"))
    device.failing_deletes = 1
    assert asyncio.run(inbox.poll(store)) == 1
    assert "s" in device.stored
    assert asyncio.run(inbox.poll(store)) == 0, "read again but not handed over again"
    assert journal == ["commit hi", "delete s"]
    assert device.stored == {}


def test_a_crash_between_commit_and_delete_stores_the_text_once() -> None:
    device, store, inbox, journal, _clock = make()
    long_text(device, 4, "aaabbb", 2, "l")
    device.failing_deletes = 2  # the host "dies" before it could delete
    asyncio.run(inbox.poll(store))
    restarted = Inbox(device, prefix="fake", on_report=lambda _r: None, clock_ms=lambda: T0)
    asyncio.run(restarted.poll(store))
    assert journal == ["commit aaabbb", "commit aaabbb", "delete l1", "delete l2"]
    assert len(store.texts) == 1, "the same source_id: the store keeps it once"


def test_status_reports_are_handed_over_once_then_deleted() -> None:
    journal: list[str] = []
    device, store = FakeDevice(journal), Store(journal)
    reports: list[int] = []
    inbox = Inbox(
        device, prefix="fake", on_report=lambda r: reports.append(r.reference), clock_ms=lambda: T0
    )
    device.put(StatusReport("+15550100", 42, 0, "r"))
    device.failing_deletes = 1
    asyncio.run(inbox.poll(store))
    assert "r" in device.stored
    asyncio.run(inbox.poll(store))
    assert reports == [42], "read twice, reported once"
    assert device.stored == {}


def test_run_keeps_polling_after_a_device_error() -> None:
    device, store, inbox, _journal, _clock = make()
    calls = 0
    read = device.read

    async def flaky() -> Reading[str]:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise TransportError("unplugged")
        return await read()

    device.read = flaky  # type: ignore[method-assign]
    device.put(Part("+15550100", "hi", T0, "s"))

    async def scenario() -> None:
        task = asyncio.create_task(inbox.run(store, 0.01))
        for _ in range(200):
            await asyncio.sleep(0.01)
            if store.texts:
                break
        task.cancel()

    asyncio.run(scenario())
    assert [sms.body for sms in store.texts.values()] == ["hi"]


def test_run_keeps_polling_after_a_store_error() -> None:
    device, store, inbox, _journal, _clock = make()
    device.put(Part("+15550100", "hi", T0, "s"))
    store.broken = True

    async def scenario() -> None:
        task = asyncio.create_task(inbox.run(store, 0.01))
        await asyncio.sleep(0.05)
        assert "s" in device.stored, "not stored, so not deleted"
        store.broken = False
        for _ in range(200):
            await asyncio.sleep(0.01)
            if not device.stored:
                break
        task.cancel()

    asyncio.run(scenario())
    assert [sms.body for sms in store.texts.values()] == ["hi"]
