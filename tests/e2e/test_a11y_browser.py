"""Accessibility in headless Chromium against a real ``textport demo`` (issue 6): axe-core
(web/node_modules, from npm) finds no serious or critical violation on any screen, in the
light theme and the dark one; and everything is reachable and usable with the keyboard
alone, with a visible focus, and dialogs that keep the focus inside and give it back,
each effect checked on the host too."""

from __future__ import annotations

import contextlib
import re
import secrets
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Literal

import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, ViewportSize, expect

from tests.e2e.browser import WAIT, chromium, conversations, open_conversation, open_paired
from tests.e2e.demo import Demo, running_demo, submitted, textport
from textport.transports.sim import ANA, CARRIER, CONTACTS

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "web" / "node_modules" / "axe-core" / "axe.min.js"
Scheme = Literal["light", "dark"]
SCHEMES: tuple[Scheme, ...] = ("light", "dark")
GROUP_SAMPLE = ROOT / "tests" / "samples" / "sms-backup-restore" / "sms_and_mms.xml"
DESKTOP: ViewportSize = {"width": 1200, "height": 800}
BLOCKING = ("serious", "critical")
"""The impacts that fail a test (axe also reports "moderate" and "minor")."""

_RUN_AXE = """async () => {
  const result = await axe.run(document, { resultTypes: ["violations"] });
  return result.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map((n) => ({ target: n.target.join(" "), summary: n.failureSummary })),
  }));
}"""

_THEME = """() => {
  // Whether the browser asks for the dark theme, and how light the page's background is.
  const [r, g, b] = getComputedStyle(document.body).backgroundColor.match(/\\d+/g).map(Number);
  const dark = matchMedia("(prefers-color-scheme: dark)").matches;
  return [dark, (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255];
}"""


def _context(browser: Browser, scheme: Scheme) -> BrowserContext:
    # bypass_csp: axe is added as a <script> of the test's; the host's CSP (script-src
    # 'self') would refuse it. The app's own code loads as it always does.
    return browser.new_context(
        color_scheme=scheme,
        bypass_csp=True,
        viewport=DESKTOP,
    )


def _describe(violation: dict[str, Any], most: int = 6) -> str:
    """A violation's rule, help text and the first ``most`` elements with what is wrong."""
    nodes = violation["nodes"]
    lines = [f"{violation['id']} ({violation['impact']}): {violation['help']}"]
    for node in nodes[:most]:
        lines.append(f"  {node['target']}")
        lines.extend(f"      {line}" for line in node["summary"].splitlines())
    if len(nodes) > most:
        lines.append(f"  … and {len(nodes) - most} more element(s)")
    return "\n".join(lines)


def _violations(page: Page, scheme: Scheme) -> None:
    """The page is in ``scheme``'s theme, and axe finds no serious or critical violation
    in the whole of it as it is shown now."""
    dark, luminance = page.evaluate(_THEME)
    assert dark == (scheme == "dark"), "the browser did not ask for the expected colour scheme"
    if scheme == "dark":
        assert luminance < 0.2, f"the dark theme is not applied (background luminance {luminance})"
    else:
        assert luminance > 0.8, f"the light theme is not applied (background luminance {luminance})"
    if not AXE.is_file():
        pytest.fail(f"{AXE} is missing: run `npm ci` in web/ (scripts/setup does)")
    if not page.evaluate("typeof window.axe === 'object'"):
        page.add_script_tag(path=str(AXE))
    found: list[dict[str, Any]] = page.evaluate(_RUN_AXE)
    blocking = [v for v in found if v["impact"] in BLOCKING]
    report = "\n".join(_describe(v) for v in blocking)
    assert not blocking, f"axe found {len(blocking)} serious or critical violation(s):\n{report}"


def _rows(data: Path, query: str, *args: object) -> list[tuple[object, ...]]:
    """Read the host's database (read-only, while the host runs)."""
    uri = f"{(data / 'textport.db').as_uri()}?mode=ro"
    with contextlib.closing(sqlite3.connect(uri, uri=True)) as db:
        return db.execute(query, args).fetchall()


def _wait_rows(data: Path, query: str, expected: list[tuple[object, ...]], *args: object) -> None:
    deadline = time.monotonic() + WAIT / 1000
    while _rows(data, query, *args) != expected:
        assert time.monotonic() < deadline, (_rows(data, query, *args), expected)
        time.sleep(0.1)


def _item(page: Page, title: str) -> Locator:
    return conversations(page).get_by_role("listitem", name=re.compile(f"^{re.escape(title)},"))


