"""SIGKILL the host while texts wait in the browser's outbox and in the host's outbox.

Everything is real: ``textport demo`` (host, embedded relay, sim carrier) as a process,
killed with SIGKILL and started again on the same port and data folder, and a paired
headless Chromium that keeps running throughout. The sim carrier appends every text it
accepts to ``DATA/sim/submitted.jsonl`` and fsyncs it before answering, so that file is
the network's record of what was sent.

What must hold afterwards (the reliability rules of docs/protocol.md):

- every text the host acknowledged is stored exactly once, and every text typed in the
  browser, acknowledged or not, ends up stored exactly once;
- no text reaches the carrier twice; a text claimed but not confirmed at the kill
  becomes ``unknown`` (shown as failed, with the reason) and is never resubmitted;
- the browser converges to the host's state: one bubble per text, its final status.
"""

from __future__ import annotations

import json
import re
import secrets
import sqlite3
import time
from collections import Counter
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect, sync_playwright

from tests.e2e.demo import running_demo
from tests.interop.devices import CHROMIUM, CHROMIUM_ARGS

pytestmark = pytest.mark.browser

ANA, ELI = "+15550100", "+15550104"
"""Ana's texts are delivered and answered; Eli's first two attempts fail transiently,
so texts to Eli sit in the host's outbox, waiting for their retry, for a few seconds."""

ACKED = re.compile(r"sending|sent|delivered")
FINAL = {"delivered", "failed", "unknown"}
SHOWN = {"delivered": "delivered", "failed": "failed", "unknown": "failed", "sent": "sent"}


def _rows(data: Path, bodies: list[str]) -> list[sqlite3.Row]:
    db = sqlite3.connect(f"file:{data / 'textport.db'}?mode=ro", uri=True)
    db.row_factory = sqlite3.Row
    try:
        marks = ",".join("?" * len(bodies))
        return db.execute(
            "SELECT m.id, m.body, m.state, o.state AS outbox FROM messages m "
            f"LEFT JOIN outbox o ON o.msg_id = m.id WHERE m.body IN ({marks})",
            bodies,
        ).fetchall()
    finally:
        db.close()


def _submitted(data: Path) -> Counter[str]:
    log = data / "sim" / "submitted.jsonl"
    lines = log.read_text().splitlines() if log.exists() else []
    return Counter(str(json.loads(line)["body"]) for line in lines if line)


def _open_thread(page: Page, number: str) -> None:
    page.get_by_role("button", name="New conversation").click()
    page.get_by_label("Phone number").fill(number)
    page.get_by_label("Phone number").press("Enter")


def _bubble(page: Page, body: str) -> Locator:
    thread = page.get_by_role("list", name="Messages")
    return thread.get_by_role("listitem").filter(has=page.get_by_text(body, exact=True))


def _send(page: Page, body: str) -> None:
    """Type and send, then wait for the bubble, as a person would before the next text."""
    page.get_by_role("textbox", name="Message").fill(body)
    page.get_by_role("button", name="Send", exact=True).click()
    expect(_bubble(page, body)).to_be_visible(timeout=10_000)


def test_sigkill_with_texts_queued_in_the_browser_and_the_host(tmp_path: Path) -> None:
    data = tmp_path / "data"
    tag = secrets.token_hex(4)
    to_eli = [f"eli {tag} {n}" for n in range(3)]
    in_flight = f"ana {tag} in flight"
    offline = [f"ana {tag} offline {n}" for n in range(2)]
    everything = [*to_eli, in_flight, *offline]

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            with running_demo(data) as demo:
                port = demo.port
                page.goto(demo.link)
                expect(page.get_by_role("list", name="Conversations")).to_be_visible(timeout=20_000)
                _open_thread(page, ELI)
                for body in to_eli:
                    _send(page, body)
                for body in to_eli:
                    # The host committed it and acknowledged (a quick retry may already
                    # have sent it).
                    expect(_bubble(page, body)).to_contain_text(ACKED, timeout=15_000)
                _open_thread(page, ANA)
                _send(page, in_flight)
                demo.process.kill()
                demo.process.wait(10)

            at_kill = {row["body"]: row for row in _rows(data, everything)}
            submitted_at_kill = _submitted(data)
            assert set(to_eli) <= at_kill.keys(), "an acknowledged text was not stored"
            waiting = [b for b in to_eli if at_kill[b]["outbox"] is not None]
            assert waiting, "no text was left in the host's outbox at the kill"

            # The host is gone: texts typed now wait in the browser's outbox.
            for body in offline:
                _send(page, body)
                expect(_bubble(page, body)).to_contain_text("queued", timeout=10_000)

            with running_demo(data, port):

                def final(row: sqlite3.Row) -> bool:
                    # A text the carrier took just before the kill stays "sent": its
                    # delivery report died with the simulated network, in that process.
                    return row["outbox"] is None and (
                        row["state"] in FINAL
                        or (row["state"] == "sent" and submitted_at_kill[row["body"]] == 1)
                    )

                deadline = time.monotonic() + 90
                while time.monotonic() < deadline:
                    rows = _rows(data, everything)
                    if len(rows) == len(everything) and all(final(row) for row in rows):
                        break
                    time.sleep(0.5)
                rows = _rows(data, everything)

                stored = Counter(row["body"] for row in rows)
                assert stored == Counter(everything), "each text must be stored exactly once"
                states = {row["body"]: row["state"] for row in rows}
                assert all(final(row) for row in rows), states

                submitted = _submitted(data)
                assert all(submitted[body] <= 1 for body in everything), submitted
                for body, state in states.items():
                    if state in {"sent", "delivered"}:
                        assert submitted[body] == 1, body
                    if state == "unknown":
                        # Claimed before the kill: never handed over a second time.
                        assert at_kill[body]["outbox"] == "submitting", body

                # The browser shows one bubble per text, with the host's final state.
                for number, bodies in ((ELI, to_eli), (ANA, [in_flight, *offline])):
                    _open_thread(page, number)
                    for body in bodies:
                        bubble = _bubble(page, body)
                        expect(bubble).to_have_count(1, timeout=60_000)
                        expect(bubble).to_contain_text(SHOWN[states[body]], timeout=60_000)
                    # No stray copy of a text anywhere in the thread.
                    thread = page.get_by_role("list", name="Messages")
                    for body in bodies:
                        expect(thread.get_by_text(body, exact=True)).to_have_count(1)
        finally:
            browser.close()
