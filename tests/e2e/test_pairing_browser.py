"""Pairing a browser in headless Chromium with a real ``textport demo``: the QR code's
text and the typed code given to ``textport pair``, and codes or links that were used
already or expired, which both sides must say plainly."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.browser import WAIT, Recording, chromium, conversations, open_paired, websockets
from tests.e2e.demo import Demo, conversation_titles, running_demo, textport

pytestmark = pytest.mark.browser

SHOWN_CODE = "//*[@data-testid='shown-code']"


def _pairing_screen(page: Page, demo: Demo) -> tuple[str, str]:
    """Open the client unpaired; the QR code's text and the typed code it shows."""
    page.goto(f"http://127.0.0.1:{demo.port}/")
    command = page.get_by_test_id("pairing-command")
    expect(command).to_contain_text("textport-pair:", timeout=WAIT)
    match = re.fullmatch(r"textport pair '(textport-pair:[^']+)'", command.inner_text().strip())
    assert match, command.inner_text()
    typed = page.get_by_test_id("pairing-code")
    expect(typed).to_have_text(re.compile(r"^\w{4}-\w{4}$"))
    return match.group(1), typed.inner_text()


def _pair(demo: Demo, code: str) -> str:
    """``textport pair --yes CODE``; the code it printed for the person to compare."""
    done = textport("pair", "--data", str(demo.data), "--yes", code)
    assert done.returncode == 0, done.stderr
    assert "Paired " in done.stdout
    shown = re.search(r"^Code: (.+?)  \(the browser shows it too\)$", done.stdout, re.MULTILINE)
    assert shown, done.stdout
    return shown.group(1)


def _see_history(page: Page, demo: Demo) -> None:
    """The paired browser lists every conversation the host has."""
    titles = conversation_titles(demo.data)
    assert titles
    items = conversations(page).get_by_role("listitem")
    expect(items).to_have_count(len(titles), timeout=WAIT)
    for title in titles:
        expect(items.filter(has_text=title).first).to_be_visible()


def _refused(demo: Demo, code: str, reason: str) -> None:
    """``textport pair`` refuses ``code``: non-zero exit, ``reason`` in its words."""
    done = textport("pair", "--data", str(demo.data), "--yes", code)
    assert done.returncode != 0, done.stdout
    assert done.stderr.startswith("error: "), done.stderr
    assert reason in done.stderr, done.stderr
    assert "Paired" not in done.stdout


def _devices(demo: Demo) -> list[str]:
    listed = textport("devices", "--data", str(demo.data))
    assert listed.returncode == 0, listed.stderr
    return listed.stdout.splitlines()[1:]


def test_pair_with_the_qr_codes_text(tmp_path: Path) -> None:
    with running_demo(tmp_path / "data") as demo, chromium() as browser:
        page = browser.new_page()
        text, _ = _pairing_screen(page, demo)
        shown = Recording(page, SHOWN_CODE)

        code = _pair(demo, text)

        assert re.fullmatch(r"[0-9A-F]{4}-[0-9A-F]{4}", code), code
        expect(conversations(page)).to_be_visible(timeout=WAIT)
        assert shown.values() == [code]
        _see_history(page, demo)
        assert len(_devices(demo)) == 1

        # The text is single use: the host says so, and nothing else is paired.
        _refused(demo, text, "already used")
        assert len(_devices(demo)) == 1


def test_pair_with_the_typed_code(tmp_path: Path) -> None:
    with running_demo(tmp_path / "data") as demo, chromium() as browser:
        page = browser.new_page()
        _, typed = _pairing_screen(page, demo)
        shown = Recording(page, SHOWN_CODE)

        code = _pair(demo, typed)

        assert re.fullmatch(r"[0-9]{3} [0-9]{3}", code), code
        expect(conversations(page)).to_be_visible(timeout=WAIT)
        assert shown.values() == [code]
        _see_history(page, demo)

        _refused(demo, typed, "already used")
        assert len(_devices(demo)) == 1


def test_codes_the_page_replaced_have_expired(tmp_path: Path) -> None:
    """The page shows new codes every minute and withdraws the old ones: an old code
    copied to the host is refused as expired. The page's clock is moved on a minute."""
    with running_demo(tmp_path / "data") as demo, chromium() as browser:
        page = browser.new_page()
        sockets = websockets(page)
        page.clock.install()
        old_text, old_typed = _pairing_screen(page, demo)
        while len(sockets) < 2:  # the QR offer's channel and the typed code's
            page.wait_for_event("websocket", timeout=WAIT)
        withdrawn = list(sockets)

        page.clock.fast_forward("01:01")

        expect(page.get_by_test_id("pairing-code")).not_to_have_text(old_typed, timeout=WAIT)
        expect(page.get_by_test_id("pairing-command")).not_to_contain_text(old_text)
        for ws in withdrawn:
            if not ws.is_closed():
                ws.wait_for_event("close", timeout=WAIT)
        _refused(demo, old_typed, "expired")
        _refused(demo, old_text, "expired")
        assert _devices(demo) == []

        # The page did not move on: its new code pairs.
        _pair(demo, page.get_by_test_id("pairing-code").inner_text())
        expect(conversations(page)).to_be_visible(timeout=WAIT)


def test_a_used_link_says_so_in_another_browser(tmp_path: Path) -> None:
    with running_demo(tmp_path / "data") as demo, chromium() as browser:
        open_paired(browser.new_page(), demo.link)

        page = browser.new_context().new_page()
        page.goto(demo.link)

        expect(page.get_by_role("alert")).to_contain_text("already used", timeout=WAIT)
        page.get_by_role("button", name="Pair another way").click()
        expect(page.get_by_test_id("pairing-code")).to_have_text(re.compile(r"\w{4}-\w{4}"))
        assert len(_devices(demo)) == 1


def test_an_expired_link_says_so(tmp_path: Path) -> None:
    """A link opened after its expiry (the browser's clock is set past it) is refused at
    once, with what to do, and pairs nothing; the same link still pairs in time."""
    with running_demo(tmp_path / "data") as demo, chromium() as browser:
        made = textport("pair", "--data", str(demo.data), "--link")
        assert made.returncode == 0, made.stderr
        link = made.stdout.strip().removeprefix("Open: ")
        expiry = int(parse_qs(urlsplit(link).fragment.split("?", 1)[1])["e"][0])

        late = browser.new_context()
        late.clock.install(time=datetime.fromtimestamp(expiry + 1, UTC))
        page = late.new_page()
        page.goto(link)

        alert = page.get_by_role("alert")
        expect(alert).to_contain_text("expired", timeout=WAIT)
        expect(alert).to_contain_text("textport pair --link")
        assert _devices(demo) == []

        open_paired(browser.new_page(), link)
        assert len(_devices(demo)) == 1
