"""The relay over real sockets on 127.0.0.1: docs/protocol.md section 4, byte for byte."""

from __future__ import annotations

import asyncio
import hashlib

import aiohttp
import pytest
from aiohttp import web

from tests.relay.harness import (
    CONFIG,
    CREDENTIAL,
    ORIGIN,
    OTHER_CREDENTIAL,
    ROOM,
    TIMEOUT,
    FakeClock,
    Harness,
    Peer,
    run,
    running,
    token,
)
from textport.errors import ConfigError
from textport.protocol import derive, frames
from textport.relay.server import RelayConfig, create_app

ONLINE, OFFLINE = frames.PresenceOp(online=True), frames.PresenceOp(online=False)


def b64(data: bytes) -> str:
    return derive.b64url(data)


async def joined(h: Harness, host: Peer, device_token: bytes, link: int) -> Peer:
    device = await h.join(ROOM, device_token)
    await device.expect(frames.ReadyOp(online=True))
    await host.expect(frames.OpenedOp(link=link))
    return device


# ---------------------------------------------------------------- hosts


def test_host_claims_a_room_and_a_new_connection_replaces_the_old() -> None:
    async def scenario() -> None:
        async with running() as h:
            first = await h.host(tokens=(token(1),))
            device = await joined(h, first, token(1), 1)
            second = await h.host()
            assert await first.expect_error("session_closed") == "replaced by a new host connection"
            await second.expect(frames.OpenedOp(link=1))  # the device already in the room
            await device.expect(ONLINE)  # a new host connection: handshake again
            await device.data(b"to the new host")
            assert await second.raw() == b"\x02\x00\x00\x00\x01to the new host"
            await second.data(b"reply", link=1)
            assert await device.raw() == b"\x02\x00\x00\x00\x00reply"
            for peer in (device, second):
                await peer.close()

    run(scenario)


@pytest.mark.parametrize("credential", [b"\x09" * 32, OTHER_CREDENTIAL, b"\x01" * 16])
def test_a_wrong_credential_is_unauthorized(credential: bytes) -> None:
    async def scenario() -> None:
        async with running() as h:
            owner = await h.host()  # binds ROOM to CREDENTIAL
            intruder = await h.connect()
            await intruder.send(frames.HostOp(room=b64(ROOM), cred=b64(credential)))
            await intruder.expect_error("unauthorized")
            await owner.expect_silence()  # the rightful host is untouched
            other_room = await h.connect()  # a known credential claims a room of its own
            await other_room.send(frames.HostOp(room=b64(b"\x05" * 16), cred=b64(credential)))
            if credential == OTHER_CREDENTIAL:
                await other_room.expect(frames.ReadyOp(online=True))
                await other_room.close()
            else:
                await other_room.expect_error("unauthorized")
            await owner.close()

    run(scenario)


def test_register_past_the_token_limit_is_refused_but_the_host_stays() -> None:
    async def scenario() -> None:
        async with running(max_tokens_per_room=2) as h:
            host = await h.host(tokens=(token(1), token(2), token(3)))
            error = await host.recv()
            assert isinstance(error, frames.ErrorOp)
            assert error.code == "too_large"
            device = await joined(h, host, token(2), 1)
            stranger = await h.join(ROOM, token(3))
            await stranger.expect_error("unauthorized")
            await device.data(b"still routed")
            assert await host.raw() == b"\x02\x00\x00\x00\x01still routed"
            for peer in (device, host):
                await peer.close()

    run(scenario)


# ---------------------------------------------------------------- devices


def test_an_unknown_room_is_room_unknown_and_an_unknown_token_unauthorized() -> None:
    async def scenario() -> None:
        async with running() as h:
            host = await h.host(tokens=(token(1),))
            wrong_token = await h.join(ROOM, token(2))
            await wrong_token.expect_error("unauthorized")
            never_claimed = await h.join(b"\x0f" * 16, token(1))
            await never_claimed.expect_error("room_unknown")
            assert h.relay.stats.refusals == {"unauthorized": 1, "room_unknown": 1}
            await host.expect_silence()
            await host.close()

    run(scenario)


