"""TypeScript devices that a Python host test can drive: under Node, and in Chromium.

Both run the same bundle of web/harness/device.ts (built by ``npm run build:harness``
into web/dist-harness/): one device, one static key, driven by commands such as
``offer_read`` or ``seal`` whose byte strings travel as hex (see that file).
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import json
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

import pytest
from playwright.sync_api import sync_playwright

WEB = Path(__file__).resolve().parents[2] / "web"
HARNESS = WEB / "dist-harness"
CHROMIUM = Path("/usr/lib/chromium/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


class Device(Protocol):
    def call(self, cmd: str, **args: Any) -> dict[str, Any]: ...


class DeviceError(Exception):
    """The TypeScript side refused a command; ``code`` is its TextportError code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code


def _unwrap(result: dict[str, Any]) -> dict[str, Any]:
    if "error" in result:
        raise DeviceError(result["error"]["code"], result["error"]["message"])
    return result


def _require(path: Path) -> None:
    if not path.exists():
        pytest.fail(f"{path} is missing: run `npm run build:harness` in web/ (scripts/test does)")


class NodeDevice:
    """The harness under Node.js (its WebCrypto), over JSON lines on stdin/stdout."""

    def __init__(self) -> None:
        _require(HARNESS / "node.js")
        self._proc = subprocess.Popen(
            ["node", str(HARNESS / "node.js")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self._next = 0

    def call(self, cmd: str, **args: Any) -> dict[str, Any]:
        assert self._proc.stdin is not None and self._proc.stdout is not None
        self._next += 1
        self._proc.stdin.write(json.dumps({"id": self._next, "cmd": cmd, "args": args}) + "\n")
        self._proc.stdin.flush()
        line = self._proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the node harness exited ({self._proc.wait(5)})")
        reply = json.loads(line)
        assert reply["id"] == self._next
        return _unwrap(reply["result"])

    def close(self) -> None:
        if self._proc.stdin is not None:
            self._proc.stdin.close()
        self._proc.wait(10)
        if self._proc.stdout is not None:
            self._proc.stdout.close()


@contextlib.contextmanager
def node_device() -> Iterator[NodeDevice]:
    device = NodeDevice()
    try:
        yield device
    finally:
        device.close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextlib.contextmanager
def serve_harness() -> Iterator[str]:
    """Serve web/dist-harness on 127.0.0.1 (a secure context for WebCrypto)."""
    _require(HARNESS / "index.html")
    handler = functools.partial(_QuietHandler, directory=str(HARNESS))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/index.html"
    finally:
        server.shutdown()
        server.server_close()


class BrowserDevice:
    """The harness in a headless Chromium page, driven through Playwright."""

    def __init__(self, page: Any) -> None:
        self._page = page

    def call(self, cmd: str, **args: Any) -> dict[str, Any]:
        result: dict[str, Any] = self._page.evaluate(
            "([cmd, args]) => window.textportDevice.call(cmd, args)", [cmd, args]
        )
        return _unwrap(result)


@contextlib.contextmanager
def browser_device() -> Iterator[BrowserDevice]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: `apt-get install chromium` (scripts/test does)")
    with serve_harness() as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(url)
            page.wait_for_function("document.title === 'harness ready'")
            yield BrowserDevice(page)
        finally:
            browser.close()
