"""RelayLink against a real relay on 127.0.0.1, with Python devices doing the IK handshake.

First the link's job (devices connect, sync, are refused or revoked, the host comes back
after a relay restart), then bad input at the host: garbage, malformed, tampered,
replayed, undecodable and oversized messages are refused with a logged reason that holds
no secret, and the host goes on serving a well-behaved device.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import msgspec
import pytest
from aiohttp import web

from tests.host.rig import (
    TIMEOUT,
    Device,
    HostRig,
    assert_clean,
    log_text,
    run,
    running_host,
    until,
)
from tests.relay.harness import CREDENTIAL, ROOM
from textport.host.identity import HostIdentity
from textport.host.relay_link import RelayLink
from textport.host.sync import DeviceSession
from textport.protocol import derive, frames, session
from textport.protocol import messages as wire
from textport.protocol.noise import HandshakeState, KeyPair
from textport.store.store import Device as StoredDevice

NUMBER = "+15550100123"
BODY = "a private body 4417"
CMID = "9f" * 16


def _history(rig: HostRig) -> None:
    rig.store.add_incoming(NUMBER, BODY, 1_000, "src-1")
    rig.store.add_incoming("+15550100124", "second", 2_000, "src-2")


def _secrets(rig: HostRig, *devices: Device) -> list[str]:
    found = [*rig.secrets(), BODY, NUMBER, NUMBER.lstrip("+")]
    for device in devices:
        found += device.secrets()
    return found


# ---------------------------------------------------------------- the link's job


def test_a_paired_device_connects_syncs_sends_and_gets_live_events(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_host(tmp_path) as rig:
            _history(rig)
            device = await rig.paired()
            assert rig.store.devices()[0].last_seen_at is None
            welcome = await device.start()
            assert welcome.device_id == derive.b64url(device.id)
            assert (welcome.host_name, welcome.seq) == ("Test host", rig.store.latest_seq())
            assert rig.store.devices()[0].last_seen_at is not None

            # Nothing cached: no replay, but a reset, then pages of what it shows.
            await device.send(wire.Sync(since=0, limit=1000))
            latest = rig.store.latest_seq()
            assert await device.recv() == wire.Reset(seq=latest)
            await device.send(wire.Convs(qid=1, before=None, limit=50))
            page = await device.recv()
            assert page == wire.ConvPage(qid=1, convs=rig.store.conversations_page(), more=False)
            conv = page.convs[0].id
            await device.send(wire.Thread(qid=2, conv=conv, before=None, after=None, limit=50))
            assert await device.recv() == wire.ThreadPage(
                qid=2, conv=conv, msgs=rig.store.thread_page(conv), more=False
            )
            await device.send(wire.Sync(since=latest, limit=1000))
            assert await device.recv() == wire.Synced(seq=latest)

            synced = rig.store.latest_seq()
            rig.store.add_incoming(NUMBER, "live", 3_000, "src-3")
            rig.link.push_all()
            for expected in rig.store.events_since(synced, 10):
                assert await device.recv() == wire.EventMessage(event=expected)

            await device.send(wire.Send(cmid=CMID, to=[NUMBER], body="from the device"))
            ack = await device.recv()
            assert isinstance(ack, wire.Ack)
            assert (ack.cmid, ack.state) == (CMID, "sending")
            assert rig.store.message(ack.msg_id).body == "from the device"
            pushed = await device.recv()  # accepted -> pushed to every synced device
            assert isinstance(pushed, wire.EventMessage)
            assert isinstance(pushed.event, wire.MessageEvent)
            assert pushed.event.msg.cmid == CMID
            await device.close()
            await rig.link_gone(device)

    run(scenario)


def test_an_unknown_device_key_is_refused_as_not_paired(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)

    async def scenario() -> None:
        async with running_host(tmp_path) as rig:
            paired = await rig.paired()
            # The relay lets in a valid token; the key behind it is not one the host paired.
            impostor = Device(rig, KeyPair.generate(), paired.token)
            await impostor.connect()
            await impostor.handshake_message_1()
            await impostor.expect_closed("session_closed", "not_paired")
            await until(lambda: not rig.link.links, "the host to forget the link")
            await paired.start()  # the real key behind that token still gets in
            secrets = _secrets(rig, paired, impostor)
        assert "not_paired" in log_text(caplog.records)
        assert_clean(log_text(caplog.records), secrets)

    run(scenario)


def test_a_revoked_device_key_is_refused_as_revoked(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_host(tmp_path) as rig:
            device = await rig.paired()
            # `textport devices revoke` wrote the store; the host has not heard yet, so the
            # relay still lets the token in: the host's own check must refuse the key.
            assert rig.store.revoke(device.id)
            await device.connect()
            await device.handshake_message_1()
            await device.expect_closed("session_closed", "revoked")

    run(scenario)


def test_revoking_a_live_device_says_bye_closes_its_link_and_unregisters_it(
    tmp_path: Path,
) -> None:
    async def scenario() -> None:
        async with running_host(tmp_path) as rig:
            revoked, kept = await rig.paired("Old laptop"), await rig.paired("Phone")
            await revoked.start()
            await kept.start()
            assert rig.store.revoke(revoked.id)
            rig.link.sync_devices()

            assert await revoked.recv() == wire.Bye(reason="revoked")
            await revoked.expect_closed("session_closed", "revoked")
            await rig.link_gone(revoked)
            kept_hash = derive.token_hash(kept.token)
            await until(lambda: rig.relay.tokens() == {kept_hash}, "the token to be dropped")

            again = Device(rig, revoked.key, revoked.token)
            refused = await again.join()
            assert isinstance(refused, frames.ErrorOp)
            assert refused.code == "unauthorized"
            await kept.ping(1)

    run(scenario)


def test_after_the_relay_restarts_the_host_reconnects_and_registers_the_tokens_again(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)

    async def scenario() -> None:
        async with running_host(tmp_path) as rig:
            _history(rig)
            device = await rig.paired()
            await device.start()
            await rig.relay.stop()
            await device.expect_closed("session_closed", "the relay is shutting down")
            await until(lambda: not rig.link.connected.is_set(), "the host to notice")
            assert rig.link.links == {}

            await rig.relay.start()  # a new relay, same port, knowing nothing
            await asyncio.wait_for(rig.link.connected.wait(), TIMEOUT)
            token_hash = derive.token_hash(device.token)
            await until(lambda: rig.relay.tokens() == {token_hash}, "tokens registered again")
            welcome = await device.start()
            assert welcome.seq == rig.store.latest_seq()
            await device.ping(7)
        assert "the relay closed the connection" in log_text(caplog.records)

    run(scenario)


def test_a_host_the_relay_refuses_logs_why_and_keeps_trying(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)

    async def scenario() -> None:
        async with running_host(tmp_path) as rig:
            wrong = HostIdentity(
                key=KeyPair.generate(),
                room=bytes(range(1, 17)),
                credential=b"\x09" * 32,
                relay=rig.relay.url,
                name="intruder",
            )
            intruder = RelayLink(
                wrong,
                devices=list,
                find_device=lambda _key: None,
                open_session=_no_sessions,
                seen=lambda _device: None,
            )
            task = asyncio.create_task(intruder.run())
            try:
                await until(
                    lambda: log_text(caplog.records).count("unknown host credential") >= 2,
                    "two refused attempts",
                )
                assert not intruder.connected.is_set()
            finally:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        assert_clean(log_text(caplog.records), [derive.b64url(b"\x09" * 32)])

    run(scenario)


# ---------------------------------------------------------------- bad input at the host


Attack = Callable[[HostRig, Device], Awaitable[None]]


@dataclass(frozen=True)
class Case:
    attack: Attack
    code: str
    """The error code the host closes the link with."""
    told: bool = False
    """Whether the device first gets an encrypted error{code, ref: null} on its session."""


async def _garbage_short(_rig: HostRig, bad: Device) -> None:
    await bad.data(b"\x17" * 10)


async def _garbage_full_size(_rig: HostRig, bad: Device) -> None:
    await bad.data(bytes(range(96)))


async def _zero_key(_rig: HostRig, bad: Device) -> None:
    await bad.data(bytes(96))


async def _truncated(rig: HostRig, bad: Device) -> None:
    message = session.device_handshake(bad.key, rig.identity.key.public, ROOM).write()
    await bad.data(message[:60])


async def _flipped(rig: HostRig, bad: Device) -> None:
    message = bytearray(session.device_handshake(bad.key, rig.identity.key.public, ROOM).write())
    message[40] ^= 0x01  # inside the encrypted static key
    await bad.data(bytes(message))


async def _with_payload(rig: HostRig, bad: Device) -> None:
    """A message 1 carrying data (replayable to a fresh responder, so refused)."""
    host_public = rig.identity.key.public
    state = HandshakeState(
        derive.SESSION_PROTOCOL,
        initiator=True,
        prologue=derive.session_prologue(ROOM, derive.host_id(host_public)),
        s=bad.key,
        rs=host_public,
    )
    await bad.data(state.write_message(b'{"t":"hello","proto":1,"agent":"early"}'))


async def _other_room(rig: HostRig, bad: Device) -> None:
    other = session.device_handshake(bad.key, rig.identity.key.public, b"\x01" * 16)
    await bad.data(other.write())


async def _tampered(_rig: HostRig, bad: Device) -> None:
    await bad.handshake()
    assert bad.session is not None
    sealed = bytearray(bad.session.seal(wire.Ping(n=1)))
    sealed[20] ^= 0x04
    await bad.data(bytes(sealed))


async def _replayed(_rig: HostRig, bad: Device) -> None:
    await bad.handshake()
    await bad.send(wire.Hello(proto=1, agent="tests/host"))
    assert isinstance(await bad.recv(), wire.Welcome)
    await bad.data(bad.sent_payloads[-1])


async def _short_transport(_rig: HostRig, bad: Device) -> None:
    await bad.handshake()
    await bad.data(b"\x01" * 50)


async def _body(_rig: HostRig, bad: Device, body: bytes) -> None:
    await bad.handshake()
    assert bad.session is not None
    await bad.data(bad.session.seal_body(body))


async def _bad_json(rig: HostRig, bad: Device) -> None:
    await _body(rig, bad, b'{"t":"hello",')


async def _not_utf8(rig: HostRig, bad: Device) -> None:
    await _body(rig, bad, b'{"t":"hello","proto":1,"agent":"\xff"}')


async def _unknown_type(rig: HostRig, bad: Device) -> None:
    await _body(rig, bad, b'{"t":"teleport","to":"mars"}')


async def _oversized_field(rig: HostRig, bad: Device) -> None:
    await _body(rig, bad, b'{"t":"hello","proto":1,"agent":"' + b"a" * 129 + b'"}')


async def _send_without_cmid(rig: HostRig, bad: Device) -> None:
    body = f'{{"t":"send","cmid":"NOT-A-CMID","to":["{NUMBER}"],"body":"{BODY}"}}'
    await _body(rig, bad, body.encode())


async def _bad_padding(_rig: HostRig, bad: Device) -> None:
    await bad.handshake()
    assert bad.session is not None
    plaintext = bytearray(128)
    plaintext[0:2] = (5).to_bytes(2, "big")
    plaintext[2:7] = b'{"t":'
    plaintext[100] = 1  # padding must be zeros
    await bad.data(bad.session._send.encrypt_with_ad(b"", bytes(plaintext)))


async def _from_the_host_side(_rig: HostRig, bad: Device) -> None:
    await bad.handshake()
    await bad.send(wire.Synced(seq=0))


CASES = {
    "garbage, short": Case(_garbage_short, "bad_frame"),
    "garbage, the size of message 1": Case(_garbage_full_size, "decrypt_failed"),
    "an all-zero ephemeral key": Case(_zero_key, "bad_key"),
    "a truncated message 1": Case(_truncated, "bad_frame"),
    "a message 1 with a flipped bit": Case(_flipped, "decrypt_failed"),
    "a message 1 with a payload": Case(_with_payload, "bad_message"),
    "a message 1 for another room": Case(_other_room, "decrypt_failed"),
    "a tampered transport message": Case(_tampered, "decrypt_failed"),
    "a replayed transport message": Case(_replayed, "decrypt_failed"),
    "a transport message too short to be one": Case(_short_transport, "bad_frame"),
    "non-zero padding": Case(_bad_padding, "bad_message"),
    "malformed JSON": Case(_bad_json, "bad_message", told=True),
    "JSON that is not UTF-8": Case(_not_utf8, "bad_message", told=True),
    "an unknown message type": Case(_unknown_type, "unknown_type", told=True),
    "a field over its limit": Case(_oversized_field, "bad_message", told=True),
    "a send without a readable cmid": Case(_send_without_cmid, "bad_message", told=True),
    "a message only hosts send": Case(_from_the_host_side, "bad_message", told=True),
}


async def _still_served(rig: HostRig, good: Device, n: int) -> None:
    """The device connected before still gets answers, and a new one gets in."""
    await good.ping(n)
    fresh = await rig.paired("Fresh")
    await fresh.start()
    await fresh.ping(n + 1)
    await fresh.close()


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_bad_input_closes_the_link_with_its_code_and_a_clean_log(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, case: Case
) -> None:
    caplog.set_level(logging.INFO)

    async def scenario() -> list[str]:
        async with running_host(tmp_path) as rig:
            _history(rig)
            good = await rig.paired("Good")
            await good.start()
            bad = await rig.paired("Bad")
            await bad.connect()
            await case.attack(rig, bad)
            if case.told:
                error = await bad.recv()
                assert isinstance(error, wire.Error), error
                assert (error.code, error.ref) == (case.code, None)
            await bad.expect_closed("session_closed", case.code)
            await until(lambda: len(rig.link.links) == 1, "the host to drop the bad link")
            await _still_served(rig, good, 10)
            return _secrets(rig, good, bad)

    secrets: list[str] = []

    async def capture() -> None:
        secrets.extend(await scenario())

    run(capture)
    host_lines = [r for r in caplog.records if r.name == "textport.host.relay_link"]
    assert any(case.code in r.getMessage() for r in host_lines), log_text(host_lines)
    assert_clean(log_text(caplog.records), secrets)


REFUSED_SENDS = {
    "a body over 10 000 characters": (
        {"to": [NUMBER], "body": "x" * (wire.MAX_BODY_CHARS + 1)},
        "body_too_long",
    ),
    "a number that is not E.164": ({"to": ["+0123"], "body": BODY}, "invalid_number"),
    "recipients that are not a list": ({"to": NUMBER, "body": BODY}, "bad_message"),
    "no body": ({"to": [NUMBER]}, "bad_message"),
}


@pytest.mark.parametrize(("fields", "code"), REFUSED_SENDS.values(), ids=REFUSED_SENDS.keys())
def test_a_send_the_host_cannot_accept_is_refused_by_cmid_and_the_session_goes_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, fields: dict[str, object], code: str
) -> None:
    """error{ref: cmid} lets the device fail that one text instead of resending it forever."""
    caplog.set_level(logging.INFO)

    async def scenario() -> list[str]:
        async with running_host(tmp_path) as rig:
            device = await rig.paired()
            await device.start()
            before = rig.store.latest_seq()
            body = msgspec.json.encode({"t": "send", "cmid": CMID, **fields})
            assert device.session is not None
            for _ in range(2):  # a resend gets the same answer, and nothing is stored
                await device.data(device.session.seal_body(body))
                error = await device.recv()
                assert isinstance(error, wire.Error), error
                assert (error.code, error.ref) == (code, CMID)
                assert error.message
            await device.ping(3)
            assert rig.store.latest_seq() == before
            assert rig.store.db.execute("SELECT count(*) FROM outbox").fetchone()[0] == 0
            await device.send(wire.Send(cmid="a0" * 16, to=[NUMBER], body=BODY))
            ack = await device.recv()
            assert isinstance(ack, wire.Ack)
            return _secrets(rig, device)

    secrets: list[str] = []

    async def capture() -> None:
        secrets.extend(await scenario())

    run(capture)
    assert code in log_text(caplog.records)
    assert_clean(log_text(caplog.records), secrets)


def test_a_failure_while_handling_one_message_closes_only_that_link_as_internal(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A disk error (or a bug) on one device's message must not take the host off the relay."""
    caplog.set_level(logging.INFO)

    def disk_error(_conv: int) -> bool:
        raise sqlite3.OperationalError("disk I/O error")

    async def scenario() -> list[str]:
        async with running_host(tmp_path) as rig:
            _history(rig)
            good = await rig.paired("Good")
            await good.start()
            unlucky = await rig.paired("Unlucky")
            await unlucky.start()
            monkeypatch.setattr(rig.store, "mark_read", disk_error)
            await unlucky.send(wire.Read(conv=1))
            error = await unlucky.recv()
            assert isinstance(error, wire.Error), error
            assert (error.code, error.ref) == ("internal", None)
            await unlucky.expect_closed("session_closed", "internal")
            await until(lambda: len(rig.link.links) == 1, "the host to drop the link")
            assert rig.link.connected.is_set()
            monkeypatch.undo()
            await _still_served(rig, good, 30)
            return _secrets(rig, good, unlucky)

    secrets: list[str] = []

    async def capture() -> None:
        secrets.extend(await scenario())

    run(capture)
    text = log_text(caplog.records)
    assert "disk I/O error" in text
    assert_clean(text, secrets)