def test_after_a_restart_devices_get_room_unknown_until_the_host_is_back() -> None:
    async def scenario() -> None:
        async with running() as h:
            host = await h.host(tokens=(token(1),))
            device = await joined(h, host, token(1), 1)
            for peer in (device, host):
                await peer.close()
        async with running() as h:  # a new relay: rooms and tokens were in memory only
            early = await h.join(ROOM, token(1))
            await early.expect_error("room_unknown")
            host = await h.host()  # claimed; its tokens are not registered yet
            between = await h.join(ROOM, token(1))
            await between.expect_error("unauthorized")
            await host.send(frames.RegisterOp(token_hash=b64(derive.token_hash(token(1)))))
            await h.settle()
            device = await joined(h, host, token(1), 1)
            await device.data(b"back")
            assert await host.raw() == b"\x02\x00\x00\x00\x01back"
            await host.close()
            await device.expect(OFFLINE)
            late = await h.join(ROOM, token(1))  # the room outlives its host connection
            await late.expect(frames.ReadyOp(online=False))
            for peer in (device, late):
                await peer.close()

    run(scenario)


def test_revoked_token_closes_its_links_and_cannot_join_again() -> None:
    async def scenario() -> None:
        async with running() as h:
            host = await h.host(tokens=(token(1), token(2)))
            a = await joined(h, host, token(1), 1)
            b = await joined(h, host, token(1), 2)
            keep = await joined(h, host, token(2), 3)
            await host.send(frames.UnregisterOp(token_hash=b64(derive.token_hash(token(1)))))
            for device in (a, b):
                await device.expect_error("revoked")
            assert {await host.recv(), await host.recv()} == {
                frames.ClosedOp(link=1),
                frames.ClosedOp(link=2),
            }
            again = await h.join(ROOM, token(1))
            await again.expect_error("unauthorized")
            await keep.data(b"unaffected")
            assert await host.raw() == b"\x02\x00\x00\x00\x03unaffected"
            await host.expect_silence()  # exactly one closed{link} per link
            for peer in (keep, host):
                await peer.close()

    run(scenario)


def test_data_is_routed_both_ways_with_links_rewritten() -> None:
    async def scenario() -> None:
        async with running() as h:
            host = await h.host(tokens=(token(1), token(2)))
            devices = [await joined(h, host, token(1 + n % 2), n + 1) for n in range(20)]
            for n, device in enumerate(devices):
                await device.data(f"from {n}".encode())
            received = {await host.raw() for _ in devices}
            assert received == {
                b"\x02" + (n + 1).to_bytes(4, "big") + f"from {n}".encode() for n in range(20)
            }
            for n in reversed(range(20)):
                await host.data(f"to {n}".encode() * 50, link=n + 1)
            for n, device in enumerate(devices):
                assert await device.raw() == b"\x02\x00\x00\x00\x00" + f"to {n}".encode() * 50
                await device.expect_silence(0.01)
            big = bytes(range(256)) * 255 + b"x" * 255  # the largest payload: 65535 bytes
            await devices[0].data(big)
            assert await host.raw() == b"\x02\x00\x00\x00\x01" + big
            await devices[0].close()
            await host.expect(frames.ClosedOp(link=1))
            await host.data(b"too late", link=1)  # unknown link: dropped and counted
            await host.data(b"nobody", link=0)
            await h.settle()
            assert h.relay.stats.unknown_link_frames == 2
            for peer in (*devices[1:], host):
                await peer.close()

    run(scenario)


def test_host_offline_and_back() -> None:
    async def scenario() -> None:
        async with running() as h:
            host = await h.host(tokens=(token(1),))
            device = await joined(h, host, token(1), 1)
            await host.close()
            await device.expect(OFFLINE)
            await device.data(b"into the void")
            late = await h.join(ROOM, token(1))  # tokens outlive the host connection
            await late.expect(frames.ReadyOp(online=False))
            await h.settle()
            assert h.relay.stats.offline_drops == 1
            back = await h.host()
            assert {await back.recv(), await back.recv()} == {
                frames.OpenedOp(link=1),
                frames.OpenedOp(link=2),
            }
            for peer in (device, late):
                await peer.expect(ONLINE)
            await late.data(b"hello again")
            assert await back.raw() == b"\x02\x00\x00\x00\x02hello again"
            for peer in (device, late, back):
                await peer.close()

    run(scenario)


def test_host_closes_one_link() -> None:
    async def scenario() -> None:
        async with running() as h:
            host = await h.host(tokens=(token(1),))
            a = await joined(h, host, token(1), 1)
            b = await joined(h, host, token(1), 2)
            await host.send(frames.CloseOp(link=2, reason="decrypt_failed"))
            assert await b.expect_error("session_closed") == "decrypt_failed"
            await host.expect(frames.ClosedOp(link=2))
            await host.send(frames.CloseOp(link=2, reason="again"))  # gone: ignored
            await a.data(b"a lives")
            assert await host.raw() == b"\x02\x00\x00\x00\x01a lives"
            for peer in (a, host):
                await peer.close()

    run(scenario)


