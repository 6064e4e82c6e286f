"""Connection: the relay's refusals become errors with the most useful code."""

from __future__ import annotations

import asyncio
import socket

import aiohttp
import pytest

from textport.client.connection import Connection, SessionClosedError, refusal
from textport.client.credentials import Credentials
from textport.errors import ErrorCode
from textport.protocol import frames
from textport.protocol.noise import KeyPair


@pytest.mark.parametrize(
    ("code", "message", "expected"),
    [
        ("unauthorized", "unknown token", ErrorCode.UNAUTHORIZED),
        ("room_unknown", "no host has claimed this room", ErrorCode.ROOM_UNKNOWN),
        ("revoked", "the device was unpaired", ErrorCode.REVOKED),
        ("session_closed", "not_paired", ErrorCode.NOT_PAIRED),
        ("session_closed", "closed by the host", ErrorCode.SESSION_CLOSED),
        ("no_such_code", "from a newer relay", ErrorCode.INTERNAL),
    ],
)
def test_a_refusal_keeps_the_relays_or_the_hosts_code(
    code: str, message: str, expected: ErrorCode
) -> None:
    error = refusal(frames.ErrorOp(code=code, message=message))
    assert isinstance(error, SessionClosedError)
    assert error.code == expected


def test_an_unreachable_relay_is_a_session_closed_error() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    creds = Credentials(
        relay=f"ws://127.0.0.1:{port}/v1",
        room=bytes(16),
        token=bytes(32),
        host_public=KeyPair.generate().public,
        device_key=KeyPair.generate(),
    )

    async def scenario() -> None:
        async with aiohttp.ClientSession() as http:
            with pytest.raises(SessionClosedError, match="cannot reach the relay"):
                await Connection.open(http, creds, timeout=5)

    asyncio.run(scenario())
