"""Keyboard shortcuts in headless Chromium against a real ``textport demo``, pressed as a
person does: ``?`` opens the help overlay (a dialog, closed by Escape), Alt+↓/Alt+↑ move
between conversations (also from the composer, which keeps its other keys), ``/`` and
Ctrl+K focus the search box, Ctrl+Alt+N starts a new conversation and Ctrl+Alt+E
archives the open one (the host's database checked)."""

from __future__ import annotations

import contextlib
import sqlite3
import time
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.browser import WAIT, chromium, conversations, open_paired
from tests.e2e.demo import running_demo

pytestmark = pytest.mark.browser


def _archived(data: Path, title: str) -> int:
    uri = f"{(data / 'textport.db').as_uri()}?mode=ro"
    with contextlib.closing(sqlite3.connect(uri, uri=True)) as db:
        rows = db.execute("SELECT name, peers, archived FROM conversations").fetchall()
    return next(int(archived) for name, peers, archived in rows if (name or peers) == title)


def _open(page: Page) -> Locator:
    """The conversation list's open item."""
    return conversations(page).locator("button.conv[aria-current='true']")


def _title(item: Locator) -> str:
    return item.locator(".conv-name").inner_text()


def test_shortcuts_move_search_open_help_and_archive(tmp_path: Path) -> None:
    with running_demo(tmp_path / "data") as demo, chromium() as browser:
        page = browser.new_page()
        open_paired(page, demo.link)
        items = conversations(page).get_by_role("listitem")
        expect(items.nth(2)).to_be_visible(timeout=WAIT)
        names = [_title(items.nth(i)) for i in range(3)]

        page.keyboard.press("?")
        help_dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
        expect(help_dialog).to_be_visible()
        expect(help_dialog.get_by_role("row", name="Next conversation")).to_be_visible()
        page.keyboard.press("Escape")
        expect(help_dialog).to_have_count(0)

        page.keyboard.press("Alt+ArrowDown")
        expect(_open(page)).to_have_count(1)
        assert _title(_open(page)) == names[0]
        page.keyboard.press("Alt+ArrowDown")
        expect(page.get_by_role("heading", name=names[1], exact=True)).to_be_visible()
        page.keyboard.press("Alt+ArrowUp")
        expect(page.get_by_role("heading", name=names[0], exact=True)).to_be_visible()

        # Typing in the composer: "/" and "?" are text, Alt+↓ still moves on.
        message = page.get_by_role("textbox", name="Message")
        message.click()
        page.keyboard.type("a/b?")
        expect(message).to_have_value("a/b?")
        expect(page.get_by_role("dialog")).to_have_count(0)
        page.keyboard.press("Alt+ArrowDown")
        expect(page.get_by_role("heading", name=names[1], exact=True)).to_be_visible()
        # On a desktop the new thread puts the cursor in its text box once it is shown.
        expect(page.get_by_role("textbox", name="Message")).to_be_focused()

        search = page.get_by_role("searchbox", name="Search")
        page.keyboard.press("Control+k")
        expect(search).to_be_focused()
        page.keyboard.type("x/")  # "/" in the search box is text too
        expect(search).to_have_value("x/")
        search.fill("")
        page.get_by_role("heading", name=names[1], exact=True).click()
        page.keyboard.press("/")
        expect(search).to_be_focused()

        page.keyboard.press("Control+Alt+n")
        expect(page.get_by_role("region", name="New conversation")).to_be_visible()

        # Archive the open conversation.
        page.keyboard.press("Escape")
        conversations(page).get_by_role("button").filter(has_text=names[1]).first.click()
        expect(page.get_by_role("heading", name=names[1], exact=True)).to_be_visible()
        assert _archived(demo.data, names[1]) == 0
        page.get_by_role("textbox", name="Message").click()
        page.keyboard.press("Control+Alt+e")
        expect(conversations(page).locator(".conv-name", has_text=names[1])).to_have_count(
            0, timeout=WAIT
        )
        deadline = time.monotonic() + WAIT / 1000
        while _archived(demo.data, names[1]) != 1:
            assert time.monotonic() < deadline
            time.sleep(0.1)
