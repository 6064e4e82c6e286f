"""Texting while the phone is off, from headless Chromium through a real ``textport demo``
(its relay is in the host, so stopping the host takes the whole phone side away),
driven as a person would (the "Message" box, the "Send" button), checked in the
simulated carrier's log (``DATA/sim/submitted.jsonl``) and the host's database:

- a text typed while the host is stopped is shown queued, "Will send when your phone
  reconnects", and goes out exactly once after the host restarts on the same data;
- with a lifetime of a few seconds (``[host] text_ttl``), a text typed while the host
  is stopped fails in the browser once that has passed, with the reason, without the
  host; after the host restarts it is never sent, and it still shows as failed.
"""

from __future__ import annotations

import secrets
import sqlite3
import time
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.browser import WAIT, chromium, open_paired
from tests.e2e.demo import running_demo, submitted

pytestmark = pytest.mark.browser

NUMBER = "+15550199"
"""Not a scripted contact: the sim carrier delivers it after a second, nobody answers."""
WAITING = "queued · Will send when your phone reconnects"
AWAY = "Can't reach the relay — retrying…"
"""The banner once the browser has found the host (and its relay) gone."""
TTL = 5
"""Seconds a text may wait (the demo's ``[host] text_ttl``): enough for a text typed once
the browser is back to reach the host, short enough to wait for."""


def _states(data: Path, body: str) -> list[str]:
    """The state of each copy of ``body`` in the host's database."""
    db = sqlite3.connect(f"file:{data / 'textport.db'}?mode=ro", uri=True)
    try:
        rows = db.execute("SELECT state FROM messages WHERE body = ?", (body,)).fetchall()
    finally:
        db.close()
    return [str(row[0]) for row in rows]


def _times_sent(data: Path, body: str) -> int:
    return sum(1 for r in submitted(data) if r["body"] == body)


def _wait_sent(data: Path, body: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not _times_sent(data, body):
        time.sleep(0.2)


def _bubble(page: Page, body: str) -> Locator:
    thread = page.get_by_role("list", name="Messages")
    return thread.get_by_role("listitem").filter(has=page.get_by_text(body, exact=True))


def _open_thread(page: Page, number: str) -> None:
    page.get_by_role("button", name="New conversation").click()
    page.get_by_label("Phone number").fill(number)
    page.get_by_label("Phone number").press("Enter")


def _send(page: Page, body: str) -> None:
    page.get_by_role("textbox", name="Message").fill(body)
    page.get_by_role("button", name="Send", exact=True).click()


def _config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "textport.toml"
    path.write_text(text)
    return path


def test_a_text_typed_while_the_host_is_stopped_waits_and_goes_out_once_after_it_restarts(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    body = f"while you were away {secrets.token_hex(4)}"
    with chromium() as browser:
        page = browser.new_page()
        with running_demo(data) as demo:
            port = demo.port
            open_paired(page, demo.link)
            _open_thread(page, NUMBER)
        # The host (and its relay) stopped; the page stays, with its cache.
        expect(page.get_by_text(AWAY)).to_be_visible(timeout=WAIT)
        _send(page, body)
        status = _bubble(page, body).locator(".status-text")
        expect(status).to_have_text(WAITING, timeout=WAIT)
        time.sleep(2)
        expect(status).to_have_text(WAITING)
        assert _times_sent(data, body) == 0
        assert _states(data, body) == []

        with running_demo(data, port):
            _wait_sent(data, body)
            expect(status).to_have_text("delivered", timeout=WAIT)
            expect(_bubble(page, body)).to_have_count(1)
            time.sleep(2)
            assert _times_sent(data, body) == 1
            assert _states(data, body) == ["delivered"]


def test_a_text_held_longer_than_the_hosts_lifetime_fails_in_the_browser_and_is_never_sent(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    config = _config(tmp_path, f"[host]\ntext_ttl = {TTL}\n")
    tag = secrets.token_hex(4)
    late, after = f"too late {tag}", f"after the restart {tag}"
    reason = (
        f"Not sent: your phone was out of reach for longer than {TTL} seconds "
        "after you pressed Send."
    )
    with chromium() as browser:
        page = browser.new_page()
        with running_demo(data, config=config) as demo:
            port = demo.port
            open_paired(page, demo.link)  # the welcome tells the browser the lifetime
            _open_thread(page, NUMBER)
        expect(page.get_by_text(AWAY)).to_be_visible(timeout=WAIT)
        _send(page, late)
        typed = time.monotonic()
        bubble = _bubble(page, late)
        status = bubble.locator(".status-text")
        expect(status).to_have_text(WAITING, timeout=WAIT)

        # Nobody reconnects anything: the browser fails it by itself once its time is up.
        expect(status).to_have_text(f"failed: {reason}", timeout=WAIT)
        assert time.monotonic() - typed >= TTL - 0.5, "it failed before its time"
        expect(bubble.get_by_role("button", name="Retry")).to_be_visible()
        expect(page.get_by_text(AWAY)).to_be_visible()

        with running_demo(data, port, config=config):
            # Once the browser is back with the host, a new text goes out (it too would
            # fail if it waited longer than the lifetime) and nothing else does.
            expect(page.get_by_text(AWAY)).to_be_hidden(timeout=WAIT)
            _send(page, after)
            _wait_sent(data, after)
            expect(_bubble(page, after).locator(".status-text")).to_have_text(
                "delivered", timeout=WAIT
            )
            time.sleep(2)
            assert _times_sent(data, late) == 0
            assert _states(data, late) == [], "the host never heard of it"
            expect(status).to_have_text(f"failed: {reason}")
            expect(bubble).to_have_count(1)
        assert _times_sent(data, after) == 1