def test_a_device_that_does_not_read_loses_its_link() -> None:
    async def scenario() -> None:
        async with running(max_send_buffer=64 * 1024) as h:
            host = await h.host(tokens=(token(1),))
            sleeper = await joined(h, host, token(1), 1)
            payload = b"\x00" * frames.MAX_PAYLOAD
            for _ in range(600):  # ~39 MB: more than loopback buffers hold
                await host.data(payload, link=1)
                if h.relay.stats.slow_drops:
                    break
            assert h.relay.stats.slow_drops == 1
            await host.expect(frames.ClosedOp(link=1))
            await sleeper.ws.close()
            await host.close()

    run(scenario)


# ---------------------------------------------------------------- pairing


async def paired(h: Harness, channel: str = "chan-1") -> tuple[Peer, Peer]:
    creator = await h.connect(origin=ORIGIN)
    await creator.send(frames.OfferOp(channel=channel, ttl=60))
    await h.settle()
    acceptor = await h.connect()
    await acceptor.send(frames.AcceptOp(channel=channel))
    for peer in (creator, acceptor):
        await peer.expect(frames.PeerOp())
    return creator, acceptor


def test_pairing_channel_forwards_unchanged_and_is_single_use() -> None:
    async def scenario() -> None:
        async with running() as h:
            creator, acceptor = await paired(h)
            await acceptor.data(b"TPC1" + b"\x00" * 32)
            assert await creator.raw() == b"\x02\x00\x00\x00\x00TPC1" + b"\x00" * 32
            await creator.data(b"e" * 48)
            assert await acceptor.raw() == b"\x02\x00\x00\x00\x00" + b"e" * 48
            late = await h.connect()
            await late.send(frames.AcceptOp(channel="chan-1"))
            await late.expect_error("pairing_used")
            squatter = await h.connect()
            await squatter.send(frames.OfferOp(channel="chan-1", ttl=60))
            await squatter.expect_error("pairing_used")
            await acceptor.close()
            assert await creator.expect_error("session_closed") == (
                "the other end left the pairing channel"
            )
            after = await h.connect()
            await after.send(frames.AcceptOp(channel="chan-1"))
            await after.expect_error("pairing_used")
            unknown = await h.connect()
            await unknown.send(frames.AcceptOp(channel="code-ABCD2345"))
            await unknown.expect_error("pairing_unknown")

    run(scenario)


def test_pairing_channel_expires() -> None:
    async def scenario() -> None:
        clock = FakeClock()
        async with running(clock=clock, pairing_grace=5.0, paired_lifetime=100.0) as h:
            creator = await h.connect()
            await creator.send(frames.OfferOp(channel="short", ttl=10))
            await h.settle()
            clock.now += 10
            late = await h.connect()
            await late.send(frames.AcceptOp(channel="short"))
            await late.expect_error("pairing_expired")
            h.relay.sweep()
            await creator.expect_silence(0.05)  # within the grace period
            clock.now += 5
            h.relay.sweep()
            assert await creator.expect_error("pairing_expired") == "the pairing channel expired"
            a, b = await paired(h, "long")
            clock.now += 100
            h.relay.sweep()
            for peer in (a, b):
                assert await peer.expect_error("pairing_expired") == "pairing took too long"

    run(scenario)


def test_accept_is_rate_limited_per_address() -> None:
    async def scenario() -> None:
        async with running(accepts_per_minute=3) as h:
            for n in range(3):
                guess = await h.connect()
                await guess.send(frames.AcceptOp(channel=f"code-{n}"))
                await guess.expect_error("pairing_unknown")
            creator = await h.connect()
            await creator.send(frames.OfferOp(channel="real", ttl=60))
            await h.settle()
            fourth = await h.connect()
            await fourth.send(frames.AcceptOp(channel="real"))
            await fourth.expect_error("rate_limited")
            await creator.expect_silence(0.05)  # still waiting for a genuine accept
            await creator.close()

    run(scenario)


def test_pairing_socket_may_not_send_data_before_its_peer_arrives() -> None:
    async def scenario() -> None:
        async with running() as h:
            creator = await h.connect()
            await creator.send(frames.OfferOp(channel="eager", ttl=60))
            await creator.data(b"too soon")
            await creator.expect_error("bad_frame")
            acceptor = await h.connect()
            await acceptor.send(frames.AcceptOp(channel="eager"))
            await acceptor.expect_error("pairing_expired")  # its creator left

    run(scenario)


