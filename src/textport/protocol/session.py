"""Handshakes and the encrypted transport session (docs/protocol.md sections 7 and 8).

:class:`Handshake` drives one Noise handshake with textport's rules (empty payloads, one
failure ends it); :class:`Session` is what it yields: padded, counter-nonce AES-GCM in
each direction, closed for good by the first failure. No I/O; the clock is passed in.
"""

from __future__ import annotations

import os
from bisect import bisect_left
from typing import Final

from textport.errors import CryptoError, ErrorCode, ProtocolError, TextportError
from textport.protocol import derive, messages
from textport.protocol.noise import TAGLEN, HandshakeResult, HandshakeState, KeyPair, Random

BUCKETS: Final = (128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768, 65519)
"""Padded plaintext sizes; 65519 = 65535 - 16 (the largest Noise plaintext)."""
_BUCKET_SET: Final = frozenset(BUCKETS)
MAX_BODY: Final = BUCKETS[-1] - 2
MAX_SESSION_MESSAGES: Final = 2**20
"""Messages per direction before a session must be replaced by a new handshake."""
MAX_SESSION_SECONDS: Final = 24 * 3600


def pad(body: bytes) -> bytearray:
    """``u16be(len) ‖ body ‖ zeros`` up to the smallest bucket that fits."""
    if len(body) > MAX_BODY:
        raise ProtocolError(
            f"a message body is at most {MAX_BODY} bytes, this one is {len(body)}",
            ErrorCode.TOO_LARGE,
        )
    out = bytearray(BUCKETS[bisect_left(BUCKETS, len(body) + 2)])
    out[0:2] = len(body).to_bytes(2, "big")
    out[2 : 2 + len(body)] = body
    return out


def unpad(plaintext: bytes) -> bytes:
    if len(plaintext) not in _BUCKET_SET:
        raise ProtocolError("padded plaintext is not a bucket size", ErrorCode.BAD_MESSAGE)
    length = int.from_bytes(plaintext[:2], "big")
    if 2 + length > len(plaintext):
        raise ProtocolError("padded length runs past the end", ErrorCode.BAD_MESSAGE)
    if plaintext.count(0, 2 + length) != len(plaintext) - 2 - length:
        raise ProtocolError("padding is not zero", ErrorCode.BAD_MESSAGE)
    return plaintext[2 : 2 + length]


class Session:
    """An established transport: seal and open application messages, in order, once."""

    def __init__(self, result: HandshakeResult, *, started_at: float) -> None:
        self._send = result.send
        self._receive = result.receive
        self.handshake_hash = result.handshake_hash
        self.remote_static = result.remote_static
        self.started_at = started_at
        self.closed = False

    def close(self) -> None:
        self.closed = True

    def rekey_due(self, now: float) -> bool:
        """True when the session is a day old; the device should reconnect."""
        return now - self.started_at >= MAX_SESSION_SECONDS

    def _check_open(self) -> None:
        if self.closed:
            raise ProtocolError("the session is closed; reconnect", ErrorCode.SESSION_CLOSED)

    def seal_body(self, body: bytes) -> bytes:
        self._check_open()
        if self._send.n >= MAX_SESSION_MESSAGES:
            self.closed = True
            raise ProtocolError("session message limit reached", ErrorCode.REKEY_REQUIRED)
        return self._send.encrypt_with_ad(b"", pad(body))

    def open_body(self, data: bytes) -> bytes:
        self._check_open()
        try:
            if self._receive.n >= MAX_SESSION_MESSAGES:
                raise ProtocolError("session message limit reached", ErrorCode.REKEY_REQUIRED)
            if len(data) < BUCKETS[0] + TAGLEN:
                raise ProtocolError("transport message too short", ErrorCode.BAD_FRAME)
            return unpad(self._receive.decrypt_with_ad(b"", data))
        except TextportError:
            self.closed = True
            raise

    def seal(self, message: messages.Message) -> bytes:
        return self.seal_body(messages.encode(message))

    def open(self, data: bytes) -> messages.Message:
        body = self.open_body(data)
        try:
            return messages.decode(body)
        except TextportError:
            self.closed = True
            raise


class Handshake:
    """One handshake under textport's rules: every payload empty, the first failure fatal."""

    def __init__(self, state: HandshakeState) -> None:
        self._state = state
        self.failed = False

    @property
    def done(self) -> bool:
        return self._state.complete

    @property
    def remote_static(self) -> bytes | None:
        return self._state.rs

    @property
    def local_ephemeral(self) -> bytes | None:
        return self._state.e.public if self._state.e is not None else None

    @property
    def remote_ephemeral(self) -> bytes | None:
        return self._state.re

    def write(self) -> bytes:
        self._check_alive()
        try:
            return self._state.write_message(b"")
        except TextportError:
            self.failed = True
            raise

    def read(self, message: bytes) -> None:
        self._check_alive()
        try:
            payload = self._state.read_message(message)
            if payload:
                raise ProtocolError(
                    "handshake payloads are empty in protocol v1", ErrorCode.BAD_MESSAGE
                )
        except TextportError:
            self.failed = True
            raise

    def session(self, now: float) -> Session:
        if not self.done:
            raise ProtocolError("the handshake is not finished", ErrorCode.HANDSHAKE_STATE)
        return Session(self._state.result, started_at=now)

    def _check_alive(self) -> None:
        if self.failed:
            raise ProtocolError("the handshake already failed", ErrorCode.HANDSHAKE_STATE)


def device_handshake(
    device_key: KeyPair, host_public: bytes, room: bytes, rng: Random = os.urandom
) -> Handshake:
    """The device's side of a session handshake (Noise IK initiator)."""
    if len(host_public) != 32 or len(room) != derive.ROOM_LEN:
        raise CryptoError("host key or room has the wrong size", ErrorCode.BAD_KEY)
    return Handshake(
        HandshakeState(
            derive.SESSION_PROTOCOL,
            initiator=True,
            prologue=derive.session_prologue(room, derive.host_id(host_public)),
            s=device_key,
            rs=host_public,
            rng=rng,
        )
    )


def host_handshake(host_key: KeyPair, room: bytes, rng: Random = os.urandom) -> Handshake:
    """The host's side of a session handshake (Noise IK responder).

    After ``read(message1)``, check ``remote_static`` against the device allow-list
    before ``write()``-ing message 2.
    """
    return Handshake(
        HandshakeState(
            derive.SESSION_PROTOCOL,
            initiator=False,
            prologue=derive.session_prologue(room, derive.host_id(host_key.public)),
            s=host_key,
            rng=rng,
        )
    )
