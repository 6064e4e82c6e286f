"""Desktop notifications in headless Chromium against a real ``textport demo``, with two
tabs of one browser open: the permission is asked only after a click on "Turn on
notifications"; a reply from Ana notifies once (one tab notifies, not both), not while a
visible tab shows her conversation, without her words once previews are off, not once
she is muted or blocked (the host's database checked); a click on the notification
opens her thread.

Headless Chromium shows no notification on the screen, so an init script wraps
``window.Notification`` (the real one still runs) to note each ``new Notification`` and
each ``requestPermission``; the test "clicks" a notification by dispatching ``click`` on
the very object the page made."""

from __future__ import annotations

import contextlib
import re
import secrets
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.browser import WAIT, chromium, conversations, open_conversation, open_paired
from tests.e2e.demo import running_demo
from textport.transports.sim import ANA, CONTACTS

pytestmark = pytest.mark.browser

WATCH_NOTIFICATIONS = """(() => {
  const Real = window.Notification;
  window.__notes = [];
  window.__asked = 0;
  class Watched extends Real {
    constructor(title, options) {
      super(title, options);
      window.__notes.push({ title, body: (options && options.body) || "", note: this });
    }
    static requestPermission(...args) {
      window.__asked += 1;
      return Real.requestPermission(...args);
    }
  }
  window.Notification = Watched;
})()"""


def _notes(tabs: list[Page]) -> list[tuple[int, str, str]]:
    """Every notification the tabs made: (tab index, title, body)."""
    return [
        (i, note["title"], note["body"])
        for i, tab in enumerate(tabs)
        for note in tab.evaluate("window.__notes.map(({title, body}) => ({title, body}))")
    ]


def _flags(data: Path) -> tuple[Any, ...]:
    uri = f"{(data / 'textport.db').as_uri()}?mode=ro"
    with contextlib.closing(sqlite3.connect(uri, uri=True)) as db:
        row: tuple[Any, ...] = db.execute(
            "SELECT muted, blocked FROM conversations WHERE peers = ?", (ANA,)
        ).fetchone()
        return row


def _wait_flags(data: Path, expected: tuple[int, int]) -> None:
    deadline = time.monotonic() + WAIT / 1000
    while _flags(data) != expected:
        assert time.monotonic() < deadline, (_flags(data), expected)
        time.sleep(0.1)


def _send(page: Page) -> str:
    """Text Ana from her open thread; returns the reply she will send 1.5 s later."""
    text = f"notify {secrets.token_hex(4)}"
    page.get_by_role("textbox", name="Message").fill(text)
    page.get_by_role("button", name="Send", exact=True).click()
    return f"Got it: “{text}”"


def _send_and_leave(page: Page) -> str:
    """Text Ana from her open thread and leave it at once, by keys (Enter, then Ctrl+Alt+N
    for a new conversation: no click to wait for, so well before her reply 1.5 s later)."""
    text = f"notify {secrets.token_hex(4)}"
    message = page.get_by_role("textbox", name="Message")
    message.fill(text)
    message.press("Enter")
    page.keyboard.press("Control+Alt+n")
    expect(page.get_by_role("region", name="New conversation")).to_be_visible()
    return f"Got it: “{text}”"


def _replied(tabs: list[Page], reply: str) -> None:
    """The reply is in the list of every tab (so every tab has seen its event)."""
    for tab in tabs:
        item = conversations(tab).get_by_role("listitem", name=re.compile(re.escape(reply)))
        expect(item).to_have_count(1, timeout=WAIT)


def _choose(page: Page, action: str) -> None:
    item = conversations(page).get_by_role("listitem", name=re.compile(r"^Ana,"))
    item.get_by_role("button", name="Conversation options").click()
    page.get_by_role("menuitem", name=action, exact=True).click()


