"""A generic, pattern-driven Noise Protocol Framework (revision 34) implementation.

Only the suite textport uses is supported: ``25519_AESGCM_SHA256`` (X25519, AES-256-GCM,
SHA-256), but every handshake pattern of the specification is (fundamental, one-way and
deferred), with any combination of ``pskN`` modifiers. It is checked against the published
test vectors in ``tests/vectors/noise/`` and, in the TypeScript client, against the same
vectors and against this module.

No I/O: randomness is injected (``rng``), and messages are bytes in, bytes out.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from textport.errors import CryptoError, ErrorCode, ProtocolError

Random = Callable[[int], bytes]
"""A source of randomness: ``rng(n)`` returns ``n`` random bytes (``os.urandom`` in use)."""

DHLEN = 32
HASHLEN = 32
KEYLEN = 32
TAGLEN = 16
MAX_MESSAGE = 65535
"""Noise's limit on any handshake or transport message, in bytes."""
MAX_NONCE = 2**64 - 1
SUITE = "25519_AESGCM_SHA256"

# Handshake patterns (Noise spec sections 7.2-7.5 and 18): name -> (initiator pre-message,
# responder pre-message, message patterns). Messages alternate initiator/responder.
_PATTERNS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    # one-way
    "N": ("", "s", ("e, es",)),
    "K": ("s", "s", ("e, es, ss",)),
    "X": ("", "s", ("e, es, s, ss",)),
    # fundamental interactive
    "NN": ("", "", ("e", "e, ee")),
    "NK": ("", "s", ("e, es", "e, ee")),
    "NX": ("", "", ("e", "e, ee, s, es")),
    "KN": ("s", "", ("e", "e, ee, se")),
    "KK": ("s", "s", ("e, es, ss", "e, ee, se")),
    "KX": ("s", "", ("e", "e, ee, se, s, es")),
    "XN": ("", "", ("e", "e, ee", "s, se")),
    "XK": ("", "s", ("e, es", "e, ee", "s, se")),
    "XX": ("", "", ("e", "e, ee, s, es", "s, se")),
    "IN": ("", "", ("e, s", "e, ee, se")),
    "IK": ("", "s", ("e, es, s, ss", "e, ee, se")),
    "IX": ("", "", ("e, s", "e, ee, se, s, es")),
    # deferred
    "NK1": ("", "s", ("e", "e, ee, es")),
    "NX1": ("", "", ("e", "e, ee, s", "es")),
    "X1N": ("", "", ("e", "e, ee", "s", "se")),
    "X1K": ("", "s", ("e, es", "e, ee", "s", "se")),
    "XK1": ("", "s", ("e", "e, ee, es", "s, se")),
    "X1K1": ("", "s", ("e", "e, ee, es", "s", "se")),
    "X1X": ("", "", ("e", "e, ee, s, es", "s", "se")),
    "XX1": ("", "", ("e", "e, ee, s", "es, s, se")),
    "X1X1": ("", "", ("e", "e, ee, s", "es, s", "se")),
    "K1N": ("s", "", ("e", "e, ee", "se")),
    "K1K": ("s", "s", ("e, es", "e, ee", "se")),
    "KK1": ("s", "s", ("e", "e, ee, se, es")),
    "K1K1": ("s", "s", ("e", "e, ee, es", "se")),
    "K1X": ("s", "", ("e", "e, ee, s, es", "se")),
    "KX1": ("s", "", ("e", "e, ee, se, s", "es")),
    "K1X1": ("s", "", ("e", "e, ee, s", "se, es")),
    "I1N": ("", "", ("e, s", "e, ee", "se")),
    "I1K": ("", "s", ("e, es, s", "e, ee", "se")),
    "IK1": ("", "s", ("e, s", "e, ee, se, es")),
    "I1K1": ("", "s", ("e, s", "e, ee, es", "se")),
    "I1X": ("", "", ("e, s", "e, ee, s, es", "se")),
    "IX1": ("", "", ("e, s", "e, ee, se, s", "es")),
    "I1X1": ("", "", ("e, s", "e, ee, s", "se, es")),
}
_ONE_WAY = frozenset({"N", "K", "X"})
_NAME = re.compile(r"^Noise_([A-Z1]+)((?:psk\d)(?:\+psk\d)*)?_(.+)$")


