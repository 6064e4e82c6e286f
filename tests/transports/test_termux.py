"""The Termux:API transport against fake ``termux-sms-list`` and ``termux-sms-send``.

Android cannot run here, so these tests run the transport's real subprocesses against
executables that :mod:`tests.transports.termux_phone` writes: they follow Termux:API's
documented format exactly (flags, JSON fields and their order, newest-first paging
printed oldest first, trimming, the permission error), as the notes in
../shared/notes/sms-sources.md §3 record it from termux-api and termux-api-package.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import os
import random
import time
from pathlib import Path
from typing import Any

import pytest

from tests.transports.termux_phone import FakePhone
from textport.errors import ConfigError, TransportError
from textport.host.outbox import OutboxWorker
from textport.store.db import connect
from textport.store.store import Store
from textport.transports import config
from textport.transports.base import Incoming, ReportState
from textport.transports.termux import TermuxSettings, TermuxTransport
from textport.transports.termux.listing import parse_listing, received_ms

ANA, BO = "+15550100", "+447700900123"
AT = dt.datetime(2026, 3, 1, 12, 0, 0)
AT_MS = int(AT.timestamp() * 1000)
NOW = 1_790_000_000.0


class Sink:
    def __init__(self) -> None:
        self.texts: list[Incoming] = []
        self.fail = False

    def incoming(self, sms: Incoming) -> None:
        if self.fail:
            raise OSError("disk full")
        self.texts.append(sms)

    def report(self, carrier_ref: str, state: ReportState, reason: str | None) -> None:
        raise AssertionError("Termux:API has no delivery reports")


@pytest.fixture
def phone(tmp_path: Path) -> FakePhone:
    return FakePhone(tmp_path / "phone")


def run(transport: TermuxTransport, *steps: Any) -> Sink:
    """Start ``transport``, then for each step: call it (a change on the phone) or, for
    ``poll``, run one round; stop it at the end."""

    async def scenario() -> Sink:
        sink = Sink()
        await transport.start(sink)
        try:
            for step in steps:
                if step == "poll":
                    await transport.poll()
                else:
                    step()
        finally:
            await transport.stop()
        return sink

    return asyncio.run(scenario())


# ------------------------------------------------------------ receiving


def test_a_text_that_arrives_is_handed_over_as_the_phone_lists_it(phone: FakePhone) -> None:
    phone.receive(ANA, "from before textport", AT - dt.timedelta(hours=1))
    transport = phone.transport(poll_interval=3600)

    sink = run(
        transport,
        "poll",
        lambda: phone.receive("07700 900124", "Hello from Android", AT, name="Bo"),
        "poll",
        "poll",
    )
    (sms,) = sink.texts
    assert (sms.sender, sms.body, sms.at_ms, sms.name) == (
        "+447700900124",
        "Hello from Android",
        AT_MS,
        "Bo",
    )
    assert sms.source_id.startswith("termux:2:")
    assert (sms.parts, sms.partial) == (1, False)
    assert {tuple(call["args"]) for call in phone.calls("list")} == {
        ("-t", "inbox", "-l", "1", "-o", "0"),  # the start's check
        ("-t", "inbox", "-l", "100", "-o", "0"),
    }
    caps = transport.capabilities
    assert (caps.delivery_reports, caps.mms, caps.dual_sim, caps.incoming) == (
        False,
        False,
        False,
        "polling",
    )


def test_backfill_takes_the_newest_texts_at_the_first_start_only(phone: FakePhone) -> None:
    for n in range(5):
        phone.receive(ANA, f"old {n}", AT + dt.timedelta(minutes=n))
    sink = run(phone.transport(backfill=2, poll_interval=3600), "poll")
    assert [sms.body for sms in sink.texts] == ["old 3", "old 4"]
    again = run(phone.transport(backfill=2, poll_interval=3600), "poll")
    assert again.texts == [], "a restart is not a first start"


def test_backfill_the_store_refuses_is_offered_again(phone: FakePhone) -> None:
    for n in range(4):
        phone.receive(ANA, f"old {n}", AT + dt.timedelta(minutes=n))

    async def scenario() -> Sink:
        sink = Sink()
        sink.fail = True
        transport = phone.transport(backfill=2, poll_interval=3600)
        await transport.start(sink)
        try:
            with contextlib.suppress(OSError):
                await transport.poll()  # the first round (or the task's, which failed too)
            sink.fail = False
            await transport.poll()
            await transport.poll()
        finally:
            await transport.stop()
        return sink

    assert [sms.body for sms in asyncio.run(scenario()).texts] == ["old 2", "old 3"]


def test_many_texts_between_rounds_are_paged_and_handed_over_oldest_first(
    phone: FakePhone,
) -> None:
    phone.receive(ANA, "seen at the first start", AT)
    bodies = [f"text {n}" for n in range(35)]

    def arrive() -> None:
        for n, body in enumerate(bodies):
            phone.receive(BO, body, AT + dt.timedelta(seconds=n + 1))

    sink = run(phone.transport(list_limit=10, poll_interval=3600), "poll", arrive, "poll")
    assert [sms.body for sms in sink.texts] == bodies
    offsets = ",".join(call["args"][-1] for call in phone.calls("list"))
    assert ",0,10,20,30," in f",{offsets},", "one round paged back to a text seen before"
    assert "40" not in offsets.split(",")


def test_a_flood_of_500_is_handed_over_completely_each_once(phone: FakePhone) -> None:
    bodies = [f"flood {n}" + (" ✓" * 40 if n % 7 == 0 else "") for n in range(500)]

    def flood() -> None:
        phone.receive_many([(f"+4477009001{n % 50:02d}", body) for n, body in enumerate(bodies)])

    sink = run(phone.transport(poll_interval=3600), "poll", flood, "poll", "poll")
    assert [sms.body for sms in sink.texts] == bodies
    assert len({sms.source_id for sms in sink.texts}) == 500


def test_a_restart_hands_over_what_came_while_stopped_and_nothing_twice(
    phone: FakePhone, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    first = run(
        phone.transport(data, poll_interval=3600),
        "poll",
        lambda: phone.receive_many([(ANA, f"before {n}") for n in range(3)]),
        "poll",
    )
    assert [sms.body for sms in first.texts] == [f"before {n}" for n in range(3)]
    saved = (data / "termux-seen.json").read_bytes()
    assert (data / "termux-seen.json").stat().st_mode & 0o777 == 0o600

    # Over a page, and dated before the texts already handed over (as a phone whose
    # clock jumped back, or an SMS app that dates texts by the network's time stamp).
    while_stopped = [(BO, f"while stopped {n}") for n in range(150)]
    phone.receive_many(while_stopped, AT)
    second = run(phone.transport(data, poll_interval=3600), "poll")
    assert [sms.body for sms in second.texts] == [body for _, body in while_stopped]

    # A crash after the store's commit and before the file was written: the texts are
    # handed over again with the same source_id, which the store keeps once.
    (data / "termux-seen.json").write_bytes(saved)
    again = run(phone.transport(data, poll_interval=3600), "poll")
    assert [sms.source_id for sms in again.texts] == [sms.source_id for sms in second.texts]


def test_an_id_android_reuses_is_a_new_text(phone: FakePhone) -> None:
    """SQLite gives a new row the largest id plus one, so deleting the newest text frees
    its ``_id`` for the next one."""
    phone.receive(ANA, "first", AT)

    def delete_newest_then_receive() -> None:
        rows = json.loads((phone.folder / "inbox.json").read_text())
        (phone.folder / "inbox.json").write_text(json.dumps(rows[:-1]))
        phone.receive(ANA, "second", AT + dt.timedelta(minutes=1))

    sink = run(
        phone.transport(poll_interval=3600),
        "poll",
        lambda: phone.receive(ANA, "will be deleted", AT),
        "poll",
        delete_newest_then_receive,
        "poll",
    )
    assert [sms.body for sms in sink.texts] == ["will be deleted", "second"]
    assert sink.texts[0].source_id.split(":")[1] == sink.texts[1].source_id.split(":")[1]
    assert sink.texts[0].source_id != sink.texts[1].source_id


def test_missing_and_extra_fields_are_tolerated(phone: FakePhone) -> None:
    def odd_rows() -> None:
        phone.add_row(_id=7, type=1, address="Bank", body="alphanumeric sender", date=AT_MS)
        phone.add_row(
            type=1, address=ANA, body="no _id, no thread, no date", date=AT_MS, drop=["received"]
        )
        phone.add_row(_id=9, type=1, body=None, date=AT_MS, extra={"sub_id": 2, "x": [1]})
        phone.add_row(
            _id=10, type=1, address=BO, body="listed as sent", date=AT_MS, extra={"type": "sent"}
        )
        phone.add_row(_id=11, type=1, address=BO, body="no address", date=AT_MS, drop=["address"])

    transport = TermuxTransport(phone.settings(poll_interval=3600), phone.folder / "s", lambda: NOW)
    sink = run(transport, "poll", odd_rows, "poll", "poll")
    by_body = {sms.body: sms for sms in sink.texts}
    assert set(by_body) == {"alphanumeric sender", "no _id, no thread, no date", "", "no address"}
    assert by_body["no address"].sender == BO, "number, the deprecated copy, stands in"
    assert by_body["alphanumeric sender"].sender == "Bank"
    assert by_body["no _id, no thread, no date"].at_ms == int(NOW * 1000)
    assert by_body["no _id, no thread, no date"].source_id.startswith("termux:-:")
    assert by_body[""].sender == "Unknown"


def test_a_round_the_store_refuses_is_offered_again(phone: FakePhone) -> None:
    async def scenario() -> Sink:
        sink = Sink()
        transport = phone.transport(poll_interval=3600)
        await transport.start(sink)
        try:
            await transport.poll()
            phone.receive_many([(ANA, "one"), (BO, "two")], AT)
            sink.fail = True
            with pytest.raises(OSError, match="disk full"):
                await transport.poll()
            sink.fail = False
            await transport.poll()
            await transport.poll()
        finally:
            await transport.stop()
        return sink

    assert [sms.body for sms in asyncio.run(scenario()).texts] == ["one", "two"]


def test_the_polling_task_hands_texts_over_by_itself(phone: FakePhone) -> None:
    async def scenario() -> Sink:
        sink = Sink()
        transport = phone.transport(poll_interval=0.05)
        await transport.start(sink)
        try:
            await asyncio.sleep(0.3)
            phone.receive(ANA, "polled", AT)
            for _ in range(200):
                if sink.texts:
                    break
                await asyncio.sleep(0.05)
        finally:
            await transport.stop()
        return sink

    assert [sms.body for sms in asyncio.run(scenario()).texts] == ["polled"]


# ------------------------------------------------------------ errors listing


@pytest.mark.parametrize(
    ("fault", "match"),
    [
        ("permission", r"android\.permission\.READ_SMS\. Grant Termux:API its SMS"),
        ({"print": "termux-api: Activity not started"}, "did not print a list of texts but"),
        ({"print": ""}, "printed nothing: is the Termux:API app installed"),
        ({"print": '{"0": []}'}, "JSON that is not a list"),
        ({"exit": 1, "say": "Error: connection refused"}, r"failed \(exit 1\)"),
        ({"exit": 1, "say": "termux-sms-list: illegal option -t"}, "pkg upgrade termux-api"),
        ("hang", "did not answer within 1 s"),
    ],
)
def test_a_listing_that_fails_says_what_to_do(phone: FakePhone, fault: Any, match: str) -> None:
    phone.fail("list", fault)
    transport = phone.transport(timeout=1)
    started = time.monotonic()
    with pytest.raises(TransportError, match=match) as caught:
        run(transport)
    assert caught.value.permanent == ("illegal" in str(fault)), "permanent: wrong flags"
    assert time.monotonic() - started < 8
    if fault == "hang":
        pid = int((phone.folder / "hanging.pid").read_text())
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)  # killed with its process group, and reaped


def test_termux_api_not_installed(phone: FakePhone, tmp_path: Path) -> None:
    transport = phone.transport(list_command=str(tmp_path / "nowhere" / "termux-sms-list"))
    with pytest.raises(TransportError, match=r"`pkg install termux-api`.*Termux:API app"):
        run(transport)


def test_a_damaged_state_file_stops_the_start(phone: FakePhone) -> None:
    (phone.folder / "termux-seen.json").write_text("{not json")
    with pytest.raises(TransportError, match="is damaged: delete it"):
        run(phone.transport())


# ------------------------------------------------------------ sending


def test_send_passes_the_documented_arguments_and_the_body_on_stdin(phone: FakePhone) -> None:
    transport = phone.transport(sim_slot=1)
    assert transport.capabilities.dual_sim

    async def send() -> str:
        return await transport.submit([ANA, BO], "  Hello 🙂 {see} you\n")

    ref = asyncio.run(send())
    assert ref.startswith("termux:")
    (call,) = phone.calls("send")
    assert call["args"] == ["-n", f"{ANA},{BO}", "-s", "1"], "no text among the arguments"
    assert call["stdin"] == "Hello 🙂 {see} you", "trimmed, as Termux:API would"
    assert phone.sent() == [{"recipients": [ANA, BO], "slot": 1, "text": "Hello 🙂 {see} you"}]

    plain = phone.transport()
    asyncio.run(plain.submit([ANA], "no slot"))
    assert phone.calls("send")[-1]["args"] == ["-n", ANA]
    assert not plain.capabilities.dual_sim


def test_transient_errors_retry_then_succeed(phone: FakePhone, tmp_path: Path) -> None:
    phone.fail("send", {"exit": 1, "say": "Error: connection refused"}, "permission")
    store, (msg_id,) = asyncio.run(_outbox(tmp_path, phone, [(ANA, "try again")], ("sent",)))
    message = store.message(msg_id)
    assert (message.state, message.reason) == ("sent", None)
    assert len(phone.calls("send")) == 3
    assert phone.sent() == [{"recipients": [ANA], "slot": None, "text": "try again"}]


def test_permanent_errors_fail_with_a_readable_reason(phone: FakePhone, tmp_path: Path) -> None:
    # An old termux-sms-send, from before it had -s.
    phone.fail("send", {"exit": 1, "say": "termux-sms-send: illegal option -s"})
    store, (msg_id,) = asyncio.run(
        _outbox(tmp_path, phone, [(ANA, "nope")], ("failed",), sim_slot=0)
    )
    message = store.message(msg_id)
    assert message.state == "failed"
    assert message.reason == (
        "termux-sms-send refused how textport called it ('termux-sms-send: illegal option "
        "-s'): update termux-api (`pkg upgrade termux-api`)."
    )
    assert len(phone.calls("send")) == 1
    assert phone.sent() == []


@pytest.mark.parametrize(
    ("recipients", "body", "match"),
    [
        (["Bank"], "hi", "only to phone numbers"),
        ([ANA, "+1 555"], "hi", "only to phone numbers"),
        ([], "hi", "needs a recipient"),
        ([ANA], " \n\t ", "only spaces"),
        ([ANA], "x" * 400, "needs 3 SMS; this phone is set to send at most 2"),
    ],
)
def test_texts_termux_cannot_send_are_refused_before_any_call(
    phone: FakePhone, recipients: list[str], body: str, match: str
) -> None:
    transport = phone.transport(max_parts=2)
    with pytest.raises(TransportError, match=match) as caught:
        asyncio.run(transport.submit(recipients, body))
    assert caught.value.permanent
    assert phone.calls("send") == []


def test_a_send_that_hangs_is_killed_and_never_retried(phone: FakePhone) -> None:
    phone.fail("send", "hang")
    with pytest.raises(TransportError, match="may or may not have sent it") as caught:
        asyncio.run(phone.transport(timeout=1).submit([ANA], "stuck"))
    assert caught.value.permanent, "the app may have sent it: a retry could send it twice"
    pid = int((phone.folder / "hanging.pid").read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_a_send_that_answers_something_is_not_taken_as_sent(phone: FakePhone) -> None:
    phone.fail("send", {"print": "Sending SMS is no longer permitted by Google"})
    with pytest.raises(TransportError, match="answered 'Sending SMS is no longer") as caught:
        asyncio.run(phone.transport().submit([ANA], "hi"))
    assert caught.value.permanent


def test_logs_show_no_bodies_and_no_numbers(
    phone: FakePhone, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    phone.receive(BO, "secret old", AT)
    phone.fail("list", None, None, {"exit": 1, "say": "Error: busy"})

    async def scenario() -> None:
        transport = phone.transport(poll_interval=0.05)
        await transport.start(Sink())
        try:
            phone.receive(ANA, "secret new", AT)
            await asyncio.sleep(0.5)
            await transport.submit([BO], "secret sent")
        finally:
            await transport.stop()

    asyncio.run(scenario())
    assert "reading received texts failed" in caplog.text, "the log is captured"
    for secret in ("secret", "5550100", "7700900123"):
        assert secret not in caplog.text


# ------------------------------------------------------------ settings and parsing


def test_no_table_is_the_defaults(tmp_path: Path) -> None:
    transport = config.open_transport("termux", config.Config(region="GB"), data=tmp_path)
    assert isinstance(transport, TermuxTransport)
    assert transport.settings == TermuxSettings(region="GB")
    assert transport.capabilities.max_parts == 10


@pytest.mark.parametrize(
    ("table", "match"),
    [
        ({"device": "/dev/x"}, "no setting 'device'"),
        ({"sim_slot": "1"}, "wrong type"),
        ({"sim_slot": True}, "wrong type"),
        ({"sim_slot": 8}, "sim_slot is 0 to 7"),
        ({"list_limit": 0}, "list_limit is 1 to 1000"),
        ({"poll_interval": 0}, "poll_interval"),
        ({"timeout": 0.1}, "timeout is 0.5 to 600"),
        ({"backfill": -1}, "backfill"),
        ({"max_parts": 256}, "max_parts"),
        ({"send_command": " "}, "send_command is empty"),
    ],
)
def test_bad_settings(table: dict[str, Any], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        TermuxSettings.from_table(table)


def test_the_documented_example_parses() -> None:
    output = (
        b'[{"threadid": 12, "type": "inbox", "read": true, "sender": "Alice",\n'
        b' "address": "+15551234", "number": "+15551234",\n'
        b' "received": "2025-01-26 13:45:10", "body": "hi", "_id": 4711}]'
    )
    (entry,) = parse_listing(output)
    assert (entry.id, entry.kind, entry.address, entry.body, entry.name) == (
        4711,
        "inbox",
        "+15551234",
        "hi",
        "Alice",
    )
    assert received_ms(entry.received, int(NOW * 1000)) == int(
        dt.datetime(2025, 1, 26, 13, 45, 10).timestamp() * 1000
    )
    assert received_ms("1970-01-01 00:00:00", 5) == 5, "implausible: now"
    assert parse_listing(b"[1, null, []]") == [], "entries that are not objects are skipped"
    with pytest.raises(TransportError, match="cut short or damaged"):
        parse_listing(b"[" * 100_000)
    with pytest.raises(TransportError, match="cut short or damaged") as caught:
        parse_listing(b'[{"address": "+15550100", "body": "a secret", "_id"')
    assert "5550100" not in caught.value.message, "a broken listing is not quoted"


async def _outbox(
    tmp_path: Path,
    phone: FakePhone,
    texts: list[tuple[str, str]],
    until: tuple[str, ...],
    **settings: Any,
) -> tuple[Store, list[int]]:
    store = Store(connect(tmp_path / "t.db"), time.time)
    transport = phone.transport(poll_interval=3600, **settings)
    await transport.start(Sink())
    worker = OutboxWorker(store, transport, lambda: None, random.Random(3), backoff_first=0.01)
    ids = [store.add_outgoing(None, None, [to], body, 3600).msg_id for to, body in texts]
    task = asyncio.create_task(worker.run())
    worker.wake()
    try:
        for _ in range(500):
            if all(store.message(i).state in until for i in ids):
                break
            await asyncio.sleep(0.01)
    finally:
        task.cancel()
        await transport.stop()
    return store, ids
