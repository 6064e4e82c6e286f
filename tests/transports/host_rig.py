"""What the tests that run a real host beside a transport share: its database read back,
and waiting for something to happen within a bound."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

TEXTPORT = Path(sys.executable).with_name("textport")
TIMEOUT = 30.0 * float(os.environ.get("TEXTPORT_TIMEOUT_FACTOR", "1"))
NO_RELAY = "ws://127.0.0.1:9/v1"  # nothing listens: the host keeps retrying, quietly


def stored(data: Path, where: str = "dir = 'in'") -> list[sqlite3.Row]:
    """The host's messages matching ``where``, read from its database (read-only)."""
    db = sqlite3.connect(f"file:{data / 'textport.db'}?mode=ro", uri=True)
    db.row_factory = sqlite3.Row
    try:
        return db.execute(f"SELECT * FROM messages WHERE {where}").fetchall()
    finally:
        db.close()


async def until(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + TIMEOUT
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


def wait_for(
    check: Callable[[], object], failure: str, process: subprocess.Popen[bytes] | None = None
) -> None:
    """Poll ``check`` until it holds; fail with ``failure`` after TIMEOUT, or at once if
    ``process`` (a host) exits meanwhile."""
    deadline = time.monotonic() + TIMEOUT
    while not check():
        assert time.monotonic() < deadline, failure
        assert process is None or process.poll() is None, f"the host exited: {failure}"
        time.sleep(0.05)


def recovered(
    second: subprocess.Popen[bytes],
    data: Path,
    msg_id: int,
    *,
    ready: Callable[[], object] = lambda: True,
    settle: float = 0.5,
) -> sqlite3.Row:
    """Run the restarted host ``second`` until it has settled the text ``msg_id`` that the
    killed one had claimed (and ``ready`` holds), then ``settle`` seconds more, time
    enough for a wrong resend; stop it, and return the text's row."""
    try:
        wait_for(
            lambda: stored(data, f"id = {msg_id}")[0]["state"] != "sending",
            "the host never recovered the text",
        )
        wait_for(ready, "the restarted host never got ready")
        time.sleep(settle)
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(10)
    (row,) = stored(data, f"id = {msg_id}")
    return row
