"""Opening the database: pragmas in one place, numbered migrations, newer schemas refused."""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

from textport.errors import StoreError

SCHEMA_VERSION = 9


def _migrations() -> list[tuple[int, str]]:
    folder = resources.files("textport.store") / "migrations"
    found = []
    for entry in folder.iterdir():
        name = entry.name
        if name.endswith(".sql"):
            found.append((int(name.split("_", 1)[0]), entry.read_text()))
    return sorted(found)


def connect(path: Path) -> sqlite3.Connection:
    """Open (creating if need be) and migrate the store at ``path``; file mode 0600.

    WAL with ``synchronous=FULL``: a commit that returned survives power loss, which the
    host's "ack only after commit" rule needs.

    Checkpoint policy: SQLite's own, inside the commit that crosses 4000 WAL pages
    (16 MiB, below), which keeps each checkpoint small and its pages hot: measured at a
    million messages, a durable write's p99 is about 1 ms (p50 0.24 ms). A checkpointing
    thread of its own measured worse (p50 0.4-0.55 ms, p99 up to 17 ms), its fsyncs
    competing with the commits'. ``journal_size_limit`` truncates the WAL back to 64 MiB
    after a burst (an import) instead of leaving it at its largest.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        path.touch(mode=0o600)
    os.chmod(path, 0o600)
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    db.row_factory = sqlite3.Row
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = FULL")
    db.execute("PRAGMA journal_size_limit = 67108864")
    # Checkpoint in the commit that crosses 4000 WAL pages (16 MiB), not SQLite's 1000: a
    # text writes about 3 pages, so one commit in ~1300 pays for a checkpoint instead of
    # one in ~300, which takes it out of the p99 (docs/history.md, "Writing it safely").
    db.execute("PRAGMA wal_autocheckpoint = 4000")
    db.execute("PRAGMA busy_timeout = 5000")
    # 64 MiB of page cache: the FTS index and the unique indexes of a million-text
    # history no longer fit the 2 MiB default, and imports slowed down threefold.
    db.execute("PRAGMA cache_size = -65536")
    # Foreign keys stay off while migrating, so a migration can rebuild a table that
    # others refer to (SQLite's documented procedure), and are checked before use.
    migrate(db)
    if db.execute("PRAGMA foreign_key_check").fetchone() is not None:
        raise StoreError(
            f"the database at {path} has rows that refer to missing ones; restore a backup"
        )
    db.execute("PRAGMA foreign_keys = ON")
    return db


def migrate(db: sqlite3.Connection, upto: int = SCHEMA_VERSION) -> None:
    """Apply every migration after the database's version, up to ``upto`` (tests)."""
    current = db.execute("PRAGMA user_version").fetchone()[0]
    if current > SCHEMA_VERSION:
        raise StoreError(
            f"the database is at schema {current}, newer than this textport ({SCHEMA_VERSION}); "
            "upgrade textport or use another --data folder"
        )
    for version, sql in _migrations():
        if version <= current or version > upto:
            continue
        # One script, one transaction: a migration applies whole or not at all.
        db.executescript(f"BEGIN IMMEDIATE;\n{sql}\nPRAGMA user_version = {version};\nCOMMIT;")


@contextlib.contextmanager
def transaction(db: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """``BEGIN IMMEDIATE`` … ``COMMIT``; rolled back if the block raises.

    Nested use joins the outer transaction.
    """
    if db.in_transaction:
        yield db
        return
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