def _thread(page: Page) -> Locator:
    return page.get_by_role("list", name="Messages")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    with running_demo(tmp_path_factory.mktemp("a11y") / "data") as running:
        # A group (Contact D and two numbers) for the "Edit names" dialog.
        imported = textport("import", "--data", str(running.data), str(GROUP_SAMPLE))
        assert imported.returncode == 0, imported.stderr
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as browser:
        yield browser


@pytest.fixture(scope="module")
def paired(demo: Demo, browser: Browser) -> Iterator[Page]:
    """A paired browser whose threads hold sent, received and failed texts: one to Ana
    (she answers), one to the carrier's test number (it refuses every text)."""
    context = _context(browser, "light")
    page = context.new_page()
    open_paired(page, demo.link)
    expect(_item(page, CONTACTS[ANA])).to_be_visible(timeout=WAIT)
    open_conversation(page, CONTACTS[ANA])
    text = f"a11y {secrets.token_hex(4)}"
    page.get_by_role("textbox", name="Message").fill(text)
    page.get_by_role("textbox", name="Message").press("Enter")
    expect(_thread(page).get_by_text(f"Got it: “{text}”")).to_be_visible(timeout=WAIT)

    page.get_by_role("button", name="New conversation").click()
    page.get_by_role("textbox", name="Phone number").fill(CARRIER)
    page.get_by_role("textbox", name="Message").fill("This one fails")
    page.get_by_role("textbox", name="Message").press("Enter")
    expect(_thread(page).locator(".status-text", has_text="failed")).to_be_visible(timeout=WAIT)
    yield page
    context.close()


def _home(page: Page) -> None:
    """The conversation list with no thread open, nothing else open, on a desktop."""
    page.set_viewport_size(DESKTOP)
    # This tab's open conversation ("textport:open…", Messenger.tsx) would open again.
    page.evaluate(
        """() => Object.keys(sessionStorage)
          .filter((key) => key.startsWith("textport:open"))
          .forEach((key) => sessionStorage.removeItem(key))"""
    )
    page.reload()
    expect(conversations(page)).to_be_visible(timeout=WAIT)
    expect(_item(page, CONTACTS[ANA])).to_be_visible(timeout=WAIT)


def _open(page: Page, title: str) -> None:
    open_conversation(page, title)
    expect(_thread(page).locator("li.bubble").first).to_be_visible(timeout=WAIT)


def _list(page: Page) -> None:
    """As it is after _home."""


def _thread_ana(page: Page) -> None:
    _open(page, CONTACTS[ANA])
    expect(_thread(page).locator(".status-text").last).to_have_text(
        re.compile("sent|delivered"), timeout=WAIT
    )


def _thread_on_a_phone(page: Page) -> None:
    """A phone shows the thread alone, with a Back button."""
    page.set_viewport_size({"width": 390, "height": 844})
    _thread_ana(page)
    expect(page.get_by_role("button", name="Back to conversations")).to_be_visible()
    expect(conversations(page)).to_be_hidden()


def _thread_failed(page: Page) -> None:
    conversations(page).get_by_role("listitem", name=re.compile(f"^{re.escape(CARRIER)},")).click()
    expect(_thread(page).get_by_role("button", name="Retry")).to_be_visible(timeout=WAIT)


def _search(page: Page) -> None:
    page.get_by_role("searchbox", name="Search").fill("Sounds good")
    results = page.get_by_role("list", name="Search results").get_by_role("listitem")
    expect(results.first).to_be_visible(timeout=WAIT)


def _devices(page: Page) -> None:
    page.get_by_role("button", name="Devices").click()
    listed = page.get_by_role("list", name="Paired devices").get_by_role("listitem")
    expect(listed.first).to_be_visible(timeout=WAIT)


def _new(page: Page) -> None:
    page.get_by_role("button", name="New conversation").click()
    expect(page.get_by_role("textbox", name="Phone number")).to_be_focused()


def _menu(page: Page) -> None:
    _item(page, CONTACTS[ANA]).get_by_role("button", name="Conversation options").click()
    expect(page.get_by_role("menu")).to_be_visible()


def _thread_menu(page: Page) -> None:
    _open(page, CONTACTS[ANA])
    header = page.get_by_role("region", name=re.compile("^Conversation with "))
    header.get_by_role("button", name="Conversation options").click()
    expect(page.get_by_role("menu")).to_be_visible()


def _emoji(page: Page) -> None:
    _open(page, CONTACTS[ANA])
    page.get_by_role("button", name="Emoji").click()
    expect(page.get_by_role("dialog", name="Choose an emoji")).to_be_visible()


def _shortcuts(page: Page) -> None:
    page.keyboard.press("?")
    expect(page.get_by_role("dialog", name="Keyboard shortcuts")).to_be_visible()


