"""Scheduled send from headless Chromium through a real ``textport demo``, driven as a
person would (the composer's "Schedule send" dialog, the bubble's Cancel), checked on
the host's database and in the simulated carrier's log (``DATA/sim/submitted.jsonl``,
each line with the time the carrier took the text):

- a text scheduled a few seconds ahead goes out exactly once, at its time, not before;
- a cancelled one never goes out and shows as cancelled;
- one scheduled before the host is stopped goes out once after the host restarts.
"""

from __future__ import annotations

import secrets
import sqlite3
import time
from collections import Counter
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.browser import WAIT, chromium, open_paired
from tests.e2e.demo import running_demo, submitted

pytestmark = pytest.mark.browser

NUMBER = "+15550199"
"""Not a scripted contact: the sim carrier delivers it after a second, nobody answers."""
CANCELLED = "failed: Cancelled before it was sent."


def _row(data: Path, body: str) -> sqlite3.Row:
    db = sqlite3.connect(f"file:{data / 'textport.db'}?mode=ro", uri=True)
    db.row_factory = sqlite3.Row
    try:
        row: sqlite3.Row = db.execute(
            "SELECT m.id, m.at, m.state, m.reason, o.state AS outbox, o.scheduled "
            "FROM messages m LEFT JOIN outbox o ON o.msg_id = m.id WHERE m.body = ?",
            (body,),
        ).fetchone()
    finally:
        db.close()
    assert row is not None, f"the host has no text {body!r}"
    return row


def _times_sent(data: Path, body: str) -> list[int]:
    """When the carrier took each copy of ``body`` (ms)."""
    return [int(str(r["at"])) for r in submitted(data) if r["body"] == body]


def _bubble(page: Page, body: str) -> Locator:
    thread = page.get_by_role("list", name="Messages")
    return thread.get_by_role("listitem").filter(has=page.get_by_text(body, exact=True))


def _open_thread(page: Page, number: str) -> None:
    page.get_by_role("button", name="New conversation").click()
    page.get_by_label("Phone number").fill(number)
    page.get_by_label("Phone number").press("Enter")


def _schedule(page: Page, body: str, seconds: int) -> int:
    """Type ``body``, open Schedule send, set "Send at" ``seconds`` ahead, press Schedule;
    the scheduled time (ms, whole seconds, as the box holds it)."""
    page.get_by_role("textbox", name="Message").fill(body)
    page.get_by_role("button", name="Schedule send").click()
    dialog = page.get_by_role("dialog", name="Schedule send")
    expect(dialog).to_be_visible()
    at = (int(time.time()) + seconds) * 1000
    local = page.evaluate(
        """(ms) => {
          const d = new Date(ms), p = (n) => String(n).padStart(2, "0");
          return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T` +
            `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
        }""",
        at,
    )
    dialog.get_by_label("Send at").fill(local)
    dialog.get_by_role("button", name="Schedule", exact=True).click()
    expect(dialog).to_be_hidden()
    expect(_bubble(page, body).locator(".status-text")).to_contain_text(
        "scheduled for", timeout=WAIT
    )
    return at


def _wait_sent(data: Path, body: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not _times_sent(data, body):
        time.sleep(0.2)


def test_a_scheduled_text_goes_out_once_at_its_time_and_a_cancelled_one_never(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    tag = secrets.token_hex(4)
    later, never = f"later {tag}", f"never {tag}"
    with running_demo(data) as demo, chromium() as browser:
        page = browser.new_page()
        open_paired(page, demo.link)
        _open_thread(page, NUMBER)
        at = _schedule(page, later, 12)
        cancel_at = _schedule(page, never, 14)

        row = _row(data, later)
        assert (row["at"], row["outbox"], row["scheduled"]) == (at, "queued", 1)
        assert _times_sent(data, later) == []

        bubble = _bubble(page, never)
        bubble.get_by_role("button", name="Cancel").click()
        expect(bubble.locator(".status-text")).to_have_text(CANCELLED, timeout=WAIT)
        expect(bubble.get_by_role("button", name="Retry")).to_be_visible()
        row = _row(data, never)
        assert (row["state"], row["reason"], row["outbox"]) == (
            "failed",
            "Cancelled before it was sent.",
            None,
        )

        _wait_sent(data, later, timeout=60)
        (sent_at,) = _times_sent(data, later)
        assert sent_at >= at, "it went out before its time"
        assert sent_at < at + 10_000, "it went out long after its time"
        expect(_bubble(page, later).locator(".status-text")).to_have_text("delivered", timeout=WAIT)
        while time.time() * 1000 < cancel_at + 3000:
            time.sleep(0.2)
        assert Counter(str(r["body"]) for r in submitted(data))[later] == 1
        assert _times_sent(data, never) == []
        expect(_bubble(page, never).locator(".status-text")).to_have_text(CANCELLED)


def test_a_text_scheduled_before_the_host_stops_goes_out_once_after_it_restarts(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    body = f"across a restart {secrets.token_hex(4)}"
    with chromium() as browser:
        page = browser.new_page()
        with running_demo(data) as demo:
            port = demo.port
            open_paired(page, demo.link)
            _open_thread(page, NUMBER)
            at = _schedule(page, body, 15)
        # The host is stopped (SIGTERM) before the text's time.
        assert time.time() * 1000 < at, "the host stopped too late for this test"
        row = _row(data, body)
        assert (row["outbox"], row["scheduled"]) == ("queued", 1)
        assert _times_sent(data, body) == []
        while time.time() * 1000 < at + 2000:  # its time passes while the host is down
            time.sleep(0.2)

        with running_demo(data, port):
            _wait_sent(data, body, timeout=60)
            (sent_at,) = _times_sent(data, body)
            assert sent_at >= at
            expect(_bubble(page, body).locator(".status-text")).to_have_text(
                "delivered", timeout=WAIT
            )
            time.sleep(2)
            assert len(_times_sent(data, body)) == 1
            assert _row(data, body)["state"] == "delivered"
