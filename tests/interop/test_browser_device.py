"""Cross-implementation in a real browser: the Python host against the TypeScript device
running in Debian's headless Chromium, so the browser's own WebCrypto is what agrees.
"""

from __future__ import annotations

import pytest

from tests.interop.devices import browser_device
from tests.interop.scenarios import all_flows

pytestmark = pytest.mark.browser


def test_python_host_and_chromium_device_pair_and_talk() -> None:
    with browser_device() as device:
        all_flows(device)
