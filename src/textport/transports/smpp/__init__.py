"""``smpp``: an SMSC account or an SMPP gateway (Jasmin, Kannel, a carrier's SMSC).

The codec (:mod:`.pdu`, no I/O), the meaning of each ``command_status``
(:mod:`.status`), delivery receipts (:mod:`.receipt`), one bound connection
(:mod:`.session`) and the transport on top (:mod:`.transport`) are modules of their own.
No third-party SMPP library is needed: the protocol is small, and owning it keeps the
"answer only after the store committed" order in our hands.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from textport.transports.smpp.settings import SmppSettings
from textport.transports.smpp.transport import SmppTransport

__all__ = ["SmppSettings", "SmppTransport", "from_config"]


def from_config(
    table: Mapping[str, Any], region: str, clock: Callable[[], float] = time.time
) -> SmppTransport:
    """The transport for ``--transport smpp``: its ``[smpp]`` table read in ``region``."""
    return SmppTransport(SmppSettings.from_table(table, region), clock)
