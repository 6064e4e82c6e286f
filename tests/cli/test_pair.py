"""``textport pair`` as a user runs it, against ``textport relay`` and ``textport host``.

The relay and the host are real processes (started once for this module); each test runs
``textport pair`` as a process too, while a Python device on the other end of the relay
makes the offer (or the typed code), runs the handshake of textport.protocol.pairing and
asks to be paired. What the person at the host sees, what they answer, what the device
gets back, what ``textport devices`` lists and whether the new device can then open a
session with the running host are all checked.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Coroutine, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.e2e.demo import stop
from textport.errors import ConfigError
from textport.host import control
from textport.host.identity import HostIdentity, load_identity
from textport.protocol import derive, frames, pairing, session
from textport.protocol import messages as wire
from textport.protocol.noise import KeyPair

TEXTPORT = Path(sys.executable).with_name("textport")
TIMEOUT = 30.0 * float(os.environ.get("TEXTPORT_TIMEOUT_FACTOR", "1"))
ENV = {**os.environ, "PYTHONUNBUFFERED": "1"}
DEVICE_NAME = "Pytest device"


@dataclass
class Stack:
    data: Path
    relay_url: str
    identity: HostIdentity


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """``textport relay`` on a free port and ``textport host`` connected to it."""
    folder = tmp_path_factory.mktemp("pair")
    data = folder / "data"
    credential = load_identity(data, relay="ws://127.0.0.1:9/v1").credential
    with (folder / "relay.log").open("w") as relay_log:
        relay = subprocess.Popen(
            [
                str(TEXTPORT),
                "relay",
                "--port",
                "0",
                "--host-credential-hash",
                derive.credential_hash(credential).hex(),
            ],
            stdout=subprocess.PIPE,
            stderr=relay_log,
            text=True,
            env=ENV,
        )
    try:
        assert relay.stdout is not None
        line = relay.stdout.readline()
        match = re.match(r"^Relay: (ws://127\.0\.0\.1:\d+/v1)$", line.strip())
        assert match, f"textport relay printed {line!r}; see {folder / 'relay.log'}"
        url = match.group(1)
        with (folder / "host.log").open("w") as host_log:
            host = subprocess.Popen(
                [str(TEXTPORT), "host", "--data", str(data), "--relay", url],
                stdout=host_log,
                stderr=subprocess.STDOUT,
                env=ENV,
            )
        try:
            asyncio.run(_until_connected(data))
            yield Stack(data, url, load_identity(data))
        finally:
            stop(host)
    finally:
        stop(relay)
        if relay.stdout is not None:
            relay.stdout.close()


async def _until_connected(data: Path) -> None:
    deadline = time.monotonic() + TIMEOUT
    while True:
        try:
            if (await control.call(data, "/devices/sync"))["relay_connected"]:
                return
        except ConfigError:  # not up yet: the socket appears when it is
            pass
        assert time.monotonic() < deadline, "textport host did not connect to the relay"
        await asyncio.sleep(0.1)


@dataclass
class Run:
    code: int
    out: str
    err: str


async def _cli(*args: str, stdin: bytes = b"") -> Run:
    process = await asyncio.create_subprocess_exec(
        str(TEXTPORT),
        *args,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=ENV,
    )
    out, err = await asyncio.wait_for(process.communicate(stdin), TIMEOUT)
    assert process.returncode is not None
    return Run(process.returncode, out.decode(), err.decode())


def _run(coro: Coroutine[Any, Any, Run]) -> Run:
    async def bounded() -> Run:
        return await asyncio.wait_for(coro, 2 * TIMEOUT)

    return asyncio.run(bounded())


class Channel:
    """The device's socket in a pairing channel at the relay."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws

    async def frame(self) -> frames.Frame:
        while True:
            message = await self.ws.receive(timeout=TIMEOUT)
            if message.type == aiohttp.WSMsgType.PONG:
                continue
            assert message.type == aiohttp.WSMsgType.BINARY, (message.type, message.data)
            return frames.decode_frame(message.data)

    async def data(self) -> bytes:
        frame = await self.frame()
        assert isinstance(frame, frames.DataFrame), frame
        return frame.payload

    async def send(self, payload: bytes) -> None:
        await self.ws.send_bytes(frames.encode_data(0, payload))

    async def settled(self) -> None:
        """A ping's pong: the relay has handled everything this socket sent before it."""
        await self.ws.ping(b"settle")
        message = await self.ws.receive(timeout=TIMEOUT)
        assert message.type == aiohttp.WSMsgType.PONG, (message.type, message.data)


@asynccontextmanager
async def offered(relay_url: str, channel_name: str, ttl: int = 120) -> AsyncIterator[Channel]:
    """Open pairing channel ``channel_name`` as its maker, as a browser does."""
    async with (
        aiohttp.ClientSession() as http,
        http.ws_connect(relay_url, autoping=False, max_msg_size=0) as ws,
    ):
        channel = Channel(ws)
        await ws.send_bytes(frames.encode_control(frames.OfferOp(channel=channel_name, ttl=ttl)))
        await channel.settled()
        yield channel


