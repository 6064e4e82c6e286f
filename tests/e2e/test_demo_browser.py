"""End to end in headless Chromium: browser ↔ relay ↔ host ↔ simulated carrier,
all real, through ``textport demo`` as a user runs it."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from tests.e2e.demo import TEXTPORT, running_demo
from tests.interop.devices import CHROMIUM, CHROMIUM_ARGS

pytestmark = pytest.mark.browser


def _open(page: Page, link: str) -> None:
    page.goto(link)
    expect(page.get_by_role("list", name="Conversations")).to_be_visible(timeout=20_000)


def test_pair_by_link_see_history_send_and_get_a_reply(tmp_path: Path) -> None:
    with running_demo(tmp_path / "data") as demo, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            _open(page, demo.link)
            assert "#" not in page.url or "textport-pair" not in page.url
            conversations = page.get_by_role("list", name="Conversations")
            expect(conversations.get_by_role("listitem").filter(has_text="Ana")).to_be_visible()
            expect(conversations.get_by_role("listitem")).to_have_count(8, timeout=10_000)

            conversations.get_by_role("listitem").filter(has_text="Ana").first.click()
            marker = "e2e marker 7f3a"
            page.get_by_role("textbox", name="Message").fill(marker)
            page.get_by_role("button", name="Send", exact=True).click()
            thread = page.get_by_role("list", name="Messages")
            mine = thread.get_by_text(marker, exact=True)
            expect(mine).to_be_visible()
            expect(thread.get_by_text("delivered").last).to_be_visible(timeout=15_000)
            expect(thread.get_by_text(f"Got it: “{marker}”")).to_be_visible(timeout=15_000)

            # Reload: still paired, no duplicate of the text.
            page.reload()
            expect(conversations).to_be_visible(timeout=20_000)
            conversations.get_by_role("listitem").filter(has_text="Ana").first.click()
            expect(thread.get_by_text(marker, exact=True)).to_have_count(1, timeout=10_000)

            # The refused contact fails with the carrier's reason.
            page.get_by_role("button", name="New conversation").click()
            page.get_by_label("Phone number").fill("+1 555 010 2")
            page.get_by_role("textbox", name="Message").fill("hello?")
            page.get_by_role("button", name="Send", exact=True).click()
            expect(thread.get_by_text("carrier refused this number", exact=False)).to_be_visible(
                timeout=15_000
            )

            # Revoke from the host CLI: the browser is told it was unpaired.
            listed = subprocess.run(
                [str(TEXTPORT), "devices", "--data", str(demo.data)],
                capture_output=True,
                text=True,
                check=True,
            ).stdout.splitlines()
            device_id = listed[1].split()[0]
            subprocess.run(
                [str(TEXTPORT), "devices", "--data", str(demo.data), "revoke", device_id],
                capture_output=True,
                text=True,
                check=True,
            )
            expect(page.get_by_text("unpaired", exact=False)).to_be_visible(timeout=15_000)
        finally:
            browser.close()
