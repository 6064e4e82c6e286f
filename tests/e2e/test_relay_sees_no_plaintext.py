"""The relay sees no plaintext: every byte that crosses it is recorded and searched.

What runs, all real, nothing mocked: a textport relay (``textport.relay.server``) on
its own port; in front of it a recording WebSocket proxy written here, served on the
same port as the web client (``textport.host.web.add_client_routes``), so the page's
relay (``ws://<page origin>/v1``) *is* the proxy; a textport host (``Host``, with its
simulated carrier and seeded history) whose relay URL is the proxy's; and headless
Chromium running the built web client. The relay's own port is given to nobody but the
proxy, so the host's relay connection, its pairing channel and every browser socket
(pairing, then the session) go through the proxy. The browser pairs with the host's
link, opens Ana's conversation, sends a random marker text, sees it delivered and
Ana's reply quoting it, starts a new conversation with another number, and searches.

The proxy records, per socket, each WebSocket message in both directions (the exact
bytes the relay receives and sends: a client's raw TCP bytes are XOR-masked, so a
search of the TCP stream would prove nothing; the proxy unmasks and, towards the relay,
uses no compression), close reasons, and the HTTP upgrade request and response headers
as the relay received and sent them. Then it checks that no recorded byte string holds:

- the marker texts: UTF-8, UTF-16-LE/BE, hex, and base64/base64url at every alignment;
- the phone numbers (the seeded ones of ``sim_history``, the scripted contacts of
  ``sim``, the new number): E.164, without the ``+``, national digits, UTF-8 and UTF-16;
- contact, host and device names of at least 5 bytes, UTF-8 and UTF-16.

Shorter names ("Bo", "Ana", "Dee"…) cannot be searched for in ciphertext: a random
2-byte string turns up about once in every 64 KiB of ciphertext and a 3-byte one once
in 16 MiB, so such a check would fail by chance; a 5-byte one turns up once in 1 TiB.
Every message is therefore also decoded as a relay frame: every CONTROL frame's fields
(with the random identifiers — room, token, credential, channel — checked for their
exact expected values and set aside) and the HTTP headers are searched for *every*
name, short ones included, as whole words.

The test can fail: positive controls prove the recorder saw the real traffic (the
host's ``host{room, cred}`` and ``register{token_hash}`` with the host's actual room,
credential and the paired browser's token hash; the browser's ``accept`` of the link's
channel and its ``join``; the session's DATA both ways), that the marker really crossed
(it is in the browser's page, in the host's store and in the carrier's log, and the
proxy is the only path between the two), and that the search finds each needle once
it is planted into a recorded message.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import re
import secrets
import socket
import threading
import zlib
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any, TypeVar
from urllib.parse import parse_qs

import aiohttp
import pytest
from aiohttp import WSCloseCode, WSMsgType, web
from playwright.sync_api import Page, expect, sync_playwright

from tests.interop.devices import CHROMIUM, CHROMIUM_ARGS
from textport.host.daemon import Host, HostSettings
from textport.host.web import add_client_routes
from textport.protocol import derive, frames
from textport.relay.config import RelayConfig
from textport.relay.server import create_app
from textport.transports.sim import CONTACTS
from textport.transports.sim_history import PEOPLE

pytestmark = pytest.mark.browser

T = TypeVar("T")

NEW_NUMBER_TYPED = "+1 555 010 7"
NEW_NUMBER = "+15550107"
MIN_NEEDLE = 5
"""Shortest name searched for in ciphertext (see the module docstring)."""
UI_TIMEOUT = 30_000
"""Milliseconds; generous: the machine is small and shared with other browser tests."""

# Headers of the WebSocket handshake itself: the proxy makes its own towards the relay.
HANDSHAKE_HEADERS = frozenset(
    {
        "host",
        "connection",
        "upgrade",
        "content-length",
        "sec-websocket-key",
        "sec-websocket-version",
        "sec-websocket-extensions",
        "sec-websocket-protocol",
        "sec-websocket-accept",
    }
)
# Random handshake values, left out of the whole-word search for short names.
RANDOM_HEADERS = frozenset({"sec-websocket-key", "sec-websocket-accept"})


# ------------------------------------------------------------------ the recording proxy


@dataclass
class Recorded:
    """One WebSocket the proxy carried, and every byte of it that reached the relay."""

    number: int
    origin: str | None
    client_headers: list[tuple[str, str]]
    """The upgrade request as the client sent it to the proxy."""
    request_line: str = ""
    request_headers: list[tuple[str, str]] = field(default_factory=list)
    """The upgrade request as the relay received it."""
    response_headers: list[tuple[str, str]] = field(default_factory=list)
    """The relay's upgrade response (status line first)."""
    up: list[bytes] = field(default_factory=list)
    """Messages client -> relay."""
    down: list[bytes] = field(default_factory=list)
    """Messages relay -> client."""
    text: list[str] = field(default_factory=list)
    """Text messages either way (the protocol has none)."""
    closes: list[str] = field(default_factory=list)
    """Close codes and reasons either way."""

    def headers_text(self, *, skip_random: bool = False) -> str:
        rows = [self.request_line]
        for name, value in [*self.client_headers, *self.request_headers, *self.response_headers]:
            if skip_random and name.lower() in RANDOM_HEADERS:
                continue
            rows.append(f"{name}: {value}")
        return "\r\n".join(rows)


