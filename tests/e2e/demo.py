"""Run ``textport demo`` as a real process on a free port, for end-to-end tests."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TEXTPORT = Path(sys.executable).with_name("textport")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Demo:
    process: subprocess.Popen[str]
    port: int
    data: Path
    link: str


@contextlib.contextmanager
def running_demo(
    data: Path,
    port: int | None = None,
    config: Path | None = None,
    allow_origins: tuple[str, ...] = (),
) -> Iterator[Demo]:
    """``textport demo`` on ``port`` (a free one by default), stopped with SIGTERM after;
    ``config``: a TOML config file (its [host] table applies); ``allow_origins``: other
    pages its relay accepts browsers from."""
    port = port or free_port()
    options = ["--config", str(config)] if config is not None else []
    for origin in allow_origins:
        options += ["--allow-origin", origin]
    process = start("demo", "--no-browser", "--port", str(port), "--data", str(data), *options)
    try:
        assert process.stdout is not None
        deadline = time.monotonic() + 30
        link = ""
        while time.monotonic() < deadline and not link:
            line = process.stdout.readline()
            if not line:
                break
            match = re.match(r"^Open: (http://127\.0\.0\.1:\d+/#textport-pair:\S+)$", line.strip())
            if match:
                link = match.group(1)
        assert link, "textport demo printed no Open: link"
        yield Demo(process, port, data, link)
    finally:
        stop(process)


def start(*args: str) -> subprocess.Popen[str]:
    """``textport ARGS`` as a process: its output a pipe, unbuffered; its errors dropped."""
    return subprocess.Popen(
        [str(TEXTPORT), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def stop(process: subprocess.Popen[Any]) -> None:
    """SIGTERM, and SIGKILL if it has not ended 15 s later; its pipe closed."""
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)
    if process.stdout is not None:
        process.stdout.close()


def textport(*args: str) -> subprocess.CompletedProcess[str]:
    """Run a textport command to its end (a hung one fails the test after two minutes)."""
    return subprocess.run(
        [str(TEXTPORT), *args], capture_output=True, text=True, timeout=120, check=False
    )


def submitted(data: Path) -> list[dict[str, object]]:
    """Every text the simulated carrier accepted, from its log DATA/sim/submitted.jsonl."""
    log = data / "sim" / "submitted.jsonl"
    lines = log.read_text().splitlines() if log.exists() else []
    return [json.loads(line) for line in lines if line]


def conversation_titles(data: Path) -> list[str]:
    """The host's conversations as the web client titles them (name, else numbers)."""
    uri = f"{(data / 'textport.db').as_uri()}?mode=ro"
    with contextlib.closing(sqlite3.connect(uri, uri=True)) as db:
        rows = db.execute("SELECT name, peers FROM conversations").fetchall()
    return [name or peers.replace(",", ", ") for name, peers in rows]
