"""First screen: 50 conversations decrypted in the client, and an opened thread.

DESIGN.md's goal: the first screen ≤ 150 ms after the socket opens, an opened thread
≤ 50 ms (p95), at 1 M messages in 5 k conversations. The store is built once, from
bench/store.py's ``generate`` and ``records`` through HistoryImport (``--folder`` keeps
it for the next run). A server process pinned to core 0 runs the relay (textport.relay)
and the host side on that store (RelayLink and DeviceSession, wired as the daemon wires
them) in one event loop, as ``textport demo`` embeds them; this process and the
Chromium it starts are pinned to core 1.

Each round opens a fresh connection and times, from just before the socket opens:

- **first screen**: socket → join → ready → IK → hello/welcome → sync{0} → reset
  (→ sync{seq}) → convs{limit 50} → conv_page opened and decoded;
- **open thread**: thread{conv, limit 50} → thread_page opened and decoded, for the
  round's conversation of that page;

with two clients: textport.client (Python) and, in headless Chromium, the browser's own
WebSocket and web/src/protocol (WebCrypto) through web/harness/first-screen.ts.

The baseline is the sum of the parts, measured in the same rounds, by the same client:
(a) the store query alone (``conversations_page(limit=50)``, ``thread_page``), (b) the
crypto alone (IK, both sides, and a seal and an open of the same page bytes), and
(c) the relay round trips the step needs (first screen 5: join, IK, hello, sync, convs;
open thread 1): five ping/pongs through the same relay and host on the round's
connection (their sum, and their median for the thread). What the figure has
over its baseline is everything else: sockets, JSON, validation, event loops.

Prints a summary of the parts on stderr and one JSON line per figure on stdout, the
format of bench/store.py's: ``value`` p50 or p95 in ms, ``baseline`` the sum of the
parts at the same percentile, ``goal`` the bound (p95 lines), ``met`` value ≤ goal.
Exits 0 either way.

    .venv/bin/python bench/first_screen.py [--messages N] [--rounds N] [--folder DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import http.server
import itertools
import json
import os
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from store import generate, records  # bench/store.py
from store import report as store_report
from textport.client import Credentials, Device
from textport.host.identity import HostIdentity
from textport.host.relay_link import RelayLink
from textport.host.sync import DeviceSession
from textport.protocol import derive, session
from textport.protocol import messages as wire
from textport.protocol.noise import KeyPair
from textport.relay.server import Relay, RelayConfig
from textport.store.attachments import AttachmentFiles
from textport.store.db import connect
from textport.store.history import HistoryImport
from textport.store.store import Device as StoredDevice
from textport.store.store import Store
from textport.transports.base import Capabilities

ROOT = Path(__file__).resolve().parents[1]
WEB = ROOT / "web"
CHROMIUM = Path("/usr/lib/chromium/chromium")
CHROMIUM_ARGS = [  # as tests/interop/devices.py launches it
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREEN_GOAL = 150.0
THREAD_GOAL = 50.0
SCREEN_TRIPS = 5
"""Relay round trips before the first screen: join, IK, hello, sync, convs."""
WARMUP = 3
SETTLE = 0.05
"""Seconds of quiet before each measured connection: the last one's close and the
browser's own housekeeping are done, as they would be before a user's first screen."""
PINNING = len(os.sched_getaffinity(0)) >= 2


def report(metric: str, value: float, unit: str, baseline: float, goal: float | None) -> None:
    store_report(metric, value, unit, baseline, goal, bench="first_screen")


def note(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- the server process


async def serve(folder: Path, origin: str) -> None:
    """The relay and the host side on one event loop; prints how to reach them."""
    credential = secrets.token_bytes(32)
    room = secrets.token_bytes(derive.ROOM_LEN)
    relay = Relay(
        RelayConfig(
            host_credential_hashes=frozenset({derive.credential_hash(credential)}),
            allowed_origins=frozenset({origin}),
        )
    )
    app = web.Application()
    relay.add_routes(app)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    url = f"ws://127.0.0.1:{runner.addresses[0][1]}/v1"

    store = Store(connect(folder / "textport.db"), time.time)
    files = AttachmentFiles(folder / "attachments")
    identity = HostIdentity(
        key=KeyPair.generate(), room=room, credential=credential, relay=url, name="bench host"
    )
    caps = Capabilities(delivery_reports=True, mms=True, max_parts=10)

    def open_session(device: StoredDevice, send: Any) -> DeviceSession:
        return DeviceSession(
            store,
            device,
            host_name=identity.name,
            caps=caps,
            send=send,
            accepted=link.push_all,
            text_ttl=3600,
            files=files,
        )

    link = RelayLink(
        identity,
        devices=store.devices,
        find_device=store.device_by_key,
        open_session=open_session,
        seen=lambda device: store.seen(device.id),
    )
    task = asyncio.create_task(link.run())
    await asyncio.wait_for(link.connected.wait(), 10)
    await link.flush()
    await asyncio.sleep(0.1)  # the relay takes the tokens in
    print(json.dumps({"relay": url, "room": room.hex(), "host": identity.key.public.hex()}))
    sys.stdout.flush()
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    task.cancel()
    await runner.cleanup()
    store.db.close()


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    relay: str
    room: bytes
    host_public: bytes

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_server(folder: Path, origin: str) -> Server:
    process = subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), "--serve", str(folder), origin],
        stdout=subprocess.PIPE,
        cwd=ROOT,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    try:
        ready = json.loads(line)
    except ValueError:
        process.kill()
        process.wait()
        raise RuntimeError("the server process did not start") from None
    return Server(
        process, ready["relay"], bytes.fromhex(ready["room"]), bytes.fromhex(ready["host"])
    )


# ---------------------------------------------------------------- the store


def build_store(folder: Path, messages: int, conversations: int) -> None:
    """The history, once: a folder that already holds this size is used as it is."""
    stamp = folder / "first_screen.json"
    size = {"messages": messages, "conversations": conversations}
    if stamp.exists() and json.loads(stamp.read_text()) == size:
        note(f"using the store in {folder}")
        return
    for name in ("textport.db", "textport.db-wal", "textport.db-shm"):
        (folder / name).unlink(missing_ok=True)
    shutil.rmtree(folder / "attachments", ignore_errors=True)
    began = time.perf_counter()
    store = Store(connect(folder / "textport.db"), time.time)
    HistoryImport(store, AttachmentFiles(folder / "attachments")).run(
        records(generate(messages, conversations))
    )
    store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.db.close()
    stamp.write_text(json.dumps(size))
    note(
        f"built {messages:,} messages in {conversations:,} conversations in "
        f"{time.perf_counter() - began:.1f} s"
    )


def pair(store: Store, name: str) -> tuple[KeyPair, bytes]:
    """A device in the store, as pairing leaves it: its key and token."""
    key, token = KeyPair.generate(), secrets.token_bytes(32)
    store.add_device(
        derive.device_id(key.public), key.public, name, "bench", derive.token_hash(token)
    )
    return key, token


# ---------------------------------------------------------------- the parts


def timed(action: Any, *args: Any) -> tuple[float, Any]:
    began = time.perf_counter()
    result = action(*args)
    return (time.perf_counter() - began) * 1000, result


def crypto(room: bytes, screen_body: bytes, thread_body: bytes) -> tuple[float, float]:
    """Python's crypto alone: IK both sides and the conv page sealed and opened; then
    the thread page sealed and opened. Milliseconds."""
    host_key, device_key = KeyPair.generate(), KeyPair.generate()
    began = time.perf_counter()
    device = session.device_handshake(device_key, host_key.public, room)
    host = session.host_handshake(host_key, room)
    host.read(device.write())
    device.read(host.write())
    to_device, at_device = host.session(0), device.session(0)
    at_device.open_body(to_device.seal_body(screen_body))
    screen = time.perf_counter()
    at_device.open_body(to_device.seal_body(thread_body))
    end = time.perf_counter()
    return (screen - began) * 1000, (end - screen) * 1000


def bodies(store: Store, conv: int) -> tuple[bytes, bytes, float, float]:
    """The two pages' bodies as the host sends them, and the store queries' times."""
    convs_ms, convs = timed(store.conversations_page, None, 50)
    thread_ms, msgs = timed(store.thread_page, conv, None, 50)
    screen_body = wire.encode(wire.ConvPage(qid=1, convs=convs, more=True))
    thread_body = wire.encode(wire.ThreadPage(qid=2, conv=conv, msgs=msgs, more=True))
    return screen_body, thread_body, convs_ms, thread_ms


# ---------------------------------------------------------------- measuring


@dataclass
class Figures:
    """One client's samples, a value per round, in milliseconds."""

    screen: list[float] = field(default_factory=list)
    thread: list[float] = field(default_factory=list)
    screen_parts: list[float] = field(default_factory=list)
    thread_parts: list[float] = field(default_factory=list)
    store: list[float] = field(default_factory=list)
    crypto: list[float] = field(default_factory=list)
    round_trip: list[float] = field(default_factory=list)
    phases: dict[str, list[float]] = field(default_factory=dict)

    def add(self, run: Round, store: tuple[float, float], crypto: tuple[float, float]) -> None:
        self.screen.append(run.screen)
        self.thread.append(run.thread)
        self.screen_parts.append(store[0] + crypto[0] + sum(run.round_trips))
        self.thread_parts.append(store[1] + crypto[1] + statistics.median(run.round_trips))
        self.store.append(store[0])
        self.crypto.append(crypto[0])
        self.round_trip.append(statistics.median(run.round_trips))
        for name, value in run.phases.items():
            self.phases.setdefault(name, []).append(value)

    def report(self, client: str) -> None:
        note(
            f"{client}: parts of the first screen, medians: store {median(self.store):.2f} ms, "
            f"crypto {median(self.crypto):.2f} ms, relay round trip "
            f"{median(self.round_trip):.2f} ms (x {SCREEN_TRIPS})"
            + "".join(f"; {name} {median(v):.2f} ms" for name, v in self.phases.items())
        )
        for name, values, parts, goal in (
            ("first screen (50 conversations)", self.screen, self.screen_parts, SCREEN_GOAL),
            ("open thread (newest 50)", self.thread, self.thread_parts, THREAD_GOAL),
        ):
            report(f"{name}, {client} p50", median(values), "ms", median(parts), None)
            report(f"{name}, {client} p95", p95(values), "ms", p95(parts), goal)