# ---------------------------------------------------------------- refusals


MALFORMED = [
    (b"", "bad_frame"),
    (b"\x07hello", "bad_frame"),
    (b"\x02\x00\x00\x00\x00", "bad_frame"),  # DATA without payload
    (b"\x02\x00\x00", "bad_frame"),
    (b"\x01not json", "bad_frame"),
    (b"\x01[]", "bad_frame"),
    (b'\x01{"op":"dance"}', "bad_frame"),
    (b'\x01{"op":"join","room":"x","token":"y"}', "bad_frame"),
    (
        b'\x01{"op":"host","room":"AAAAAAAAAAAAAAAAAAAAAB","cred":"AAAAAAAAAAAAAAAAAAAAAB"}',
        "bad_frame",
    ),
    (b"\x01" + b" " * 4096, "too_large"),
    (b"\x02\x00\x00\x00\x00payload", "bad_frame"),  # DATA before any control frame
    (frames.encode_control(frames.ReadyOp(online=True)), "bad_frame"),  # a relay-only op
    (frames.encode_control(frames.RegisterOp(token_hash=b64(b"\x00" * 32))), "bad_frame"),
]


@pytest.mark.parametrize(("frame", "code"), MALFORMED)
def test_a_bad_first_frame_is_refused_and_the_relay_keeps_serving(frame: bytes, code: str) -> None:
    async def scenario() -> None:
        async with running() as h:
            bad = await h.connect()
            await bad.ws.send_bytes(frame)
            await bad.expect_error(code)
            assert h.relay.stats.refusals[code] == 1
            host = await h.host(tokens=(token(1),))
            device = await joined(h, host, token(1), 1)
            await device.data(b"fine")
            assert await host.raw() == b"\x02\x00\x00\x00\x01fine"
            for peer in (device, host):
                await peer.close()

    run(scenario)


BAD_LATER = [
    ("device", frames.encode_control(frames.JoinOp(room=b64(ROOM), token=b64(token(1))))),
    ("device", b"\x02\x00\x00\x00\x07wrong link"),
    ("device", b"\x02\x00\x00\x00\x00"),
    ("device", b"\x09"),
    ("host", frames.encode_control(frames.OfferOp(channel="x", ttl=5))),
    ("host", b"\x01{}"),
    ("host", b"\x02\x00\x00\x00\x01"),
]


@pytest.mark.parametrize(("role", "frame"), BAD_LATER)
def test_a_bad_frame_later_closes_only_that_socket(role: str, frame: bytes) -> None:
    async def scenario() -> None:
        async with running() as h:
            host = await h.host(tokens=(token(1),))
            device = await joined(h, host, token(1), 1)
            bad, good = (device, host) if role == "device" else (host, device)
            await bad.ws.send_bytes(frame)
            await bad.expect_error("bad_frame")
            if role == "device":
                await host.expect(frames.ClosedOp(link=1))
                await host.data(b"ok", link=1)
            else:
                await device.expect(OFFLINE)
            await good.close()

    run(scenario)


def test_text_messages_are_refused() -> None:
    async def scenario() -> None:
        async with running() as h:
            first = await h.connect()
            await first.ws.send_str('{"op":"join"}')
            await first.expect_error("bad_frame")
            host = await h.host(tokens=(token(1),))
            device = await joined(h, host, token(1), 1)
            await device.ws.send_str("hello")
            await device.expect_error("bad_frame")
            await host.expect(frames.ClosedOp(link=1))
            await host.close()

    run(scenario)


def test_an_oversized_message_closes_with_1009() -> None:
    async def scenario() -> None:
        async with running() as h:
            host = await h.host(tokens=(token(1),))
            device = await joined(h, host, token(1), 1)
            await device.ws.send_bytes(b"\x02\x00\x00\x00\x00" + b"x" * (frames.MAX_PAYLOAD + 1))
            await device.expect_closed(1009)  # WebSocket's own "message too big"
            await host.expect(frames.ClosedOp(link=1))
            await host.close()

    run(scenario)


def test_frame_rate_is_limited_per_connection() -> None:
    async def scenario() -> None:
        async with running(frames_per_second=5.0, frame_burst=10) as h:
            host = await h.host(tokens=(token(1),))
            device = await joined(h, host, token(1), 1)
            for n in range(11):
                await device.data(bytes([n]))
            for n in range(10):
                assert await host.raw() == b"\x02\x00\x00\x00\x01" + bytes([n])
            await device.expect_error("rate_limited")
            await host.expect(frames.ClosedOp(link=1))
            await host.close()

    run(scenario)


