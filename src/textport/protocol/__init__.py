"""textport's wire protocol, without I/O: Noise, pairing, sessions, frames and messages.

Everything here takes bytes and returns values (or raises a documented
:class:`textport.errors.TextportError`); sockets live in ``relay`` and ``host``.
The specification is docs/protocol.md.
"""
