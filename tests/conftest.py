"""Fixtures shared across test folders: the real SMPP peers (tests/peers/fixtures.py)."""

pytest_plugins = ["tests.peers.fixtures"]