def median(values: list[float]) -> float:
    return statistics.median(values)


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(int(len(ordered) * 0.95) - 1, 0)]


@dataclass(frozen=True)
class Round:
    """One round's times in milliseconds, and the conversation it opened."""

    screen: float
    thread: float
    round_trips: list[float]
    """SCREEN_TRIPS ping/pongs on the same connection, after the thread."""
    conv: int
    phases: dict[str, float] = field(default_factory=dict)
    """Where the first screen's time went, for the summary."""


async def python_round(http: aiohttp.ClientSession, credentials: Credentials, index: int) -> Round:
    device = Device(credentials, http=http, agent="bench/first_screen python")
    marks = [time.perf_counter()]
    try:
        await device.connect()
        marks.append(time.perf_counter())
        result = await device.sync(0)
        marks.append(time.perf_counter())
        if not result.reset:
            raise RuntimeError("the host did not answer sync{0} with reset")
        page = await device.conversations(limit=50)
        marks.append(time.perf_counter())
        conv = page.convs[index % len(page.convs)].id
        thread = await device.thread(conv, limit=50)
        marks.append(time.perf_counter())
        if len(page.convs) != 50 or not thread.msgs:
            raise RuntimeError("the pages are not what the store holds")
        for _ in range(SCREEN_TRIPS):
            await device.ping()
            marks.append(time.perf_counter())
    finally:
        await device.close()
    ms = [(b - a) * 1000 for a, b in itertools.pairwise(marks)]
    return Round(
        screen=sum(ms[:3]),
        thread=ms[3],
        round_trips=ms[4:],
        conv=conv,
        phases={"socket to welcome": ms[0], "sync to reset": ms[1], "convs to conv_page": ms[2]},
    )


