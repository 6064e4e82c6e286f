"""The Python API: a paired device for scripts (send, list, search, subscribe).

    async with Device(credentials) as device:
        result = await device.sync(0)
        page = await device.conversations(limit=50)
        ack = await device.send("+15550100123", "on my way")
        with device.events() as events:
            async for event in events:
                ...

It speaks docs/protocol.md through the relay exactly as the browser does.
"""

from textport.client.connection import SessionClosedError
from textport.client.credentials import Credentials
from textport.client.cursor import LiveItem, SyncResult
from textport.client.device import Device, RefusedError
from textport.client.events import Subscription

__all__ = [
    "Credentials",
    "Device",
    "LiveItem",
    "RefusedError",
    "SessionClosedError",
    "Subscription",
    "SyncResult",
]