@dataclass
class Outcome:
    cli: Run
    shown: str
    """The code the device computed (to compare with what the CLI printed)."""
    reply: wire.Message
    key: KeyPair


async def _pair_by_offer(stack: Stack, *cli_args: str, stdin: bytes = b"") -> Outcome:
    """The device shows a QR offer; `textport pair OFFER` reads it and pairs."""
    key = KeyPair.generate()
    offer = pairing.PairingOffer.create(stack.relay_url, now=time.time(), ttl=120)
    async with offered(stack.relay_url, offer.channel_name) as channel:
        cli = asyncio.create_task(
            _cli("pair", "--data", str(stack.data), *cli_args, offer.to_uri(), stdin=stdin)
        )
        assert await channel.frame() == frames.PeerOp()
        handshake = pairing.offer_handshake(offer, key, made_offer=True)
        handshake.read(await channel.data())
        await channel.send(handshake.write())
        handshake.read(await channel.data())
        assert handshake.remote_static == stack.identity.key.public, "the host's own key"
        device = handshake.session(time.time())
        await channel.send(device.seal(wire.PairRequest(name=DEVICE_NAME, agent="tests/cli")))
        reply = device.open(await channel.data())
        shown = derive.confirmation_code(device.handshake_hash)
        return Outcome(await cli, shown, reply, key)


async def _pair_by_typed_code(stack: Stack, *cli_args: str) -> Outcome:
    """The device shows an 8-character code; `textport pair CODE` commits, XX runs."""
    key = KeyPair.generate()
    code = pairing.new_code()
    async with offered(stack.relay_url, pairing.code_channel(code)) as channel:
        typed = code.lower().replace("-", " ")  # as a person might type it
        cli = asyncio.create_task(_cli("pair", "--data", str(stack.data), *cli_args, typed))
        assert await channel.frame() == frames.PeerOp()
        handshake = pairing.CodeDeviceHandshake(code, stack.relay_url, key)
        handshake.read_commitment(await channel.data())
        await channel.send(handshake.write())
        handshake.read(await channel.data())
        await channel.send(handshake.write())
        device = handshake.session(time.time())
        await channel.send(device.seal(wire.PairRequest(name=DEVICE_NAME, agent="tests/cli")))
        reply = device.open(await channel.data())
        return Outcome(await cli, handshake.comparison_code(), reply, key)


def _listed(stack: Stack) -> str:
    result = subprocess.run(
        [str(TEXTPORT), "devices", "--data", str(stack.data)],
        capture_output=True,
        text=True,
        env=ENV,
        timeout=TIMEOUT,
        check=True,
    )
    return result.stdout


def _row(listing: str, key: KeyPair) -> str | None:
    prefix = derive.device_id(key.public).hex()[:8]
    rows = [line for line in listing.splitlines() if line.startswith(prefix)]
    assert len(rows) <= 1
    return rows[0] if rows else None


async def _session_with_the_host(stack: Stack, key: KeyPair, accept: wire.PairAccept) -> None:
    """The paired device joins the room with its new token and the host welcomes it."""
    room = derive.unb64url(accept.room, derive.ROOM_LEN)
    async with aiohttp.ClientSession() as http:
        for attempt in range(3):  # docs/relay.md: clients retry `unauthorized` a few times
            ws = await http.ws_connect(accept.relay, max_msg_size=0)
            await ws.send_bytes(
                frames.encode_control(frames.JoinOp(room=accept.room, token=accept.token))
            )
            first = await ws.receive(timeout=TIMEOUT)
            answer = frames.decode_frame(first.data)
            if answer == frames.ReadyOp(online=True):
                break
            assert isinstance(answer, frames.ErrorOp), answer
            assert answer.code == "unauthorized" and attempt < 2, answer
            await ws.close()
            await asyncio.sleep(0.5)
        try:
            handshake = session.device_handshake(key, stack.identity.key.public, room)
            await ws.send_bytes(frames.encode_data(0, handshake.write()))
            reply = frames.decode_frame((await ws.receive(timeout=TIMEOUT)).data)
            assert isinstance(reply, frames.DataFrame), reply
            handshake.read(reply.payload)
            device = handshake.session(time.time())
            hello = device.seal(wire.Hello(proto=1, agent="tests/cli"))
            await ws.send_bytes(frames.encode_data(0, hello))
            answer_frame = frames.decode_frame((await ws.receive(timeout=TIMEOUT)).data)
            assert isinstance(answer_frame, frames.DataFrame), answer_frame
            welcome = device.open(answer_frame.payload)
            assert isinstance(welcome, wire.Welcome), welcome
            assert welcome.device_id == derive.b64url(derive.device_id(key.public))
        finally:
            await ws.close()


# ---------------------------------------------------------------- pairing