@contextlib.contextmanager
def harness_page() -> Iterator[tuple[str, str] | None]:
    """web/harness/first-screen.ts bundled and served on 127.0.0.1: (url, origin)."""
    esbuild = WEB / "node_modules" / ".bin" / "esbuild"
    if not esbuild.exists():
        note("chromium skipped: web/node_modules has no esbuild (npm ci in web/)")
        yield None
        return
    folder = Path(tempfile.mkdtemp(prefix="textport-first-screen-"))
    try:
        subprocess.run(
            [
                str(esbuild),
                str(WEB / "harness" / "first-screen.ts"),
                "--bundle",
                "--format=esm",
                "--target=es2022",
                "--log-level=warning",
                f"--outfile={folder / 'first-screen.js'}",
            ],
            check=True,
        )
        (folder / "index.html").write_text(
            '<!doctype html><meta charset="utf-8"><title>loading</title>'
            '<script type="module" src="first-screen.js"></script>'
        )
        handler = functools.partial(_QuietHandler, directory=str(folder))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            origin = f"http://127.0.0.1:{server.server_address[1]}"
            yield f"{origin}/index.html", origin
        finally:
            server.shutdown()
            server.server_close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


async def measure(
    server: Server,
    store: Store,
    python_device: Credentials,
    browser_device: Credentials | None,
    page_url: str | None,
    rounds: int,
) -> None:
    ours, browser = Figures(), Figures()
    async with contextlib.AsyncExitStack() as stack:
        http = await stack.enter_async_context(aiohttp.ClientSession())
        page = None
        if browser_device is not None and page_url is not None:
            page = await stack.enter_async_context(chromium_page(page_url, browser_device))
        for index in range(WARMUP + rounds):
            await asyncio.sleep(SETTLE)
            run = await python_round(http, python_device, index)
            screen_body, thread_body, convs_ms, thread_ms = bodies(store, run.conv)
            parts = crypto(server.room, screen_body, thread_body)
            if index >= WARMUP:
                ours.add(run, (convs_ms, thread_ms), parts)
            if page is None:
                continue
            await asyncio.sleep(SETTLE)
            got = await page.evaluate("(i) => window.firstScreen.round(i)", index)
            run = Round(got["screen"], got["thread"], got["pings"], got["conv"])
            screen_body, thread_body, convs_ms, thread_ms = bodies(store, run.conv)
            pages = [screen_body.hex(), thread_body.hex()]
            parts = await page.evaluate("([a, b]) => window.firstScreen.crypto(a, b)", pages)
            if index >= WARMUP:
                browser.add(run, (convs_ms, thread_ms), (parts["screen"], parts["thread"]))
    ours.report("python client")
    if browser.screen:
        browser.report("chromium client")


