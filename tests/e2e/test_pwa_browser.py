"""The installable app in headless Chromium against a real ``textport demo``: the
manifest is linked and valid, the host serves it and the service worker with their
content types and ``Service-Worker-Allowed``; the worker registers, caches only this
build's files, and with the host stopped a reload still starts the app and shows the
cached history. At a phone's width (390 px) the list and the thread are each usable."""

from __future__ import annotations

import json
import re
import signal
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.browser import WAIT, chromium, conversations, open_conversation, open_paired
from tests.e2e.demo import running_demo
from textport.transports.sim import ANA, CONTACTS

pytestmark = pytest.mark.browser

DIST = Path(__file__).resolve().parents[2] / "src" / "textport" / "web" / "dist"


def test_manifest_service_worker_and_offline_reload(tmp_path: Path) -> None:
    with running_demo(tmp_path / "data") as demo, chromium() as browser:
        origin = f"http://127.0.0.1:{demo.port}/"
        page = browser.new_page()
        open_paired(page, demo.link)

        href = page.locator("link[rel=manifest]").get_attribute("href")
        assert href is not None
        manifest_response = page.request.get(origin + href)
        assert manifest_response.headers["content-type"] == "application/manifest+json"
        manifest = json.loads(manifest_response.text())
        assert manifest["name"] == "textport"
        assert manifest["display"] == "standalone"
        assert manifest["start_url"] == "./"
        assert re.fullmatch(r"#[0-9a-f]{6}", manifest["theme_color"])
        sizes = {icon["sizes"] for icon in manifest["icons"]}
        assert {"192x192", "512x512"} <= sizes
        for icon in manifest["icons"]:
            response = page.request.get(origin + icon["src"])
            assert response.ok
            assert response.headers["content-type"] == icon["type"]
            if icon["type"] == "image/png":
                assert response.body()[:8] == b"\x89PNG\r\n\x1a\n"

        worker = page.request.get(origin + "sw.js")
        assert worker.headers["content-type"].startswith("text/javascript")
        assert worker.headers["service-worker-allowed"] == "/"

        scope = page.evaluate("navigator.serviceWorker.ready.then((r) => r.active && r.scope)")
        assert scope == origin
        open_conversation(page, CONTACTS[ANA])
        history = page.get_by_role("list", name="Messages").get_by_role("listitem").first
        expect(history).to_be_visible(timeout=WAIT)
        first_text = history.locator(".body").inner_text()

        # Cached: this build's files and nothing else (no relay, no data).
        cached: list[str] = page.evaluate(
            """async () => {
              const urls = [];
              for (const name of await caches.keys()) {
                const cache = await caches.open(name);
                for (const request of await cache.keys()) urls.push(request.url);
              }
              return urls;
            }"""
        )
        built = {
            origin + path.relative_to(DIST).as_posix()
            for path in DIST.rglob("*")
            if path.is_file() and path.name not in {"index.html", "sw.js"}
        }
        assert set(cached) == built | {origin}

        page.reload()
        expect(conversations(page)).to_be_visible(timeout=WAIT)
        assert page.evaluate("navigator.serviceWorker.controller !== null")

        demo.process.send_signal(signal.SIGTERM)
        demo.process.wait(15)
        page.reload()
        expect(conversations(page)).to_be_visible(timeout=WAIT)
        expect(page.get_by_text("Can't reach the relay")).to_be_visible(timeout=WAIT)
        thread = page.get_by_role("list", name="Messages")
        expect(thread.get_by_text(first_text, exact=True).first).to_be_visible(timeout=WAIT)


def test_phone_width_list_then_thread(tmp_path: Path) -> None:
    with running_demo(tmp_path / "data") as demo, chromium() as browser:
        page = browser.new_page(viewport={"width": 390, "height": 844})
        open_paired(page, demo.link)
        expect(conversations(page).get_by_role("listitem").first).to_be_visible(timeout=WAIT)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390

        open_conversation(page, CONTACTS[ANA])
        expect(conversations(page)).to_be_hidden()
        message = page.get_by_role("textbox", name="Message")
        expect(message).to_be_visible()
        box = message.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
        send = page.get_by_role("button", name="Send", exact=True)
        box = send.bounding_box()
        assert box is not None and box["x"] + box["width"] <= 390
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        message.fill("from a phone")
        send.click()
        thread = page.get_by_role("list", name="Messages")
        expect(thread.get_by_text("from a phone", exact=True)).to_be_visible(timeout=WAIT)

        page.get_by_role("button", name="Back to conversations").click()
        expect(conversations(page)).to_be_visible()
