"""RelayLink's part of the devices page, over a real relay on 127.0.0.1: which devices
are connected, device_changed to the others' synced sessions, and "last seen" when a
session ends (idle and session-only unpairing count from there)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.host.rig import Device, HostRig, run, running_host, until
from textport.host.sync import device_record
from textport.protocol import messages as wire


async def _synced(device: Device) -> None:
    await device.start()
    await device.send(wire.Sync(since=0, limit=1000))
    reply = await device.recv()
    assert isinstance(reply, wire.Synced | wire.Reset), reply
    if isinstance(reply, wire.Reset):
        await device.send(wire.Sync(since=reply.seq, limit=1000))
        assert isinstance(await device.recv(), wire.Synced)


def _last_seen(rig: HostRig, device: Device) -> int | None:
    return next(d.last_seen_at for d in rig.store.devices() if d.id == device.id)


def test_announce_reaches_the_other_synced_sessions_only(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_host(tmp_path) as rig:
            first, second = await rig.paired("First"), await rig.paired("Second")
            await _synced(first)
            await _synced(second)
            assert rig.link.connected_ids() == {first.id, second.id}
            (stored,) = [d for d in rig.store.devices() if d.id == second.id]
            note = wire.DeviceChanged(
                change="paired", device=device_record(stored, connected=False, current=False)
            )
            rig.link.announce(note, skip=second.id)
            assert await first.recv() == note
            await second.ping(1)  # the next thing second gets is its pong, not the note

    run(scenario)


def test_a_device_is_last_seen_when_its_session_ends(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_host(tmp_path) as rig:
            device = await rig.paired()
            await _synced(device)
            connected_at = _last_seen(rig, device)
            assert connected_at is not None
            await asyncio.sleep(0.01)
            await device.close()
            await rig.link_gone(device)
            await until(lambda: (_last_seen(rig, device) or 0) > connected_at, "last seen")
            assert rig.link.connected_ids() == set()

    run(scenario)
