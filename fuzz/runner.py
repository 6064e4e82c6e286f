"""What every fuzz target here shares: seeding an empty corpus folder, then atheris.

A target is ``python fuzz/NAME.py [libFuzzer flags] CORPUS_DIR``; it calls :func:`run`
with its ``test_one_input`` and the valid inputs that start an empty corpus.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import atheris


def run(test_one_input: Callable[[bytes], None], seeds: Callable[[], list[bytes]]) -> None:
    """Seed each empty corpus folder named on the command line, then fuzz until told."""
    folders = [Path(arg) for arg in sys.argv[1:] if not arg.startswith("-")]
    for folder in folders:
        if folder.is_dir() and not any(folder.iterdir()):
            for index, data in enumerate(seeds()):
                (folder / f"seed-{index:03d}").write_bytes(data)
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
