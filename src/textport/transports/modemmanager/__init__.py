"""``modemmanager``: a modem ModemManager drives, over D-Bus: the transport
(:mod:`.transport`) and what ModemManager's errors mean (:mod:`.errors`, no I/O)."""

from textport.transports.modemmanager.transport import (
    MMSettings,
    ModemManagerTransport,
    from_config,
)

__all__ = ["MMSettings", "ModemManagerTransport", "from_config"]
