"""The real ModemManager on a private system bus, with virtual modems attached.

:class:`ModemManagerRig` starts, in a folder of its own, and stops by PID:

1. a ``dbus-daemon`` with its own config (one unix socket in the folder, every name and
   message allowed), exported to ModemManager and clients as ``DBUS_SYSTEM_BUS_ADDRESS``;
2. a polkit stand-in (:mod:`tests.peers.polkit`) that grants every authorization;
3. ``ModemManager --test-no-udev --no-auto-scan --test-enable``, logging at debug level
   to ``ModemManager.log`` (shown when something times out).

:meth:`ModemManagerRig.attach` serves a :class:`~tests.transports.virtual_modem.VirtualModem`
on its abstract socket, points ModemManager at it (``Test.SetProfile`` with the
``generic`` plugin), enables it (as NetworkManager would) and waits until it is
registered: about 3-4 s.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Final

from dbus_fast import BusType, Message, MessageType, Variant
from dbus_fast.aio import MessageBus

from tests.transports.virtual_modem import VirtualModem

MM: Final = "org.freedesktop.ModemManager1"
MM_PATH: Final = "/org/freedesktop/ModemManager1"
MODEM: Final = "org.freedesktop.ModemManager1.Modem"
PROPS: Final = "org.freedesktop.DBus.Properties"
OBJECTS: Final = "org.freedesktop.DBus.ObjectManager"
REGISTERED: Final = 8
ROOT: Final = Path(__file__).resolve().parents[2]
TIMEOUT: Final = 30.0 * float(os.environ.get("TEXTPORT_TIMEOUT_FACTOR", "1"))

BUS_CONFIG: Final = """<!DOCTYPE busconfig PUBLIC
 "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*" eavesdrop="true"/>
    <allow receive_sender="*"/>
    <allow send_type="method_call"/>
    <allow send_type="signal"/>
  </policy>
