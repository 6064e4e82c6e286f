"""``termux``: the Android phone itself, through Termux:API: the transport
(:mod:`.transport`) and the reading of ``termux-sms-list`` output (:mod:`.listing`, no I/O)."""

from textport.transports.termux.transport import (
    USES_DATA,
    TermuxSettings,
    TermuxTransport,
    from_config,
)

__all__ = ["USES_DATA", "TermuxSettings", "TermuxTransport", "from_config"]
