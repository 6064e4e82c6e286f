"""textport.client.Device against a real relay and the host's RelayLink, store and sessions.

Each call returns exactly what the store holds; answers find their call by qid (cmid,
n) while live events arrive between them; a refused request fails only itself; the end
of the session (bye, revocation, the host going away) reaches every waiting call and
subscription; nothing secret reaches the log.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from tests.client.rig import NUMBER, OTHER, PICTURE, client, connected, credentials, history
from tests.host.rig import TIMEOUT, HostRig, assert_clean, log_text, run, running_host, until
from textport.client import Device, RefusedError, SessionClosedError
from textport.client.credentials import Credentials
from textport.errors import ErrorCode, ProtocolError
from textport.protocol import derive
from textport.protocol import messages as wire
from textport.protocol.noise import KeyPair
from textport.store.search import search

CMID = "5e" * 16


async def live(device: Device) -> int:
    """Sync from nothing (a reset, unless the store is empty) and wait until the device
    is live; the cursor."""
    result = await device.sync(0)
    assert result.reset == (result.seq > 0)
    await device.ping()  # the host answered the sync{seq} the device sent after the reset
    return result.seq


def test_connect_names_this_device_and_the_host(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with connected(tmp_path) as (rig, device):
            welcome = device.welcome
            assert welcome.device_id == derive.b64url(device.credentials.device_id)
            assert (welcome.host_name, welcome.seq) == ("Test host", rig.store.latest_seq())
            assert welcome.caps == wire.Capabilities(
                delivery_reports=True, mms=False, max_parts=10, text_ttl_ms=3_600_000
            )
            await device.ping()

    run(scenario)


def test_pages_search_and_attachments_are_what_the_store_holds(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with connected(tmp_path) as (rig, device):
            history(rig)
            result = await device.sync(0)
            assert (result.seq, result.events, result.reset) == (rig.store.latest_seq(), [], True)

            page = await device.conversations()
            assert (page.convs, page.more) == (rig.store.conversations_page(), False)
            first = await device.conversations(limit=2)
            assert (first.convs, first.more) == (rig.store.conversations_page(limit=2), True)
            last = first.convs[-1]
            rest = await device.conversations(before=(last.last_at, last.id), limit=50)
            assert first.convs + rest.convs == page.convs
            assert not rest.more

            conv = next(c.id for c in page.convs if c.peers != [OTHER])
            thread = await device.thread(conv, limit=3)
            assert (thread.conv, thread.msgs, thread.more) == (
                conv,
                rig.store.thread_page(conv, limit=3),
                True,
            )
            oldest = thread.msgs[-1]
            older = await device.thread(conv, before=(oldest.at, oldest.id))
            assert older.msgs == rig.store.thread_page(conv, (oldest.at, oldest.id))
            assert not older.more
            newer = await device.thread(conv, after=(oldest.at, oldest.id))
            assert newer.msgs == thread.msgs[:-1]

            hits = await device.search("dinner", limit=4)
            matches, more = search(rig.store.db, "dinner", limit=4)
            assert [(h.msg_id, h.conv, h.at, h.snippet) for h in hits.hits] == [
                (m.msg_id, m.conv, m.at, m.snippet) for m in matches
            ]
            assert hits.more == more
            assert (await device.search("zebra")).hits == []

            mms = next(c.id for c in page.convs if c.peers == [OTHER])
            (picture,) = (await device.thread(mms)).msgs[0].atts
            assert (picture.type, picture.size) == ("image/png", len(PICTURE))
            assert await device.attachment(picture.id) == PICTURE

    run(scenario)


def test_sync_replays_what_was_missed_then_events_arrive_live(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with connected(tmp_path) as (rig, device):
            history(rig, conversations=1)
            seq = await live(device)
            with device.events() as events:
                rig.store.add_incoming(NUMBER, "first live text", 5_000, "src-1")
                rig.link.push_all()
                expected = rig.store.events_since(seq, 100)
                assert [await anext(events) for _ in expected] == expected
                assert device.cursor == rig.store.latest_seq()

            # A device that was away gets the events after its cursor, in batches.
            other = await client(rig)
            try:
                rig.store.add_incoming(NUMBER, "while it was away", 6_000, "src-2")
                result = await other.sync(seq)
                assert not result.reset
                assert result.events == rig.store.events_since(seq, 100)
                assert result.seq == other.cursor == rig.store.latest_seq()
                again = await other.sync(result.seq)
                assert (again.seq, again.events, again.reset) == (result.seq, [], False)
            finally:
                await other.close()

    run(scenario)


def test_answers_find_their_calls_among_live_events(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def scenario() -> None:
        async with connected(tmp_path) as (rig, device):
            history(rig)
            seq = await live(device)
            convs = [c.id for c in rig.store.conversations_page()]
            arrived: list[str] = []
            connection = device._connection
            assert connection is not None
            receive = connection.receive

            async def tap() -> wire.Message:
                message = await receive()
                arrived.append(str(message.__struct_config__.tag))
                return message

            monkeypatch.setattr(connection, "receive", tap)
            with device.events() as events:
                calls: list[asyncio.Future[wire.ThreadPage | wire.Results | None]] = []
                for n in range(12):
                    conv = convs[n % len(convs)]
                    calls.append(asyncio.ensure_future(device.thread(conv, limit=2)))
                    calls.append(asyncio.ensure_future(device.search("dinner", limit=2)))
                    calls.append(asyncio.ensure_future(device.ping()))
                    await asyncio.sleep(0)
                    rig.store.add_incoming(NUMBER, f"live {n}", 10_000 + n, f"live-{n}")
                    rig.link.push_all()
                sent = asyncio.ensure_future(device.send(NUMBER, "a reply", CMID))
                answers = await asyncio.gather(*calls)
                ack = await sent
                expected = rig.store.events_since(seq, 1000)
                got = [await anext(events) for _ in expected]
            # Events render the store as it is now: compare what each one is about.
            assert [_about(e) for e in got] == [_about(e) for e in expected]
            for n in range(12):
                conv = convs[n % len(convs)]
                thread, hits, pong = answers[3 * n : 3 * n + 3]
                assert isinstance(thread, wire.ThreadPage)
                assert thread.msgs == rig.store.thread_page(conv, limit=2)
                assert isinstance(hits, wire.Results)
                assert [h.msg_id for h in hits.hits] == [
                    m.msg_id for m in search(rig.store.db, "dinner", limit=2)[0]
                ]
                assert pong is None
            assert (ack.cmid, ack.state) == (CMID, "sending")
            assert rig.store.message(ack.msg_id).body == "a reply"
            # Events came between the answers, not only before or after them all.
            first_answer = arrived.index("thread_page")
            last_answer = max(i for i, tag in enumerate(arrived) if tag == "results")
            assert "event" in arrived[first_answer:last_answer]

    run(scenario)


def test_an_unknown_conversation_fails_that_call_and_the_session_goes_on(
    tmp_path: Path,
) -> None:
    async def scenario() -> None:
        async with connected(tmp_path) as (rig, device):
            history(rig, conversations=1)
            with pytest.raises(RefusedError) as refused:
                await device.thread(999_999)
            assert refused.value.code == ErrorCode.BAD_MESSAGE
            assert refused.value.message == "there is no such conversation"
            assert refused.value.ref.isdigit()
            with pytest.raises(RefusedError) as missing:
                await device.attachment(999_999)
            assert missing.value.code == ErrorCode.BAD_MESSAGE
            page = await device.conversations()
            assert page.convs == rig.store.conversations_page()
            await device.ping()

    run(scenario)


def test_a_send_is_acked_once_and_a_resend_gets_the_same_ack(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with connected(tmp_path) as (rig, device):
            ack = await device.send([NUMBER], "on my way", CMID)
            assert (ack.cmid, ack.state, ack.reason) == (CMID, "sending", None)
            assert rig.store.message(ack.msg_id).body == "on my way"
            assert await device.send(NUMBER, "on my way", CMID) == ack
            fresh = await device.send(NUMBER, "a second text")
            assert fresh.msg_id != ack.msg_id
            assert len(fresh.cmid) == 32

    run(scenario)


def test_a_text_the_protocol_refuses_never_leaves(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with connected(tmp_path) as (rig, device):
            seq = rig.store.latest_seq()
            with pytest.raises(ProtocolError) as bad_number:
                await device.send("not a number", "hello")
            assert bad_number.value.code == ErrorCode.INVALID_NUMBER
            with pytest.raises(ProtocolError) as too_long:
                await device.send(NUMBER, "x" * (wire.MAX_BODY_CHARS + 1))
            assert too_long.value.code == ErrorCode.BODY_TOO_LONG
            with pytest.raises(ProtocolError) as too_many:
                await device.conversations(limit=101)
            assert too_many.value.code == ErrorCode.BAD_MESSAGE
            await device.ping()
            assert rig.store.latest_seq() == seq

    run(scenario)


def test_revocation_ends_waiting_calls_and_subscriptions(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with connected(tmp_path) as (rig, device):
            await live(device)
            with device.events() as events:
                assert rig.store.revoke(device.credentials.device_id)
                rig.link.sync_devices()
                with pytest.raises(SessionClosedError) as ended:
                    await anext(events)
                assert ended.value.code == ErrorCode.REVOKED
            with pytest.raises(SessionClosedError) as after:
                await device.conversations()
            assert after.value.code == ErrorCode.REVOKED
            with device.events() as late, pytest.raises(SessionClosedError):
                await anext(late)
            # Connecting again is refused: the relay no longer knows the token.
            await rig.allow()
            with pytest.raises(SessionClosedError) as again:
                await device.connect()
            assert again.value.code == ErrorCode.UNAUTHORIZED

    run(scenario)


def _refusals(rig: HostRig, code: str) -> int:
    assert rig.relay.relay is not None
    return rig.relay.relay.stats.refusals[code]


async def _relay_restarted_while_the_host_is_away(rig: HostRig) -> None:
    """The host goes offline and the relay restarts on the same port, knowing nothing."""
    await rig.go_offline()
    await rig.relay.stop()
    await rig.relay.start()


def test_after_a_relay_restart_connect_waits_for_the_host_through_room_unknown(
    tmp_path: Path,
) -> None:
    async def scenario() -> None:
        async with running_host(tmp_path) as rig:
            history(rig, conversations=1)
            creds = credentials(rig)
            await rig.allow()
            await _relay_restarted_while_the_host_is_away(rig)
            device = Device(creds, timeout=TIMEOUT)
            connecting = asyncio.create_task(device.connect())
            try:
                await until(lambda: _refusals(rig, "room_unknown") >= 2, "two refused joins")
                assert not connecting.done()  # retried, not given up: the device stays paired
                await rig.start()  # claims the room and registers the tokens again
                welcome = await connecting
                assert welcome.seq == rig.store.latest_seq()
                assert (await live(device)) == rig.store.latest_seq()
                assert (await device.conversations()).convs
            finally:
                connecting.cancel()
                await device.close()

    run(scenario)


def test_connect_gives_up_with_room_unknown_when_the_host_stays_away(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_host(tmp_path) as rig:
            creds = credentials(rig)
            await rig.allow()
            await _relay_restarted_while_the_host_is_away(rig)
            with pytest.raises(SessionClosedError) as away:
                await Device(creds, timeout=1.5).connect()
            assert away.value.code == ErrorCode.ROOM_UNKNOWN
            assert "the relay restarted" in away.value.message
            assert _refusals(rig, "room_unknown") >= 2
            # A token the room does not have is refused at once, once the host is back.
            await rig.start()
            stranger = credentials(rig, paired=False)
            with pytest.raises(SessionClosedError) as refused:
                await Device(stranger, timeout=TIMEOUT).connect()
            assert refused.value.code == ErrorCode.UNAUTHORIZED
            assert _refusals(rig, "unauthorized") == 1

    run(scenario)


def test_devices_the_host_does_not_know_are_refused(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_host(tmp_path) as rig:
            paired = credentials(rig)
            await rig.allow()
            impostor = Credentials(
                relay=paired.relay,
                room=paired.room,
                token=paired.token,
                host_public=paired.host_public,
                device_key=KeyPair.generate(),
            )
            with pytest.raises(SessionClosedError) as refused:
                await Device(impostor, timeout=TIMEOUT).connect()
            assert refused.value.code == ErrorCode.NOT_PAIRED
            with pytest.raises(SessionClosedError) as unknown:
                await client(rig, paired=False)
            assert unknown.value.code == ErrorCode.UNAUTHORIZED
            wrong_host = Credentials(
                relay=paired.relay,
                room=paired.room,
                token=paired.token,
                host_public=KeyPair.generate().public,
                device_key=paired.device_key,
            )
            with pytest.raises(SessionClosedError) as wrong:
                await Device(wrong_host, timeout=TIMEOUT).connect()
            assert wrong.value.code == ErrorCode.DECRYPT_FAILED

    run(scenario)


def test_a_device_waits_for_its_host_and_its_session_ends_when_the_host_leaves(
    tmp_path: Path,
) -> None:
    async def scenario() -> None:
        async with running_host(tmp_path) as rig:
            creds = credentials(rig)
            await rig.allow()
            await _host_offline(rig)
            device = Device(creds, timeout=TIMEOUT)
            connecting = asyncio.ensure_future(device.connect())
            await asyncio.sleep(0.2)
            assert not connecting.done()
            await rig.start()
            assert (await connecting).device_id == derive.b64url(creds.device_id)
            try:
                await live(device)
                with device.events() as events:
                    waiting = asyncio.ensure_future(anext(events))
                    await _host_offline(rig)
                    with pytest.raises(SessionClosedError, match="offline"):
                        await waiting
                # Back again: the same device connects and resumes from its cursor.
                await rig.start()
                await device.connect()
                result = await device.sync(device.cursor)
                assert (result.reset, result.seq) == (False, rig.store.latest_seq())
            finally:
                await device.close()

    run(scenario)


def test_a_host_that_never_comes_is_a_bounded_wait(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_host(tmp_path) as rig:
            creds = credentials(rig)
            await rig.allow()
            await _host_offline(rig)
            with pytest.raises(SessionClosedError, match=r"within 0\.3 s"):
                await Device(creds, timeout=0.3).connect()

    run(scenario)


def test_the_log_holds_no_key_token_body_or_number(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)

    async def scenario() -> None:
        async with connected(tmp_path) as (rig, device):
            await live(device)
            await device.send(NUMBER, "a secret body 5521", CMID)
            with pytest.raises(RefusedError):
                await device.thread(424_242)
            rig.store.revoke(device.credentials.device_id)
            rig.link.sync_devices()
            with pytest.raises(SessionClosedError):
                await device.sync(device.cursor)
            creds = device.credentials
            secrets = [
                "a secret body 5521",
                NUMBER,
                NUMBER.lstrip("+"),
                *rig.secrets(),
                *(
                    f(b)
                    for b in (creds.device_key.private_bytes(), creds.token, creds.room)
                    for f in (bytes.hex, derive.b64url)
                ),
            ]
            assert_clean(log_text(caplog.records), secrets)
            assert_clean(repr(creds), secrets)
            assert "connected to the host as device" in caplog.text

    run(scenario)


def _about(event: wire.Event | wire.Reset) -> tuple[int, str, int]:
    match event:
        case wire.MessageEvent(seq=seq, msg=msg):
            return seq, "msg", msg.id
        case wire.StatusEvent(seq=seq, id=msg_id):
            return seq, "status", msg_id
        case wire.ConversationEvent(seq=seq, conv=conv):
            return seq, "conv", conv.id
    raise AssertionError(event)


async def _host_offline(rig: HostRig) -> None:
    """Stop the host's relay connection (the store stays) and wait until it is gone."""
    if rig._task is not None:
        rig._task.cancel()
        await asyncio.gather(rig._task, return_exceptions=True)
        rig._task = None
    await until(lambda: not rig.link.connected.is_set(), "the host to leave the relay")
    await asyncio.sleep(0.05)  # the relay notices the closed socket


