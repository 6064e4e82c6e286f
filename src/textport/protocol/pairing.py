"""Pairing a device with a host (docs/protocol.md sections 5 and 6), without I/O.

Two ways in:

* an **offer** (QR code or link) carrying a 32-byte secret: ``Noise_XXpsk0``, the party
  that read the offer initiating;
* a **typed code** that only names the relay channel: the host commits to its ephemeral
  key, ``Noise_XX`` with the device initiating, and a six-digit comparison code.
"""

from __future__ import annotations

import hmac
import os
import re
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Final
from urllib.parse import parse_qsl, quote, urlsplit

from textport.errors import CryptoError, ErrorCode, ProtocolError
from textport.protocol import derive
from textport.protocol.messages import RELAY_PATTERN
from textport.protocol.noise import HandshakeState, KeyPair, Random
from textport.protocol.session import Handshake

SCHEME: Final = "textport-pair"
OFFER_VERSION: Final = "1"
MAX_OFFER_AHEAD: Final = 3600
"""An offer may not claim to stay valid longer than this many seconds."""
MAX_OFFER_LENGTH: Final = 1024
CODE_ALPHABET: Final = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH: Final = 8
CODE_CHANNEL_PREFIX: Final = "code-"
_RELAY = re.compile(RELAY_PATTERN)


@dataclass(frozen=True)
class PairingOffer:
    """What a QR code or pairing link carries; ``repr`` hides the secret."""

    relay: str
    channel: bytes
    secret: bytes = field(repr=False)
    expires: int

    @property
    def channel_name(self) -> str:
        return derive.b64url(self.channel)

    @classmethod
    def create(cls, relay: str, *, now: float, ttl: int, rng: Random = os.urandom) -> PairingOffer:
        _check_relay(relay)
        return cls(relay, rng(derive.CHANNEL_LEN), rng(derive.SECRET_LEN), int(now) + ttl)

    def to_uri(self) -> str:
        return (
            f"{SCHEME}:{OFFER_VERSION}?r={quote(self.relay, safe='')}&c={self.channel_name}"
            f"&s={derive.b64url(self.secret)}&e={self.expires}"
        )

    @classmethod
    def parse(cls, text: str, *, now: float, allowed_relays: Collection[str]) -> PairingOffer:
        """Parse and check an offer the user scanned, pasted or opened.

        Accepts the bare URI or a link whose fragment holds it.
        """
        text = text.strip()
        if len(text) > MAX_OFFER_LENGTH:
            raise ProtocolError("that pairing code is too long", ErrorCode.BAD_PAIRING_CODE)
        if "#" in text:
            text = text.split("#", 1)[1]
        scheme, _, rest = text.partition(":")
        if scheme != SCHEME:
            raise ProtocolError(
                "not a textport pairing code (it should start with textport-pair:)",
                ErrorCode.BAD_PAIRING_CODE,
            )
        version, _, query = rest.partition("?")
        if version != OFFER_VERSION:
            raise ProtocolError(
                f"pairing code version {version!r} is not supported; update textport",
                ErrorCode.VERSION_MISMATCH,
            )
        try:
            fields = dict(parse_qsl(query, strict_parsing=True, max_num_fields=8))
            relay, channel, secret = fields["r"], fields["c"], fields["s"]
            expiry = fields["e"]
            expires = int(expiry) if expiry.isascii() and expiry.isdigit() else -1
            offer = cls(
                relay,
                derive.unb64url(channel, derive.CHANNEL_LEN),
                derive.unb64url(secret, derive.SECRET_LEN),
                expires,
            )
        except (KeyError, ValueError, ProtocolError) as exc:
            raise ProtocolError(
                "the pairing code is damaged; copy it again", ErrorCode.BAD_PAIRING_CODE
            ) from exc
        _check_relay(relay)
        if expires < 0 or expires > now + MAX_OFFER_AHEAD:
            raise ProtocolError("the pairing code's expiry is invalid", ErrorCode.BAD_PAIRING_CODE)
        if now > expires:
            raise ProtocolError(
                "the pairing code expired; show a new one", ErrorCode.PAIRING_EXPIRED
            )
        if relay not in allowed_relays:
            raise ProtocolError(
                "the pairing code names a relay this host is not configured for",
                ErrorCode.RELAY_NOT_ALLOWED,
            )
        return offer


def _check_relay(relay: str) -> None:
    try:
        valid = len(relay) <= 512 and bool(_RELAY.match(relay)) and bool(urlsplit(relay).hostname)
    except ValueError:  # e.g. a malformed IPv6 literal
        valid = False
    if not valid:
        raise ProtocolError("the relay must be a ws:// or wss:// URL", ErrorCode.BAD_PAIRING_CODE)