</busconfig>
"""


class ModemManagerRig:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.address = f"unix:path={folder / 'bus'}"
        self.log = folder / "ModemManager.log"
        self._processes: list[subprocess.Popen[bytes]] = []
        self._modemmanager: subprocess.Popen[bytes] | None = None
        self._count = 0

    # ---------------------------------------------------------- lifecycle

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        config = self.folder / "bus.conf"
        config.write_text(BUS_CONFIG.format(socket=self.folder / "bus"))
        try:
            bus = self._spawn(
                ["dbus-daemon", f"--config-file={config}", "--nofork", "--print-address=1"],
                stdout=subprocess.PIPE,
            )
            assert bus.stdout is not None
            _expect(bus.stdout.readline().startswith(b"unix:"), "dbus-daemon did not start")
            polkit = self._spawn(
                [sys.executable, "-m", "tests.peers.polkit", self.address],
                stdout=subprocess.PIPE,
                cwd=ROOT,
            )
            assert polkit.stdout is not None
            _expect(polkit.stdout.readline().strip() == b"ready", "the polkit stand-in failed")
            self.start_modemmanager()
        except BaseException:
            self.stop()
            raise

    def start_modemmanager(self) -> None:
        """Start ModemManager (again); it owns its name when this returns."""
        self._modemmanager = self._spawn(
            [
                "ModemManager",
                "--test-no-udev",
                "--no-auto-scan",
                "--test-enable",
                "--log-level=DEBUG",
                "--log-relative-timestamps",
                f"--log-file={self.log}",
            ],
            env=self.env(),
        )
        asyncio.run(self._until_name_owned())

    def stop_modemmanager(self) -> None:
        """Stop ModemManager (as a restart or a crash would), by its PID."""
        if self._modemmanager is not None:
            self._modemmanager.terminate()
            self._modemmanager.wait(10)
            self._processes.remove(self._modemmanager)
            self._modemmanager = None

    def stop(self) -> None:
        """Stop every process started here, newest first, by PID."""
        for process in reversed(self._processes):
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(10)
            if process.stdout is not None:
                process.stdout.close()
        self._processes.clear()

    def __enter__(self) -> ModemManagerRig:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def env(self) -> dict[str, str]:
        """The environment a ModemManager client of this rig runs with."""
        return {**os.environ, "DBUS_SYSTEM_BUS_ADDRESS": self.address}

    def _spawn(self, argv: list[str], **kwargs: Any) -> subprocess.Popen[bytes]:
        process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, **kwargs)
        self._processes.append(process)
        return process

    def log_tail(self, lines: int = 60) -> str:
        if not self.log.exists():
            return "(no ModemManager log)"
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    # ---------------------------------------------------------- modems

    def attach(self, modem: VirtualModem) -> str:
        """Serve ``modem``, hand it to ModemManager, enable it; its D-Bus object path."""
        modem.start()
        self._count += 1
        try:
            return asyncio.run(self._attach(modem, f"textport-test-{self._count}"))
        except TimeoutError:
            raise AssertionError(
                f"the virtual modem was not registered in time; unknown commands "
                f"{modem.unknown}; ModemManager's log ends:\n{self.log_tail()}"
            ) from None

    async def _bus(self) -> MessageBus:
        return await MessageBus(bus_address=self.address, bus_type=BusType.SYSTEM).connect()

    async def _until_name_owned(self) -> None:
        bus = await self._bus()
        try:
            deadline = time.monotonic() + TIMEOUT
            while True:
                reply = await _call(
                    bus,
                    "org.freedesktop.DBus",
                    "/org/freedesktop/DBus",
                    "org.freedesktop.DBus",
                    "NameHasOwner",
                    "s",
                    [MM],
                )
                if reply[0]:
                    return
                if time.monotonic() > deadline:
                    raise AssertionError(f"ModemManager did not start:\n{self.log_tail()}")
                await asyncio.sleep(0.05)
        finally:
            bus.disconnect()

    async def _attach(self, modem: VirtualModem, profile: str) -> str:
        bus = await self._bus()
        try:
            await _call(
                bus,
                MM,
                MM_PATH,
                f"{MM}.Test",
                "SetProfile",
                "ssas",
                [profile, "generic", [modem.port]],
            )
            async with asyncio.timeout(TIMEOUT):
                path = await self._modem_path(bus, modem.imei)
                while True:
                    try:
                        await _call(bus, MM, path, MODEM, "Enable", "b", [True])
                        break
                    except RuntimeError:
                        await asyncio.sleep(0.2)  # still initialising
                while (await _property(bus, path, MODEM, "State")) < REGISTERED:
                    await asyncio.sleep(0.1)
                return path
        finally:
            bus.disconnect()

    async def _modem_path(self, bus: MessageBus, imei: str) -> str:
        while True:
            (objects,) = await _call(bus, MM, MM_PATH, OBJECTS, "GetManagedObjects", "", [])
            for path, interfaces in objects.items():
                modem = interfaces.get(MODEM, {})
                if "EquipmentIdentifier" in modem and modem["EquipmentIdentifier"].value == imei:
                    return str(path)
            await asyncio.sleep(0.1)


def _expect(ok: bool, what: str) -> None:
    if not ok:
        raise RuntimeError(what)


async def _call(
    bus: MessageBus,
    destination: str,
    path: str,
    interface: str,
    member: str,
    signature: str,
    body: list[Any],
) -> list[Any]:
    reply = await bus.call(
        Message(
            destination=destination,
            path=path,
            interface=interface,
            member=member,
            signature=signature,
            body=body,
        )
    )
    if reply is None or reply.message_type == MessageType.ERROR:
        detail = reply.body[0] if reply is not None and reply.body else ""
        raise RuntimeError(f"{member}: {reply.error_name if reply else 'no reply'} {detail}")
    return list(reply.body)


async def _property(bus: MessageBus, path: str, interface: str, name: str) -> Any:
    (value,) = await _call(bus, MM, path, PROPS, "Get", "ss", [interface, name])
    return value.value if isinstance(value, Variant) else value
