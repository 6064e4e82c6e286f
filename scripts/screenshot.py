"""Screenshots of the web client for the README and docs, from a real ``textport demo``.

Starts ``textport demo --no-browser`` on a free port with a fresh data folder, pairs
headless Chromium with the printed ``Open:`` link, texts Ana and waits for her answer,
then writes into docs/screenshots/ each main screen in light and dark, at desktop and
phone width: ``<screen>[-phone][-dark].png`` for

- ``pairing``  the pairing screen of a browser not paired yet (QR code and typed code)
- ``thread``   the conversation list and Ana's thread, a text delivered and answered
- ``search``   search results for "tomorrow", the matches highlighted
- ``devices``  the devices page

The gallery is docs/screenshots.md. Run it as ``scripts/screenshot`` (which sets
everything up first), or ``.venv/bin/python scripts/screenshot.py [--out DIR]``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from playwright.sync_api import Page, ViewportSize, expect, sync_playwright
from tests.e2e.demo import running_demo
from tests.interop.devices import CHROMIUM, CHROMIUM_ARGS

DESKTOP: ViewportSize = {"width": 1280, "height": 800}
PHONE: ViewportSize = {"width": 390, "height": 780}
TEXT = "Running 5 min late, save me a seat?"
"""Ana quotes it back whole (the simulated carrier quotes up to 40 characters)."""
QUERY = "tomorrow"
TIMEOUT = 30_000
SCREENS = ("pairing", "thread", "search", "devices")
LAYOUTS: tuple[tuple[str, ViewportSize, str], ...] = (
    ("", DESKTOP, "light"),
    ("-dark", DESKTOP, "dark"),
    ("-phone", PHONE, "light"),
    ("-phone-dark", PHONE, "dark"),
)


def _list(page: Page) -> None:
    """The conversation list on screen (on a phone, back from an open thread), unsearched."""
    back = page.get_by_role("button", name="Back to conversations")
    if back.is_visible():
        back.click()
    page.get_by_role("searchbox", name="Search").fill("")
    expect(page.get_by_role("list", name="Conversations")).to_be_visible(timeout=TIMEOUT)


def _open_ana(page: Page) -> None:
    _list(page)
    conversations = page.get_by_role("list", name="Conversations")
    conversations.get_by_role("listitem").filter(has_text="Ana").first.click()
    thread = page.get_by_role("list", name="Messages")
    expect(thread.get_by_text(f"Got it: “{TEXT}”")).to_be_visible(timeout=TIMEOUT)
    thread.evaluate("el => el.scrollTo(0, 1e9)")


def _first_text(page: Page, link: str) -> None:
    """Pair, text Ana, and wait until it is delivered and answered."""
    page.goto(link)
    conversations = page.get_by_role("list", name="Conversations")
    expect(conversations.get_by_role("listitem")).to_have_count(8, timeout=TIMEOUT)
    page.get_by_role("button", name="Not now").click()  # the notifications banner
    conversations.get_by_role("listitem").filter(has_text="Ana").first.click()
    page.get_by_role("textbox", name="Message").fill(TEXT)
    page.get_by_role("button", name="Send", exact=True).click()
    thread = page.get_by_role("list", name="Messages")
    expect(thread.get_by_text("delivered").last).to_be_visible(timeout=TIMEOUT)
    expect(thread.get_by_text(f"Got it: “{TEXT}”")).to_be_visible(timeout=TIMEOUT)


def _search(page: Page) -> None:
    _list(page)
    page.get_by_role("searchbox", name="Search").fill(QUERY)
    expect(page.locator("mark").first).to_be_visible(timeout=TIMEOUT)


def _devices(page: Page) -> None:
    _list(page)
    page.get_by_role("button", name="Devices").click()
    expect(page.get_by_role("list", name="Paired devices")).to_be_visible(timeout=TIMEOUT)


def take(out: Path) -> list[Path]:
    if not CHROMIUM.exists():
        sys.exit(f"{CHROMIUM} is missing: run scripts/setup")
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    with (
        tempfile.TemporaryDirectory(prefix="textport-screenshot-") as data,
        running_demo(Path(data) / "data") as demo,
        sync_playwright() as pw,
    ):
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport=DESKTOP, locale="en-US", timezone_id="UTC")
            _first_text(page, demo.link)
            unpaired = browser.new_page(viewport=DESKTOP, locale="en-US", timezone_id="UTC")
            unpaired.goto(f"http://127.0.0.1:{demo.port}/")
            expect(unpaired.get_by_test_id("pairing-code")).not_to_be_empty(timeout=TIMEOUT)

            steps: dict[str, tuple[Page, Callable[[Page], None]]] = {
                "pairing": (unpaired, lambda _: None),
                "thread": (page, _open_ana),
                "search": (page, _search),
                "devices": (page, _devices),
            }
            for suffix, viewport, scheme in LAYOUTS:
                for screen in SCREENS:
                    shown, step = steps[screen]
                    shown.set_viewport_size(viewport)
                    shown.emulate_media(color_scheme=scheme)  # type: ignore[arg-type]
                    step(shown)
                    # No focus ring or caret in the picture; let scrolling and fonts settle.
                    shown.evaluate("document.activeElement?.blur()")
                    shown.wait_for_timeout(300)
                    path = out / f"{screen}{suffix}.png"
                    shown.screenshot(path=str(path))
                    written.append(path)
        finally:
            browser.close()
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", type=Path, default=ROOT / "docs" / "screenshots", help="output folder"
    )
    for path in take(parser.parse_args().out):
        print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)


if __name__ == "__main__":
    main()
