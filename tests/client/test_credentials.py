"""Credentials: checked sizes, and a repr that shows no secret."""

from __future__ import annotations

import pytest

from textport.client import Credentials
from textport.errors import ConfigError
from textport.protocol import derive
from textport.protocol.noise import KeyPair

KEY = KeyPair.generate()
HOST = KeyPair.generate().public
GOOD = {
    "relay": "wss://relay.example/v1",
    "room": bytes(16),
    "token": bytes(range(32)),
    "host_public": HOST,
    "device_key": KEY,
}


def test_ids_and_a_repr_without_secrets() -> None:
    creds = Credentials(**GOOD)  # type: ignore[arg-type]
    assert creds.device_id == derive.device_id(KEY.public)
    assert creds.host_id == derive.host_id(HOST)
    text = repr(creds)
    assert "wss://relay.example/v1" in text
    for secret in (KEY.private_bytes(), KEY.public, bytes(range(32)), HOST):
        assert secret.hex() not in text
        assert derive.b64url(secret) not in text


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("relay", "https://relay.example/v1"),
        ("relay", "wss://relay.example/v1?token=x"),
        ("room", bytes(15)),
        ("token", bytes(31)),
        ("host_public", bytes(33)),
    ],
)
def test_a_wrong_value_is_a_config_error(field: str, value: object) -> None:
    with pytest.raises(ConfigError):
        Credentials(**{**GOOD, field: value})  # type: ignore[arg-type]