def _notification_settings(page: Page) -> None:
    page.get_by_role("button", name="Notification settings").click()
    expect(page.get_by_role("dialog", name="Notification settings")).to_be_visible()


def _delete(page: Page) -> None:
    _menu(page)
    page.get_by_role("menuitem", name="Delete").click()
    expect(page.get_by_role("dialog", name="Delete this conversation?")).to_be_visible()


def _rename(page: Page) -> None:
    _menu(page)
    page.get_by_role("menuitem", name="Edit name").click()
    expect(page.get_by_role("dialog", name="Edit name")).to_be_visible()


def _names(page: Page) -> None:
    group = conversations(page).get_by_role("listitem", name=re.compile(r"\+15550000009"))
    group.get_by_role("button", name="Conversation options").click()
    page.get_by_role("menuitem", name="Edit names").click()
    expect(page.get_by_role("dialog", name="Edit names")).to_be_visible()


def _schedule(page: Page) -> None:
    _open(page, CONTACTS[ANA])
    page.get_by_role("textbox", name="Message").fill("Later")
    page.get_by_role("button", name="Schedule send").click()
    expect(page.get_by_role("dialog", name="Schedule send")).to_be_visible()


PAIRED_SCREENS: dict[str, Callable[[Page], None]] = {
    "conversation-list": _list,
    "thread": _thread_ana,
    "thread-failed-text": _thread_failed,
    "thread-on-a-phone": _thread_on_a_phone,
    "search-results": _search,
    "devices": _devices,
    "new-conversation": _new,
    "options-menu": _menu,
    "thread-options-menu": _thread_menu,
    "emoji-picker": _emoji,
    "shortcuts-help": _shortcuts,
    "notification-settings": _notification_settings,
    "delete-dialog": _delete,
    "edit-name-dialog": _rename,
    "edit-names-dialog": _names,
    "schedule-dialog": _schedule,
}


@pytest.mark.parametrize("scheme", SCHEMES)
def test_pairing_screen(browser: Browser, demo: Demo, scheme: Scheme) -> None:
    context = _context(browser, scheme)
    try:
        page = context.new_page()
        page.goto(f"http://127.0.0.1:{demo.port}/")
        expect(page.get_by_test_id("pairing-code")).to_have_text(
            re.compile(r"^\w{4}-\w{4}$"), timeout=WAIT
        )
        expect(page.get_by_role("img", name="Pairing QR code")).to_be_visible()
        _violations(page, scheme)
    finally:
        context.close()


@pytest.mark.parametrize("scheme", SCHEMES)
def test_pairing_link_already_used(
    browser: Browser, demo: Demo, paired: Page, scheme: Scheme
) -> None:
    context = _context(browser, scheme)
    try:
        page = context.new_page()
        page.goto(demo.link)  # the paired browser used it
        expect(page.get_by_role("alert")).to_contain_text("already used", timeout=WAIT)
        _violations(page, scheme)
    finally:
        context.close()


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("screen", PAIRED_SCREENS)
def test_paired_screen(paired: Page, screen: str, scheme: Scheme) -> None:
    paired.emulate_media(color_scheme=scheme)
    _home(paired)
    PAIRED_SCREENS[screen](paired)
    _violations(paired, scheme)


@pytest.mark.parametrize("scheme", SCHEMES)
def test_adding_a_phone(paired: Page, scheme: Scheme) -> None:
    """The pairing screen for another phone: the switcher, the link field, Cancel."""
    paired.emulate_media(color_scheme=scheme)
    _home(paired)
    paired.get_by_role("button", name="Add a phone").click()
    heading = paired.get_by_role("heading", name="Pair this browser with another phone")
    expect(heading).to_be_visible(timeout=WAIT)
    expect(paired.get_by_test_id("pairing-code")).to_have_text(
        re.compile(r"\w{4}-\w{4}"), timeout=WAIT
    )
    try:
        _violations(paired, scheme)
    finally:
        paired.get_by_role("button", name="Cancel").click()
        expect(conversations(paired)).to_be_visible(timeout=WAIT)


_FOCUS_SHOWN = """() => {
  // What is wrong with how the focused element shows it has the focus (null: nothing).
  const el = document.activeElement;
  if (el === null || el === document.body || el === document.documentElement) {
    return "the focus is on no control";
  }
  const words = (el.getAttribute("aria-label") ?? el.textContent ?? "").trim().slice(0, 40);
  const name = `<${el.tagName.toLowerCase()}> "${words}"`;
  if (!el.matches(":focus-visible")) return `${name} has the focus but not :focus-visible`;
  const style = getComputedStyle(el);
  const outline = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2;
  if (!outline && style.boxShadow === "none") return `${name} has the focus and shows none of it`;
  return null;
}"""


