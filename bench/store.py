"""The store at a million messages, beside plain sqlite3 doing the same work.

Generates MESSAGES texts (default 1 M) in CONVERSATIONS conversations (5 k) over three
years, deterministically, and imports them twice: through textport's HistoryImport
(FTS index, dedupe, attachments, events) and, as the baseline, through plain sqlite3
``executemany`` into the same tables without any of textport's code. Then times, on
each database, p50 and p99 of:

- the conversation list: the newest 50, with their last message;
- opening a thread: its newest 50 messages;
- search: the newest 50 matches with snippets, for several query shapes;
- one durable message write (WAL, synchronous=FULL: it survives power loss).

Prints one JSON line per figure: ``value`` is textport's (ms, or seconds for the
import), ``baseline`` plain sqlite3's, ``ratio`` value / baseline, and ``goal`` the
absolute bound from docs (``met`` when value ≤ goal). Exits 0 either way.

    .venv/bin/python bench/store.py [--messages N] [--folder DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from textport.store.attachments import AttachmentFiles
from textport.store.backup.records import HistoryMessage
from textport.store.db import connect
from textport.store.history import HistoryImport
from textport.store.search import search
from textport.store.store import Store

WORDS = (  # noqa: SIM905 - a sentence reads better than 80 quoted words
    "hey are you still coming tonight dinner at eight sounds good see you soon running late "
    "sorry traffic again can you call me when free the meeting moved to tomorrow morning "
    "happy birthday thanks so much love it did you see the game last night what time works "
    "for you pick up milk on the way home the kids are asleep finally landed safe and sound "
    "weekend plans beach or mountains parcel arrived address please flight delayed two hours"
).split()
NAMES = ("Ana", "Bo", "Priya", "Jonas", "Mum", "Sam", "Dee", "Eli", "Kai", "Noor")
QUERIES = ("dinner", "birthday", "see you", '"see you soon"', '"on the way home"', "fli", "zebra")
"""Query shapes: a common word, two words, a phrase of common words in a few hundred
texts, one in a single text, a prefix while typing, no match."""

START_MS = 1_700_000_000_000
SPAN_MS = 3 * 365 * 24 * 3600 * 1000
ROUNDS = 400
WRITES = 3000
"""Durable writes timed: enough for several checkpoints' worth of WAL."""


def generate(messages: int, conversations: int, seed: int = 1) -> list[tuple[int, int, int, str]]:
    """(conversation index, 0 in / 1 out, at ms, body), in time order."""
    rng = random.Random(seed)
    times = sorted(rng.randrange(SPAN_MS) for _ in range(messages))
    weights = [1 / (i + 1) for i in range(conversations)]
    convs = rng.choices(range(conversations), weights, k=messages)
    return [
        (conv, rng.randrange(2), START_MS + at, " ".join(rng.choices(WORDS, k=rng.randint(3, 18))))
        for conv, at in zip(convs, times, strict=True)
    ]


def number(conv: int) -> str:
    return f"+1555{conv:07d}"


def records(rows: list[tuple[int, int, int, str]]) -> Iterator[HistoryMessage]:
    for conv, out, at, body in rows:
        peer = number(conv)
        yield HistoryMessage(
            kind="sms",
            direction="out" if out else "in",
            peers=(peer,),
            sender="" if out else peer,
            body=body,
            at_ms=at,
            read=True,
            state="sent" if out else "received",
            names={peer: NAMES[conv % len(NAMES)]},
        )


# ---------------------------------------------------------------- the plain sqlite3 baseline