@dataclass(frozen=True)
class HandshakePattern:
    """A parsed protocol name: its message tokens with the psk modifiers applied."""

    name: str
    base: str
    initiator_pre: tuple[str, ...]
    responder_pre: tuple[str, ...]
    messages: tuple[tuple[str, ...], ...]
    psk_count: int

    @property
    def one_way(self) -> bool:
        return self.base in _ONE_WAY


def parse_protocol_name(name: str) -> HandshakePattern:
    """Parse ``Noise_<pattern><modifiers>_25519_AESGCM_SHA256`` into its tokens."""
    match = _NAME.match(name)
    if match is None or match.group(3) != SUITE or match.group(1) not in _PATTERNS:
        raise ProtocolError(
            f"unsupported Noise protocol name {name!r}: textport speaks only "
            f"Noise_<pattern>[pskN]_{SUITE}",
            ErrorCode.VERSION_MISMATCH,
        )
    base = match.group(1)
    init_pre, resp_pre, raw_messages = _PATTERNS[base]
    messages = [[tok.strip() for tok in m.split(",")] for m in raw_messages]
    psks = [int(p[3:]) for p in match.group(2).split("+")] if match.group(2) else []
    for psk in psks:
        if psk > len(messages):
            raise ProtocolError(f"{name}: psk{psk} names a message the pattern lacks")
        if psk == 0:
            messages[0].insert(0, "psk")
        else:
            messages[psk - 1].append("psk")
    return HandshakePattern(
        name=name,
        base=base,
        initiator_pre=tuple(t.strip() for t in init_pre.split(",") if t.strip()),
        responder_pre=tuple(t.strip() for t in resp_pre.split(",") if t.strip()),
        messages=tuple(tuple(m) for m in messages),
        psk_count=len(psks),
    )


class KeyPair:
    """An X25519 key pair; ``repr`` never shows the private half."""

    __slots__ = ("_private", "public")

    def __init__(self, private: X25519PrivateKey) -> None:
        self._private = private
        self.public: bytes = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)

    @classmethod
    def generate(cls, rng: Random = os.urandom) -> KeyPair:
        return cls.from_private_bytes(rng(DHLEN))

    @classmethod
    def from_private_bytes(cls, raw: bytes) -> KeyPair:
        if len(raw) != DHLEN:
            raise CryptoError("an X25519 private key is 32 bytes", ErrorCode.BAD_KEY)
        return cls(X25519PrivateKey.from_private_bytes(raw))

    def private_bytes(self) -> bytes:
        """The raw private key, for writing to a 0600 key file. Never log it."""
        return self._private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())

    def dh(self, public: bytes) -> bytes:
        try:
            peer = X25519PublicKey.from_public_bytes(public)
            return self._private.exchange(peer)
        except ValueError as exc:  # wrong length or a small-order point (all-zero result)
            raise CryptoError("the peer's public key is invalid", ErrorCode.BAD_KEY) from exc

    def __repr__(self) -> str:
        return f"KeyPair(public={self.public.hex()[:16]}…)"


def hkdf(chaining_key: bytes, ikm: bytes, outputs: int) -> list[bytes]:
    """Noise's HKDF (section 4.3): HMAC-SHA256 based, two or three 32-byte outputs."""
    temp = hmac.digest(chaining_key, ikm, "sha256")
    out1 = hmac.digest(temp, b"\x01", "sha256")
    out2 = hmac.digest(temp, out1 + b"\x02", "sha256")
    if outputs == 2:
        return [out1, out2]
    return [out1, out2, hmac.digest(temp, out2 + b"\x03", "sha256")]


