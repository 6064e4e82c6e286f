"""Delivery-report mapping: every TP-Status and SMPP stat has an outcome and a reason."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from textport.transports import reports


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (0x00, "delivered"),
        (0x01, "delivered"),
        (0x02, "delivered"),
        (0x1F, "delivered"),
        (0x20, "pending"),
        (0x3F, "pending"),
        (0x40, "failed"),
        (0x46, "failed"),
        (0x5F, "failed"),
        (0x60, "failed"),
        (0x7F, "failed"),
        (0x80, "failed"),
    ],
)
def test_tp_status(status: int, outcome: str) -> None:
    assert reports.from_tp_status(status).outcome == outcome


@given(st.integers(-(2**16), 2**16))
def test_every_status_has_an_outcome_and_failures_a_readable_reason(status: int) -> None:
    verdict = reports.from_tp_status(status)
    assert (verdict.reason is not None) == (verdict.outcome == "failed")
    if verdict.reason is not None:
        assert verdict.reason.startswith("Not delivered: ")
        assert not re.search(r"\d", verdict.reason), "no codes or numbers for people"


def test_expired_says_so() -> None:
    assert "expired" in str(reports.from_tp_status(0x46).reason)
    assert "stopped trying" in str(reports.from_tp_status(0x61).reason)


@pytest.mark.parametrize(
    ("stat", "outcome"),
    [
        ("DELIVRD", "delivered"),
        ("delivrd ", "delivered"),
        ("ACCEPTD", "pending"),
        ("ENROUTE", "pending"),
        ("UNKNOWN", "pending"),
        ("EXPIRED", "failed"),
        ("DELETED", "failed"),
        ("UNDELIV", "failed"),
        ("REJECTD", "failed"),
        ("garbage", "pending"),
    ],
)
def test_smpp_stat(stat: str, outcome: str) -> None:
    assert reports.from_smpp_stat(stat).outcome == outcome


def test_smpp_message_state() -> None:
    assert [reports.from_smpp_state(n).outcome for n in range(10)] == [
        "pending",
        "pending",
        "delivered",
        "failed",
        "failed",
        "failed",
        "pending",
        "pending",
        "failed",
        "pending",
    ]