def test_a_reply_notifies_once_and_a_click_opens_its_thread(tmp_path: Path) -> None:
    with running_demo(tmp_path / "data") as demo, chromium() as browser:
        context = browser.new_context()
        context.add_init_script(WATCH_NOTIFICATIONS)
        first = context.new_page()
        open_paired(first, demo.link)

        # Asked only when the user clicks, never on load.
        turn_on = first.get_by_role("button", name="Turn on notifications")
        expect(turn_on).to_be_visible()
        first.wait_for_timeout(500)
        assert first.evaluate("window.__asked") == 0
        context.grant_permissions(["notifications"])  # what the user answers to the prompt
        turn_on.click()
        expect(turn_on).to_have_count(0)
        assert first.evaluate("window.__asked") == 1
        assert first.evaluate("Notification.permission") == "granted"

        second = context.new_page()
        open_paired(second, f"http://127.0.0.1:{demo.port}/")
        expect(second.get_by_role("button", name="Turn on notifications")).to_have_count(0)
        tabs = [first, second]

        # Looking at Ana's thread in a visible tab: her reply does not notify.
        open_conversation(first, CONTACTS[ANA])
        reply = _send(first)
        _replied(tabs, reply)
        first.wait_for_timeout(500)
        assert _notes(tabs) == []

        # Looking elsewhere: one notification, in one of the two tabs.
        reply = _send_and_leave(first)
        _replied(tabs, reply)
        first.wait_for_timeout(500)
        notes = _notes(tabs)
        assert [(title, body) for _, title, body in notes] == [("Ana", reply)]

        # Its click opens her thread in the tab that showed it.
        tab = tabs[notes[0][0]]
        tab.evaluate("window.__notes[0].note.dispatchEvent(new Event('click'))")
        thread = tab.get_by_role("region", name="Conversation with Ana")
        expect(thread.get_by_role("list", name="Messages").get_by_text(reply)).to_be_visible(
            timeout=WAIT
        )

        # Previews off (in this browser's settings): the words are not in the notification.
        open_conversation(second, "Priya")  # it may still show Ana, opened by the click
        first.get_by_role("button", name="Notification settings").click()
        settings = first.get_by_role("dialog", name="Notification settings")
        settings.get_by_role("checkbox", name="Show the text in notifications").uncheck()
        settings.get_by_role("button", name="Close").click()
        expect(settings).to_have_count(0)
        open_conversation(first, CONTACTS[ANA])
        reply = _send_and_leave(first)
        _replied(tabs, reply)
        first.wait_for_timeout(500)
        assert [(title, body) for _, title, body in _notes(tabs)][1:] == [("Ana", "New text")]

        # Muted: no notification.
        _choose(first, "Mute")
        _wait_flags(demo.data, (1, 0))
        open_conversation(first, CONTACTS[ANA])
        reply = _send_and_leave(first)
        _replied(tabs, reply)
        first.wait_for_timeout(500)
        assert len(_notes(tabs)) == 2

        # Blocked: no notification either (its texts are kept, in the blocked folder).
        _choose(first, "Unmute")
        _choose(first, "Block")
        _wait_flags(demo.data, (0, 1))
        first.get_by_role("group", name="Folders").get_by_role("button", name="Blocked").click()
        first.get_by_role("list", name="Blocked conversations").get_by_role(
            "listitem", name=re.compile(r"^Ana,")
        ).get_by_role("button").first.click()
        reply = _send_and_leave(first)
        expect(
            first.get_by_role("list", name="Blocked conversations").get_by_role(
                "listitem", name=re.compile(re.escape(reply))
            )
        ).to_have_count(1, timeout=WAIT)
        first.wait_for_timeout(500)
        assert len(_notes(tabs)) == 2


ANDROID_LIKE = """(() => {
  // Chrome on Android: the page may not construct a Notification; only a service worker
  // may show one (ServiceWorkerRegistration.showNotification). The permission is real.
  const Real = window.Notification;
  window.Notification = class {
    constructor() {
      throw new TypeError("Failed to construct 'Notification': Illegal constructor. "
        + "Use ServiceWorkerRegistration.showNotification() instead.");
    }
    static get permission() { return Real.permission; }
    static requestPermission(...args) { return Real.requestPermission(...args); }
  };
})()"""