class CipherState:
    """A key and a 64-bit counter nonce (Noise section 5.1)."""

    __slots__ = ("_aead", "n")

    def __init__(self, key: bytes | None = None) -> None:
        self._aead: AESGCM | None = AESGCM(key) if key is not None else None
        self.n = 0

    def initialize_key(self, key: bytes | None) -> None:
        self._aead = AESGCM(key) if key is not None else None
        self.n = 0

    @property
    def has_key(self) -> bool:
        return self._aead is not None

    def _nonce(self) -> bytes:
        if self.n >= MAX_NONCE:
            raise CryptoError("nonce space exhausted; reconnect", ErrorCode.REKEY_REQUIRED)
        return self.n.to_bytes(12, "big")  # 32 zero bits, then the 64-bit counter

    def encrypt_with_ad(self, ad: bytes, plaintext: bytes | bytearray) -> bytes:
        if self._aead is None:
            return bytes(plaintext)
        out = self._aead.encrypt(self._nonce(), plaintext, ad)
        self.n += 1
        return out

    def decrypt_with_ad(self, ad: bytes, ciphertext: bytes) -> bytes:
        if self._aead is None:
            return ciphertext
        try:
            out = self._aead.decrypt(self._nonce(), ciphertext, ad)
        except InvalidTag as exc:
            raise CryptoError(
                "a message failed authentication (tampered, replayed, reordered, "
                "or encrypted with another key)"
            ) from exc
        self.n += 1
        return out


class SymmetricState:
    """Chaining key, handshake hash and the current handshake cipher (section 5.2)."""

    __slots__ = ("cipher", "ck", "h")

    def __init__(self, protocol_name: bytes) -> None:
        if len(protocol_name) <= HASHLEN:
            self.h = protocol_name.ljust(HASHLEN, b"\x00")
        else:
            self.h = hashlib.sha256(protocol_name).digest()
        self.ck = self.h
        self.cipher = CipherState()

    def mix_key(self, ikm: bytes) -> None:
        self.ck, temp_k = hkdf(self.ck, ikm, 2)
        self.cipher.initialize_key(temp_k)

    def mix_hash(self, data: bytes) -> None:
        self.h = hashlib.sha256(self.h + data).digest()

    def mix_key_and_hash(self, ikm: bytes) -> None:
        self.ck, temp_h, temp_k = hkdf(self.ck, ikm, 3)
        self.mix_hash(temp_h)
        self.cipher.initialize_key(temp_k)

    def encrypt_and_hash(self, plaintext: bytes) -> bytes:
        ciphertext = self.cipher.encrypt_with_ad(self.h, plaintext)
        self.mix_hash(ciphertext)
        return ciphertext

    def decrypt_and_hash(self, ciphertext: bytes) -> bytes:
        plaintext = self.cipher.decrypt_with_ad(self.h, ciphertext)
        self.mix_hash(ciphertext)
        return plaintext

    def split(self) -> tuple[CipherState, CipherState]:
        k1, k2 = hkdf(self.ck, b"", 2)
        return CipherState(k1), CipherState(k2)


@dataclass
class HandshakeResult:
    """What a finished handshake hands over: the two transport ciphers and the hash."""

    send: CipherState
    receive: CipherState
    handshake_hash: bytes
    remote_static: bytes | None
    remote_ephemeral: bytes | None


