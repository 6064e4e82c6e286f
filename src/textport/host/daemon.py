"""The host daemon's lifecycle: start → run → stop, every background task owned.

It owns the store (one writer), the transport, the outbox worker, the connection to
the relay, and a local control socket (``DATA/host.sock``, mode 0600) through which
the CLI, running as another process, asks it to pick up paired or revoked devices
and to make pairing links.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from textport.errors import TextportError
from textport.host import pairing
from textport.host.control import ControlServer
from textport.host.identity import HostIdentity, load_identity
from textport.host.outbox import OutboxWorker
from textport.host.relay_link import RelayLink
from textport.host.sync import DeviceSession, device_record
from textport.protocol import derive
from textport.protocol import messages as wire
from textport.protocol.pairing import PairingOffer
from textport.store.attachments import AttachmentFiles
from textport.store.db import connect
from textport.store.store import Device, Store
from textport.transports import config as transport_config
from textport.transports.base import Incoming, ReportState, Transport
from textport.transports.sim import SimSettings
from textport.transports.sim_history import seed_history

log = logging.getLogger(__name__)

DEFAULT_TEXT_TTL = transport_config.DEFAULT_TEXT_TTL


@dataclass
class HostSettings:
    data: Path
    relay: str | None = None
    """The relay URL; None keeps the one stored in host.json."""
    web_url: str | None = None
    """Where this host serves the web client (demo), for pairing links."""
    text_ttl: float = DEFAULT_TEXT_TTL
    sim: SimSettings = field(default_factory=SimSettings)
    seed: bool = True
    """Write the simulated carrier's demo history into an empty store."""
    transport: str = "sim"
    """Which SMS source: one of :data:`textport.transports.config.TRANSPORTS`."""
    config: transport_config.Config = field(default_factory=transport_config.Config)
    """The config file's settings (``--config``): the transport's table among them."""


