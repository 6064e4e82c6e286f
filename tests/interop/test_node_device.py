"""Cross-implementation: the Python host against the TypeScript device under Node.

Node's WebCrypto (X25519, AES-GCM, HMAC, HKDF) runs the device side; nothing is mocked.
"""

from __future__ import annotations

import pytest

from tests.interop.devices import node_device
from tests.interop.scenarios import all_flows

pytestmark = pytest.mark.node


def test_python_host_and_node_device_pair_and_talk() -> None:
    with node_device() as device:
        all_flows(device)