# ---------------------------------------------------------------- frames at the size limit


def test_the_largest_transport_message_reaches_the_host(tmp_path: Path) -> None:
    """A text of 10 000 four-byte characters fills the largest bucket: a full-size frame."""

    async def scenario() -> None:
        async with running_host(tmp_path) as rig:
            device = await rig.paired()
            await device.start()
            await device.send(wire.Send(cmid=CMID, to=[NUMBER], body="😀" * wire.MAX_BODY_CHARS))
            assert len(device.sent_payloads[-1]) == frames.MAX_PAYLOAD
            ack = await device.recv()
            assert isinstance(ack, wire.Ack), ack
            assert rig.link.connected.is_set()
            await device.ping(2)

    run(scenario)


def test_a_frame_over_the_limit_ends_only_that_devices_link(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)

    async def scenario() -> list[str]:
        async with running_host(tmp_path) as rig:
            good = await rig.paired("Good")
            await good.start()
            bad = await rig.paired("Bad")
            await bad.start()
            assert bad.ws is not None
            await bad.ws.send_bytes(b"\x02\x00\x00\x00\x00" + b"\x00" * (frames.MAX_PAYLOAD + 1))
            await bad.expect_socket_closed(aiohttp.WSCloseCode.MESSAGE_TOO_BIG)
            await until(lambda: len(rig.link.links) == 1, "the host to drop the link")
            assert rig.link.connected.is_set()
            await _still_served(rig, good, 20)
            return _secrets(rig, good, bad)

    secrets: list[str] = []

    async def capture() -> None:
        secrets.extend(await scenario())

    run(capture)
    text = log_text(caplog.records)
    assert "ended at the relay" in text
    assert_clean(text, secrets)