@contextlib.asynccontextmanager
async def chromium_page(url: str, device: Credentials) -> Any:
    from playwright.async_api import async_playwright  # noqa: PLC0415 - only when used

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
        )
        try:
            page = await browser.new_page()
            await page.goto(url)
            await page.wait_for_function("document.title === 'first screen ready'")
            await page.evaluate(
                "(s) => window.firstScreen.setup(s)",
                {
                    "relay": device.relay,
                    "room": device.room.hex(),
                    "token": device.token.hex(),
                    "hostPublic": device.host_public.hex(),
                    "devicePrivate": device.device_key.private_bytes().hex(),
                },
            )
            yield page
        finally:
            await browser.close()


def run(folder: Path, messages: int, conversations: int, rounds: int, browser: bool) -> None:
    build_store(folder, messages, conversations)
    store = Store(connect(folder / "textport.db"), time.time)
    with harness_page() if browser else contextlib.nullcontext() as served:
        page_url, origin = served if served is not None else (None, "http://127.0.0.1")
        if browser and not CHROMIUM.exists():
            note(f"chromium skipped: {CHROMIUM} is missing (apt-get install chromium)")
            page_url = None
        # The devices are in the store before the host starts, so it registers them.
        paired = [pair(store, "bench python client"), pair(store, "bench chromium")]
        server = start_server(folder, origin)
        try:
            devices = [
                Credentials(server.relay, server.room, token, server.host_public, key)
                for key, token in paired
            ]
            asyncio.run(
                measure(
                    server,
                    store,
                    devices[0],
                    devices[1] if page_url is not None else None,
                    page_url,
                    rounds,
                )
            )
        finally:
            server.stop()
            store.db.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--conversations", type=int, default=5_000)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--folder", type=Path, help="keep the store here (built once)")
    parser.add_argument("--no-browser", action="store_true", help="the Python client only")
    parser.add_argument("--serve", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        if PINNING:
            os.sched_setaffinity(0, {0})
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(serve(Path(args.serve[0]), args.serve[1]))
        return
    if PINNING:
        os.sched_setaffinity(0, {1})  # Chromium and the Playwright driver inherit it
    else:
        note("note: fewer than two cores: the server and the clients share them")
    folder = args.folder or Path(tempfile.mkdtemp(prefix="textport-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    try:
        run(folder, args.messages, args.conversations, args.rounds, not args.no_browser)
    finally:
        if args.folder is None:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    try:
        main()
    except Exception:
        traceback.print_exc()
        print("bench/first_screen.py failed; see above", file=sys.stderr)
    sys.exit(0)
