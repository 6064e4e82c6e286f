"""MMS attachment bytes, kept as files beside the database, named by their SHA-256.

``DATA/attachments/ab/abcdef…`` (mode 0600): the same picture imported twice, or sent
to two conversations, is stored once. A file is written to a temporary name, fsynced and
renamed before the database row that names it commits (``flush`` makes the renames
durable), so a committed row never points at a missing or partial file; a crash in
between leaves at most an unreferenced file.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from textport.errors import StoreError

MAX_ATTACHMENT = 20 * 1024 * 1024
"""The largest attachment kept (carriers cap MMS far lower, at 300 KB to 3.5 MB)."""


class AttachmentFiles:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._dirty: set[Path] = set()

    def path(self, sha256: bytes) -> Path:
        name = sha256.hex()
        return self.folder / name[:2] / name

    def put(self, data: bytes) -> bytes:
        """Store ``data`` (if not stored yet) and return its SHA-256."""
        if len(data) > MAX_ATTACHMENT:
            raise StoreError(
                f"an attachment of {len(data)} bytes is over the {MAX_ATTACHMENT}-byte limit"
            )
        digest = hashlib.sha256(data).digest()
        final = self.path(digest)
        if final.exists():
            return digest
        final.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        temporary = final.with_name(final.name + ".part")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temporary, final)
        self._dirty.add(final.parent)
        return digest

    def get(self, sha256: bytes) -> bytes:
        try:
            return self.path(sha256).read_bytes()
        except OSError as exc:
            raise StoreError(
                f"the attachment file {sha256.hex()[:12]}… is missing from {self.folder}: {exc}"
            ) from exc

    def read(self, sha256: bytes, offset: int, size: int) -> bytes:
        """Up to ``size`` bytes of a stored attachment from ``offset``."""
        try:
            with self.path(sha256).open("rb") as file:
                file.seek(offset)
                return file.read(size)
        except OSError as exc:
            raise StoreError(
                f"the attachment file {sha256.hex()[:12]}… is missing from {self.folder}: {exc}"
            ) from exc

    def remove(self, sha256: bytes) -> None:
        """Delete a file no row names any more (a missing one is no error)."""
        self.path(sha256).unlink(missing_ok=True)

    def flush(self) -> None:
        """Make the files ``put`` since the last flush durable (fsync their folders)."""
        for folder in self._dirty:
            fd = os.open(folder, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        self._dirty.clear()
