"""Screenshots of the web client for the README, from a real ``textport demo``.

Starts ``textport demo --no-browser`` on a free port with a fresh data folder, pairs
headless Chromium with the printed ``Open:`` link, opens Ana's conversation, sends a
text and waits for it to be delivered and answered, then writes into docs/screenshots/:

- ``web-client.png``        desktop width, light
- ``web-client-dark.png``   the same, dark (``prefers-color-scheme: dark``)
- ``web-client-phone.png``  phone width, light

Run it as ``scripts/screenshot`` (which sets everything up first), or
``.venv/bin/python scripts/screenshot.py [--out DIR]``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
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
TIMEOUT = 30_000


def _conversation(page: Page, link: str) -> None:
    page.goto(link)
    conversations = page.get_by_role("list", name="Conversations")
    expect(conversations.get_by_role("listitem")).to_have_count(8, timeout=TIMEOUT)
    conversations.get_by_role("listitem").filter(has_text="Ana").first.click()
    page.get_by_role("textbox", name="Message").fill(TEXT)
    page.get_by_role("button", name="Send").click()
    thread = page.get_by_role("list", name="Messages")
    expect(thread.get_by_text("delivered").last).to_be_visible(timeout=TIMEOUT)
    expect(thread.get_by_text(f"Got it: “{TEXT}”")).to_be_visible(timeout=TIMEOUT)
    # Leave the composer so no focus ring or caret is in the picture.
    page.get_by_role("textbox", name="Message").blur()


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
            context = browser.new_context(
                viewport=DESKTOP, color_scheme="light", locale="en-US", timezone_id="UTC"
            )
            page = context.new_page()
            _conversation(page, demo.link)

            def shot(name: str) -> None:
                page.wait_for_timeout(300)  # let the scroll position and fonts settle
                path = out / name
                page.screenshot(path=str(path))
                written.append(path)

            shot("web-client.png")
            page.emulate_media(color_scheme="dark")
            shot("web-client-dark.png")
            page.emulate_media(color_scheme="light")
            page.set_viewport_size(PHONE)
            # The narrower thread is taller: show its end again, as opening it does.
            page.get_by_role("list", name="Messages").evaluate("el => el.scrollTo(0, 1e9)")
            shot("web-client-phone.png")
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
