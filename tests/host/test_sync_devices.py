"""The devices page on the host: devices -> device_list, revoke -> done (DeviceSession,
a real store, no sockets)."""

from __future__ import annotations

from pathlib import Path

import pytest

from textport.host.sync import DeviceSession
from textport.protocol import derive
from textport.protocol import messages as wire
from textport.store.attachments import AttachmentFiles
from textport.store.db import connect
from textport.store.store import Store
from textport.transports.base import Capabilities

NOW = 1_790_000_000.0
ME, OTHER, GONE = b"\x01" * 16, b"\x02" * 16, b"\x03" * 16


class Rig:
    def __init__(self, tmp_path: Path) -> None:
        self.now = NOW
        self.store = Store(connect(tmp_path / "textport.db"), lambda: self.now)
        self.store.add_device(ME, b"\x11" * 32, "Chrome on Linux", "ua-me", b"\x21" * 32)
        self.now += 1
        self.store.add_device(
            OTHER, b"\x12" * 32, "Firefox on macOS", "ua-other", b"\x22" * 32, session_only=True
        )
        self.store.add_device(GONE, b"\x13" * 32, "Old phone", "ua-gone", b"\x23" * 32)
        self.store.revoke(GONE)
        self.sent: list[wire.Message] = []
        self.revoked = 0
        (me,) = [d for d in self.store.devices() if d.id == ME]
        self.session = DeviceSession(
            self.store,
            me,
            host_name="Test host",
            caps=Capabilities(delivery_reports=True, mms=False, max_parts=7),
            send=self.sent.append,
            accepted=lambda: None,
            text_ttl=3600,
            files=AttachmentFiles(tmp_path / "attachments"),
            connected=lambda: {ME},
            revoked=self._revoked,
        )

    def _revoked(self) -> None:
        self.revoked += 1


@pytest.fixture
def rig(tmp_path: Path) -> Rig:
    return Rig(tmp_path)


def test_devices_lists_the_active_devices_marking_this_one_and_the_connected(rig: Rig) -> None:
    rig.store.seen(ME)
    rig.session.handle(wire.Devices(qid=7))
    assert rig.sent == [
        wire.DeviceList(
            qid=7,
            devices=[
                wire.DeviceRecord(
                    id=derive.b64url(ME),
                    name="Chrome on Linux",
                    agent="ua-me",
                    created=int(NOW * 1000),
                    last_seen=int((NOW + 1) * 1000),
                    connected=True,
                    current=True,
                ),
                wire.DeviceRecord(
                    id=derive.b64url(OTHER),
                    name="Firefox on macOS",
                    agent="ua-other",
                    created=int((NOW + 1) * 1000),
                    last_seen=None,
                    connected=False,
                    current=False,
                    session=True,
                ),
            ],
        )
    ]


def test_revoke_unpairs_the_device_answers_done_and_has_the_host_end_its_sessions(
    rig: Rig,
) -> None:
    rig.session.handle(wire.Revoke(qid=3, device_id=derive.b64url(OTHER)))
    assert rig.sent == [wire.Done(qid=3)]
    assert rig.revoked == 1
    row = rig.store.db.execute(
        "SELECT status, revoked_by FROM devices WHERE id = ?", (OTHER,)
    ).fetchone()
    assert tuple(row) == ("revoked", "user")


@pytest.mark.parametrize("target", [GONE, b"\x09" * 16], ids=["revoked already", "unknown"])
def test_revoking_a_device_that_is_not_paired_is_refused_by_qid(rig: Rig, target: bytes) -> None:
    rig.session.handle(wire.Revoke(qid=4, device_id=derive.b64url(target)))
    (error,) = rig.sent
    assert isinstance(error, wire.Error)
    assert (error.code, error.ref) == ("bad_message", "4")
    assert rig.revoked == 0
