"""A stand-in for polkit on a private D-Bus: every authorization is granted.

Debian's ModemManager asks ``org.freedesktop.PolicyKit1`` before it lets a client create
or send SMS; the private bus the tests run it on has no polkitd, so this answers
``CheckAuthorization`` with (authorized, not challenged, no details). It runs as its own
process: ``python -m tests.peers.polkit ADDRESS`` prints ``ready`` once it owns the name.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Annotated, Any

from dbus_fast import BusType
from dbus_fast.aio import MessageBus
from dbus_fast.annotations import DBusSignature, DBusStr, DBusUInt32
from dbus_fast.service import ServiceInterface, dbus_method

NAME = "org.freedesktop.PolicyKit1"
PATH = "/org/freedesktop/PolicyKit1/Authority"

Subject = Annotated[tuple[str, dict[str, Any]], DBusSignature("(sa{sv})")]
Details = Annotated[dict[str, str], DBusSignature("a{ss}")]
Result = Annotated[tuple[bool, bool, dict[str, str]], DBusSignature("(bba{ss})")]


class Authority(ServiceInterface):
    def __init__(self) -> None:
        super().__init__("org.freedesktop.PolicyKit1.Authority")
        self.asked: list[str] = []

    @dbus_method()
    def CheckAuthorization(
        self,
        subject: Subject,
        action_id: DBusStr,
        details: Details,
        flags: DBusUInt32,
        cancellation_id: DBusStr,
    ) -> Result:
        self.asked.append(action_id)
        return (True, False, {})


async def main(address: str) -> None:
    bus = await MessageBus(bus_address=address, bus_type=BusType.SYSTEM).connect()
    bus.export(PATH, Authority())
    await bus.request_name(NAME)
    print("ready", flush=True)
    await bus.wait_for_disconnect()  # type: ignore[no-untyped-call]


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