def test_conversation_changes_are_done_on_the_host_and_come_back_as_events(
    tmp_path: Path,
) -> None:
    async def scenario() -> None:
        async with connected(tmp_path) as (rig, device):
            history(rig, conversations=2)
            await live(device)
            events = device.events()
            listed = (await device.conversations()).convs
            first, second = listed[0], listed[1]
            await device.set_flags(first.id, archived=True, muted=True)
            archived = await device.conversations(folder="archived")
            assert [(c.id, c.archived, c.muted) for c in archived.convs] == [(first.id, True, True)]
            assert [c.id for c in (await device.conversations()).convs] == [
                c.id for c in listed[1:]
            ]
            with pytest.raises(RefusedError) as refused:
                await device.set_flags(first.id, pinned=True, archived=True)
            assert refused.value.code == ErrorCode.BAD_MESSAGE
            await device.set_contact(second.peers[0], "Zed")
            await device.delete_conversation(first.id)
            seen: list[wire.Event] = []
            async with asyncio.timeout(TIMEOUT):
                async for item in events:
                    assert not isinstance(item, wire.Reset)
                    seen.append(item)
                    if isinstance(item, wire.GoneEvent):
                        break
            convs = [e.conv for e in seen if isinstance(e, wire.ConversationEvent)]
            assert [(c.id, c.archived) for c in convs] == [(first.id, True), (second.id, False)]
            assert convs[1].name == "Zed"
            assert seen[-1] == wire.GoneEvent(seq=rig.store.latest_seq(), conv=first.id)
            assert [c.id for c in (await device.conversations(folder="archived")).convs] == []

    run(scenario)
