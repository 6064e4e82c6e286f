"""Several hosts in one browser: headless Chromium paired with two real ``textport demo``
processes (two phones, each with its own relay), switching between them and texting
through both. The page is served by the first; the second is added with the link its
``textport pair --link`` prints (on its own relay), and its relay accepts the first's
page (``--allow-origin``), as a second phone's relay would be configured."""

from __future__ import annotations

import contextlib
import re
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.browser import WAIT, chromium, conversations, open_conversation, open_paired
from tests.e2e.demo import Demo, free_port, running_demo, submitted, textport
from tests.e2e.test_notifications_browser import WATCH_NOTIFICATIONS
from textport.transports.sim import ANA, BO, CONTACTS

pytestmark = pytest.mark.browser


def send(page: Page, body: str) -> None:
    page.get_by_role("textbox", name="Message").fill(body)
    page.get_by_role("button", name="Send", exact=True).click()


def gone_out(page: Page, body: str) -> None:
    """The bubble says the carrier took the text (Bo's delivery reports come late)."""
    bubble = page.locator("li.bubble", has=page.locator("p.body", has_text=body))
    status = bubble.locator(".status-text")
    expect(status).to_have_text(re.compile("^(sent|delivered)$"), timeout=WAIT)


def phone(page: Page, port: int, unread: bool = False) -> Locator:
    """The switcher's button for the demo on ``port``: both demos have the same host name,
    so the switcher tells them apart by their relay; ``unread``: named with a count."""
    name = re.escape(f"127.0.0.1:{port})") + (r", \d+ unread$" if unread else "")
    return page.get_by_role("group", name="Phones").get_by_role("button", name=re.compile(name))


def add_phone(page: Page, second: Demo) -> None:
    """ "Add a phone", then paste the link ``textport pair --link`` printed on the second
    host (a link on that host's own relay)."""
    page.get_by_role("button", name="Add a phone").click()
    adding = page.get_by_role("heading", name="Pair this browser with another phone")
    expect(adding).to_be_visible(timeout=WAIT)
    made = textport("pair", "--data", str(second.data), "--link")
    assert made.returncode == 0, made.stderr
    link = re.search(r"http://\S+#textport-pair:\S+", made.stdout)
    assert link, made.stdout
    page.get_by_role("textbox", name=re.compile("paste the link")).fill(link.group(0))
    page.get_by_role("button", name="Pair", exact=True).click()
    expect(conversations(page)).to_be_visible(timeout=WAIT)


@contextlib.contextmanager
def two_phones(tmp_path: Path) -> Iterator[tuple[Demo, Demo]]:
    """Two demo hosts; the second's relay accepts the first's page."""
    first_port = free_port()
    origin = f"http://127.0.0.1:{first_port}"
    with (
        running_demo(tmp_path / "first", port=first_port) as first,
        running_demo(tmp_path / "second", allow_origins=(origin,)) as second,
    ):
        yield first, second


def test_one_browser_texts_through_two_hosts(tmp_path: Path) -> None:
    with two_phones(tmp_path) as (first, second), chromium() as browser:
        page = browser.new_page()
        open_paired(page, first.link)
        # One phone: no switcher.
        expect(page.get_by_role("group", name="Phones")).to_have_count(0)

        add_phone(page, second)
        group = page.get_by_role("group", name="Phones")
        expect(group.get_by_role("button")).to_have_count(2, timeout=WAIT)
        expect(phone(page, second.port)).to_have_attribute("aria-pressed", "true")

        # Through the second phone: Ana answers every text, later.
        through_second = f"via second {secrets.token_hex(3)}"
        open_conversation(page, CONTACTS[ANA])
        send(page, through_second)
        gone_out(page, through_second)

        # Switch to the first phone and text Bo through it.
        phone(page, first.port).click()
        expect(phone(page, first.port)).to_have_attribute("aria-pressed", "true")
        through_first = f"via first {secrets.token_hex(3)}"
        open_conversation(page, CONTACTS[BO])
        send(page, through_first)
        gone_out(page, through_first)

        # Each host sent its own text, once, and never the other's.
        assert [t["to"] for t in submitted(second.data) if t["body"] == through_second] == [[ANA]]
        assert [t["to"] for t in submitted(first.data) if t["body"] == through_first] == [[BO]]
        for log, other in ((first.data, through_second), (second.data, through_first)):
            assert all(t["body"] != other for t in submitted(log))

        # Ana's answer reached the second phone while the first is on screen: its button
        # counts it, and so does the tab's title.
        expect(phone(page, second.port, unread=True)).to_be_visible(timeout=WAIT)
        expect(page).to_have_title(re.compile(r"^\(\d+\) "), timeout=WAIT)

        # A reload keeps both phones, and the one on screen.
        page.reload()
        expect(conversations(page)).to_be_visible(timeout=WAIT)
        expect(group.get_by_role("button")).to_have_count(2, timeout=WAIT)
        expect(phone(page, first.port)).to_have_attribute("aria-pressed", "true")

        # Back on the second phone, Ana's answer is there.
        phone(page, second.port).click()
        open_conversation(page, CONTACTS[ANA])
        answer = page.locator("li.bubble.in p.body", has_text=through_second)
        expect(answer).to_be_visible(timeout=WAIT)