def test_heartbeat_closes_a_socket_that_stops_answering_pings() -> None:
    async def scenario() -> None:
        async with running(heartbeat=0.1) as h:
            host = await h.host(tokens=(token(1),))
            silent = Peer(await h.http.ws_connect(h.url, autoping=False))
            await silent.send(frames.JoinOp(room=b64(ROOM), token=b64(token(1))))

            async def ignore_pings() -> list[aiohttp.WSMsgType]:
                seen: list[aiohttp.WSMsgType] = []
                while (message := await silent.ws.receive(timeout=TIMEOUT)).type != (
                    aiohttp.WSMsgType.CLOSE
                ):
                    seen.append(message.type)
                    if message.type == aiohttp.WSMsgType.BINARY:
                        assert frames.decode_frame(message.data) in (
                            frames.ReadyOp(online=True),
                            frames.ErrorOp(code="session_closed", message="no answer to ping"),
                        )
                assert message.data == 1001
                return seen

            async def host_side() -> None:  # reading, so aiohttp answers the pings
                await host.expect(frames.OpenedOp(link=1))
                await host.expect(frames.ClosedOp(link=1))

            seen, _ = await asyncio.gather(ignore_pings(), host_side())
            assert seen.count(aiohttp.WSMsgType.PING) >= 1
            assert seen[-1] == aiohttp.WSMsgType.BINARY  # the error, then the close
            await host.expect_silence(0.5)  # the host answers pings: it stays
            await host.close()

    run(scenario)


def test_the_relay_answers_pings() -> None:
    async def scenario() -> None:
        async with running() as h:
            peer = Peer(await h.http.ws_connect(h.url, autoping=False))
            await peer.ws.ping(b"are you there")
            message = await peer.ws.receive(timeout=TIMEOUT)
            assert (message.type, message.data) == (aiohttp.WSMsgType.PONG, b"are you there")
            await peer.close()

    run(scenario)


def test_no_first_frame_in_time() -> None:
    async def scenario() -> None:
        async with running(first_frame_timeout=0.1) as h:
            idle = await h.connect()
            await idle.expect_error("session_closed")

    run(scenario)


# ---------------------------------------------------------------- HTTP


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [(None, True), (ORIGIN, True), ("http://evil.example", False), ("null", False)],
)
def test_origin_allow_list(origin: str | None, allowed: bool) -> None:
    async def scenario() -> None:
        async with running() as h:
            if not allowed:
                with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                    await h.connect(origin=origin)
                assert refused.value.status == 403
                return
            peer = await h.connect(origin=origin)
            await peer.send(frames.OfferOp(channel="origin-ok", ttl=5))
            await peer.expect_silence(0.05)
            await peer.close()

    run(scenario)


def test_connections_per_address_are_limited() -> None:
    async def scenario() -> None:
        async with running(max_connections_per_ip=2) as h:
            first, second = await h.connect(), await h.connect()
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await h.connect()
            assert refused.value.status == 429
            await first.close()
            await h.settle()
            third = await h.connect()
            for peer in (second, third):
                await peer.close()

    run(scenario)


def test_plain_http_is_told_to_upgrade() -> None:
    async def scenario() -> None:
        async with running() as h, h.http.get(h.url.replace("ws://", "http://")) as response:
            assert response.status == 426

    run(scenario)


def test_shutdown_tells_every_socket() -> None:
    async def scenario() -> None:
        app = create_app(CONFIG)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        url = f"ws://127.0.0.1:{runner.addresses[0][1]}/v1"
        async with aiohttp.ClientSession() as http:
            host = Peer(await http.ws_connect(url))
            await host.send(frames.HostOp(room=b64(ROOM), cred=b64(CREDENTIAL)))
            await host.expect(frames.ReadyOp(online=True))
            cleanup = runner.cleanup()
            receiving = host.expect_error("session_closed", close_code=1001)
            await asyncio.gather(cleanup, receiving)

    run(scenario)


def test_config_rejects_impossible_limits() -> None:
    with pytest.raises(ConfigError):
        RelayConfig(max_frame=frames.MAX_FRAME + 1)
    with pytest.raises(ConfigError):
        RelayConfig(frames_per_second=0)


def test_credential_hash_is_a_labelled_sha256() -> None:
    credential = bytes(range(32))
    assert (
        derive.credential_hash(credential)
        == hashlib.sha256(b"textport/1 host-credential" + credential).digest()
    )
    assert derive.credential_hash(credential) != derive.token_hash(credential)