class RecordingProxy:
    """Accepts a WebSocket, opens one to the relay, forwards and records both ways."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.sockets: list[Recorded] = []
        self._live: set[web.WebSocketResponse] = set()

    async def handle(self, request: web.Request) -> web.StreamResponse:
        record = Recorded(
            number=len(self.sockets),
            origin=request.headers.get("Origin"),
            client_headers=list(request.headers.items()),
        )
        self.sockets.append(record)
        forward = [
            (name, value)
            for name, value in request.headers.items()
            if name.lower() not in HANDSHAKE_HEADERS
        ]
        url = self.upstream + (f"?{request.query_string}" if request.query_string else "")
        record.request_line = f"{request.method} {url}"

        async def headers_sent(
            _session: aiohttp.ClientSession,
            _ctx: SimpleNamespace,
            params: aiohttp.TraceRequestHeadersSentParams,
        ) -> None:
            record.request_headers = list(params.headers.items())

        async def request_end(
            _session: aiohttp.ClientSession,
            _ctx: SimpleNamespace,
            params: aiohttp.TraceRequestEndParams,
        ) -> None:
            response = params.response
            status = f"HTTP/1.1 {response.status} {response.reason}"
            record.response_headers = [("status", status), *response.headers.items()]

        trace = aiohttp.TraceConfig()
        trace.on_request_headers_sent.append(headers_sent)
        trace.on_request_end.append(request_end)
        async with aiohttp.ClientSession(trace_configs=[trace]) as http:
            try:
                upstream = await http.ws_connect(
                    url, headers=forward, max_msg_size=0, compress=0, autoping=True
                )
            except aiohttp.WSServerHandshakeError as exc:
                record.closes.append(f"refused {exc.status}")
                return web.Response(status=exc.status, text="refused by the relay\n")
            async with upstream:
                downstream = web.WebSocketResponse(max_msg_size=0, autoping=True)
                await downstream.prepare(request)
                self._live.add(downstream)
                try:
                    await self._forward(record, downstream, upstream)
                finally:
                    self._live.discard(downstream)
        return downstream

    async def _forward(
        self,
        record: Recorded,
        client: web.WebSocketResponse,
        relay: aiohttp.ClientWebSocketResponse,
    ) -> None:
        async def pump(
            source: web.WebSocketResponse | aiohttp.ClientWebSocketResponse,
            sink: web.WebSocketResponse | aiohttp.ClientWebSocketResponse,
            log: list[bytes],
            arrow: str,
        ) -> None:
            while True:
                message = await source.receive()
                if message.type is WSMsgType.BINARY:
                    log.append(bytes(message.data))
                    await sink.send_bytes(message.data)
                elif message.type is WSMsgType.TEXT:
                    record.text.append(f"{arrow} {message.data}")
                    await sink.send_str(message.data)
                else:
                    code = source.close_code or WSCloseCode.OK
                    reason = message.extra if isinstance(message.extra, str) else ""
                    record.closes.append(f"{arrow} close {code} {reason}")
                    if code in (WSCloseCode.ABNORMAL_CLOSURE, 1005):
                        code = WSCloseCode.OK
                    await sink.close(code=code, message=reason.encode())
                    return

        tasks = [
            asyncio.create_task(pump(client, relay, record.up, "->")),
            asyncio.create_task(pump(relay, client, record.down, "<-")),
        ]
        try:
            done, _pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                task.result()
            # The other side was told to close: give its answer a moment to come back.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 5)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def close(self) -> None:
        for ws in list(self._live):
            await ws.close(code=WSCloseCode.GOING_AWAY)


# ------------------------------------------------------------------ relay, proxy, host


def _listening_socket() -> socket.socket:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    return sock


class Stack:
    """The relay, the proxy serving the web client, and the host: one loop in a thread."""

    def __init__(self, data: Path) -> None:
        self.data = data
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._relay_sock = _listening_socket()
        self._front_sock = _listening_socket()
        front_port = self._front_sock.getsockname()[1]
        self.origin = f"http://127.0.0.1:{front_port}"
        self.proxy_url = f"ws://127.0.0.1:{front_port}/v1"
        self.proxy = RecordingProxy(f"ws://127.0.0.1:{self._relay_sock.getsockname()[1]}/v1")
        self._runners: list[web.AppRunner] = []
        self._host: Host | None = None

    @property
    def host(self) -> Host:
        assert self._host is not None
        return self._host

    def call(self, coro: Coroutine[Any, Any, T], timeout: float = 60) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def __enter__(self) -> Stack:
        self.thread.start()
        try:
            self.call(self._start())
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *_exc: object) -> None:
        try:
            self.call(self._stop())
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(30)
            self.loop.close()
            self._relay_sock.close()
            self._front_sock.close()

    async def _start(self) -> None:
        host = Host(HostSettings(data=self.data, relay=self.proxy_url, web_url=f"{self.origin}/"))
        self._host = host
        relay_app = create_app(
            RelayConfig(
                host_credential_hashes=frozenset(
                    {derive.credential_hash(host.identity.credential)}
                ),
                allowed_origins=frozenset({self.origin}),
            )
        )
        front_app = web.Application()
        front_app.router.add_get("/v1", self.proxy.handle)
        add_client_routes(front_app)
        for app, sock in ((relay_app, self._relay_sock), (front_app, self._front_sock)):
            runner = web.AppRunner(app, access_log=None, shutdown_timeout=5)
            await runner.setup()
            self._runners.append(runner)
            await web.SockSite(runner, sock).start()
        await host.start()
        await asyncio.wait_for(host.relay.connected.wait(), 30)

    async def _stop(self) -> None:
        if self._host is not None:
            await self._host.stop()
        await self.proxy.close()
        for runner in reversed(self._runners):
            await runner.cleanup()

    async def facts(self) -> Facts:
        """What the host knows, read in its own thread (SQLite connections are per thread)."""
        host = self.host
        bodies = [row[0] for row in host.store.db.execute("SELECT body FROM messages")]
        return Facts(
            room=derive.b64url(host.identity.room),
            cred=derive.b64url(host.identity.credential),
            host_name=host.identity.name,
            devices=[(d.name, derive.b64url(d.token_hash)) for d in host.store.devices()],
            bodies=bodies,
            submitted=(self.data / "sim" / "submitted.jsonl").read_text(),
        )


@dataclass
class Facts:
    room: str
    cred: str
    host_name: str
    devices: list[tuple[str, str]]
    bodies: list[str]
    submitted: str


# ------------------------------------------------------------------ what must not cross


def _base64_forms(data: bytes) -> set[bytes]:
    """The base64 and base64url text of ``data`` wherever it sits in a longer encoding.

    Within a longer string ``data`` can start at any of three byte offsets modulo 3;
    for each, keep only the characters that depend on ``data`` alone.
    """
    forms: set[bytes] = set()
    for offset in range(3):
        encoded = base64.b64encode(bytes(offset) + data)
        start = -(-offset * 8 // 6)
        end = (offset + len(data)) * 8 // 6
        inner = encoded[start:end]
        forms.add(inner)
        forms.add(inner.translate(bytes.maketrans(b"+/", b"-_")))
    return forms


def _text_forms(text: str) -> set[bytes]:
    return {text.encode(), text.encode("utf-16-le"), text.encode("utf-16-be")}


def _marker_needles(label: str, text: str) -> dict[bytes, str]:
    raw = text.encode()
    hexes = {raw.hex().encode(), raw.hex().upper().encode()}
    return dict.fromkeys(_text_forms(text) | _base64_forms(raw) | hexes, label)


def _number_forms(number: str) -> set[str]:
    digits = number.removeprefix("+")
    forms = {number, digits}
    if number.startswith("+1"):
        national = digits[1:]
        forms |= {national, f"{national[:3]} {national[3:]}", f"{national[:3]}-{national[3:]}"}
    elif number.startswith("+44"):
        forms |= {digits[2:], "0" + digits[2:]}
    return forms


def all_numbers() -> set[str]:
    return {*PEOPLE, *CONTACTS, NEW_NUMBER}


def all_names(facts: Facts) -> set[str]:
    names = {*PEOPLE.values(), *CONTACTS.values(), facts.host_name}
    return names | {name for name, _token in facts.devices}


def byte_needles(markers: dict[str, str], facts: Facts) -> dict[bytes, str]:
    """Byte strings that must appear nowhere, ciphertext included, with what each is."""
    needles: dict[bytes, str] = {}
    for label, text in markers.items():
        needles.update(_marker_needles(label, text))
    for number in all_numbers():
        for form in _number_forms(number):
            needles.update(dict.fromkeys(_text_forms(form), f"number {number} as {form!r}"))
    needles.update(dict.fromkeys(_text_forms(NEW_NUMBER_TYPED), "the number as typed"))
    for name in all_names(facts):
        if len(name.encode()) >= MIN_NEEDLE:
            needles.update(dict.fromkeys(_text_forms(name), f"name {name!r}"))
    return needles


def word_pattern(markers: dict[str, str], facts: Facts) -> re.Pattern[str]:
    """Every name (short ones too), number and marker as a whole word, any case."""
    words = {*all_names(facts), *markers.values(), NEW_NUMBER_TYPED}
    for number in all_numbers():
        words |= _number_forms(number)
    alternatives = "|".join(re.escape(word) for word in sorted(words, key=len, reverse=True))
    return re.compile(rf"(?<![A-Za-z0-9])(?:{alternatives})(?![A-Za-z0-9])", re.IGNORECASE)


def haystacks(sockets: list[Recorded]) -> Iterator[tuple[str, bytes]]:
    """Every recorded byte string: each message, each direction as one stream, headers."""
    for sock in sockets:
        for arrow, messages in (("->", sock.up), ("<-", sock.down)):
            for index, message in enumerate(messages):
                yield f"socket {sock.number} {arrow} message {index}", message
            yield f"socket {sock.number} {arrow} stream", b"".join(messages)
        yield f"socket {sock.number} headers", sock.headers_text().encode()
        yield f"socket {sock.number} text and closes", "\n".join(sock.text + sock.closes).encode()


def find_leaks(places: Iterator[tuple[str, bytes]], needles: dict[bytes, str]) -> list[str]:
    return [
        f"{where}: {label} ({needle!r})"
        for where, data in places
        for needle, label in needles.items()
        if needle in data
    ]


RANDOM_FIELDS = {"room": 16, "cred": 32, "token": 32, "token_hash": 32, "channel": 16}
"""Random identifiers in control frames and their sizes in bytes."""
CODE_CHANNEL = re.compile(r"code-[0-9A-HJKMNP-TV-Z]{8}")
"""The channel of a typed pairing code the browser's pairing screen shows (random)."""


