"""Several hosts in one browser: headless Chromium paired with two real ``textport demo``
processes (two phones, each with its own relay), switching between them and texting
through both. The page is served by the first; the second is added with the link its
``textport pair --link`` prints (on its own relay), and its relay accepts the first's
page (``--allow-origin``), as a second phone's relay would be configured."""

from __future__ import annotations

import re
import secrets
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.browser import WAIT, chromium, conversations, open_conversation, open_paired
from tests.e2e.demo import Demo, free_port, running_demo, submitted, textport
from textport.transports.sim import ANA, BO, CONTACTS

pytestmark = pytest.mark.browser


def send(page: Page, body: str) -> None:
    page.get_by_role("textbox", name="Message").fill(body)
    page.get_by_role("button", name="Send", exact=True).click()


def delivered(page: Page, body: str) -> None:
    bubble = page.locator("li.bubble", has=page.locator("p.body", has_text=body))
    expect(bubble.locator(".status-text")).to_have_text("delivered", timeout=WAIT)


def phones(page: Page) -> list[str]:
    """The switcher's buttons, by accessible name."""
    group = page.get_by_role("group", name="Phones")
    return [button.get_attribute("aria-label") or "" for button in group.get_by_role("button").all()]


def phone(page: Page, port: int) -> str:
    """The switcher's name of the demo on ``port``: both demos have the same host name,
    so each is told apart by its relay."""
    names = [name for name in phones(page) if f"127.0.0.1:{port})" in name]
    assert len(names) == 1, phones(page)
    return names[0]


def add_phone(page: Page, second: Demo) -> None:
    """"Add a phone", then paste the link ``textport pair --link`` printed on the second
    host (a link on that host's own relay)."""
    page.get_by_role("button", name="Add a phone").click()
    expect(page.get_by_role("heading", name="Pair this browser with another phone")).to_be_visible(
        timeout=WAIT
    )
    made = textport("pair", "--data", str(second.data), "--link")
    assert made.returncode == 0, made.stderr
    link = re.search(r"http://\S+#textport-pair:\S+", made.stdout)
    assert link, made.stdout
    page.get_by_role("textbox", name=re.compile("paste the link")).fill(link.group(0))
    page.get_by_role("button", name="Pair", exact=True).click()
    expect(conversations(page)).to_be_visible(timeout=WAIT)


def test_one_browser_texts_through_two_hosts(tmp_path: Path) -> None:
    first_port = free_port()
    origin = f"http://127.0.0.1:{first_port}"
    with (
        running_demo(tmp_path / "first", port=first_port) as first,
        running_demo(tmp_path / "second", allow_origins=(origin,)) as second,
        chromium() as browser,
    ):
        page = browser.new_page()
        open_paired(page, first.link)
        # One phone: no switcher.
        expect(page.get_by_role("group", name="Phones")).to_have_count(0)

        add_phone(page, second)
        group = page.get_by_role("group", name="Phones")
        expect(group.get_by_role("button")).to_have_count(2, timeout=WAIT)
        on_second = phone(page, second.port)
        expect(group.get_by_role("button", name=on_second)).to_have_attribute("aria-pressed", "true")

        # Through the second phone: Ana answers every text, later.
        through_second = f"via second {secrets.token_hex(3)}"
        open_conversation(page, CONTACTS[ANA])
        send(page, through_second)
        delivered(page, through_second)

        # Switch to the first phone and text Bo through it.
        group.get_by_role("button", name=phone(page, first.port)).click()
        expect(group.get_by_role("button", name=phone(page, first.port))).to_have_attribute(
            "aria-pressed", "true"
        )
        through_first = f"via first {secrets.token_hex(3)}"
        open_conversation(page, CONTACTS[BO])
        send(page, through_first)
        expect(page.locator("li.bubble p.body", has_text=through_first)).to_be_visible(timeout=WAIT)

        # Each host sent its own text, once, and never the other's.
        assert [t["to"] for t in submitted(second.data) if t["body"] == through_second] == [[ANA]]
        assert [t["to"] for t in submitted(first.data) if t["body"] == through_first] == [[BO]]
        for log, other in ((first.data, through_second), (second.data, through_first)):
            assert all(t["body"] != other for t in submitted(log))

        # Ana's answer reached the second phone while the first is on screen: its button
        # counts it, and so does the tab's title.
        expect(group.get_by_role("button", name=re.compile(r"127\.0\.0\.1:%d\), \d+ unread$" % second.port))).to_be_visible(timeout=WAIT)
        expect(page).to_have_title(re.compile(r"^\(\d+\) "), timeout=WAIT)

        # A reload keeps both phones, and the one on screen.
        page.reload()
        expect(conversations(page)).to_be_visible(timeout=WAIT)
        expect(group.get_by_role("button")).to_have_count(2, timeout=WAIT)
        expect(group.get_by_role("button", name=re.compile(r"127\.0\.0\.1:%d\)$" % first.port))).to_have_attribute(
            "aria-pressed", "true"
        )

        # Back on the second phone, Ana's answer is there.
        group.get_by_role("button", name=re.compile(r"127\.0\.0\.1:%d\)" % second.port)).click()
        open_conversation(page, CONTACTS[ANA])
        expect(page.locator("li.bubble.in p.body", has_text=through_second)).to_be_visible(timeout=WAIT)


def test_adding_a_phone_can_be_cancelled(tmp_path: Path) -> None:
    """Cancel on the second phone's pairing screen goes back to the first, and leaves
    nothing behind: no switcher, and the same after a reload."""
    with running_demo(tmp_path / "first") as first, chromium() as browser:
        page = browser.new_page()
        open_paired(page, first.link)
        page.get_by_role("button", name="Add a phone").click()
        expect(page.get_by_role("heading", name="Pair this browser with another phone")).to_be_visible(
            timeout=WAIT
        )
        page.get_by_role("button", name="Cancel").click()
        expect(conversations(page)).to_be_visible(timeout=WAIT)
        expect(page.get_by_role("group", name="Phones")).to_have_count(0)
        page.reload()
        expect(conversations(page)).to_be_visible(timeout=WAIT)
        expect(page.get_by_role("group", name="Phones")).to_have_count(0)
        databases = page.evaluate("async () => (await indexedDB.databases()).map((d) => d.name)")
        assert databases == ["textport"], databases