WORKER_NOTES = """async () => {
  const registration = await navigator.serviceWorker.getRegistration();
  const notes = registration ? await registration.getNotifications() : [];
  return notes.map((n) => ({ title: n.title, body: n.body }));
}"""


def test_where_only_a_service_worker_may_notify_it_does(tmp_path: Path) -> None:
    """As on Android, where ``new Notification`` throws: the reply is shown by the
    service worker (read back with the real ``getNotifications``), and its click, a
    ``notificationclick`` dispatched in the worker (a headless browser has no screen to
    click), brings the tab to Ana's thread."""
    with running_demo(tmp_path / "data") as demo, chromium() as browser:
        context = browser.new_context()
        context.add_init_script(ANDROID_LIKE)
        context.grant_permissions(["notifications"])
        page = context.new_page()
        open_paired(page, demo.link)
        page.wait_for_function(
            "async () => (await navigator.serviceWorker.ready).active !== null", timeout=WAIT
        )
        open_conversation(page, CONTACTS[ANA])
        reply = _send_and_leave(page)
        _replied([page], reply)
        page.wait_for_function(
            f"async () => ({WORKER_NOTES})().then((notes) => notes.length > 0)", timeout=WAIT
        )
        assert page.evaluate(WORKER_NOTES) == [{"title": "Ana", "body": reply}]

        (worker,) = context.service_workers
        worker.evaluate(
            """async () => {
              const [notification] = await self.registration.getNotifications();
              self.dispatchEvent(new NotificationEvent("notificationclick", { notification }));
            }"""
        )
        thread = page.get_by_role("region", name="Conversation with Ana")
        expect(thread.get_by_role("list", name="Messages").get_by_text(reply)).to_be_visible(
            timeout=WAIT
        )
        # The click closed it.
        page.wait_for_function(
            f"async () => ({WORKER_NOTES})().then((notes) => notes.length === 0)", timeout=WAIT
        )


COUNT_CHIMES = """(() => {
  // The chime is made with WebAudio (alerts.ts beep): count the oscillators it starts.
  window.__tones = 0;
  const start = OscillatorNode.prototype.start;
  OscillatorNode.prototype.start = function (...args) {
    window.__tones += 1;
    return start.apply(this, args);
  };
})()"""


def test_the_sound_setting_turns_the_chime_off(tmp_path: Path) -> None:
    """A reply chimes (two tones) with the sound on, the default; none once "Play a sound"
    is unticked in the settings, while the notification itself still comes."""
    with running_demo(tmp_path / "data") as demo, chromium() as browser:
        context = browser.new_context()
        context.add_init_script(WATCH_NOTIFICATIONS)
        context.add_init_script(COUNT_CHIMES)
        context.grant_permissions(["notifications"])
        page = context.new_page()
        open_paired(page, demo.link)
        open_conversation(page, CONTACTS[ANA])
        reply = _send_and_leave(page)
        _replied([page], reply)
        page.wait_for_function("window.__notes.length === 1", timeout=WAIT)
        assert page.evaluate("window.__tones") == 2

        page.get_by_role("button", name="Notification settings").click()
        settings = page.get_by_role("dialog", name="Notification settings")
        sound = settings.get_by_role("checkbox", name="Play a sound")
        expect(sound).to_be_checked()
        sound.uncheck()
        settings.get_by_role("button", name="Close").click()
        expect(settings).to_have_count(0)

        open_conversation(page, CONTACTS[ANA])
        reply = _send_and_leave(page)
        _replied([page], reply)
        page.wait_for_function("window.__notes.length === 2", timeout=WAIT)
        page.wait_for_timeout(300)
        assert page.evaluate("window.__tones") == 2
