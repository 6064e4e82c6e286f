"""Texts per second through host → SMPP transport, and the host's CPU per text, beside a
raw ESME sending the same texts to the same SMSC.

The SMSC is Jasmin's SMSC simulator (tests/peers/jasmin.py; ``scripts/setup`` installs
it in .peers/jasmin), bound to directly and pinned to core 1, answering every
``submit_sm`` and sending a ``DELIVRD`` receipt right after. Jasmin itself is not in the
path: on this 2-core machine its Twisted router, RabbitMQ and Redis would be the
bottleneck being measured, not textport.

* **textport**: a process pinned to core 0 runs the real :class:`~textport.host.daemon.Host`
  (store on disk, WAL with ``synchronous=FULL``, no relay reachable) with the SMPP
  transport bound to the simulator. After one warm-up text, it queues N texts as a
  paired device's ``send`` does (``Store.add_outgoing`` and a wake of the outbox) and
  waits until the store has every one ``delivered``: each text is claimed, submitted,
  its ``submit_sm_resp`` stored as ``sent``, its receipt matched and stored. Texts
  per second are N over that wall time; CPU per text is the process's CPU time
  (``time.process_time``, every thread) over the same window, divided by N.
* **baseline**: a process pinned to core 0 runs tests/peers/raw_esme.py, a minimal ESME
  from the SMPP specification: one socket, the same N texts as the same single-part
  GSM-7 ``submit_sm``, one in flight at a time like textport's outbox, answering every
  receipt, done when all N receipts are in. It stores nothing: it is what the SMSC and
  the loopback allow at that concurrency, and what an ESME costs at the least.

Rounds alternate (textport, baseline, textport, ...) and each figure is the median of
its rounds, because these machines drift by ±20 % within a minute.

Prints a summary, then one JSON line per figure (``bench``, ``metric``, ``value``,
``unit``, ``baseline``, ``ratio`` = value / baseline, ``goal``, ``met``):

* ``texts_per_second``: goal 200 texts/s at least (``met``: value >= goal). Real radios
  and SMSC accounts send 1-100 texts/s, so the host is never the bottleneck above that.
* ``host_cpu_ms_per_text``: goal 5 ms at most (``met``: value <= goal), i.e. one core
  could send 200 texts/s.

With ``--peer jasmin`` both senders go through Jasmin 0.11.0 (RabbitMQ, Redis; pinned
to core 1 with the simulator) instead, and the figures are named ``…_via_jasmin`` with
no goal: Jasmin answers a ``submit_sm`` only after a trip through RabbitMQ, so at one
text in flight it sets the pace for both (about 20 texts/s here) and the ratio, near 1,
says the host keeps up with it. CPU per text is higher there for both senders (about
1.5-2.5 ms and 0.3 ms here): at 20 texts/s every PDU wakes the process on its own
instead of arriving in batches, and idle costs (the bench's polling, about 0.2 ms a
text at that rate) spread over fewer texts.

Always exits 0, also when the peer is missing or something fails (the JSON lines then
say ``null``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the peers live with the tests

from tests.peers.jasmin import JasminStack, SmscSimulator  # noqa: E402
from tests.peers.raw_esme import RawEsme  # noqa: E402

SOURCE = "+447700900001"
NO_RELAY = "ws://127.0.0.1:9/v1"  # nothing listens: the host keeps retrying, quietly
GOAL_TEXTS_PER_SECOND = 200.0
GOAL_CPU_MS_PER_TEXT = 5.0
PINNING = bool(shutil.which("taskset")) and len(os.sched_getaffinity(0)) >= 2


def texts(n: int) -> list[tuple[str, str]]:
    """(recipient, body) for N single-part GSM-7 texts, on 50 conversations."""
    return [
        (f"+4477009001{i % 50:02d}", f"Bench text {i}: see you at the station at 7, OK?")
        for i in range(n)
    ]


def pinned(core: int) -> list[str]:
    return ["taskset", "-c", str(core)] if PINNING else []


# ---------------------------------------------------------------- the two senders


async def run_host(port: int, n: int, data: Path, login: tuple[str, str]) -> dict[str, float]:
    from textport.host.daemon import Host, HostSettings  # noqa: PLC0415 - child only
    from textport.transports.smpp import from_config  # noqa: PLC0415

    table = {
        "host": "127.0.0.1",
        "port": port,
        "system_id": login[0],
        "password": login[1],
        "source_addr": SOURCE,
        "reconnect_min": 0.1,
        "reconnect_max": 1.0,
    }
    host = Host(
        HostSettings(data=data, relay=NO_RELAY, seed=False), transport=from_config(table, "GB")
    )
    await host.start()

    def delivered() -> int:
        row = host.store.db.execute(
            "SELECT count(*) FROM messages WHERE dir = 'out' AND state = 'delivered'"
        ).fetchone()
        return int(row[0])

    async def until(count: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while delivered() < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{delivered()} of {count} texts delivered")
            await asyncio.sleep(0.02)

    try:
        host.store.add_outgoing(None, None, ["+447700900100"], "warm-up", 3600)
        host.outbox.wake()
        await until(1, 30)
        wall, cpu = time.perf_counter(), time.process_time()
        for to, body in texts(n):
            host.store.add_outgoing(None, None, [to], body, 3600)
            host.outbox.wake()
        await until(1 + n, 60 + n / 10)
        return {"seconds": time.perf_counter() - wall, "cpu": time.process_time() - cpu}
    finally:
        await host.stop()


async def run_raw(port: int, n: int, login: tuple[str, str]) -> dict[str, float]:
    esme = RawEsme()
    await esme.bind("127.0.0.1", port, *login)
    try:
        await esme.submit(SOURCE, "+447700900100", b"warm-up")
        await esme.wait_for(1, 30)
        wall, cpu = time.perf_counter(), time.process_time()
        for to, body in texts(n):
            await esme.submit(SOURCE, to, body.encode("ascii"))
        await esme.wait_for(1 + n, 60 + n / 10)
        return {"seconds": time.perf_counter() - wall, "cpu": time.process_time() - cpu}
    finally:
        await esme.close()


def child(kind: str, port: int, n: int, data: Path, login: tuple[str, str]) -> None:
    run = run_host(port, n, data, login) if kind == "host" else run_raw(port, n, login)
    print(json.dumps(asyncio.run(run)), flush=True)


@dataclass(frozen=True)
class Peer:
    port: int
    login: tuple[str, str]


def measure(kind: str, peer: Peer, n: int, folder: Path) -> dict[str, float]:
    data = Path(tempfile.mkdtemp(prefix=f"{kind}-", dir=folder))
    argv = [*pinned(0), sys.executable, str(Path(__file__).resolve()), f"--child={kind}"]
    argv += [f"--port={peer.port}", f"--texts={n}", f"--folder={data}"]
    argv += [f"--login={peer.login[0]}:{peer.login[1]}"]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=600, check=False)
    shutil.rmtree(data, ignore_errors=True)
    if done.returncode != 0:
        raise RuntimeError(f"the {kind} run failed:\n{done.stderr[-3000:]}")
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


@contextlib.contextmanager
def serve_peer(name: str, folder: Path) -> Iterator[Peer]:
    """The simulator pinned to core 1, or the whole Jasmin stack (not pinned: RabbitMQ,
    Redis and jasmind share the second core with each other, not with textport)."""
    if name == "simulator":
        smsc = SmscSimulator(folder / "smsc")
        smsc.start()
        try:
            if PINNING and smsc.process is not None:
                os.sched_setaffinity(smsc.process.pid, {1})
            smsc.auto_receipts("DELIVRD")
            yield Peer(smsc.port, ("bench", "bench"))
        finally:
            smsc.stop()
        return
    stack = JasminStack(folder / "jasmin")
    stack.start()
    try:
        if PINNING:
            for process in (stack.jasmind, stack.rabbitmq.process, stack.redis.process):
                if process is not None:
                    subprocess.run(
                        ["taskset", "-a", "-c", "-p", "1", str(process.pid)],
                        capture_output=True,
                        check=False,
                    )
            if stack.smsc.process is not None:
                os.sched_setaffinity(stack.smsc.process.pid, {1})
        stack.smsc.auto_receipts("DELIVRD")
        yield Peer(stack.esme.port, (stack.esme.system_id, stack.esme.password))
    finally:
        stack.stop()


# ---------------------------------------------------------------- report


def report(
    metric: str,
    value: float | None,
    unit: str,
    baseline: float | None,
    goal: float | None,
    at_least: bool = True,
) -> None:
    met: bool | None = None
    if value is not None and goal is not None:
        met = value >= goal if at_least else value <= goal
    print(
        json.dumps(
            {
                "bench": "transport",
                "metric": metric,
                "value": None if value is None else round(value, 4),
                "unit": unit,
                "baseline": None if baseline is None else round(baseline, 4),
                "ratio": round(value / baseline, 3) if value and baseline else None,
                "goal": goal,
                "met": met,
            }
        ),
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--texts", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--folder", type=Path, help="work here instead of a temporary folder")
    parser.add_argument("--child", choices=["host", "raw"], help=argparse.SUPPRESS)
    parser.add_argument(
        "--peer",
        choices=["simulator", "jasmin"],
        default="simulator",
        help="the SMSC simulator alone (default), or Jasmin in front of it",
    )
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--login", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        system_id, password = args.login.split(":", 1)
        child(args.child, args.port, args.texts, args.folder, (system_id, password))
        return

    folder = args.folder or Path(tempfile.mkdtemp(prefix="textport-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    ours: list[dict[str, float]] = []
    base: list[dict[str, float]] = []
    try:
        with serve_peer(args.peer, folder) as peer:
            for _ in range(args.rounds):
                ours.append(measure("host", peer, args.texts, folder))
                base.append(measure("raw", peer, args.texts, folder))
    except Exception:  # the bench reports what it has and exits 0
        traceback.print_exc()
    finally:
        if args.folder is None:
            shutil.rmtree(folder, ignore_errors=True)

    def median(runs: list[dict[str, float]], key: str) -> float | None:
        values = [run[key] for run in runs]
        return statistics.median(values) if values else None

    n = args.texts
    rate = [n / run["seconds"] for run in ours]
    base_rate = [n / run["seconds"] for run in base]
    ours_rate = statistics.median(rate) if rate else None
    baseline_rate = statistics.median(base_rate) if base_rate else None
    cpu = median(ours, "cpu")
    base_cpu = median(base, "cpu")
    cpu_ms = None if cpu is None else cpu / n * 1000
    base_cpu_ms = None if base_cpu is None else base_cpu / n * 1000
    print(
        f"{n} single-part texts to the {args.peer}, {len(ours)} + {len(base)} rounds, "
        f"pinned: {PINNING}"
    )
    for name, runs in (("textport host", ours), ("raw ESME", base)):
        for run in runs:
            print(
                f"  {name:14} {n / run['seconds']:8.0f} texts/s "
                f"{run['cpu'] / n * 1000:6.3f} ms CPU/text"
            )
    if args.peer == "simulator":
        report("texts_per_second", ours_rate, "texts/s", baseline_rate, GOAL_TEXTS_PER_SECOND)
        report("host_cpu_ms_per_text", cpu_ms, "ms", base_cpu_ms, GOAL_CPU_MS_PER_TEXT, False)
    else:  # Jasmin sets the pace: the ratio to the raw ESME is the figure
        report("texts_per_second_via_jasmin", ours_rate, "texts/s", baseline_rate, None)
        report("host_cpu_ms_per_text_via_jasmin", cpu_ms, "ms", base_cpu_ms, None)


if __name__ == "__main__":
    main()