def control_view(message: bytes, expected: dict[str, set[str]]) -> str:
    """A CONTROL frame's JSON as text without its random identifiers, each checked first.

    It is the JSON as sent, so fields the relay's decoder would ignore are searched too.
    A random identifier could spell "Bo" by chance, so it is not searched for words;
    instead it must be exactly one of the values the test expects for that field.
    """
    values = json.loads(message[1:])
    assert isinstance(values, dict)
    for name, size in RANDOM_FIELDS.items():
        if name in values:
            value = values.pop(name)
            assert value in expected[name], f"unexpected {name} {value!r} in {message!r}"
            if name == "channel" and value.startswith("code-"):
                assert CODE_CHANNEL.fullmatch(value), value
            else:
                assert len(derive.unb64url(value)) == size
    return json.dumps(values, ensure_ascii=False)


def decode_all(sockets: list[Recorded]) -> list[tuple[Recorded, str, bytes, frames.Frame]]:
    """Every recorded message, with its decoding as a relay frame (each one must decode)."""
    decoded = []
    for sock in sockets:
        for arrow, messages in (("->", sock.up), ("<-", sock.down)):
            decoded += [(sock, arrow, m, frames.decode_frame(m)) for m in messages]
    return decoded


# ------------------------------------------------------------------ the test


