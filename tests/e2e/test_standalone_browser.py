"""textport as deployed rather than as the demo: ``textport relay --web`` (a relay you run,
serving the web client) and ``textport host`` as separate processes, headless Chromium
paired with the code its page shows, texting through them. Then the relay restarts
while the host is away: the browser keeps its pairing and its cached history, says the
phone is offline, and a text typed meanwhile goes out once the host is back."""

from __future__ import annotations

import contextlib
import re
import secrets
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.browser import WAIT, chromium, conversations
from tests.e2e.demo import free_port, start, stop, submitted, textport
from textport.transports.sim import ANA

pytestmark = pytest.mark.browser

AWAY = re.compile("Your phone is offline")


@contextlib.contextmanager
def process(*args: str, ready: str | None = None) -> Iterator[subprocess.Popen[str]]:
    """``textport ARGS`` until the block ends (SIGTERM); ``ready``: wait for a line
    starting with it."""
    proc = start(*args)
    try:
        if ready is not None:
            assert proc.stdout is not None
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                line = proc.stdout.readline()
                if not line or line.startswith(ready):
                    break
            assert line.startswith(ready), f"textport {args[0]} never said {ready!r}"
        yield proc
    finally:
        stop(proc)


def host(data: Path, port: int) -> contextlib.AbstractContextManager[subprocess.Popen[str]]:
    return process("host", "--data", str(data), "--relay", f"ws://127.0.0.1:{port}/v1")


def relay(data: Path, port: int) -> contextlib.AbstractContextManager[subprocess.Popen[str]]:
    return process("relay", "--web", "--data", str(data), "--port", str(port), ready="Relay:")


def wait_for_file(path: Path) -> None:
    deadline = time.monotonic() + 30
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.1)


def pair(page: Page, data: Path, port: int) -> None:
    """Open the relay's page and pair it with the code it shows, as a person would."""
    page.goto(f"http://127.0.0.1:{port}/")
    code = page.get_by_test_id("pairing-code")
    expect(code).to_have_text(re.compile(r"\w{4}-\w{4}"), timeout=WAIT)
    done = textport("pair", "--data", str(data), "--yes", code.inner_text())
    assert done.returncode == 0, done.stderr
    # A new host has no history: an empty list, and the messenger around it.
    expect(page.get_by_role("button", name="New conversation")).to_be_visible(timeout=WAIT)


def text_ana(page: Page, body: str) -> None:
    page.get_by_role("button", name="New conversation").click()
    page.get_by_role("textbox", name="Phone number").fill(ANA)
    page.get_by_role("textbox", name="Message").fill(body)
    page.get_by_role("button", name="Send", exact=True).click()


def status_of(page: Page, body: str) -> Locator:
    bubble = page.locator("li.bubble", has=page.locator("p.body", has_text=body))
    return bubble.locator(".status-text")


def sent_once(data: Path, body: str) -> None:
    deadline = time.monotonic() + WAIT / 1000
    while not [t for t in submitted(data) if t["body"] == body]:
        assert time.monotonic() < deadline, f"{body!r} never reached the carrier"
        time.sleep(0.1)
    time.sleep(0.5)
    assert [t["to"] for t in submitted(data) if t["body"] == body] == [[ANA]]


def test_a_relay_serving_the_page_and_a_host_apart_and_a_relay_restart(tmp_path: Path) -> None:
    data = tmp_path / "host"
    port = free_port()
    first = f"first {secrets.token_hex(3)}"
    later = f"while away {secrets.token_hex(3)}"
    with chromium() as browser:
        page = browser.new_page()
        with host(data, port) as running:
            wait_for_file(data / "host.json")  # the relay allows this host's credential
            with relay(data, port):
                pair(page, data, port)
                text_ana(page, first)
                expect(status_of(page, first)).to_have_text("delivered", timeout=WAIT)
                sent_once(data, first)
                # Ana answers: the answer is cached in this browser.
                answer = page.locator("li.bubble.in p.body", has_text=first)
                expect(answer).to_be_visible(timeout=WAIT)
                # The host stops first, the relay still up.
                running.send_signal(signal.SIGTERM)
                running.wait(15)
                expect(page.get_by_text(AWAY)).to_be_visible(timeout=WAIT)
        # The relay comes back alone: it knows no room until the host claims it again.
        with relay(data, port):
            # Longer than a browser tolerates "unauthorized" before it counts as unpaired.
            page.wait_for_timeout(13_000)
            expect(page.get_by_text(AWAY)).to_be_visible()
            expect(answer).to_be_visible()
            expect(conversations(page).get_by_role("listitem")).to_have_count(1)
            page.get_by_role("textbox", name="Message").fill(later)
            page.get_by_role("button", name="Send", exact=True).click()
            expect(status_of(page, later)).to_contain_text("queued", timeout=WAIT)
            with host(data, port):
                expect(page.get_by_text(AWAY)).to_have_count(0, timeout=WAIT)
                expect(status_of(page, later)).to_have_text("delivered", timeout=WAIT)
                sent_once(data, later)
