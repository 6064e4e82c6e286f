"""textport.client.Device against a real relay and the host's own pieces on 127.0.0.1.

The host side is tests/host/rig.py's HostRig (RelayLink, Store, DeviceSession wired as
the daemon wires them); the device here is the client under test, given the credentials
a pairing would have left it with.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from tests.host.rig import TIMEOUT, HostRig, running_host
from tests.relay.harness import ROOM
from textport.client import Credentials, Device
from textport.store.backup.records import Attachment, HistoryMessage
from textport.store.history import HistoryImport

NUMBER = "+15550100123"
OTHER = "+15550100124"
PICTURE = bytes(range(256)) * 400
"""100 kB: three chunks of at most 45 000 bytes."""


def credentials(rig: HostRig, paired: bool = True) -> Credentials:
    """What pairing would have stored on a new device (registered with the host when
    ``paired``)."""
    device = rig.new_device("a script", paired=paired)
    return Credentials(
        relay=rig.relay.url,
        room=ROOM,
        token=device.token,
        host_public=rig.identity.key.public,
        device_key=device.key,
    )


async def client(rig: HostRig, paired: bool = True) -> Device:
    """A connected client device; the caller closes it."""
    creds = credentials(rig, paired)
    await rig.allow()
    device = Device(creds, timeout=TIMEOUT)
    await device.connect()
    return device


@asynccontextmanager
async def connected(folder: Path) -> AsyncIterator[tuple[HostRig, Device]]:
    async with running_host(folder) as rig:
        device = await client(rig)
        try:
            yield rig, device
        finally:
            await device.close()


def history(rig: HostRig, conversations: int = 3, per_conversation: int = 5) -> None:
    """Texts in a few conversations, an MMS with a picture, searchable words."""
    rows = [
        HistoryMessage(
            kind="sms",
            direction="in" if i % 2 else "out",
            peers=(f"+1555020{c:04d}",),
            sender=f"+1555020{c:04d}" if i % 2 else "",
            body=f"dinner plan {c} number {i}",
            at_ms=1_600_000_000_000 + (c * per_conversation + i) * 1000,
            read=True,
            state="received" if i % 2 else "sent",
        )
        for c in range(conversations)
        for i in range(per_conversation)
    ]
    rows.append(
        HistoryMessage(
            kind="mms",
            direction="in",
            peers=(OTHER,),
            sender=OTHER,
            body="look at this",
            at_ms=1_600_000_900_000,
            read=True,
            state="received",
            attachments=(Attachment("image/png", "cat.png", PICTURE),),
        )
    )
    HistoryImport(rig.store, rig.files).run(rows)
