"""Identifiers, codes and the base64url codec."""

from __future__ import annotations

import pytest

from textport.errors import ProtocolError
from textport.protocol import derive


def test_lp_prefixes_lengths() -> None:
    assert derive.lp(b"ab", b"") == b"\x00\x02ab\x00\x00"
    with pytest.raises(ProtocolError):
        derive.lp(bytes(70000))


def test_ids_are_domain_separated() -> None:
    key = bytes(range(32))
    assert derive.host_id(key) != derive.device_id(key)
    assert len(derive.host_id(key)) == 16


def test_codes_have_their_formats() -> None:
    code = derive.confirmation_code(bytes(32))
    assert len(code) == 9 and code[4] == "-" and code.replace("-", "").isalnum()
    sas = derive.comparison_code(bytes(32), bytes(range(32)))
    assert len(sas) == 7 and sas.replace(" ", "").isdigit()
    assert sas != derive.comparison_code(bytes(range(32)), bytes(32))


@pytest.mark.parametrize("text", ["AA=", "A", "AB", "+/AA", "é", "AAB"])
def test_unb64url_is_strict(text: str) -> None:
    with pytest.raises(ProtocolError):
        derive.unb64url(text)


def test_unb64url_round_trips_and_checks_length() -> None:
    for n in range(40):
        data = bytes(range(n))
        assert derive.unb64url(derive.b64url(data), n) == data
    with pytest.raises(ProtocolError):
        derive.unb64url(derive.b64url(bytes(16)), 32)
