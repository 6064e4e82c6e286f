"""The devices page in headless Chromium against a real ``textport demo``, as a person
uses it, each effect checked in the host's database too: two browsers paired, the list
marks this browser, a new pairing is announced in the first, one unpairs the other after
confirming and the other is told; a session-only pairing is forgotten when the browser
is closed (and the host unpairs it); a device away for longer than the host's
``device_idle_days`` is unpaired and says so when it comes back."""

from __future__ import annotations

import contextlib
import re
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, Playwright, expect, sync_playwright

from tests.e2e.browser import WAIT, chromium, conversations, open_paired
from tests.e2e.demo import Demo, running_demo, textport
from tests.interop.devices import CHROMIUM, CHROMIUM_ARGS

pytestmark = pytest.mark.browser


def _devices(data: Path) -> list[tuple[object, ...]]:
    """(status, revoked_by, session_only) of every device, oldest pairing first."""
    uri = f"{(data / 'textport.db').as_uri()}?mode=ro"
    with contextlib.closing(sqlite3.connect(uri, uri=True)) as db:
        return db.execute(
            "SELECT status, revoked_by, session_only FROM devices ORDER BY created_at"
        ).fetchall()


def _wait_devices(data: Path, expected: list[tuple[object, ...]], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while _devices(data) != expected:
        assert time.monotonic() < deadline, (_devices(data), expected)
        time.sleep(0.2)


def _link(demo: Demo) -> str:
    made = textport("pair", "--data", str(demo.data), "--link")
    assert made.returncode == 0, made.stderr
    match = re.search(r"^Open: (\S+)$", made.stdout, re.MULTILINE)
    assert match is not None, made.stdout
    return match.group(1)


def _open_devices(page: Page) -> None:
    """From the conversation list, by keyboard."""
    page.get_by_role("button", name="Devices").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Devices")).to_be_visible()


def _config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "textport.toml"
    path.write_text(text)
    return path


@contextlib.contextmanager
def _profile(pw: Playwright, folder: Path) -> Iterator[BrowserContext]:
    """A browser with a profile on disk: closing it ends its session, as quitting does."""
    context = pw.chromium.launch_persistent_context(
        str(folder), executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
    )
    try:
        yield context
    finally:
        context.close()


def test_two_browsers_announce_list_and_unpair_each_other(tmp_path: Path) -> None:
    with running_demo(tmp_path / "data") as demo, chromium() as browser:
        first = browser.new_context().new_page()
        open_paired(first, demo.link)
        second = browser.new_context().new_page()
        open_paired(second, _link(demo))

        notice = first.get_by_role("status").filter(has_text="New device paired")
        expect(notice).to_have_text(re.compile(r"New device paired: Chrome on Linux"), timeout=WAIT)
        assert _devices(demo.data) == [("active", None, 0), ("active", None, 0)]

        _open_devices(first)
        listed = first.get_by_role("list", name="Paired devices").get_by_role("listitem")
        expect(listed).to_have_count(2, timeout=WAIT)
        expect(listed.nth(0)).to_have_accessible_name(
            "Chrome on Linux, this browser, connected now"
        )
        expect(listed.nth(1)).to_have_accessible_name("Chrome on Linux, connected now")
        expect(listed.nth(1)).to_contain_text("Connected now")

        # Unpairing asks first; cancelling (Escape) changes nothing.
        first.get_by_role("button", name="Unpair Chrome on Linux").click()
        dialog = first.get_by_role("dialog", name="Unpair Chrome on Linux?")
        expect(dialog).to_be_visible()
        expect(dialog.get_by_role("button", name="Cancel")).to_be_focused()
        first.keyboard.press("Escape")
        expect(dialog).to_be_hidden()
        assert _devices(demo.data) == [("active", None, 0), ("active", None, 0)]

        first.get_by_role("button", name="Unpair Chrome on Linux").click()
        dialog.get_by_role("button", name="Unpair").click()
        expect(second.get_by_role("alert")).to_contain_text(
            "This browser was unpaired from", timeout=WAIT
        )
        expect(conversations(second)).to_be_hidden()
        expect(listed).to_have_count(1, timeout=WAIT)
        assert _devices(demo.data) == [("active", None, 0), ("revoked", "user", 0)]
        expect(conversations(first)).to_be_visible()


def test_unpairing_on_the_host_tells_the_browser_and_updates_the_others_list(
    tmp_path: Path,
) -> None:
    with running_demo(tmp_path / "data") as demo, chromium() as browser:
        first = browser.new_context().new_page()
        open_paired(first, demo.link)
        _open_devices(first)
        listed = first.get_by_role("list", name="Paired devices").get_by_role("listitem")
        expect(listed).to_have_count(1, timeout=WAIT)
        second = browser.new_context().new_page()
        open_paired(second, _link(demo))
        expect(listed).to_have_count(2, timeout=WAIT)  # the page follows the announcement

        listing = textport("devices", "--data", str(demo.data))
        newest = listing.stdout.splitlines()[-1].split()[0]
        revoked = textport("devices", "--data", str(demo.data), "revoke", newest)
        assert revoked.returncode == 0, revoked.stderr
        expect(second.get_by_role("alert")).to_contain_text(
            "This browser was unpaired from", timeout=WAIT
        )
        expect(listed).to_have_count(1, timeout=WAIT)
        expect(listed).to_have_accessible_name("Chrome on Linux, this browser, connected now")
        assert _devices(demo.data) == [("active", None, 0), ("revoked", "user", 0)]


def test_a_session_only_pairing_ends_with_the_browser_session(tmp_path: Path) -> None:
    config = _config(tmp_path, "[host]\nsession_grace = 3\n")
    with running_demo(tmp_path / "data", config=config) as demo, sync_playwright() as pw:
        origin = f"http://127.0.0.1:{demo.port}/"
        with _profile(pw, tmp_path / "profile") as context:
            page = context.pages[0] if context.pages else context.new_page()
            page.goto(origin)
            remember = page.get_by_role("checkbox", name="Remember this browser")
            expect(remember).to_be_checked(timeout=WAIT)
            remember.uncheck()
            code = page.get_by_test_id("pairing-code")
            expect(code).to_have_text(re.compile(r"^\w{4}-\w{4}$"), timeout=WAIT)
            done = textport("pair", "--data", str(demo.data), "--yes", code.inner_text())
            assert done.returncode == 0, done.stderr
            assert "for this browser session only" in done.stdout
            expect(conversations(page)).to_be_visible(timeout=WAIT)
            assert _devices(demo.data) == [("active", None, 1)]
            # A reload is the same session: still paired, and the host keeps it.
            page.reload()
            expect(conversations(page)).to_be_visible(timeout=WAIT)
            _open_devices(page)
            expect(
                page.get_by_role("list", name="Paired devices").get_by_role("listitem")
            ).to_have_accessible_name(
                "Chrome on Linux, this browser, connected now, this session only", timeout=WAIT
            )
            time.sleep(4)  # longer than session_grace: connected, so still paired
            assert _devices(demo.data) == [("active", None, 1)]

        # The browser is closed: the host unpairs it soon after; the browser forgot it.
        _wait_devices(demo.data, [("revoked", "session", 1)], WAIT / 1000)
        with _profile(pw, tmp_path / "profile") as context:
            page = context.pages[0] if context.pages else context.new_page()
            page.goto(origin)
            expect(page.get_by_test_id("pairing-code")).to_have_text(
                re.compile(r"^\w{4}-\w{4}$"), timeout=WAIT
            )
            expect(conversations(page)).to_be_hidden()


def test_a_device_idle_for_device_idle_days_is_unpaired(tmp_path: Path) -> None:
    config = _config(tmp_path, "[host]\ndevice_idle_days = 0.0001\n")  # 8.64 s
    with running_demo(tmp_path / "data", config=config) as demo, sync_playwright() as pw:
        with _profile(pw, tmp_path / "profile") as context:
            page = context.pages[0] if context.pages else context.new_page()
            open_paired(page, demo.link)
            time.sleep(10)  # connected all along: never idle
            assert _devices(demo.data) == [("active", None, 0)]

        _wait_devices(demo.data, [("revoked", "idle", 0)], WAIT / 1000)
        with _profile(pw, tmp_path / "profile") as context:
            page = context.pages[0] if context.pages else context.new_page()
            page.goto(f"http://127.0.0.1:{demo.port}/")
            expect(page.get_by_role("alert")).to_contain_text(
                "This browser was unpaired from", timeout=WAIT
            )
