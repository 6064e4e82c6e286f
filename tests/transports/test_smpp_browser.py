"""Jasmin's SMSC simulator to a paired headless Chromium and back, through Jasmin 0.11.0
and a host process with the SMPP transport, an embedded relay and the web client.

- MO texts (single GSM, multipart UCS-2) sent by the network show in the browser;
- a reply typed in the browser goes out as UCS-2 parts the network puts back together,
  and its receipts turn the bubble to "delivered".
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.browser import WAIT, Recording, chromium, open_conversation
from tests.e2e.demo import free_port
from tests.peers.jasmin import JasminStack
from tests.transports import transport_demo
from tests.transports.test_host_smpp import texts_sent

pytestmark = pytest.mark.browser

OWN = "+447700900001"
BO = "+447700900123"
LONG = "Привет из сети SMPP! Всё хорошо 🙂 " * 4
REPLY = "Получил, спасибо! До встречи в субботу 🙂 Пока!" * 3


def test_smpp_network_to_browser_and_back(tmp_path: Path, jasmin: JasminStack) -> None:
    smsc = jasmin.smsc
    smsc.auto_receipts("DELIVRD", delay=0.5)
    esme = jasmin.esme
    config = tmp_path / "textport.toml"
    config.write_text(
        '[host]\nregion = "GB"\n\n[smpp]\n'
        f'host = "{esme.host}"\nport = {esme.port}\n'
        f'system_id = "{esme.system_id}"\npassword = "{esme.password}"\n'
        f'source_addr = "{OWN}"\nreconnect_min = 0.1\nreconnect_max = 1.0\n'
    )
    taken = len(smsc.submits())
    port = free_port()
    with (
        transport_demo.running("smpp", tmp_path / "data", port, config) as link,
        chromium() as browser,
    ):
        page = browser.new_context().new_page()
        page.goto(link)
        expect(page.get_by_text("No conversations yet.")).to_be_visible(timeout=WAIT)
        # Paired, nothing stored: now the network delivers, live.
        smsc.send_mo(BO, "Hi, it's Bo")
        smsc.send_mo(BO, LONG, coding="ucs2")
        open_conversation(page, BO)
        thread = page.get_by_role("list", name="Messages")
        expect(thread.get_by_text("Hi, it's Bo", exact=True)).to_be_visible(timeout=WAIT)
        expect(thread.get_by_text(LONG.strip())).to_be_visible(timeout=WAIT)

        page.get_by_role("textbox", name="Message").fill(REPLY)
        status = Recording(
            page,
            f"//li[contains(@class, 'bubble')][p[@class='body'][text()='{REPLY}']]"
            "//*[@class='status-text']",
        )
        page.get_by_role("button", name="Send", exact=True).click()
        status.wait_for("delivered")
        assert status.values()[-1] == "delivered"
    sent = smsc.submits()[taken:]
    assert texts_sent(sent) == [REPLY]
    assert len(sent) > 1
    assert {s.data_coding for s in sent} == {8}
    assert {s.destination for s in sent} == {BO[1:]}
