"""The ``[smpp]`` table of the config file (docs/transports.md documents every key)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any, Final, Literal

from textport import numbers
from textport.errors import ConfigError
from textport.transports.smpp import pdu

Concatenation = Literal["udh", "sar"]

_RANGES: Final[dict[str, tuple[float, float]]] = {
    "port": (1, 65535),
    "max_parts": (1, 255),
    "enquire_link_interval": (1, 3600),
    "response_timeout": (0.1, 600),
    "connect_timeout": (0.1, 600),
    "reconnect_min": (0.01, 3600),
    "reconnect_max": (0.01, 86400),
    "reassembly_timeout": (0, 7 * 86400),
    "part_ack_wait": (0, 3600),
    "throttle_wait": (0, 3600),
}


@dataclass(frozen=True)
class SmppSettings:
    host: str
    system_id: str
    source_addr: str
    """The number (or sender name) texts are sent from: the user's own."""
    port: int = 2775
    password: str = ""
    system_type: str = ""
    delivery_reports: bool = True
    max_parts: int = 10
    concatenation: Concatenation = "udh"
    enquire_link_interval: float = 30.0
    response_timeout: float = 10.0
    connect_timeout: float = 10.0
    reconnect_min: float = 1.0
    reconnect_max: float = 60.0
    reassembly_timeout: float = 3600.0
    part_ack_wait: float = 30.0
    """Seconds a part of a long incoming text waits for the rest before the SMSC is told
    it arrived (the SMSC would otherwise time out and send it again)."""
    throttle_wait: float = 30.0
    """Seconds a later part of a long text is retried while the SMSC throttles."""
    region: str = "US"
    """How national numbers from the SMSC are read (``[host] region``)."""

    def __repr__(self) -> str:  # never show the password or the number
        return f"SmppSettings(host={self.host!r}, port={self.port}, system_id={self.system_id!r})"

    @classmethod
    def from_table(cls, table: Mapping[str, Any], region: str = "US") -> SmppSettings:
        kinds: dict[str, type | tuple[type, ...]] = {
            f.name: _kind(f.type) for f in fields(cls) if f.name != "region"
        }
        for key, value in table.items():
            kind = kinds.get(key)
            if kind is None:
                raise ConfigError(f"[smpp] has no setting {key!r}: see docs/transports.md")
            if not isinstance(value, kind) or (bool not in _tuple(kind) and _is_bool(value)):
                raise ConfigError(f"[smpp] {key} has the wrong type: see docs/transports.md")
        for key, example in (
            ("host", '"smpp.example.net"'),
            ("system_id", '"textport"'),
            ("source_addr", '"+447700900123"'),
        ):
            if not str(table.get(key, "")).strip():
                raise ConfigError(
                    f"[smpp] needs {key}, e.g. {key} = {example} (docs/transports.md)"
                )
        settings = cls(**dict(table), region=numbers.check_region(region))
        for key, (low, high) in _RANGES.items():
            if not low <= getattr(settings, key) <= high:
                raise ConfigError(f"[smpp] {key} is {low:g} to {high:g}")
        if settings.reconnect_max < settings.reconnect_min:
            raise ConfigError("[smpp] reconnect_max is at least reconnect_min")
        if settings.concatenation not in ("udh", "sar"):
            raise ConfigError('[smpp] concatenation is "udh" or "sar"')
        for key, limit in (
            ("system_id", pdu.MAX_SYSTEM_ID),
            ("password", pdu.MAX_PASSWORD),
            ("system_type", pdu.MAX_SYSTEM_TYPE),
            ("source_addr", pdu.MAX_ADDR),
        ):
            value = getattr(settings, key)
            if not value.isascii() or "\x00" in value or len(value) >= limit:
                raise ConfigError(
                    f"[smpp] {key} is at most {limit - 1} ASCII characters (an SMPP limit)"
                )
        return settings


def _kind(annotation: object) -> type | tuple[type, ...]:
    text = str(annotation)
    if text == "float":
        return (int, float)
    if text == "int":
        return int
    if text == "bool":
        return bool
    return str


def _tuple(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


def _is_bool(value: object) -> bool:
    return isinstance(value, bool)
