"""The relay: routes opaque frames between a host and its devices, runs pairing channels.

docs/relay.md is the operator's guide; :mod:`textport.relay.server` opens with the
protocol summary.
"""

from textport.relay.config import RelayConfig
from textport.relay.server import Relay, create_app, run_relay, serve

__all__ = ["Relay", "RelayConfig", "create_app", "run_relay", "serve"]
