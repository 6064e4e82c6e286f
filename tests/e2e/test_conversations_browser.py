"""Managing conversations in headless Chromium against a real ``textport demo``, as a
person does it (the options menu, the folder buttons, dialogs, keys), each effect
checked in the host's database too: pin, mute, archive (and a reply bringing an archived
conversation back), block (texts kept, hidden, never unread), mark unread (title and
tab icon), rename a contact or a group's members, delete after confirming, and the same
menu in the open thread's header."""

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
from tests.e2e.demo import Demo, running_demo, textport
from textport.transports.sim import ANA, CONTACTS

pytestmark = pytest.mark.browser

SAMPLES = Path(__file__).resolve().parents[1] / "samples" / "sms-backup-restore"
PRIYA, MUM = "+15550112", "+15550110"
"""Two of the demo's seeded conversations (textport.transports.sim_history)."""


def _row(data: Path, query: str, *args: object) -> tuple[object, ...]:
    """One row of the host's database (read-only, while the host runs)."""
    uri = f"{(data / 'textport.db').as_uri()}?mode=ro"
    with contextlib.closing(sqlite3.connect(uri, uri=True)) as db:
        row: tuple[object, ...] = db.execute(query, args).fetchone()
        return row


def _flags(data: Path, peers: str) -> tuple[object, ...]:
    return _row(
        data,
        "SELECT pinned, archived, muted, blocked, unread FROM conversations WHERE peers = ?",
        peers,
    )


def _item(page: Page, title: str) -> Locator:
    return conversations(page).get_by_role("listitem", name=re.compile(f"^{re.escape(title)},"))


def _choose(page: Page, title: str, action: str) -> None:
    """Open ``title``'s options menu with a click and pick ``action``."""
    _item(page, title).get_by_role("button", name="Conversation options").click()
    page.get_by_role("menuitem", name=action, exact=True).click()


def _view(page: Page, name: str) -> None:
    page.get_by_role("group", name="Folders").get_by_role("button", name=name).click()


def _wait_db(data: Path, query: str, expected: tuple[object, ...], *args: object) -> None:
    """The host commits before it answers, but the page may show events a moment before
    this process reads them: poll briefly."""
    deadline = time.monotonic() + WAIT / 1000
    while _row(data, query, *args) != expected:
        assert time.monotonic() < deadline, (_row(data, query, *args), expected)
        time.sleep(0.1)


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Demo]:
    with running_demo(tmp_path / "data") as running:
        yield running


@pytest.fixture
def page(demo: Demo) -> Iterator[Page]:
    with chromium() as browser:
        page = browser.new_page()
        open_paired(page, demo.link)
        expect(_item(page, "Priya")).to_be_visible(timeout=WAIT)
        yield page


