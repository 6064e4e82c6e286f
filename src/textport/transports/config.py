"""Choosing and configuring a transport: ``textport host --transport NAME --config FILE``.

The config file is TOML. ``[host]`` holds what every transport shares; each transport
reads its own table (``[gammu]``). docs/transports.md documents every key, and a test
fails when one is not.

```toml
[host]
region = "GB"          # how national numbers (07700 900123) are read
text_ttl = 86400       # seconds after Send a text may wait to go out before it fails

[gammu]
device = "/dev/ttyUSB0"
connection = "at"
```
"""

from __future__ import annotations

import importlib
import time
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from textport import numbers
from textport.errors import ConfigError
from textport.transports.base import Transport
from textport.transports.sim import SimCarrier, SimSettings

TRANSPORTS: Final = ("sim", "gammu", "smpp", "modemmanager", "termux")
NEEDS_TABLE: Final = frozenset({"gammu", "smpp", "modemmanager"})
"""Transports that cannot start without their own table in the config file."""
MAX_CONFIG_BYTES: Final = 1 << 20
HOST_KEYS: Final[dict[str, type | tuple[type, ...]]] = {
    "region": str,
    "text_ttl": (int, float),
    "device_idle_days": (int, float),
    "session_grace": (int, float),
}
DEFAULT_TEXT_TTL: Final = 24 * 3600.0
"""A text not handed to the network within a day of its Send fails as expired (a browser
that holds it while the phone is away fails it too, and never sends it)."""
DEFAULT_DEVICE_IDLE_DAYS: Final = 90.0
"""A device that has not connected for this many days is unpaired."""
DEFAULT_SESSION_GRACE: Final = 600.0
"""Seconds a session-only browser may stay disconnected (a reload, a network change)
before the host unpairs it."""


@dataclass(frozen=True)
class Config:
    region: str = "US"
    text_ttl: float = DEFAULT_TEXT_TTL
    device_idle_days: float = DEFAULT_DEVICE_IDLE_DAYS
    session_grace: float = DEFAULT_SESSION_GRACE
    tables: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """Each transport's own table, by name."""


def load(path: Path | None) -> Config:
    """Read and check a config file; no file is the defaults."""
    if path is None:
        return Config()
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read the config file {path}: {exc.strerror}") from None
    if len(raw) > MAX_CONFIG_BYTES:
        raise ConfigError(f"the config file {path} is over 1 MiB: is it the right file?")
    try:
        doc = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"the config file {path} is not valid TOML: {exc}") from None
    return parse(doc)


def parse(doc: Mapping[str, Any]) -> Config:
    for name, table in doc.items():
        if name != "host" and name not in TRANSPORTS:
            raise ConfigError(f"the config has a table [{name}] textport does not know")
        if not isinstance(table, Mapping):
            raise ConfigError(f"[{name}] in the config must be a table")
    host = doc.get("host", {})
    for key, value in host.items():
        kind = HOST_KEYS.get(key)
        if kind is None:
            raise ConfigError(f"[host] has no setting {key!r}: see docs/transports.md")
        if not isinstance(value, kind) or isinstance(value, bool):
            raise ConfigError(f"[host] {key} has the wrong type: see docs/transports.md")
    region = numbers.check_region(host.get("region", "US"))
    text_ttl = float(host.get("text_ttl", DEFAULT_TEXT_TTL))
    # Down to a second, so a demo (or a test) can show a text expiring while the phone is away.
    if not 1 <= text_ttl <= 30 * 86400:
        raise ConfigError("[host] text_ttl is 1 second to 30 days")
    idle_days = float(host.get("device_idle_days", DEFAULT_DEVICE_IDLE_DAYS))
    if not 0 < idle_days <= 3650:
        raise ConfigError("[host] device_idle_days is more than 0 and at most 3650")
    grace = float(host.get("session_grace", DEFAULT_SESSION_GRACE))
    if not 1 <= grace <= 7 * 86400:
        raise ConfigError("[host] session_grace is 1 second to 7 days")
    tables = {name: table for name, table in doc.items() if name != "host"}
    return Config(
        region=region,
        text_ttl=text_ttl,
        device_idle_days=idle_days,
        session_grace=grace,
        tables=tables,
    )


def open_transport(
    name: str,
    config: Config,
    *,
    data: Path,
    clock: Callable[[], float] = time.time,
    sim: SimSettings | None = None,
) -> Transport:
    """The transport called ``name``, configured from ``config`` (not started yet)."""
    if name == "sim":
        return SimCarrier(data / "sim", sim, clock)
    if name not in TRANSPORTS:
        raise ConfigError(f"no transport {name!r}: choose one of {', '.join(TRANSPORTS)}")
    table = config.tables.get(name)
    if table is None and name in NEEDS_TABLE:
        raise ConfigError(
            f"--transport {name} needs a config file with a [{name}] table "
            "(--config FILE; docs/transports.md shows one)"
        )
    # Imported by name: each source's library (python-gammu, dbus-fast) is an optional
    # extra, and every source module has the same ``from_config``. One that keeps state
    # of its own beside the store (termux: what it handed over) says so with USES_DATA.
    module = importlib.import_module(f"textport.transports.{name}")
    extra = {"data": data} if getattr(module, "USES_DATA", False) else {}
    opened: Transport = module.from_config(table or {}, config.region, clock, **extra)
    return opened