BASELINE_SCHEMA = """
CREATE TABLE conversations (id INTEGER PRIMARY KEY, peers TEXT NOT NULL UNIQUE, name TEXT,
    last_at INTEGER NOT NULL DEFAULT 0, snippet TEXT NOT NULL DEFAULT '');
CREATE INDEX conversations_recent ON conversations (last_at DESC, id DESC);
CREATE TABLE messages (id INTEGER PRIMARY KEY, conv INTEGER NOT NULL, dir TEXT NOT NULL,
    body TEXT NOT NULL, at INTEGER NOT NULL, sort_key INTEGER NOT NULL);
CREATE INDEX messages_thread ON messages (conv, at DESC, id DESC);
CREATE UNIQUE INDEX messages_sort_key ON messages (sort_key);
CREATE VIRTUAL TABLE messages_fts USING fts5 (body, content = 'messages',
    content_rowid = 'sort_key', tokenize = 'unicode61 remove_diacritics 2');
"""


def baseline_db(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = FULL")
    db.executescript(BASELINE_SCHEMA)
    return db


def baseline_import(db: sqlite3.Connection, rows: list[tuple[int, int, int, str]]) -> None:
    convs = sorted({conv for conv, _, _, _ in rows})
    db.execute("BEGIN")
    db.executemany(
        "INSERT INTO conversations (id, peers, name) VALUES (?, ?, ?)",
        [(c + 1, number(c), NAMES[c % len(NAMES)]) for c in convs],
    )
    db.executemany(
        "INSERT INTO messages (conv, dir, body, at, sort_key) VALUES (?, ?, ?, ?, ?)",
        (
            (conv + 1, "out" if out else "in", body, at, (at << 20) + i % 1024)
            for i, (conv, out, at, body) in enumerate(rows)
        ),
    )
    db.execute(
        "UPDATE conversations SET (last_at, snippet) = (SELECT at, body FROM messages m "
        "WHERE m.conv = conversations.id ORDER BY at DESC LIMIT 1)"
    )
    db.execute("INSERT INTO messages_fts (messages_fts) VALUES ('rebuild')")
    db.execute("COMMIT")


def baseline_list(db: sqlite3.Connection) -> object:
    return db.execute(
        "SELECT id, peers, name, last_at, snippet FROM conversations "
        "ORDER BY last_at DESC, id DESC LIMIT 50"
    ).fetchall()


def baseline_thread(db: sqlite3.Connection, conv: int) -> object:
    return db.execute(
        "SELECT id, dir, body, at FROM messages WHERE conv = ? ORDER BY at DESC, id DESC LIMIT 50",
        (conv,),
    ).fetchall()


def baseline_search(db: sqlite3.Connection, query: str) -> object:
    return db.execute(
        "SELECT m.id, m.conv, m.at, snippet(messages_fts, 0, '[', ']', '…', 16) "
        "FROM messages_fts f JOIN messages m ON m.sort_key = f.rowid "
        "WHERE messages_fts MATCH ? ORDER BY f.rowid DESC LIMIT 51",
        (query,),
    ).fetchall()


def baseline_write(db: sqlite3.Connection, i: int) -> None:
    at = START_MS + SPAN_MS + i
    db.execute("BEGIN IMMEDIATE")
    db.execute(
        "INSERT INTO messages (conv, dir, body, at, sort_key) VALUES (1, 'in', ?, ?, ?)",
        (f"durable write {i}", at, at << 20),
    )
    db.execute("UPDATE conversations SET last_at = ?, snippet = ? WHERE id = 1", (at, "x"))
    db.execute("COMMIT")


# ---------------------------------------------------------------- measuring


Timed = Callable[[int], object]


Percentiles = tuple[float, float]


def _p50_p99(times: list[float]) -> Percentiles:
    ordered = sorted(times)
    return statistics.median(ordered), ordered[int(len(ordered) * 0.99) - 1]


def percentiles(ours: Timed, base: Timed, rounds: int) -> tuple[Percentiles, Percentiles]:
    """p50 and p99 in milliseconds of each action, run alternately so that both see the
    same machine (a noisy neighbour, the kernel writing back dirty pages)."""
    samples: tuple[list[float], list[float]] = ([], [])
    for i in range(rounds):
        for action, into in ((ours, samples[0]), (base, samples[1])):
            began = time.perf_counter()
            action(i)
            into.append((time.perf_counter() - began) * 1000)
    return [
        [statistics.median(times), sorted(times)[int(len(times) * 0.99) - 1]] for times in samples
    ]  # type: ignore[return-value]


def report(
    metric: str,
    value: float,
    unit: str,
    baseline: float,
    goal: float | None,
    bench: str = "store",
) -> None:
    """One figure as a JSON line; ``goal`` bounds the value itself (bench/first_screen.py
    prints its figures through this too)."""
    print(
        json.dumps(
            {
                "bench": bench,
                "metric": metric,
                "value": round(value, 4),
                "unit": unit,
                "baseline": round(baseline, 4),
                "ratio": round(value / baseline, 3) if baseline else None,
                "goal": goal,
                "met": None if goal is None else value <= goal,
            }
        ),
        flush=True,
    )


def pair(metric: str, ours: Timed, base: Timed, goal: float, rounds: int = ROUNDS) -> None:
    (ours_p50, ours_p99), (base_p50, base_p99) = percentiles(ours, base, rounds)
    report(f"{metric} p50", ours_p50, "ms", base_p50, None)
    report(f"{metric} p99", ours_p99, "ms", base_p99, goal)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--conversations", type=int, default=5_000)
    parser.add_argument("--folder", type=Path, help="work here instead of a temporary folder")
    args = parser.parse_args()
    folder = args.folder or Path(tempfile.mkdtemp(prefix="textport-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    try:
        run(folder, args.messages, args.conversations)
    finally:
        if args.folder is None:
            shutil.rmtree(folder, ignore_errors=True)


def run(folder: Path, messages: int, conversations: int) -> None:
    rows = generate(messages, conversations)
    now = time.time

    base = baseline_db(folder / "baseline.db")
    began = time.perf_counter()
    baseline_import(base, rows)
    base_import = time.perf_counter() - began

    # Both imports start from messages already in memory: the baseline's tuples, and the
    # records a backup reader would yield (reading XML is the reader's cost, not the store's).
    history = list(records(rows))
    store = Store(connect(folder / "textport.db"), now)
    began = time.perf_counter()
    HistoryImport(store, AttachmentFiles(folder / "attachments")).run(history)
    ours_import = time.perf_counter() - began
    del history
    report(f"import {messages} messages", ours_import, "s", base_import, 15.0)

    pair(
        "conversation list (50)",
        lambda _: store.conversations_page(limit=50),
        lambda _: baseline_list(base),
        1.0,
    )
    rng = random.Random(2)
    convs = [rng.randrange(conversations) for _ in range(ROUNDS)]
    conv_ids = dict(store.db.execute("SELECT peers, id FROM conversations").fetchall())
    pair(
        "open thread (newest 50)",
        lambda i: store.thread_page(conv_ids[number(convs[i])], limit=50),
        lambda i: baseline_thread(base, convs[i] + 1),
        1.0,
    )
    for query in QUERIES:
        pair(
            f"search {query} (newest 50, snippets)",
            lambda _, q=query: search(  # type: ignore[misc]
                store.db, q, limit=50, vocabulary=store.vocabulary
            ),
            lambda _, q=query: baseline_search(base, _fts(q)),  # type: ignore[misc]
            5.0,
        )
    # Both databases start their writes with an empty WAL and no dirty pages from the
    # import waiting in the kernel, and the writes alternate, so both see the same disk.
    for db in (store.db, base):
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    os.sync()
    pair(
        "durable message write",
        lambda i: store.add_incoming(
            number(1), f"durable write {i}", int(now() * 1000), f"bench-{i}"
        ),
        lambda i: baseline_write(base, i),
        5.0,
        WRITES,
    )


def _fts(query: str) -> str:
    """The baseline's hand-written FTS5 expression for the same query."""
    if query.startswith('"'):
        return query
    words = query.split()
    return (
        " ".join(f'"{w}"' for w in words[:-1])
        + (" " if len(words) > 1 else "")
        + (f'"{words[-1]}"*')
    )


if __name__ == "__main__":
    main()
