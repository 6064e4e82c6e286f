"""Real peers the tests start and stop themselves (see ../shared/PEERS.md)."""
