"""Relayed frames per relay-CPU-second: textport's relay against nats-server's WebSocket.

Both servers run in their own process pinned to core 0 (``taskset -c 0``); this process,
which plays every client, pins itself to core 1. A figure is the server process's CPU
time (user and system, every thread: /proc/PID/task/*/schedstat, else /proc/PID/stat)
over a fixed number of round trips:

* textport: 100 rooms, each with a host and one joined device. The device sends DATA with a
  128-byte payload; the relay rewrites the link and hands it to the host, which echoes it;
  the relay hands it back to the device. One round trip in flight per pair, two relayed
  frames per round trip. uvloop; the relay's default limits, except that the frame rates
  are raised so that the limiter runs but never refuses, and one credential may hold the
  100 rooms.
* nats-server (Debian's ``nats-server``) with ``websocket { no_tls: true,
  compression: false }``: 100 pairs of WebSocket connections speaking NATS's text protocol;
  one side publishes 128 bytes to a subject the other subscribes to, which publishes them
  back on a second subject. Two routed messages per round trip.

Rounds (10 of 150 round trips per pair) alternate between the two servers; each figure is
the median of its rounds, and the ratio the median of the rounds' ratios (both servers
measured back to back), because these machines drift by ±20 % within a minute. A second
figure is the memory of an idle connection: RSS growth over
1000 idle, joined device sockets against 1000 idle NATS WebSocket connections with a
subscription each.

Prints a summary, then one JSON line per figure. For ``frames_per_cpu_second``, ``ratio``
is textport / nats and ``goal`` the minimum ratio. For ``bytes_per_idle_connection``,
``ratio`` is nats / textport (above 1: leaner than nats) and ``goal`` is DESIGN.md's
absolute ceiling in bytes, ``met`` meaning value <= goal. Always exits 0, also when
nats-server is missing (``apt-get install nats-server``) or something fails.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generic, TypeVar

import aiohttp
from aiohttp import web

from textport.protocol import derive, frames
from textport.relay.server import RelayConfig, create_app

PAYLOAD = bytes(range(128))
CREDENTIAL = b"bench-credential-0123456789abcdef"
TOKEN = b"\x42" * 32
IDLE_ROOM = b"\xff" * 16
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")
ROOT = Path(__file__).resolve().parents[1]
MEMORY_GOAL = 16 * 1024

P = TypeVar("P")


def bench_config() -> RelayConfig:
    return RelayConfig(
        host_credential_hashes=frozenset({derive.credential_hash(CREDENTIAL)}),
        frames_per_second=1e9,
        frame_burst=10**9,
        host_frames_per_second=1e9,
        host_frame_burst=10**9,
        max_devices_per_room=5000,
        max_rooms_per_credential=1000,
        max_connections_per_ip=100_000,
        max_connections=100_000,
    )


# ---------------------------------------------------------------- the textport server process


async def serve_textport() -> None:
    runner = web.AppRunner(create_app(bench_config()), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, backlog=4096)
    await site.start()
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    print(runner.addresses[0][1], flush=True)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


def run_server_process() -> None:
    try:
        import uvloop  # noqa: PLC0415 - optional, like in the relay itself
    except ImportError:
        runner: Callable[[Awaitable[None]], None] = asyncio.run  # type: ignore[assignment]
    else:
        runner = uvloop.run  # type: ignore[assignment]
    with contextlib.suppress(KeyboardInterrupt):
        runner(serve_textport())


# ---------------------------------------------------------------- processes


def cpu_seconds(pid: int) -> float:
    """CPU time of every thread of ``pid``: schedstat's nanoseconds, else stat's ticks."""
    try:
        return (
            sum(
                int((task / "schedstat").read_text().split()[0])
                for task in Path(f"/proc/{pid}/task").iterdir()
            )
            / 1e9
        )
    except (OSError, ValueError, IndexError):
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime


def rss_bytes(pid: int) -> int:
    return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def pinned(core: int) -> list[str]:
    return ["taskset", "-c", str(core)] if PINNING else []


PINNING = bool(shutil.which("taskset")) and len(os.sched_getaffinity(0)) >= 2


@dataclass
class Server:
    name: str
    process: subprocess.Popen[bytes]
    url: str

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_textport() -> Server:
    process = subprocess.Popen(
        [*pinned(0), sys.executable, str(Path(__file__).resolve()), "--serve"],
        stdout=subprocess.PIPE,
        cwd=ROOT,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line.strip().isdigit():
        process.kill()
        process.wait()
        raise RuntimeError("the textport relay did not start")
    return Server("textport", process, f"ws://127.0.0.1:{int(line)}/v1")


def start_nats(folder: Path) -> tuple[Server | None, str]:
    binary = shutil.which("nats-server") or shutil.which("nats-server", path="/usr/sbin:/sbin")
    if binary is None:
        return None, "nats-server is not installed (apt-get install nats-server)"
    ws_port = free_port()
    config = folder / "nats.conf"
    config.write_text(
        f'listen: "127.0.0.1:{free_port()}"\n'
        f'websocket {{\n  listen: "127.0.0.1:{ws_port}"\n  no_tls: true\n'
        "  compression: false\n}\n"
    )
    process = subprocess.Popen(
        [*pinned(0), binary, "-c", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", ws_port), 0.2):
            return Server("nats", process, f"ws://127.0.0.1:{ws_port}"), ""
        if process.poll() is not None:
            return None, f"nats-server exited with {process.returncode}"
        time.sleep(0.02)
    process.kill()
    process.wait()
    return None, "nats-server did not open its WebSocket port"


# ---------------------------------------------------------------- textport clients

Ws = aiohttp.ClientWebSocketResponse


async def binary(ws: Ws) -> bytes:
    message = await ws.receive()
    if message.type != aiohttp.WSMsgType.BINARY:
        raise RuntimeError(f"the server sent {message.type.name}: {message.data!r}")
    data: bytes = message.data
    return data


def check(ok: bool, what: str) -> None:
    if not ok:
        raise RuntimeError(f"the relay misbehaved: {what}")


async def control(ws: Ws, op: frames.ControlOp) -> None:
    await ws.send_bytes(frames.encode_control(op))


async def textport_host(http: aiohttp.ClientSession, url: str, room: bytes) -> Ws:
    host = await http.ws_connect(url, max_msg_size=0)
    await control(host, frames.HostOp(room=derive.b64url(room), cred=derive.b64url(CREDENTIAL)))
    check(isinstance(frames.decode_frame(await binary(host)), frames.ReadyOp), "no ready")
    await control(host, frames.RegisterOp(token_hash=derive.b64url(derive.token_hash(TOKEN))))
    return host


async def textport_device(http: aiohttp.ClientSession, url: str, room: bytes) -> Ws:
    device = await http.ws_connect(url, max_msg_size=0)
    await control(device, frames.JoinOp(room=derive.b64url(room), token=derive.b64url(TOKEN)))
    check(isinstance(frames.decode_frame(await binary(device)), frames.ReadyOp), "not admitted")
    return device


async def textport_pair(http: aiohttp.ClientSession, url: str, n: int) -> tuple[Ws, Ws]:
    room = n.to_bytes(16, "big")
    host = await textport_host(http, url, room)
    device = await textport_device(http, url, room)
    check(isinstance(frames.decode_frame(await binary(host)), frames.OpenedOp), "no link")
    return host, device


async def textport_round_trips(pair: tuple[Ws, Ws], count: int) -> None:
    host, device = pair
    frame = frames.encode_data(0, PAYLOAD)
    for _ in range(count):
        await device.send_bytes(frame)
        await host.send_bytes(await binary(host))  # DATA(link): back to the same link
        if await binary(device) != frame:
            raise RuntimeError("the relay changed a frame")


async def textport_idle(http: aiohttp.ClientSession, url: str, count: int) -> list[Ws]:
    """A host (RSS measured after it) and then ``count`` joined, idle devices."""
    return [await textport_device(http, url, IDLE_ROOM) for _ in range(count)]


# ---------------------------------------------------------------- NATS clients


class Nats:
    """Just enough of the NATS client protocol over one WebSocket for this bench."""

    def __init__(self, ws: Ws) -> None:
        self.ws = ws
        self.buffer = b""

    @classmethod
    async def connect(cls, http: aiohttp.ClientSession, url: str, subject: str) -> Nats:
        client = cls(await http.ws_connect(url, max_msg_size=0))
        info = await client.line()
        if not info.startswith(b"INFO "):
            raise RuntimeError(f"not a NATS server: {info[:40]!r}")
        options = {"verbose": False, "pedantic": False, "protocol": 1, "echo": False}
        await client.ws.send_bytes(
            b"CONNECT " + json.dumps(options).encode() + f"\r\nSUB {subject} 1\r\nPING\r\n".encode()
        )
        while (line := await client.line()) != b"PONG":
            if line.startswith(b"-ERR"):
                raise RuntimeError(line.decode())
        return client

    async def line(self) -> bytes:
        while (end := self.buffer.find(b"\r\n")) < 0:
            self.buffer += await binary(self.ws)
        line, self.buffer = self.buffer[:end], self.buffer[end + 2 :]
        return line

    async def message(self) -> bytes:
        """The next MSG's payload; answers the server's PINGs on the way."""
        if not self.buffer:  # the usual case: one WebSocket message holds one whole MSG
            data = await binary(self.ws)
            end = data.find(b"\r\n")
            if data.startswith(b"MSG ") and end > 0:
                start = end + 2
                if len(data) == start + int(data[data.rfind(b" ", 0, end) + 1 : end]) + 2:
                    return data[start:-2]
            self.buffer = data
        while True:
            line = await self.line()
            if line.startswith(b"MSG "):
                size = int(line.rsplit(b" ", 1)[1])
                while len(self.buffer) < size + 2:
                    self.buffer += await binary(self.ws)
                payload, self.buffer = self.buffer[:size], self.buffer[size + 2 :]
                return payload
            if line == b"PING":
                await self.ws.send_bytes(b"PONG\r\n")
            elif line.startswith(b"-ERR"):
                raise RuntimeError(line.decode())

    async def publish(self, subject: bytes, payload: bytes) -> None:
        await self.ws.send_bytes(b"PUB %s %d\r\n%s\r\n" % (subject, len(payload), payload))


@dataclass
class NatsPair:
    sender: Nats
    echo: Nats
    ping: bytes
    pong: bytes


async def nats_pair(http: aiohttp.ClientSession, url: str, n: int) -> NatsPair:
    ping, pong = f"ping.{n}", f"pong.{n}"
    sender = await Nats.connect(http, url, pong)
    echo = await Nats.connect(http, url, ping)
    return NatsPair(sender, echo, ping.encode(), pong.encode())


async def nats_round_trips(pair: NatsPair, count: int) -> None:
    for _ in range(count):
        await pair.sender.publish(pair.ping, PAYLOAD)
        await pair.echo.publish(pair.pong, await pair.echo.message())
        if await pair.sender.message() != PAYLOAD:
            raise RuntimeError("nats changed a message")


async def nats_idle(http: aiohttp.ClientSession, url: str, count: int) -> list[Nats]:
    return [await Nats.connect(http, url, f"idle.{n}") for n in range(count)]


# ---------------------------------------------------------------- measuring


@dataclass
class Contender(Generic[P]):
    server: Server
    pairs: list[P]
    round_trips: Callable[[P, int], Awaitable[None]]
    rates: list[float] = field(default_factory=list)
    """Frames per server-CPU-second, one per round."""
    walls: list[float] = field(default_factory=list)
    """Round trips per wall-clock second, one per round."""

    async def round(self, per_pair: int) -> None:
        await asyncio.gather(*(self.round_trips(pair, 10) for pair in self.pairs))  # warm up
        pid = self.server.process.pid
        cpu, wall = cpu_seconds(pid), time.perf_counter()
        await asyncio.gather(*(self.round_trips(pair, per_pair) for pair in self.pairs))
        cpu, wall = cpu_seconds(pid) - cpu, time.perf_counter() - wall
        round_trips = len(self.pairs) * per_pair
        self.rates.append(2 * round_trips / max(cpu, 1e-6))
        self.walls.append(round_trips / wall)

    @property
    def rate(self) -> float:
        return statistics.median(self.rates)


async def idle_bytes(
    server: Server,
    http: aiohttp.ClientSession,
    connect: Callable[[aiohttp.ClientSession, str, int], Awaitable[Sequence[object]]],
    count: int,
) -> float:
    await connect(http, server.url, 10)  # warm up the server's allocators
    await asyncio.sleep(0.3)
    before = rss_bytes(server.process.pid)
    await connect(http, server.url, count)
    await asyncio.sleep(0.5)
    return (rss_bytes(server.process.pid) - before) / count


def report(
    metric: str,
    value: float,
    unit: str,
    baseline: float | None,
    ratio: float | None,
    goal: float,
    *,
    met: bool | None = None,
) -> None:
    line = {
        "bench": "relay",
        "metric": metric,
        "value": round(value, 1),
        "unit": unit,
        "baseline": round(baseline, 1) if baseline else None,
        "ratio": round(ratio, 3) if ratio is not None else None,
        "goal": goal,
        "met": met if met is not None else ratio is not None and ratio >= goal,
    }
    print(json.dumps(line))


async def run(pairs: int, per_pair: int, rounds: int, idle: int) -> None:
    folder = Path(tempfile.mkdtemp(prefix="textport-bench-"))
    servers: list[Server] = []
    try:
        textport_server = start_textport()
        servers.append(textport_server)
        nats_server, why = start_nats(folder)
        if nats_server is None:
            print(f"baseline skipped: {why}")
        else:
            servers.append(nats_server)
        connector = aiohttp.TCPConnector(limit=0)
        async with aiohttp.ClientSession(connector=connector) as http:
            contenders: list[Contender[tuple[Ws, Ws]] | Contender[NatsPair]] = [
                Contender(
                    textport_server,
                    [await textport_pair(http, textport_server.url, n) for n in range(pairs)],
                    textport_round_trips,
                )
            ]
            if nats_server is not None:
                contenders.append(
                    Contender(
                        nats_server,
                        [await nats_pair(http, nats_server.url, n) for n in range(pairs)],
                        nats_round_trips,
                    )
                )
            for _ in range(rounds):
                for contender in contenders:
                    await contender.round(per_pair)
            ours = contenders[0]
            baseline = contenders[1] if len(contenders) > 1 else None
            print(
                f"textport relay: {ours.rate:,.0f} frames per CPU-second, median of {rounds} "
                f"rounds ({min(ours.rates):,.0f} to {max(ours.rates):,.0f}; "
                f"{statistics.median(ours.walls):,.0f} round trips/s on the clock)"
            )
            ratio = None
            if baseline is not None:
                # Each round measures both servers back to back: the median of the rounds'
                # ratios cancels the machine's drift better than a ratio of two medians.
                ratio = statistics.median(
                    a / b for a, b in zip(ours.rates, baseline.rates, strict=True)
                )
                print(
                    f"nats-server WebSocket: {baseline.rate:,.0f} frames per CPU-second "
                    f"({min(baseline.rates):,.0f} to {max(baseline.rates):,.0f}; "
                    f"{statistics.median(baseline.walls):,.0f} round trips/s); "
                    f"ratio {ratio:.2f} (median of the rounds' ratios)"
                )
            await textport_host(http, textport_server.url, IDLE_ROOM)
            ours_idle = await idle_bytes(textport_server, http, textport_idle, idle)
            nats_idle_bytes = (
                await idle_bytes(nats_server, http, nats_idle, idle) if nats_server else None
            )
            print(f"idle connection: textport {ours_idle:,.0f} bytes", end="")
            print(f", nats-server {nats_idle_bytes:,.0f} bytes" if nats_idle_bytes else "")
        report(
            "frames_per_cpu_second",
            ours.rate,
            "frames/cpu-s",
            baseline.rate if baseline else None,
            ratio,
            1.0,
        )
        idle_ratio = nats_idle_bytes / ours_idle if nats_idle_bytes and ours_idle > 0 else None
        report(
            "bytes_per_idle_connection",
            ours_idle,
            "bytes",
            nats_idle_bytes,
            idle_ratio,
            MEMORY_GOAL,
            met=ours_idle <= MEMORY_GOAL,
        )
    finally:
        for server in servers:
            server.stop()
        shutil.rmtree(folder, ignore_errors=True)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--pairs", type=int, default=100)
    parser.add_argument("--round-trips", type=int, default=150, help="per pair and round")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--idle", type=int, default=1000, help="idle connections measured")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        run_server_process()
        return
    if PINNING:
        os.sched_setaffinity(0, {1})
    else:
        print("note: fewer than two cores or no taskset: servers and clients share cores")
    try:
        import uvloop  # noqa: PLC0415 - optional
    except ImportError:
        asyncio.run(run(args.pairs, args.round_trips, args.rounds, args.idle))
    else:
        uvloop.run(run(args.pairs, args.round_trips, args.rounds, args.idle))


if __name__ == "__main__":
    try:
        main()
    except Exception:
        traceback.print_exc()
        print("bench/relay.py failed; see above")
    sys.exit(0)