def _use_the_client(page: Page, link: str, marker: str, second: str) -> None:
    page.goto(link)
    conversations = page.get_by_role("list", name="Conversations")
    expect(conversations).to_be_visible(timeout=UI_TIMEOUT)
    expect(conversations.get_by_role("listitem")).to_have_count(8, timeout=UI_TIMEOUT)

    conversations.get_by_role("listitem").filter(has_text="Ana").first.click()
    page.get_by_role("textbox", name="Message").fill(marker)
    page.get_by_role("button", name="Send", exact=True).click()
    thread = page.get_by_role("list", name="Messages")
    expect(thread.get_by_text(marker, exact=True)).to_be_visible(timeout=UI_TIMEOUT)
    expect(thread.get_by_text("delivered").last).to_be_visible(timeout=UI_TIMEOUT)
    expect(thread.get_by_text(f"Got it: “{marker}”")).to_be_visible(timeout=UI_TIMEOUT)

    page.get_by_role("button", name="New conversation").click()
    page.get_by_label("Phone number").fill(NEW_NUMBER_TYPED)
    page.get_by_role("textbox", name="Message").fill(second)
    page.get_by_role("button", name="Send", exact=True).click()
    expect(thread.get_by_text(second, exact=True)).to_be_visible(timeout=UI_TIMEOUT)
    expect(thread.get_by_text("delivered").last).to_be_visible(timeout=UI_TIMEOUT)

    search = page.get_by_role("searchbox", name="Search")
    search.fill(marker)
    found = conversations.get_by_role("listitem")
    expect(found.filter(has_text="Ana")).to_be_visible(timeout=UI_TIMEOUT)
    search.fill("Priya")
    expect(found.filter(has_text="Priya")).to_be_visible(timeout=UI_TIMEOUT)
    search.fill("")
    # Positive control: the plaintext is there, in the browser.
    assert marker in page.content()