class Host:
    def __init__(
        self,
        settings: HostSettings,
        clock: Callable[[], float] = time.time,
        transport: Transport | None = None,
    ) -> None:
        """``transport`` replaces the one ``settings`` name (tests)."""
        self.settings = settings
        self._clock = clock
        self.identity: HostIdentity = load_identity(settings.data, relay=settings.relay)
        self.transport: Transport = transport or transport_config.open_transport(
            settings.transport, settings.config, data=settings.data, clock=clock, sim=settings.sim
        )
        self.store = Store(connect(settings.data / "textport.db"), clock)
        self.files = AttachmentFiles(settings.data / "attachments")
        self._active = self._active_devices()
        self.relay = RelayLink(
            self.identity,
            devices=self.store.devices,
            find_device=self.store.device_by_key,
            open_session=self._open_session,
            seen=lambda device: self.store.seen(device.id),
        )
        self.outbox = OutboxWorker(self.store, self.transport, self.changed)
        self._tasks: set[asyncio.Task[None]] = set()
        self.control = ControlServer(
            settings.data,
            devices_changed=self._devices_flushed,
            make_link=self.make_link,
            store_changed=self._written_elsewhere,
        )

    async def start(self) -> None:
        recovered = self.store.recover()
        if recovered:
            log.warning(
                "%d text(s) were being sent when the host stopped: now 'unknown'", len(recovered)
            )
        if self.settings.seed and self.store.latest_seq() == 0:
            count = seed_history(self.store, int(self._clock() * 1000))
            log.info("wrote %d texts of demo history", count)
        await self.transport.start(self)
        self._spawn(self.relay.run(), "relay connection")
        self._spawn(self.outbox.run(), "outbox")
        self._spawn(self._unpair_stale(), "device expiry")
        await self.control.start()

    async def stop(self) -> None:
        await self.control.stop()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.transport.stop()
        self.store.db.close()

    def _spawn(self, coro: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)

        def done(finished: asyncio.Task[None]) -> None:
            self._tasks.discard(finished)
            if not finished.cancelled() and finished.exception() is not None:
                log.error("%s stopped: %r", name, finished.exception())

        task.add_done_callback(done)

    # ------------------------------------------------------------ wiring

    def _open_session(self, device: Device, send: Callable[[wire.Message], None]) -> DeviceSession:
        return DeviceSession(
            self.store,
            device,
            host_name=self.identity.name,
            caps=self.transport.capabilities,
            send=send,
            accepted=self._accepted,
            text_ttl=self.settings.text_ttl,
            files=self.files,
            connected=self.relay.connected_ids,
            revoked=self.devices_changed,
        )

    def _accepted(self) -> None:
        self.outbox.wake()
        self.changed()

    def _written_elsewhere(self) -> None:
        """Another process (textport import) wrote to the store."""
        self.store.vocabulary.invalidate()
        self.changed()

    def changed(self) -> None:
        """The store changed: push the new events to every synced device."""
        self.relay.push_all()

    async def _devices_flushed(self) -> bool:
        """Devices were paired or revoked (maybe by another process): tell the relay."""
        self.devices_changed()
        return await self.relay.flush()

    def _active_devices(self) -> dict[bytes, Device]:
        return {d.id: d for d in self.store.devices() if d.status == "active"}

    def devices_changed(self) -> None:
        """Announce pairings and unpairings to the other devices, then let the relay
        in (or end the revoked ones' sessions: bye{revoked})."""
        before, after = self._active, self._active_devices()
        self._active = after
        changes: list[tuple[Literal["paired", "unpaired"], Device]] = [
            *(("paired", after[i]) for i in after.keys() - before.keys()),
            *(("unpaired", before[i]) for i in before.keys() - after.keys()),
        ]
        for change, device in changes:
            log.info("device %s %s", device.id.hex()[:8], change)
            record = device_record(device, connected=False, current=False)
            self.relay.announce(wire.DeviceChanged(change=change, device=record), skip=device.id)
        self.relay.sync_devices()

    async def _unpair_stale(self) -> None:
        """Unpair devices idle for ``device_idle_days`` and session-only ones gone for
        ``session_grace`` seconds; looks a few times per shortest limit, at least a minute."""
        idle_ms = int(self.settings.config.device_idle_days * 86_400_000)
        session_ms = int(self.settings.config.session_grace * 1000)
        every = max(0.5, min(60.0, min(idle_ms, session_ms) / 4000))
        while True:
            await asyncio.sleep(every)
            stale = self.store.unpair_stale(
                idle_ms=idle_ms, session_ms=session_ms, connected=self.relay.connected_ids()
            )
            if stale:
                log.info("unpaired %d device(s) idle or gone for good", len(stale))
                self.devices_changed()

    async def make_link(self, ttl: int = 600) -> str:
        """A single-use pairing link; this host waits in its channel until it is used.

        Opening the link proves intent (it was printed on the host's own terminal), so
        the pairing is confirmed without a further question.
        """
        offer = PairingOffer.create(self.identity.relay, now=self._clock(), ttl=ttl)

        async def confirm(_request: pairing.Request) -> bool:
            return True

        async def register(request: pairing.Request, token_hash: bytes) -> None:
            self.store.add_device(
                derive.device_id(request.device_public),
                request.device_public,
                request.device_name,
                request.agent,
                token_hash,
                session_only=request.session_only,
            )
            await self._devices_flushed()

        async def run() -> None:
            try:
                await pairing.pair(
                    self.identity, confirm=confirm, register=register, offer=offer, made_offer=True
                )
            except TextportError as exc:
                log.info("pairing link not used: %s", exc.code)

        self._spawn(run(), "pairing link")
        uri = offer.to_uri()
        return f"{self.settings.web_url}#{uri}" if self.settings.web_url else uri

    # ------------------------------------------------------------ transport sink

    def incoming(self, sms: Incoming) -> None:
        """Commit ``sms``; the transport deletes it from the device once this returns."""
        msg_id = self.store.add_incoming(
            sms.sender,
            sms.body,
            sms.at_ms,
            sms.source_id,
            sms.name,
            parts=sms.parts,
            missing=sms.missing,
        )
        if msg_id is not None:
            self.changed()

    def report(self, carrier_ref: str, state: ReportState, reason: str | None) -> None:
        msg_id = self.store.by_carrier_ref(carrier_ref)
        if msg_id is None:
            log.warning("a delivery report for a text this host does not know")
            return
        self.store.set_state(msg_id, state, reason)
        self.changed()
