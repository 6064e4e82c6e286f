"""Full-text search over every message, newest first, with highlighted snippets.

The FTS5 index's rowid is ``messages.sort_key`` (time order, migration 0002), so a
search walks the index from the newest match and stops after a page: its cost follows
the page size, not how many messages match. People type words, not FTS5 syntax:
:func:`match_expression` quotes each word (so ``AND``, ``-`` or ``*`` typed by a person
mean nothing special), keeps "quoted phrases", and lets the last word match as a prefix
while it is being typed.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass

HIGHLIGHT_START = "\x02"
HIGHLIGHT_END = "\x03"
SNIPPET_TOKENS = 16

_TERMS = re.compile(r'"([^"]*)"|(\S+)')


def match_expression(query: str) -> str | None:
    """An FTS5 MATCH expression for what a person typed; None when it has no words."""
    terms: list[str] = []
    prefix = False
    # FTS5 strings end at a NUL, so one typed inside a term would unbalance its quotes.
    for match in _TERMS.finditer(query.replace("\x00", " ")):
        phrase, word = match.group(1), match.group(2)
        text = phrase if phrase is not None else word
        if not any(ch.isalnum() for ch in text):
            continue
        terms.append('"' + text.replace('"', '""') + '"')
        prefix = word is not None
    if not terms:
        return None
    if prefix:
        terms[-1] += "*"
    return " ".join(terms)


@dataclass(frozen=True)
class Match:
    msg_id: int
    conv: int
    at: int
    key: int
    """The message's sort key: pass it as ``before`` for the next page."""
    snippet: str


def search(
    db: sqlite3.Connection, query: str, *, before: int | None = None, limit: int = 50
) -> tuple[list[Match], bool]:
    """The newest ``limit`` messages matching ``query`` (older than ``before``), and
    whether there are more."""
    expression = match_expression(query)
    if expression is None:
        return [], False
    rows = db.execute(
        "SELECT m.id, m.conv, m.at, f.rowid AS key, "
        "snippet(messages_fts, 0, ?, ?, '…', ?) AS snippet "
        "FROM messages_fts f JOIN messages m ON m.sort_key = f.rowid "
        "WHERE messages_fts MATCH ? AND f.rowid < ? ORDER BY f.rowid DESC LIMIT ?",
        (
            HIGHLIGHT_START,
            HIGHLIGHT_END,
            SNIPPET_TOKENS,
            expression,
            (1 << 63) - 1 if before is None else before,
            limit + 1,
        ),
    ).fetchall()
    matches = [
        Match(row["id"], row["conv"], row["at"], row["key"], row["snippet"][:500])
        for row in rows[:limit]
    ]
    return matches, len(rows) > limit