def test_no_plaintext_crosses_the_relay(tmp_path: Path) -> None:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: `apt-get install chromium` (scripts/test does)")
    markers = {
        "marker": f"leak check {secrets.token_hex(10)}",
        "second text": f"hello stranger {secrets.token_hex(8)}",
    }
    markers |= {f"{label} (random part)": text.split()[-1] for label, text in list(markers.items())}
    with Stack(tmp_path / "data") as stack:
        link = stack.call(stack.host.make_link())
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                _use_the_client(browser.new_page(), link, markers["marker"], markers["second text"])
            finally:
                browser.close()
        facts = stack.call(stack.facts())
    sockets = stack.proxy.sockets

    # ---- the marker really crossed: the proxy is the only path from the browser to the host.
    assert markers["marker"] in facts.bodies
    assert f"Got it: “{markers['marker']}”" in facts.bodies
    assert markers["second text"] in facts.bodies
    submitted = [json.loads(line) for line in facts.submitted.splitlines()]
    assert {"to": ["+15550100"], "body": markers["marker"]}.items() <= submitted[0].items()
    assert {"to": [NEW_NUMBER], "body": markers["second text"]}.items() <= submitted[1].items()

    # ---- the recorder saw the real relay traffic.
    assert len(facts.devices) == 1
    token_hash = facts.devices[0][1]
    channel = parse_qs(link.split("#", 1)[1].split("?", 1)[1])["c"][0]
    decoded = decode_all(sockets)
    ops = [(sock.number, sock.origin, arrow, frame) for sock, arrow, _, frame in decoded]
    host_sockets = {n for n, origin, _, f in ops if origin is None and isinstance(f, frames.HostOp)}
    assert host_sockets, "the host's relay connection did not cross the proxy"
    assert all(
        f == frames.HostOp(room=facts.room, cred=facts.cred)
        for n, _, _, f in ops
        if isinstance(f, frames.HostOp)
    )
    assert any(
        n in host_sockets and f == frames.RegisterOp(token_hash=token_hash) for n, _, _, f in ops
    )
    assert any(
        origin is None and isinstance(f, frames.OfferOp) and f.channel == channel
        for _, origin, _, f in ops
    ), "the host's pairing channel did not cross the proxy"
    assert any(
        origin == stack.origin and f == frames.AcceptOp(channel=channel) for _, origin, _, f in ops
    ), "the browser's pairing socket did not cross the proxy"
    browser_sessions = {
        n for n, origin, _, f in ops if origin == stack.origin and isinstance(f, frames.JoinOp)
    }
    assert browser_sessions, "the browser's session socket did not cross the proxy"
    session_data = [
        (arrow, f.payload)
        for n, _, arrow, f in ops
        if n in browser_sessions and isinstance(f, frames.DataFrame)
    ]
    assert sum(1 for arrow, _ in session_data if arrow == "->") >= 3
    assert sum(len(p) for arrow, p in session_data if arrow == "<-") > 10_000  # the history
    assert all(sock.request_headers and sock.response_headers for sock in sockets)
    assert all(sock.response_headers[0][1].startswith("HTTP/1.1 101") for sock in sockets), (
        "a socket was refused"
    )

    # ---- nothing that must stay private is in any byte that crossed.
    needles = byte_needles(markers, facts)
    assert find_leaks(haystacks(sockets), needles) == []

    # The search is not blind: each needle planted in a recorded DATA frame is found.
    sample = next(m for sock in sockets for m in sock.down if m[0] == frames.DATA)
    for needle, label in needles.items():
        planted = sample[:7] + needle + sample[7:]
        assert find_leaks(iter([("planted", planted)]), {needle: label}), label

    # ---- control frames and headers, searched for every name as a word (short ones too).
    words = word_pattern(markers, facts)
    expected = {
        "room": {facts.room},
        "cred": {facts.cred},
        "token_hash": {token_hash},
        "token": set(),  # checked below: a token hashes to the registered hash
        # The link's channel, and those of the offers the pairing screen shows meanwhile
        # (its QR code and typed code: random, made in the browser).
        "channel": {channel}
        | {
            f.channel
            for _, origin, _, f in ops
            if origin == stack.origin and isinstance(f, frames.OfferOp)
        },
    }
    for _sock, _arrow, message, frame in decoded:
        if isinstance(frame, frames.JoinOp):
            token = derive.unb64url(frame.token)
            assert derive.b64url(derive.token_hash(token)) == token_hash
            expected["token"].add(frame.token)
        if isinstance(frame, frames.DataFrame):
            continue
        view = control_view(message, expected)
        assert words.search(view) is None, f"{view} names someone"
    for sock in sockets:
        assert words.search(sock.headers_text(skip_random=True)) is None, sock.headers_text()
        assert words.search("\n".join(sock.closes)) is None, sock.closes
        assert sock.text == []
    assert words.search("a text to bo today") is not None  # the word search is not blind

    # ---- ciphertext does not compress, as any plaintext structure would.
    # Each payload crosses twice (the sender's socket, the receiver's): count it once, or
    # zlib finds the copy within its window and a small recording "compresses".
    payloads = list(
        dict.fromkeys(f.payload for _, _, _, f in decoded if isinstance(f, frames.DataFrame))
    )
    for payload in payloads:
        if len(payload) >= 256:
            assert len(zlib.compress(payload, 9)) >= 0.95 * len(payload)
    everything = b"".join(payloads)
    assert len(zlib.compress(everything, 9)) >= 0.99 * len(everything)