def test_answering_no_pairs_nothing_and_the_device_is_told(stack: Stack) -> None:
    outcome = asyncio.run(_pair_by_offer(stack, stdin=b"n\n"))
    assert outcome.reply == wire.PairReject(reason="Declined on the host")
    assert outcome.cli.code == 1
    assert f"“{DEVICE_NAME}” wants to pair with {stack.identity.name}." in outcome.cli.out
    assert f"Code: {outcome.shown}" in outcome.cli.out
    assert "Do the codes match, and do you want to pair it?" in outcome.cli.out
    assert "[pairing_rejected]" in outcome.cli.err
    assert "Paired" not in outcome.cli.out
    assert _row(_listed(stack), outcome.key) is None


def test_answering_yes_at_the_prompt_pairs(stack: Stack) -> None:
    outcome = asyncio.run(_pair_by_offer(stack, stdin=b"y\n"))
    assert isinstance(outcome.reply, wire.PairAccept), outcome.reply
    assert outcome.cli.code == 0, outcome.cli
    assert f"Code: {outcome.shown}" in outcome.cli.out
    assert _row(_listed(stack), outcome.key) is not None


def test_yes_pairs_without_asking_and_the_host_lets_the_device_in(stack: Stack) -> None:
    outcome = asyncio.run(_pair_by_offer(stack, "--yes"))
    assert outcome.cli.code == 0, outcome.cli
    assert "Do the codes match" not in outcome.cli.out
    assert f"Code: {outcome.shown}" in outcome.cli.out
    device_id = derive.device_id(outcome.key.public)
    assert f"Paired {DEVICE_NAME} ({device_id.hex()[:8]})." in outcome.cli.out
    assert "warning" not in outcome.cli.out, "the running host was told"

    accept = outcome.reply
    assert isinstance(accept, wire.PairAccept), accept
    assert accept.host_name == stack.identity.name
    assert accept.relay == stack.relay_url
    assert derive.unb64url(accept.room, derive.ROOM_LEN) == stack.identity.room
    row = _row(_listed(stack), outcome.key)
    assert row is not None
    assert DEVICE_NAME in row
    assert row.endswith("active")

    asyncio.run(_session_with_the_host(stack, outcome.key, accept))


def test_a_typed_code_pairs_and_the_comparison_code_matches(stack: Stack) -> None:
    outcome = asyncio.run(_pair_by_typed_code(stack, "--yes"))
    assert outcome.cli.code == 0, outcome.cli
    assert re.fullmatch(r"\d{3} \d{3}", outcome.shown)
    assert f"Code: {outcome.shown}" in outcome.cli.out
    accept = outcome.reply
    assert isinstance(accept, wire.PairAccept), accept
    assert _row(_listed(stack), outcome.key) is not None
    asyncio.run(_session_with_the_host(stack, outcome.key, accept))


# ---------------------------------------------------------------- refusals


def _offer_text(relay: str, *, expires: int | None = None, version: str = "1") -> str:
    offer = pairing.PairingOffer.create(relay, now=time.time(), ttl=120)
    if expires is not None:
        offer = pairing.PairingOffer(offer.relay, offer.channel, offer.secret, expires)
    return offer.to_uri().replace("textport-pair:1?", f"textport-pair:{version}?")


def _malformed(stack: Stack) -> dict[str, tuple[str, str, str]]:
    good = _offer_text(stack.relay_url)
    return {
        "a damaged offer": (
            re.sub(r"&s=[^&]+", "&s=tooshort", good),
            "the pairing code is damaged; copy it again",
            "bad_pairing_code",
        ),
        "an offer of another version": (
            _offer_text(stack.relay_url, version="2"),
            "pairing code version '2' is not supported; update textport",
            "version_mismatch",
        ),
        "an expired offer": (
            _offer_text(stack.relay_url, expires=int(time.time()) - 5),
            "the pairing code expired; show a new one",
            "pairing_expired",
        ),
        "a typed code one character short": (
            "K7QF-3M9",
            "a pairing code is 8 letters and digits, like K7QF-3M9X",
            "bad_pairing_code",
        ),
        "a typed code with a letter not in the alphabet": (
            "K7QF-3M9U",
            "a pairing code is 8 letters and digits, like K7QF-3M9X",
            "bad_pairing_code",
        ),
        "an offer for a relay this host does not use": (
            _offer_text("wss://relay.elsewhere.example/v1"),
            "the pairing code names a relay this host is not configured for",
            "relay_not_allowed",
        ),
    }


CASES = [
    "a damaged offer",
    "an offer of another version",
    "an expired offer",
    "a typed code one character short",
    "a typed code with a letter not in the alphabet",
    "an offer for a relay this host does not use",
]


@pytest.mark.parametrize("case", CASES)
def test_a_code_the_host_cannot_use_is_a_clear_error_and_pairs_nothing(
    stack: Stack, case: str
) -> None:
    text, sentence, code = _malformed(stack)[case]
    before = _listed(stack)
    result = _run(_cli("pair", "--data", str(stack.data), text))
    assert result.code == 1, result
    assert result.err == f"error: {sentence} [{code}]\n"
    assert "Waiting" not in result.out, "refused before waiting for anyone"
    assert _listed(stack) == before