def test_adding_a_phone_can_be_cancelled(tmp_path: Path) -> None:
    """Cancel on the second phone's pairing screen goes back to the first, and leaves
    nothing behind: no switcher, and the same after a reload."""
    with running_demo(tmp_path / "first") as first, chromium() as browser:
        page = browser.new_page()
        open_paired(page, first.link)
        page.get_by_role("button", name="Add a phone").click()
        adding = page.get_by_role("heading", name="Pair this browser with another phone")
        expect(adding).to_be_visible(timeout=WAIT)
        page.get_by_role("button", name="Cancel").click()
        expect(conversations(page)).to_be_visible(timeout=WAIT)
        expect(page.get_by_role("group", name="Phones")).to_have_count(0)
        page.reload()
        expect(conversations(page)).to_be_visible(timeout=WAIT)
        expect(page.get_by_role("group", name="Phones")).to_have_count(0)
        databases = page.evaluate("async () => (await indexedDB.databases()).map((d) => d.name)")
        assert databases == ["textport"], databases


def test_the_phone_not_on_screen_notifies_and_keeps_its_open_conversation(
    tmp_path: Path,
) -> None:
    """Ana answers the second phone while the first is on screen: a notification (the
    page's ``Notification`` is watched as in test_notifications_browser.py), whose click
    shows the second phone at her thread. Each phone reopens its own conversation: the
    first phone's open conversation id means nothing at the second."""
    with two_phones(tmp_path) as (first, second), chromium() as browser:
        context = browser.new_context()
        context.add_init_script(WATCH_NOTIFICATIONS)
        context.grant_permissions(["notifications"])  # as if allowed before
        page = context.new_page()
        open_paired(page, first.link)
        add_phone(page, second)

        # On the first phone, Bo's thread is open.
        phone(page, first.port).click()
        open_conversation(page, CONTACTS[BO])
        expect(page.get_by_role("heading", name=CONTACTS[BO])).to_be_visible(timeout=WAIT)

        # Text Ana from the second phone, and go back to the first before she answers.
        phone(page, second.port).click()
        expect(page.get_by_role("heading", name=CONTACTS[BO])).to_have_count(0)
        open_conversation(page, CONTACTS[ANA])
        text = f"ping {secrets.token_hex(3)}"
        message = page.get_by_role("textbox", name="Message")
        message.fill(text)
        message.press("Enter")
        phone(page, first.port).click()
        # The first phone reopens its own conversation, Bo's.
        expect(page.get_by_role("heading", name=CONTACTS[BO])).to_be_visible(timeout=WAIT)

        reply = f"Got it: “{text}”"
        page.wait_for_function(
            "reply => window.__notes.some((n) => n.body.includes(reply))", arg=reply, timeout=WAIT
        )
        notes = page.evaluate("window.__notes.map(({title, body}) => ({title, body}))")
        assert [n["title"] for n in notes if reply in n["body"]] == [CONTACTS[ANA]], notes

        page.evaluate(
            "reply => window.__notes.find((n) => n.body.includes(reply)).note"
            ".dispatchEvent(new Event('click'))",
            reply,
        )
        expect(phone(page, second.port)).to_have_attribute("aria-pressed", "true", timeout=WAIT)
        expect(page.get_by_role("heading", name=CONTACTS[ANA])).to_be_visible(timeout=WAIT)
        expect(page.locator("li.bubble.in p.body", has_text=text)).to_be_visible(timeout=WAIT)