def offer_handshake(
    offer: PairingOffer, static: KeyPair, *, made_offer: bool, rng: Random = os.urandom
) -> Handshake:
    """``Noise_XXpsk0``: the reader of the offer initiates, its maker responds."""
    return Handshake(
        HandshakeState(
            derive.PAIR_PROTOCOL,
            initiator=not made_offer,
            prologue=derive.pair_prologue(offer.relay, offer.channel_name),
            s=static,
            psks=[offer.secret],
            rng=rng,
        )
    )


# ---------------------------------------------------------------- typed codes


def new_code(rng: Random = os.urandom) -> str:
    """A fresh typed code (40 random bits), e.g. ``K7QF-3M9X``."""
    value = int.from_bytes(rng(5), "big")
    chars = "".join(CODE_ALPHABET[(value >> (5 * i)) & 31] for i in reversed(range(CODE_LENGTH)))
    return f"{chars[:4]}-{chars[4:]}"


def normalize_code(text: str) -> str:
    """Canonical form of a typed code: 8 characters, no separator."""
    cleaned = (
        text.strip()
        .upper()
        .replace("-", "")
        .replace(" ", "")
        .replace("I", "1")
        .replace("L", "1")
        .replace("O", "0")
    )
    if len(cleaned) != CODE_LENGTH or any(c not in CODE_ALPHABET for c in cleaned):
        raise ProtocolError(
            "a pairing code is 8 letters and digits, like K7QF-3M9X", ErrorCode.BAD_PAIRING_CODE
        )
    return cleaned


def code_channel(code: str) -> str:
    return CODE_CHANNEL_PREFIX + normalize_code(code)


class _CodeHandshake(Handshake):
    """Typed-code pairing: ``Noise_XX``, the device initiating, on the code's channel."""

    def __init__(
        self,
        code: str,
        relay: str,
        static: KeyPair,
        rng: Random,
        *,
        device: bool,
        ephemeral: KeyPair | None = None,
    ) -> None:
        super().__init__(
            HandshakeState(
                derive.CODE_PROTOCOL,
                initiator=device,
                prologue=derive.code_prologue(relay, code_channel(code)),
                s=static,
                e=ephemeral,
                rng=rng,
            )
        )
        self._device = device

    def comparison_code(self) -> str:
        """The six digits to compare, from the two ephemeral keys alone (section 6)."""
        local, remote = self.local_ephemeral, self.remote_ephemeral
        if local is None or remote is None:
            raise ProtocolError("no comparison code before XX message 2", ErrorCode.HANDSHAKE_STATE)
        device_e, host_e = (local, remote) if self._device else (remote, local)
        return derive.comparison_code(device_e, host_e)


class CodeHostHandshake(_CodeHandshake):
    """The host's side: commit to an ephemeral key, then respond."""

    def __init__(self, code: str, relay: str, static: KeyPair, rng: Random = os.urandom) -> None:
        ephemeral = KeyPair.generate(rng)
        super().__init__(code, relay, static, rng, device=False, ephemeral=ephemeral)
        self.commitment = derive.commitment(ephemeral.public)
        """The first message on the channel, sent before the device's key is known."""


class CodeDeviceHandshake(_CodeHandshake):
    """The device's side: read the commitment, initiate, and check the host's key."""

    def __init__(self, code: str, relay: str, static: KeyPair, rng: Random = os.urandom) -> None:
        super().__init__(code, relay, static, rng, device=True)
        self._commitment: bytes | None = None

    def read_commitment(self, message: bytes) -> None:
        if self._commitment is not None:
            raise ProtocolError("a second commitment", ErrorCode.HANDSHAKE_STATE)
        if len(message) != 36 or not message.startswith(derive.COMMIT_PREFIX):
            self.failed = True
            raise ProtocolError(
                "the host speaks another pairing version; update textport",
                ErrorCode.VERSION_MISMATCH,
            )
        self._commitment = message

    def write(self) -> bytes:
        if self._commitment is None:
            raise ProtocolError("wait for the host's commitment", ErrorCode.HANDSHAKE_STATE)
        return super().write()

    def read(self, message: bytes) -> None:
        super().read(message)
        host_e = self.remote_ephemeral
        if self._commitment is None or host_e is None:
            raise ProtocolError("no commitment to check", ErrorCode.HANDSHAKE_STATE)
        if not hmac.compare_digest(derive.commitment(host_e), self._commitment):
            self.failed = True
            raise CryptoError(
                "the host's key does not match its commitment; someone may be "
                "interfering, start pairing again",
                ErrorCode.COMMITMENT_MISMATCH,
            )