def test_an_oversized_or_malformed_frame_from_the_relay_is_logged_and_the_host_reconnects(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A relay is not trusted with more than routing: what it sends is checked too."""
    caplog.set_level(logging.INFO)
    hellos: list[bytes] = []
    answers = [
        b"\x02\x00\x00\x00\x01" + b"\x00" * (frames.MAX_PAYLOAD + 1),
        b"\x07not a frame",
    ]

    async def fake_relay(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        first = await ws.receive()
        hellos.append(first.data)
        await ws.send_bytes(frames.encode_control(frames.ReadyOp(online=True)))
        if answers:
            await ws.send_bytes(answers.pop(0))
        async for _message in ws:
            pass
        return ws

    async def scenario() -> None:
        app = web.Application()
        app.router.add_get("/v1", fake_relay)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        port = runner.addresses[0][1]
        identity = HostIdentity(
            key=KeyPair.generate(),
            room=ROOM,
            credential=CREDENTIAL,
            relay=f"ws://127.0.0.1:{port}/v1",
            name="h",
        )
        link = RelayLink(
            identity,
            devices=list,
            find_device=lambda _key: None,
            open_session=_no_sessions,
            seen=lambda _device: None,
        )
        task = asyncio.create_task(link.run())
        try:
            await until(lambda: len(hellos) >= 3 and not answers, "three connections")
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            await runner.cleanup()
        expected = frames.HostOp(room=derive.b64url(ROOM), cred=derive.b64url(CREDENTIAL))
        assert all(frames.decode_frame(hello) == expected for hello in hellos)

    run(scenario)
    text = log_text([r for r in caplog.records if r.name == "textport.host.relay_link"])
    assert "exceeds limit" in text, text
    assert "unknown frame kind" in text, text
    assert_clean(text, [derive.b64url(CREDENTIAL), CREDENTIAL.hex()])


def _no_sessions(_device: StoredDevice, _send: Callable[[wire.Message], None]) -> DeviceSession:
    raise AssertionError("no device gets this far")
