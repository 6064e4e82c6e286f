"""The host's identity and relay settings, kept in the data folder (files mode 0600).

``host.key`` holds the raw X25519 private key; ``host.json`` the room, the relay
credential, the relay URL and the name shown to devices.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
from dataclasses import dataclass, field
from pathlib import Path

from textport.errors import ConfigError
from textport.protocol import derive
from textport.protocol.noise import KeyPair


@dataclass
class HostIdentity:
    key: KeyPair = field(repr=False)
    room: bytes = field(repr=False)
    credential: bytes = field(repr=False)
    relay: str
    name: str

    @property
    def host_id(self) -> bytes:
        return derive.host_id(self.key.public)


def _write_private(path: Path, data: bytes) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)


def load_identity(folder: Path, *, relay: str | None = None) -> HostIdentity:
    """Load the host identity from ``folder``, creating it on first use.

    ``relay`` (when given) replaces the stored relay URL.
    """
    folder.mkdir(parents=True, exist_ok=True)
    key_file, settings_file = folder / "host.key", folder / "host.json"
    if not key_file.exists():
        _write_private(key_file, secrets.token_bytes(32))
    raw = key_file.read_bytes()
    if len(raw) != 32:
        raise ConfigError(f"{key_file} is damaged (not 32 bytes); restore it from a backup")
    if key_file.stat().st_mode & 0o077:
        os.chmod(key_file, 0o600)
    settings: dict[str, str] = {}
    if settings_file.exists():
        try:
            settings = json.loads(settings_file.read_text())
        except ValueError as exc:
            raise ConfigError(f"{settings_file} is not valid JSON: {exc}") from exc
    changed = not settings
    settings.setdefault("room", derive.b64url(secrets.token_bytes(derive.ROOM_LEN)))
    settings.setdefault("credential", derive.b64url(secrets.token_bytes(32)))
    settings.setdefault("name", f"textport on {socket.gethostname()}"[:64])
    if relay is not None and settings.get("relay") != relay:
        settings["relay"], changed = relay, True
    if "relay" not in settings:
        raise ConfigError("no relay configured: pass --relay ws://HOST:PORT/v1")
    identity = HostIdentity(
        key=KeyPair.from_private_bytes(raw),
        room=derive.unb64url(settings["room"], derive.ROOM_LEN),
        credential=derive.unb64url(settings["credential"], 32),
        relay=settings["relay"],
        name=settings["name"],
    )
    if changed:
        _write_private(settings_file, json.dumps(settings, indent=1).encode())
    return identity


def describe(identity: HostIdentity) -> dict[str, str]:
    """What may be shown to a person: no keys, no credential."""
    return {"name": identity.name, "relay": identity.relay, "host_id": identity.host_id.hex()}