class HandshakeState:
    """Runs one handshake (section 5.3), one ``write_message``/``read_message`` per turn."""

    def __init__(
        self,
        protocol_name: str,
        *,
        initiator: bool,
        prologue: bytes = b"",
        s: KeyPair | None = None,
        e: KeyPair | None = None,
        rs: bytes | None = None,
        re: bytes | None = None,
        psks: Sequence[bytes] = (),
        rng: Random = os.urandom,
    ) -> None:
        self.pattern = parse_protocol_name(protocol_name)
        if len(psks) != self.pattern.psk_count or any(len(p) != 32 for p in psks):
            raise CryptoError(
                f"{protocol_name} needs {self.pattern.psk_count} pre-shared key(s) of 32 bytes",
                ErrorCode.BAD_KEY,
            )
        self.initiator = initiator
        self.s, self.e, self.rs, self.re = s, e, rs, re
        self._psks = list(psks)
        self._rng = rng
        self._ss = SymmetricState(protocol_name.encode("ascii"))
        self._ss.mix_hash(prologue)
        self._message_index = 0
        self._result: HandshakeResult | None = None
        for role_is_initiator, tokens in (
            (True, self.pattern.initiator_pre),
            (False, self.pattern.responder_pre),
        ):
            for token in tokens:
                local = role_is_initiator == initiator
                key = (
                    (self.s if local else self.rs)
                    if token == "s"
                    else (self.e if local else self.re)
                )
                if key is None:
                    raise CryptoError(
                        f"{protocol_name} needs the {'local' if local else 'remote'} "
                        f"pre-message key {token!r}",
                        ErrorCode.BAD_KEY,
                    )
                self._ss.mix_hash(key.public if isinstance(key, KeyPair) else key)

    @property
    def complete(self) -> bool:
        return self._result is not None

    @property
    def handshake_hash(self) -> bytes:
        return self._ss.h

    @property
    def result(self) -> HandshakeResult:
        if self._result is None:
            raise ProtocolError("the handshake is not finished", ErrorCode.HANDSHAKE_STATE)
        return self._result

    def _my_turn(self) -> bool:
        return (self._message_index % 2 == 0) == self.initiator

    def _tokens(self, writing: bool) -> tuple[str, ...]:
        if self._result is not None or self._message_index >= len(self.pattern.messages):
            raise ProtocolError("the handshake is already finished", ErrorCode.HANDSHAKE_STATE)
        if self._my_turn() != writing:
            raise ProtocolError("handshake message out of turn", ErrorCode.HANDSHAKE_STATE)
        return self.pattern.messages[self._message_index]

    def _dh(self, token: str) -> bytes:
        # "es" is DH(initiator's e, responder's s); swap roles for the responder.
        first, second = token[0], token[1]
        local, remote = (first, second) if self.initiator else (second, first)
        key = self.e if local == "e" else self.s
        peer = self.re if remote == "e" else self.rs
        if key is None or peer is None:
            raise ProtocolError(f"token {token!r} lacks a key", ErrorCode.HANDSHAKE_STATE)
        return key.dh(peer)

    def write_message(self, payload: bytes = b"") -> bytes:
        tokens = self._tokens(writing=True)
        out = bytearray()
        for token in tokens:
            if token == "e":
                if self.e is None:
                    self.e = KeyPair.generate(self._rng)
                out += self.e.public
                self._ss.mix_hash(self.e.public)
                if self.pattern.psk_count:
                    self._ss.mix_key(self.e.public)
            elif token == "s":
                if self.s is None:
                    raise ProtocolError("this pattern needs a static key", ErrorCode.BAD_KEY)
                out += self._ss.encrypt_and_hash(self.s.public)
            elif token == "psk":
                self._ss.mix_key_and_hash(self._psks.pop(0))
            else:
                self._ss.mix_key(self._dh(token))
        out += self._ss.encrypt_and_hash(payload)
        if len(out) > MAX_MESSAGE:
            raise ProtocolError("a Noise message is at most 65535 bytes", ErrorCode.TOO_LARGE)
        self._advance()
        return bytes(out)

    def read_message(self, message: bytes) -> bytes:
        if len(message) > MAX_MESSAGE:
            raise ProtocolError("a Noise message is at most 65535 bytes", ErrorCode.TOO_LARGE)
        tokens = self._tokens(writing=False)
        view = memoryview(message)
        for token in tokens:
            if token == "e":
                if len(view) < DHLEN:
                    raise ProtocolError("handshake message too short", ErrorCode.BAD_FRAME)
                self.re = bytes(view[:DHLEN])
                view = view[DHLEN:]
                self._ss.mix_hash(self.re)
                if self.pattern.psk_count:
                    self._ss.mix_key(self.re)
            elif token == "s":
                size = DHLEN + TAGLEN if self._ss.cipher.has_key else DHLEN
                if len(view) < size:
                    raise ProtocolError("handshake message too short", ErrorCode.BAD_FRAME)
                self.rs = self._ss.decrypt_and_hash(bytes(view[:size]))
                view = view[size:]
            elif token == "psk":
                self._ss.mix_key_and_hash(self._psks.pop(0))
            else:
                self._ss.mix_key(self._dh(token))
        if self._ss.cipher.has_key and len(view) < TAGLEN:
            raise ProtocolError("handshake message too short", ErrorCode.BAD_FRAME)
        payload = self._ss.decrypt_and_hash(bytes(view))
        self._advance()
        return payload

    def _advance(self) -> None:
        self._message_index += 1
        if self._message_index == len(self.pattern.messages):
            first, second = self._ss.split()
            send, receive = (first, second) if self.initiator else (second, first)
            self._result = HandshakeResult(
                send=send,
                receive=receive,
                handshake_hash=self._ss.h,
                remote_static=self.rs,
                remote_ephemeral=self.re,
            )
