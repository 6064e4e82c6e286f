"""The composer and reactions in headless Chromium against a real ``textport demo``, as
a person uses them (keys, clicks, a picture dropped or pasted), checked in the host's
database too: a draft kept per conversation across switching and a reload; an emoji
inserted at the caret from the keyboard; a picture shows a note and loses no text; a
text the host failed retried as a new one; an iPhone's tapback shown on the quoted
message rather than as a text."""

from __future__ import annotations

import contextlib
import re
import secrets
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.browser import WAIT, chromium, conversations, open_conversation, open_paired
from tests.e2e.demo import Demo, running_demo, submitted
from textport.transports.sim import ANA, BO, CARRIER, CONTACTS, FAY, REFUSED_REASON

pytestmark = pytest.mark.browser

_DROP = """([kind, selector]) => {
  const target = document.querySelector(selector);
  const data = new DataTransfer();
  const png = new Uint8Array([137, 80, 78, 71]);
  data.items.add(new File([png], "photo.png", { type: "image/png" }));
  const how = { bubbles: true, cancelable: true };
  // dispatchEvent is false when a listener prevented the default (for a drop: the browser
  // opening the file in place of the page).
  if (kind === "paste") {
    return !target.dispatchEvent(new ClipboardEvent("paste", { ...how, clipboardData: data }));
  }
  target.dispatchEvent(new DragEvent("dragover", { ...how, dataTransfer: data }));
  return !target.dispatchEvent(new DragEvent("drop", { ...how, dataTransfer: data }));
}"""


def _rows(data: Path, query: str, *args: object) -> list[tuple[object, ...]]:
    uri = f"{(data / 'textport.db').as_uri()}?mode=ro"
    with contextlib.closing(sqlite3.connect(uri, uri=True)) as db:
        return list(db.execute(query, args).fetchall())


def _wait_rows(data: Path, query: str, count: int, *args: object) -> list[tuple[object, ...]]:
    deadline = time.monotonic() + WAIT / 1000
    while len(rows := _rows(data, query, *args)) != count:
        assert time.monotonic() < deadline, rows
        time.sleep(0.1)
    return rows


def _box(page: Page) -> Locator:
    return page.get_by_role("textbox", name="Message")


def _bubble(page: Page, body: str) -> Locator:
    return page.locator("li.bubble").filter(
        has=page.locator("p.body", has_text=re.compile(f"^{re.escape(body)}$"))
    )


def _new_conversation(page: Page, number: str, body: str) -> None:
    page.get_by_role("button", name="New conversation").click()
    page.get_by_label("Phone number").fill(number)
    _box(page).fill(body)
    page.get_by_role("button", name="Send", exact=True).click()


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Demo]:
    with running_demo(tmp_path / "data") as running:
        yield running


@pytest.fixture
def page(demo: Demo) -> Iterator[Page]:
    with chromium() as browser:
        page = browser.new_page()
        open_paired(page, demo.link)
        yield page


def test_a_draft_is_kept_per_conversation_across_switching_and_a_reload(
    demo: Demo, page: Page
) -> None:
    open_conversation(page, CONTACTS[ANA])
    _box(page).press_sequentially("half a thought for Ana")
    open_conversation(page, CONTACTS[BO])
    expect(_box(page)).to_have_value("")
    _box(page).press_sequentially("and one for Bo")

    open_conversation(page, CONTACTS[ANA])
    expect(_box(page)).to_have_value("half a thought for Ana")

    page.reload()
    expect(conversations(page)).to_be_visible(timeout=WAIT)
    open_conversation(page, CONTACTS[BO])
    expect(_box(page)).to_have_value("and one for Bo")

    # Sending it clears the draft: it does not come back after the next reload.
    page.get_by_role("button", name="Send", exact=True).click()
    expect(_box(page)).to_have_value("")
    _wait_rows(demo.data, "SELECT id FROM messages WHERE body = 'and one for Bo'", 1)
    page.reload()
    expect(conversations(page)).to_be_visible(timeout=WAIT)
    open_conversation(page, CONTACTS[BO])
    expect(_bubble(page, "and one for Bo")).to_be_visible(timeout=WAIT)
    expect(_box(page)).to_have_value("")
    # Nothing of a draft reached the host.
    assert _rows(demo.data, "SELECT id FROM messages WHERE body LIKE 'half a thought%'") == []


