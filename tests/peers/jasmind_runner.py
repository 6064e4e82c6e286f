"""Start Jasmin's ``jasmind.py`` with its single-instance lock moved into our own folder.

Runs in Jasmin's venv: ``python tests/peers/jasmind_runner.py LOCK JASMIND [ARGS...]``.
jasmind takes a machine-wide lock, ``/tmp/jasmind.lock``, before it starts: two test
runs (or a developer's and CI's) could then not each have their own Jasmin, and a
jasmind killed by a test leaves the lock behind, so the next start gives up after 2 s.
This points the lock at LOCK (a path in the stack's folder, which the harness clears
before each start, when no jasmind of that folder runs) and runs jasmind unchanged.
"""

from __future__ import annotations

import runpy
import sys
from pathlib import Path
from typing import Any

import lockfile


def main() -> None:
    lock_path, jasmind, *args = sys.argv[1:]
    real = lockfile.FileLock

    def our_lock(_path: str, *rest: Any, **kw: Any) -> Any:
        return real(lock_path, *rest, **kw)

    lockfile.FileLock = our_lock
    sys.argv = [jasmind, *args]
    # As if jasmind.py were run itself: this folder (with tests/peers/jasmin.py in it)
    # must not shadow the jasmin package.
    sys.path[0] = str(Path(jasmind).parent)
    runpy.run_path(jasmind, run_name="__main__")


if __name__ == "__main__":
    main()