def test_pin_mute_and_archive_and_a_reply_unarchives(demo: Demo, page: Page) -> None:
    _choose(page, "Priya", "Pin")
    expect(conversations(page).get_by_role("listitem").first).to_have_accessible_name(
        re.compile(r"^Priya, pinned,"), timeout=WAIT
    )
    expect(_item(page, "Priya").get_by_role("img", name="Pinned")).to_be_visible()
    assert _flags(demo.data, PRIYA)[:3] == (1, 0, 0)

    _choose(page, "Priya", "Mute")
    expect(_item(page, "Priya")).to_have_accessible_name(
        re.compile(r"^Priya, pinned, muted,"), timeout=WAIT
    )
    assert _flags(demo.data, PRIYA)[:3] == (1, 0, 1)

    # By keyboard: the menu button opens with the arrow key, Escape closes it.
    options = _item(page, "Priya").get_by_role("button", name="Conversation options")
    options.focus()
    page.keyboard.press("ArrowDown")
    expect(page.get_by_role("menuitem", name="Unpin")).to_be_focused()
    page.keyboard.press("ArrowDown")
    expect(page.get_by_role("menuitem", name="Archive")).to_be_focused()
    page.keyboard.press("Enter")
    expect(_item(page, "Priya")).to_have_count(0, timeout=WAIT)
    assert _flags(demo.data, PRIYA)[:3] == (0, 1, 1), "archiving unpins"

    _view(page, "Archived")
    expect(page.get_by_role("list", name="Archived conversations")).to_be_visible()
    expect(_item(page, "Priya")).to_have_accessible_name(re.compile(r"^Priya, muted,"))
    expect(_item(page, "Ana")).to_have_count(0)

    # Ana answers every text: archive her, write to her, and her reply brings her back.
    _view(page, "Inbox")
    _choose(page, CONTACTS[ANA], "Archive")
    expect(_item(page, CONTACTS[ANA])).to_have_count(0, timeout=WAIT)
    assert _flags(demo.data, ANA)[1] == 1
    _view(page, "Archived")
    open_conversation(page, CONTACTS[ANA])
    text = f"e2e {secrets.token_hex(4)}"
    page.get_by_role("textbox", name="Message").fill(text)
    page.get_by_role("textbox", name="Message").press("Enter")
    expect(_item(page, CONTACTS[ANA])).to_have_count(0, timeout=WAIT)
    _view(page, "Inbox")
    expect(_item(page, CONTACTS[ANA])).to_have_accessible_name(
        re.compile(re.escape(f"Got it: “{text}”")), timeout=WAIT
    )
    assert _flags(demo.data, ANA)[1] == 0


def test_block_keeps_texts_hidden_and_never_unread(demo: Demo, page: Page) -> None:
    title = page.title()
    # Write to Ana and block her before her reply (1.5 s later): blocking closes the thread,
    # so nothing on screen marks her reply read.
    open_conversation(page, CONTACTS[ANA])
    text = f"e2e {secrets.token_hex(4)}"
    page.get_by_role("textbox", name="Message").fill(text)
    page.get_by_role("button", name="Send", exact=True).click()
    _choose(page, CONTACTS[ANA], "Block")
    expect(_item(page, CONTACTS[ANA])).to_have_count(0, timeout=WAIT)
    expect(page.get_by_role("region", name=re.compile("^Conversation with"))).to_have_count(0)

    reply = f"Got it: “{text}”"
    _wait_db(demo.data, "SELECT count(*) FROM messages WHERE body = ?", (1,), reply)
    assert _flags(demo.data, ANA)[3:] == (1, 0), "kept, blocked, not unread"
    _view(page, "Blocked")
    expect(_item(page, CONTACTS[ANA])).to_have_accessible_name(
        re.compile(rf"^Ana, blocked, [^,]+: {re.escape(reply)}$"), timeout=WAIT
    )
    assert page.title() == title, "a blocked text does not count as unread"
    _view(page, "Inbox")
    expect(page.get_by_role("list", name="Conversations")).to_be_visible()
    expect(_item(page, CONTACTS[ANA])).to_have_count(0)

    _view(page, "Blocked")
    open_conversation(page, CONTACTS[ANA])
    expect(page.get_by_role("list", name="Messages").get_by_text(reply)).to_be_visible(timeout=WAIT)
    _choose(page, CONTACTS[ANA], "Unblock")
    expect(_item(page, CONTACTS[ANA])).to_have_count(0, timeout=WAIT)
    _view(page, "Inbox")
    expect(_item(page, CONTACTS[ANA])).to_be_visible(timeout=WAIT)
    assert _flags(demo.data, ANA)[3] == 0


def _badge(page: Page) -> list[int]:
    """The colour of the tab icon's badge spot (where the unread count is drawn)."""
    pixel: list[int] = page.evaluate(
        """async () => {
          const link = document.querySelector('link[rel="icon"]');
          const img = new Image();
          img.src = link.href;
          await img.decode();
          const canvas = document.createElement("canvas");
          canvas.width = img.width;
          canvas.height = img.height;
          const ctx = canvas.getContext("2d");
          ctx.drawImage(img, 0, 0);
          return [...ctx.getImageData(58, 8, 1, 1).data];
        }"""
    )
    return pixel


