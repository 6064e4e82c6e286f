"""Sending from headless Chromium through a real ``textport demo``: a text's status as
it moves on, and a phone number the composer refuses."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.browser import (
    WAIT,
    Recording,
    chromium,
    conversations,
    open_conversation,
    open_paired,
)
from tests.e2e.demo import running_demo, submitted
from textport.transports.sim import BO, CONTACTS

pytestmark = pytest.mark.browser

ORDER = ["queued", "sending", "sent", "delivered"]


def marker() -> str:
    return f"e2e {secrets.token_hex(4)}"


def status_of(page: Page, body: str) -> Recording:
    """Every status the bubble with this body shows, from now on."""
    return Recording(
        page,
        f"//li[contains(@class, 'bubble')][p[@class='body'][text()='{body}']]"
        "//*[@class='status-text']",
    )


def send(page: Page, body: str) -> None:
    page.get_by_role("textbox", name="Message").fill(body)
    page.get_by_role("button", name="Send", exact=True).click()


def test_a_texts_status_moves_on_in_order(tmp_path: Path) -> None:
    """Bo's delivery reports come 5 s late, so "sent" is on screen before "delivered"."""
    with running_demo(tmp_path / "data") as demo, chromium() as browser:
        page = browser.new_page()
        open_paired(page, demo.link)
        open_conversation(page, CONTACTS[BO])
        text = marker()
        status = status_of(page, text)

        send(page, text)

        status.wait_for("delivered")
        seen = status.values()
        assert set(seen) <= set(ORDER), seen
        ranks = [ORDER.index(s) for s in seen]
        assert ranks == sorted(set(ranks)), f"out of order: {seen}"
        assert seen[0] in ("queued", "sending"), seen
        assert seen[-2:] == ["sent", "delivered"], seen
        assert [t["to"] for t in submitted(demo.data) if t["body"] == text] == [[BO]]


def test_an_invalid_number_is_refused_and_nothing_is_sent(tmp_path: Path) -> None:
    national, international = "555 010 0100", "+1 555 010 0100"
    with running_demo(tmp_path / "data") as demo, chromium() as browser:
        page = browser.new_page()
        open_paired(page, demo.link)
        before = submitted(demo.data)
        text = marker()

        page.get_by_role("button", name="New conversation").click()
        number = page.get_by_label("Phone number")
        number.fill(national)
        send(page, text)

        alert = page.get_by_role("alert")
        expect(alert).to_contain_text("country code", timeout=WAIT)
        expect(number).to_have_attribute("aria-invalid", "true")
        expect(page.get_by_role("textbox", name="Message")).to_have_value(text)
        expect(conversations(page).get_by_role("listitem", name="not sent yet")).to_have_count(0)

        # With its country code the same text goes, and only that one reaches the carrier.
        number.fill(international)
        expect(alert).to_have_count(0)
        status = status_of(page, text)
        page.get_by_role("button", name="Send", exact=True).click()
        status.wait_for("delivered")
        new = submitted(demo.data)[len(before) :]
        assert [(t["to"], t["body"]) for t in new] == [([international.replace(" ", "")], text)]
