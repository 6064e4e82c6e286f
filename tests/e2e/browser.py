"""Headless Chromium for the end-to-end tests, and what they watch in its pages."""

from __future__ import annotations

import contextlib
import itertools
import re
from collections.abc import Iterator

from playwright.sync_api import Browser, Locator, Page, WebSocket, expect, sync_playwright

from tests.interop.devices import CHROMIUM, CHROMIUM_ARGS

WAIT = 30_000
"""Milliseconds to wait for what browser, relay and host do together (the machine may be busy)."""

_RECORD = """([key, xpath]) => {
  const values = (window[key] = []);
  const look = () => {
    const node = document.evaluate(
      xpath, document, null, XPathResult.FIRST_ORDERED_NODE_TYPE, null,
    ).singleNodeValue;
    const text = node === null ? null : node.textContent;
    if (text !== null && values.at(-1) !== text) values.push(text);
  };
  new MutationObserver(look).observe(document, {
    subtree: true, childList: true, characterData: true, attributes: true,
  });
  look();
}"""
_keys = itertools.count()


@contextlib.contextmanager
def chromium() -> Iterator[Browser]:
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def conversations(page: Page) -> Locator:
    return page.get_by_role("list", name="Conversations")


def open_conversation(page: Page, title: str) -> None:
    """Click the conversation titled ``title`` in the list."""
    conversations(page).get_by_role("listitem", name=re.compile(f"^{re.escape(title)},")).click()


def open_paired(page: Page, url: str) -> None:
    """Open ``url`` (a pairing link, or the client of a paired browser) up to its list."""
    page.goto(url)
    expect(conversations(page)).to_be_visible(timeout=WAIT)


def websockets(page: Page) -> list[WebSocket]:
    """The WebSockets ``page`` opens from now on, in order (the list grows)."""
    opened: list[WebSocket] = []

    def note(ws: WebSocket) -> None:
        opened.append(ws)

    page.on("websocket", note)
    return opened


class Recording:
    """Every text the node at ``xpath`` showed, in order, as the page rendered it.

    A MutationObserver notes each change, so a state that was on screen for a moment
    only is seen too; a reload ends the recording.
    """

    def __init__(self, page: Page, xpath: str) -> None:
        self._page = page
        self._key = f"__textport_recording_{next(_keys)}"
        page.evaluate(_RECORD, [self._key, xpath])

    def values(self) -> list[str]:
        values: list[str] = self._page.evaluate("key => window[key]", self._key)
        return values

    def wait_for(self, text: str) -> None:
        self._page.wait_for_function(
            "([key, text]) => window[key].includes(text)", arg=[self._key, text], timeout=WAIT
        )