def test_mark_unread_rename_and_delete_after_confirming(demo: Demo, page: Page) -> None:
    for title in ("Mum", "Priya"):
        item = _item(page, title)
        if "unread" in (item.get_attribute("aria-label") or ""):
            _choose(page, title, "Mark as read")
            expect(item).not_to_have_accessible_name(re.compile("unread"), timeout=WAIT)
    unread = int(str(_row(demo.data, "SELECT sum(unread) FROM conversations")[0]))
    expect(page).to_have_title(f"({unread}) textport" if unread else "textport", timeout=WAIT)
    before = _badge(page)

    _choose(page, "Mum", "Mark as unread")
    expect(_item(page, "Mum")).to_have_accessible_name(re.compile(r", 1 unread,"), timeout=WAIT)
    expect(page).to_have_title(f"({unread + 1}) textport", timeout=WAIT)
    assert _flags(demo.data, MUM)[4] == 1
    expect(page.locator('link[rel="icon"]')).to_have_attribute("data-unread", str(unread + 1))
    red, green, blue, _ = _badge(page)
    assert red > 180 and green < 100 and blue < 100, (red, green, blue)
    if unread == 0:
        assert before[:3] != [red, green, blue], "no badge without unread texts"

    _choose(page, "Mum", "Mark as read")
    expect(page).to_have_title(f"({unread}) textport" if unread else "textport", timeout=WAIT)
    assert _flags(demo.data, MUM)[4] == 0

    # Rename: the dialog's text box, Enter saves, the host keeps the name.
    _choose(page, "Mum", "Edit name")
    dialog = page.get_by_role("dialog", name="Edit name")
    dialog.get_by_role("textbox", name="Name").fill("Mom")
    dialog.get_by_role("textbox", name="Name").press("Enter")
    expect(_item(page, "Mom")).to_be_visible(timeout=WAIT)
    _wait_db(demo.data, "SELECT name FROM conversations WHERE peers = ?", ("Mom",), MUM)
    assert _row(demo.data, "SELECT name FROM contacts WHERE number = ?", MUM) == ("Mom",)

    # Delete: Escape and Cancel keep it; Delete in the dialog removes it on the host.
    conv = _row(demo.data, "SELECT id FROM conversations WHERE peers = ?", PRIYA)[0]
    assert _row(demo.data, "SELECT count(*) FROM messages WHERE conv = ?", conv)[0] != 0
    _choose(page, "Priya", "Delete")
    confirm = page.get_by_role("dialog", name="Delete this conversation?")
    expect(confirm.get_by_role("button", name="Cancel")).to_be_focused()
    page.keyboard.press("Escape")
    expect(confirm).to_have_count(0)
    _choose(page, "Priya", "Delete")
    confirm.get_by_role("button", name="Cancel").click()
    expect(confirm).to_have_count(0)
    assert _row(demo.data, "SELECT count(*) FROM conversations WHERE id = ?", conv) == (1,)
    _choose(page, "Priya", "Delete")
    confirm.get_by_role("button", name="Delete").click()
    expect(_item(page, "Priya")).to_have_count(0, timeout=WAIT)
    _wait_db(demo.data, "SELECT count(*) FROM conversations WHERE id = ?", (0,), conv)
    assert _row(demo.data, "SELECT count(*) FROM messages WHERE conv = ?", conv) == (0,)
    assert _row(demo.data, "SELECT count(*) FROM participants WHERE conv = ?", conv) == (0,)
    # After a reload, from the browser's own cache: still gone.
    page.reload()
    expect(_item(page, "Mom")).to_be_visible(timeout=WAIT)
    expect(_item(page, "Priya")).to_have_count(0)