def _focus_shown(page: Page) -> None:
    problem = page.evaluate(_FOCUS_SHOWN)
    assert problem is None, problem


def _press_to(page: Page, target: Locator, key: str = "Tab", most: int = 80) -> None:
    """Press ``key`` until ``target`` has the focus; every control passed on the way shows
    its focus."""
    element = target.element_handle(timeout=WAIT)
    for _ in range(most):
        page.keyboard.press(key)
        _focus_shown(page)
        if page.evaluate("el => document.activeElement === el", element):
            return
    raise AssertionError(f"{key}, {most} times, did not reach {target}")


def _focused_in(page: Page, container: Locator) -> bool:
    inside: bool = container.evaluate("el => el.contains(document.activeElement)")
    return inside


def _traps_focus(page: Page, dialog: Locator, presses: int = 6) -> None:
    """Tab and Shift+Tab keep the focus inside ``dialog``, visibly."""
    for key in ("Tab", "Shift+Tab"):
        for _ in range(presses):
            page.keyboard.press(key)
            assert _focused_in(page, dialog), f"{key} took the focus out of the dialog"
            _focus_shown(page)


def test_everything_by_keyboard_alone(browser: Browser, tmp_path: Path) -> None:
    """Pair, open a conversation and text, search and open a hit, use the options menu and
    a confirmation, the shortcuts' dialog, a new conversation, the emoji picker and the
    devices page, and come back: no mouse, the focus always shown, kept in dialogs and
    given back when they close."""
    page = browser.new_page(viewport=DESKTOP)
    with running_demo(tmp_path / "data") as demo, contextlib.closing(page):
        page.goto(f"http://127.0.0.1:{demo.port}/")
        code = page.get_by_test_id("pairing-code")
        expect(code).to_have_text(re.compile(r"^\w{4}-\w{4}$"), timeout=WAIT)

        # The pairing screen: Copy, then "Remember this browser" (Space toggles it).
        _press_to(page, page.get_by_role("button", name="Copy"))
        remember = page.get_by_role("checkbox", name="Remember this browser")
        _press_to(page, remember)
        page.keyboard.press("Space")
        expect(remember).not_to_be_checked()
        page.keyboard.press("Space")
        expect(remember).to_be_checked()
        paired = textport("pair", "--data", str(demo.data), "--yes", code.inner_text())
        assert paired.returncode == 0, paired.stderr
        expect(conversations(page)).to_be_visible(timeout=WAIT)
        expect(_item(page, CONTACTS[ANA])).to_be_visible(timeout=WAIT)

        # Tab to Ana's conversation, Enter opens it with the cursor in its text box, Enter sends.
        _press_to(page, _item(page, CONTACTS[ANA]).locator("button.conv"))
        page.keyboard.press("Enter")
        message = page.get_by_role("textbox", name="Message")
        expect(message).to_be_focused()
        _focus_shown(page)
        text = f"keys {secrets.token_hex(4)}"
        page.keyboard.type(text)
        page.keyboard.press("Enter")
        expect(_thread(page).get_by_text(f"Got it: “{text}”")).to_be_visible(timeout=WAIT)
        assert [t["to"] for t in submitted(demo.data) if t["body"] == text] == [[ANA]]
        expect(message).to_be_focused()

        # The emoji picker: Shift+Tab to it, Enter opens it on the first emoji, arrows move,
        # Enter puts one in the text, and the cursor is back in the box.
        _press_to(page, page.get_by_role("button", name="Emoji"), "Shift+Tab")
        page.keyboard.press("Enter")
        grid = page.get_by_role("dialog", name="Choose an emoji")
        expect(grid.get_by_role("button").first).to_be_focused()
        _focus_shown(page)
        page.keyboard.press("ArrowRight")
        expect(grid.get_by_role("button", name="face with tears of joy")).to_be_focused()
        page.keyboard.press("Enter")
        expect(grid).to_have_count(0)
        expect(message).to_have_value("😂")
        expect(message).to_be_focused()
        page.keyboard.press("Backspace")
        expect(message).to_have_value("")

        # Search (Ctrl+K, also from the text box): Tab to a hit, Enter shows it in its thread.
        page.keyboard.press("Control+k")
        search = page.get_by_role("searchbox", name="Search")
        expect(search).to_be_focused()
        _focus_shown(page)
        page.keyboard.type("Sounds good")
        hits = page.get_by_role("list", name="Search results").get_by_role("button")
        expect(hits.first).to_be_visible(timeout=WAIT)
        _press_to(page, hits.first)
        page.keyboard.press("Enter")
        expect(_thread(page).locator("li.bubble.hit")).to_contain_text("Sounds good", timeout=WAIT)

        # The options menu: back to the search box, empty it, Tab to Ana's options;
        # Enter opens the menu on its first item, arrows move, Enter mutes her (on the host
        # too) and the focus is back on the button.
        page.keyboard.press("Control+k")
        expect(search).to_be_focused()
        page.keyboard.press("Control+a")
        page.keyboard.press("Delete")
        expect(search).to_have_value("")
        options = _item(page, CONTACTS[ANA]).get_by_role("button", name="Conversation options")
        _press_to(page, options)
        page.keyboard.press("Enter")
        menu = page.get_by_role("menu")
        expect(menu.get_by_role("menuitem").first).to_be_focused()
        _focus_shown(page)
        page.keyboard.press("ArrowDown")
        page.keyboard.press("ArrowDown")
        expect(menu.get_by_role("menuitem", name="Mute")).to_be_focused()
        _focus_shown(page)
        page.keyboard.press("Enter")
        expect(_item(page, CONTACTS[ANA])).to_have_accessible_name(
            re.compile(r"^Ana, muted,"), timeout=WAIT
        )
        _wait_rows(demo.data, "SELECT muted FROM conversations WHERE peers = ?", [(1,)], ANA)
        expect(options).to_be_focused()

        # A confirmation: End goes to Delete; the dialog opens on Cancel, keeps the focus,
        # and Escape closes it with nothing deleted and the focus back on the button.
        page.keyboard.press("ArrowDown")
        expect(menu.get_by_role("menuitem").first).to_be_focused()
        page.keyboard.press("End")
        expect(menu.get_by_role("menuitem", name="Delete")).to_be_focused()
        page.keyboard.press("Enter")
        confirm = page.get_by_role("dialog", name="Delete this conversation?")
        expect(confirm.get_by_role("button", name="Cancel")).to_be_focused()
        _focus_shown(page)
        _traps_focus(page, confirm)
        page.keyboard.press("Escape")
        expect(confirm).to_have_count(0)
        expect(options).to_be_focused()
        assert _rows(demo.data, "SELECT count(*) FROM conversations WHERE peers = ?", ANA) == [(1,)]

        # The shortcuts' help: "?" opens it, the focus stays in it, Escape gives it back.
        page.keyboard.press("?")
        help_dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
        expect(help_dialog).to_be_visible()
        assert _focused_in(page, help_dialog)
        _traps_focus(page, help_dialog)
        page.keyboard.press("Escape")
        expect(help_dialog).to_have_count(0)
        expect(options).to_be_focused()

        # A new conversation (Ctrl+Alt+N): the cursor is in "To", Tab goes on to the text.
        page.keyboard.press("Control+Alt+n")
        number = page.get_by_role("textbox", name="Phone number")
        expect(number).to_be_focused()
        _focus_shown(page)
        page.keyboard.type("+1 555 010 0199")
        _press_to(page, page.get_by_role("textbox", name="Message"))
        second = f"keys {secrets.token_hex(4)}"
        page.keyboard.type(second)
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", name="+15550100199")).to_be_visible(timeout=WAIT)
        expect(_thread(page).get_by_text(second)).to_be_visible()
        deadline = time.monotonic() + WAIT / 1000
        while [t["to"] for t in submitted(demo.data) if t["body"] == second] != [["+15550100199"]]:
            assert time.monotonic() < deadline, submitted(demo.data)
            time.sleep(0.1)

        # The devices page: Shift+Tab back to its button; unpairing asks, Escape cancels.
        _press_to(page, page.get_by_role("button", name="Devices"), "Shift+Tab")
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", name="Devices")).to_be_visible()
        unpair = page.get_by_role("button", name="Unpair this browser")
        _press_to(page, unpair)
        page.keyboard.press("Enter")
        dialog = page.get_by_role("dialog", name="Unpair this browser?")
        expect(dialog.get_by_role("button", name="Cancel")).to_be_focused()
        _traps_focus(page, dialog)
        page.keyboard.press("Escape")
        expect(dialog).to_have_count(0)
        expect(unpair).to_be_focused()
        assert _rows(demo.data, "SELECT status FROM devices") == [("active",)]

        # And back to a conversation: Alt+↓ opens the first one listed.
        page.keyboard.press("Alt+ArrowDown")
        expect(_thread(page)).to_be_visible()
        expect(page.get_by_role("heading", name="Devices")).to_have_count(0)
