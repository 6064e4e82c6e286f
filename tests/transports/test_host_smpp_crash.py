"""``textport host --transport smpp`` killed between claim and submit_sm_resp, against
Jasmin's SMSC simulator: the text becomes ``unknown`` and is never submitted again.

(The host's other SMPP paths, through the whole Jasmin stack, are test_host_smpp.py's.)
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

from tests.peers.jasmin import SmscSimulator
from tests.transports.host_rig import NO_RELAY, TEXTPORT, recovered, stored, wait_for
from textport.store.db import connect
from textport.store.store import Store

BO = "+447700900123"


def _config(smsc: SmscSimulator) -> str:
    return (
        '[host]\nregion = "GB"\n\n[smpp]\n'
        f'host = "127.0.0.1"\nport = {smsc.port}\nsystem_id = "textport"\n'
        f'password = "secret"\nsource_addr = "{BO}"\nreconnect_min = 0.1\n'
    )


def test_sigkill_between_claim_and_submit_leaves_unknown_and_submits_nothing_again(
    tmp_path: Path, smsc: SmscSimulator
) -> None:
    """``textport host --transport smpp`` as a real process, killed while a submit_sm is
    in flight.

    ``sitecustomize.py`` (on PYTHONPATH) wraps the session's ``send``: once a submit_sm
    is written to the socket, it marks a file and blocks the host, so the simulator
    takes the text and answers, and the host never reads the answer: as a host would die
    between the SMSC taking a text and the store hearing it.
    """
    data = tmp_path / "data"
    marker = tmp_path / "submitting"
    config = tmp_path / "textport.toml"
    config.write_text(_config(smsc))
    (tmp_path / "sitecustomize.py").write_text(
        "import os, time\n"
        "if os.environ.get('STALL_AFTER_SUBMIT'):\n"
        "    from textport.transports.smpp import pdu, session\n"
        "    real = session.Session.send\n"
        "    def send(self, message):\n"
        "        real(self, message)\n"
        "        if isinstance(message, pdu.SubmitSm):\n"
        "            open(os.environ['STALL_AFTER_SUBMIT'], 'w').close()\n"
        "            time.sleep(3600)\n"
        "    session.Session.send = send\n"
    )
    store = Store(connect(data / "textport.db"), time.time)
    msg_id = store.add_outgoing(None, "c" * 32, ["+15550100"], "sent once at most", 3600).msg_id
    store.db.close()

    def start(**env: str) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [
                *(str(TEXTPORT), "host", "--data", str(data), "--relay", NO_RELAY),
                *("--transport", "smpp", "--config", str(config)),
            ],
            env={**os.environ, "PYTHONPATH": str(tmp_path), **env},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    first = start(STALL_AFTER_SUBMIT=str(marker))
    try:
        wait_for(marker.exists, "the host never submitted", first)
        wait_for(smsc.submits, "the SMSC never took the submit_sm")
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    finally:
        if first.poll() is None:
            first.kill()
    assert len(smsc.submits()) == 1, "the SMSC took it once"
    (row,) = stored(data, f"id = {msg_id}")
    assert row["state"] == "sending", "claimed, never confirmed"

    row = recovered(start(), data, msg_id, ready=lambda: "transceiver" in smsc.binds())
    assert row["state"] == "unknown"
    assert "may or may not have gone out" in row["reason"]
    assert len(smsc.submits()) == 1, "the second run submitted nothing"
