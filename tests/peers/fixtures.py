"""pytest fixtures for the SMPP peers (tests/conftest.py loads this as a plugin).

* ``smsc``: Jasmin's SMSC simulator alone, a fresh one per test (about 0.2 s): bind to
  ``smsc.port`` with any credentials.
* ``jasmin``: the whole stack of :class:`tests.peers.jasmin.JasminStack`, one per
  session (4-5 s to start here): textport's ESME binds to ``jasmin.esme``; the
  network behind it is ``jasmin.smsc``. A test that kills a part restarts it before it
  ends; each test starts with automatic receipts off.

When a test that used one of them fails, the tails of the peers' logs are added to its
report.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from pathlib import Path

import pytest

from tests.peers.jasmin import JasminStack, SmscSimulator, smsc_simulator

_peers_of_test: dict[str, list[JasminStack | SmscSimulator]] = {}


@pytest.fixture
def smsc(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[SmscSimulator]:
    with smsc_simulator(tmp_path / "smsc") as sim:
        _peers_of_test.setdefault(request.node.nodeid, []).append(sim)
        yield sim


@pytest.fixture(scope="session")
def _jasmin_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JasminStack]:
    stack = JasminStack(tmp_path_factory.mktemp("jasmin"))
    stack.start()
    try:
        yield stack
    finally:
        stack.stop()


@pytest.fixture
def jasmin(_jasmin_session: JasminStack, request: pytest.FixtureRequest) -> JasminStack:
    stack = _jasmin_session
    if stack.jasmind is None:
        stack.restart_jasmind()
    if stack.smsc.process is None:
        stack.smsc.start()
    stack.wait_connector_bound()
    stack.smsc.auto_receipts(None)
    _peers_of_test.setdefault(request.node.nodeid, []).append(stack)
    return stack


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item,
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.failed:
        for peer in _peers_of_test.get(item.nodeid, []):
            logs = peer.logs() if isinstance(peer, JasminStack) else peer.log_tail()
            report.sections.append((f"{type(peer).__name__} logs", logs))
    if report.when == "teardown":
        _peers_of_test.pop(item.nodeid, None)
    return report
