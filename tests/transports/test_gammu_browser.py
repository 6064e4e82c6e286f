"""Gammu's dummy phone to a paired headless Chromium and back, everything real: a host
process with an embedded relay, the web client, libGammu.

- a text injected into the phone (single, and multipart UCS-2) shows in the browser;
- a reply typed in the browser is encoded by libGammu into the parts the counter says.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.browser import WAIT, chromium, open_conversation
from tests.e2e.demo import free_port
from tests.transports import transport_demo
from tests.transports.dummy import DummyPhone
from textport.transports import gsm

pytestmark = pytest.mark.browser

BO = "+447700900123"
LONG = "Привет из модема! Всё хорошо 🙂 " * 4
REPLY = "Получил, спасибо! До встречи в субботу 🙂 " * 3


def test_dummy_phone_to_browser_and_back(tmp_path: Path) -> None:
    phone = DummyPhone(tmp_path / "phone")
    config = tmp_path / "textport.toml"
    config.write_text(
        '[host]\nregion = "GB"\n\n[gammu]\n'
        f'device = "{phone.device}"\nconnection = "none"\nmodel = "dummy"\n'
        f'log_file = "{phone.log}"\npoll_interval = 0.2\n'
    )
    port = free_port()
    with transport_demo.running("gammu", tmp_path / "data", port, config) as link:
        with chromium() as browser:
            page = browser.new_context().new_page()
            page.goto(link)
            expect(page.get_by_text("No conversations yet.")).to_be_visible(timeout=WAIT)
            # Paired, nothing stored: now the texts arrive, live.
            phone.inject(BO, "Hi, it's Bo")
            phone.inject(BO, LONG)
            open_conversation(page, BO)
            thread = page.get_by_role("list", name="Messages")
            expect(thread.get_by_text("Hi, it's Bo", exact=True)).to_be_visible(timeout=WAIT)
            expect(thread.get_by_text(LONG.strip())).to_be_visible(timeout=WAIT)

            page.get_by_role("textbox", name="Message").fill(REPLY)
            page.get_by_role("button", name="Send", exact=True).click()
            expect(thread.get_by_text(REPLY.strip())).to_be_visible(timeout=WAIT)
            deadline = time.monotonic() + WAIT / 1000
            while len(phone.sent_parts()) < len(gsm.segment(REPLY).parts):
                assert time.monotonic() < deadline, "libGammu never sent the reply"
                time.sleep(0.1)
        sent = phone.sent_parts()
        assert [part.text for part in sent] == list(gsm.segment(REPLY).parts)
        assert {part.number for part in sent} == {BO}
        assert {part.coding for part in sent} == {"Unicode"}
        headers = [gsm.parse_concat(part.udh) for part in sent]
        n = len(sent)
        assert n > 1
        assert [(h.number, h.total) for h in headers if h] == [(i, n) for i in range(1, n + 1)]
        assert phone.stored() == []