def test_enter_sends_and_shift_enter_starts_a_new_line(demo: Demo, page: Page) -> None:
    """The two lines go out as one text, with its line break, exactly once."""
    open_conversation(page, CONTACTS[BO])
    box = _box(page)
    box.press_sequentially("first line")
    box.press("Shift+Enter")
    box.press_sequentially("second line")
    expect(box).to_have_value("first line\nsecond line")
    expect(_bubble(page, "first line")).to_have_count(0)
    box.press("Enter")
    expect(box).to_have_value("")
    _wait_rows(demo.data, "SELECT id FROM messages WHERE body = ?", 1, "first line\nsecond line")
    deadline = time.monotonic() + WAIT / 1000
    while not [t for t in submitted(demo.data) if t["body"] == "first line\nsecond line"]:
        assert time.monotonic() < deadline, "the carrier never got it"
        time.sleep(0.1)
    assert [t["to"] for t in submitted(demo.data) if "first line" in str(t["body"])] == [[BO]]


def test_an_emoji_is_picked_by_keyboard_and_inserted_at_the_caret(page: Page) -> None:
    open_conversation(page, CONTACTS[ANA])
    box = _box(page)
    box.press_sequentially("Hello world")
    for _ in range(5):
        box.press("ArrowLeft")

    picker = page.get_by_role("button", name="Emoji")
    picker.focus()
    page.keyboard.press("Enter")
    grid = page.get_by_role("dialog", name="Choose an emoji")
    expect(grid).to_be_visible()
    expect(grid.get_by_role("button", name="grinning face", exact=True)).to_be_focused()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Enter")

    expect(grid).to_have_count(0)
    expect(box).to_be_focused()
    page.keyboard.type("!")
    expect(box).to_have_value("Hello 😂!world")

    # Escape closes the grid and gives the focus back to its button.
    picker.click()
    expect(grid.get_by_role("button", name="face with tears of joy")).to_be_focused()
    page.keyboard.press("Escape")
    expect(grid).to_have_count(0)
    expect(picker).to_be_focused()


@pytest.mark.parametrize("how", ["drop", "paste"])
def test_a_picture_shows_a_note_and_loses_no_text(demo: Demo, page: Page, how: str) -> None:
    open_conversation(page, CONTACTS[ANA])
    text = f"with a picture {secrets.token_hex(3)}"
    _box(page).fill(text)
    url = page.url

    prevented = page.evaluate(_DROP, [how, "textarea[aria-label='Message']"])

    assert prevented is True, "the picture's default action was not prevented"
    expect(page.get_by_role("status").filter(has_text="cannot send pictures")).to_be_visible()
    expect(_box(page)).to_have_value(text)
    assert page.url == url
    # The text still goes, as a text.
    page.get_by_role("button", name="Send", exact=True).click()
    rows = _wait_rows(demo.data, "SELECT kind FROM messages WHERE body = ?", 1, text)
    assert rows == [("sms",)]
    deadline = time.monotonic() + WAIT / 1000
    while [t["body"] for t in submitted(demo.data)].count(text) != 1:
        assert time.monotonic() < deadline
        time.sleep(0.1)


def test_a_text_the_host_failed_is_retried_as_a_new_text(demo: Demo, page: Page) -> None:
    text = f"to a refused number {secrets.token_hex(3)}"
    _new_conversation(page, CARRIER, text)
    failed = _bubble(page, text)
    expect(failed.locator(".status-text")).to_have_text(f"failed: {REFUSED_REASON}", timeout=WAIT)

    failed.get_by_role("button", name="Retry").click()

    expect(_bubble(page, text)).to_have_count(2, timeout=WAIT)
    rows = _wait_rows(
        demo.data,
        "SELECT cmid, state FROM messages WHERE body = ? AND state = 'failed' ORDER BY id",
        2,
        text,
    )
    assert rows[0][0] != rows[1][0], "the retry is a new text with its own cmid"
    assert all(cmid is not None for cmid, _ in rows)
    assert [t for t in submitted(demo.data) if t["body"] == text] == []


def test_an_iphone_tapback_shows_on_the_quoted_message(demo: Demo, page: Page) -> None:
    text = f"Dinner at 8? {secrets.token_hex(3)}"
    _new_conversation(page, FAY, text)

    reactions = _bubble(page, text).locator(".reactions")
    expect(reactions).to_have_text("❤️", timeout=WAIT)
    expect(reactions).to_have_attribute("aria-label", re.compile("^Reactions: Loved by "))
    tapback = f"Loved “{text}”"
    expect(page.locator("li.bubble p.body", has_text=tapback)).to_have_count(0)
    # The host keeps the text as it came (search and export see it).
    assert _rows(demo.data, "SELECT dir FROM messages WHERE body = ?", tapback) == [("in",)]
