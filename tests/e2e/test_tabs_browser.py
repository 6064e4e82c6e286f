"""Two tabs of one paired browser, in headless Chromium with a real ``textport demo``:
one holds the connection (Web Lock "textport-connection"), both show every text, and
the other takes over when it closes."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest
from playwright.sync_api import Page, WebSocket, expect

from tests.e2e.browser import WAIT, chromium, open_conversation, open_paired, websockets
from tests.e2e.demo import running_demo
from textport.transports.sim import ANA, CONTACTS

pytestmark = pytest.mark.browser


def _connected(page: Page, sockets: list[WebSocket]) -> None:
    while not sockets:
        page.wait_for_event("websocket", timeout=WAIT)


def _text_ana(sender: Page, tabs: list[Page]) -> None:
    """Text Ana from ``sender``; her answer shows in every tab."""
    text = f"e2e tabs {secrets.token_hex(4)}"
    sender.get_by_role("textbox", name="Message").fill(text)
    sender.get_by_role("button", name="Send", exact=True).click()
    for tab in tabs:
        thread = tab.get_by_role("list", name="Messages")
        expect(thread.get_by_text(text, exact=True)).to_have_count(1, timeout=WAIT)
        expect(thread.get_by_text(f"Got it: “{text}”")).to_be_visible(timeout=WAIT)


def test_one_tab_connects_and_both_show_new_texts(tmp_path: Path) -> None:
    with running_demo(tmp_path / "data") as demo, chromium() as browser:
        context = browser.new_context()
        pairing = context.new_page()
        open_paired(pairing, demo.link)
        pairing.close()
        client = f"http://127.0.0.1:{demo.port}/"

        first = context.new_page()
        first_sockets = websockets(first)
        open_paired(first, client)
        _connected(first, first_sockets)
        second = context.new_page()
        second_sockets = websockets(second)
        open_paired(second, client)
        for tab in (first, second):
            open_conversation(tab, CONTACTS[ANA])

        _text_ana(second, [first, second])

        assert len(first_sockets) == 1
        assert not first_sockets[0].is_closed()
        assert second_sockets == []

        # The owner goes away: the other tab takes the lock and connects.
        first.close()
        _connected(second, second_sockets)
        _text_ana(second, [second])
        assert len(second_sockets) == 1