def test_the_threads_own_menu_names_a_groups_members_and_archives(demo: Demo, page: Page) -> None:
    """The open thread has the same options menu in its header. In a group (imported
    from sms_and_mms.xml: Contact D and two unnamed numbers), "Edit names" names any
    member; the host keeps each name; then "Archive" from the header closes the thread."""
    imported = textport("import", "--data", str(demo.data), str(SAMPLES / "sms_and_mms.xml"))
    assert imported.returncode == 0, imported.stderr
    group = conversations(page).get_by_role("listitem", name=re.compile(r"\+15550000009"))
    expect(group).to_be_visible(timeout=WAIT)
    group.get_by_role("button").first.click()
    thread = page.get_by_role("region", name=re.compile(r"^Conversation with "))
    before = "Contact D, +15550000009, +15550000010"
    expect(thread.get_by_role("heading", name=before)).to_be_visible(timeout=WAIT)

    thread.get_by_role("button", name="Conversation options").click()
    page.get_by_role("menuitem", name="Edit names", exact=True).click()
    dialog = page.get_by_role("dialog", name="Edit names")
    expect(dialog.get_by_role("textbox", name="Name for +15550000006")).to_have_value("Contact D")
    expect(dialog.get_by_role("textbox", name="Name for +15550000006")).to_be_focused()
    dialog.get_by_role("textbox", name="Name for +15550000009").fill("Carol")
    dialog.get_by_role("button", name="Save").click()
    expect(dialog).to_have_count(0)
    expect(thread.get_by_role("heading", name="Contact D, Carol, +15550000010")).to_be_visible(
        timeout=WAIT
    )
    _wait_db(demo.data, "SELECT name FROM contacts WHERE number = ?", ("Carol",), "+15550000009")
    # Only the changed name was sent: the others are as they were.
    assert _row(demo.data, "SELECT name FROM contacts WHERE number = ?", "+15550000006") == (
        "Contact D",
    )
    assert _row(demo.data, "SELECT count(*) FROM contacts WHERE number = ?", "+15550000010") == (0,)

    peers = "+15550000006,+15550000009,+15550000010"
    thread.get_by_role("button", name="Conversation options").click()
    page.get_by_role("menuitem", name="Archive", exact=True).click()
    expect(thread).to_have_count(0, timeout=WAIT)
    _wait_db(demo.data, "SELECT archived FROM conversations WHERE peers = ?", (1,), peers)
    _view(page, "Archived")
    expect(_item(page, "Contact D, Carol, +15550000010")).to_be_visible(timeout=WAIT)


def test_the_last_conversations_menu_opens_upwards_unclipped(demo: Demo, page: Page) -> None:
    """Near the bottom of the scrolled list the options menu opens above its button, so
    every item is inside the list's visible box (the list scrolls, and clips)."""
    page.get_by_role("button", name="Not now").click()  # the notifications banner
    page.set_viewport_size({"width": 1000, "height": 700})
    lists = page.locator(".lists")
    lists.evaluate("el => el.scrollTo(0, el.scrollHeight)")
    last = conversations(page).get_by_role("listitem").last
    last.get_by_role("button", name="Conversation options").click()
    menu = page.get_by_role("menu")
    expect(menu.get_by_role("menuitem").first).to_be_focused()
    inside = menu.evaluate(
        """menu => {
          const box = menu.closest(".lists").getBoundingClientRect();
          const rect = menu.getBoundingClientRect();
          return rect.top >= box.top && rect.bottom <= box.bottom;
        }"""
    )
    assert inside, "the menu is cut off by the list"
    expect(menu).to_have_class(re.compile(r"\bup\b"))
    # Its items act as anywhere else: Escape closes it, back on its button.
    page.keyboard.press("Escape")
    expect(menu).to_have_count(0)
    expect(last.get_by_role("button", name="Conversation options")).to_be_focused()
