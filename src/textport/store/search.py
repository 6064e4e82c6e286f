"""Full-text search over every message, newest first, with highlighted snippets.

The FTS5 index's rowid is ``messages.sort_key``, which ascends from the newest message
(migration 0008), so a search walks the index from the newest match, in the order FTS5
reads fastest, and stops after a page: its cost follows the page size, not how many
messages match. People type words, not FTS5 syntax:
:func:`match_expression` quotes each word (so ``AND``, ``-`` or ``*`` typed by a person
mean nothing special), keeps "quoted phrases", and lets the last word match as a prefix
while it is being typed.

FTS5 reads every doclist of a prefix query (``"din"*``) whole before the first row,
but walks exact terms lazily: at a million texts, 4-20 ms against 0.2 ms. So the last
word is expanded through :class:`Vocabulary`, the sorted list of indexed terms, into
the exact terms it begins (``("dinner" OR "dinners")``); only a prefix with more than
``MAX_COMPLETIONS`` of them falls back to FTS5's own prefix query.

A search with a "quoted phrase" of several words first asks the index of word pairs
(phrases.py) which texts may hold its longest one: FTS5 would walk every word's
doclist to find a rare phrase. Only a phrase in many texts goes to FTS5, which then
finds a page fast.
"""

from __future__ import annotations

import bisect
import json
import re
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass
from itertools import pairwise

from textport.store.phrases import WORDS, contains, scratch_index

HIGHLIGHT_START = "\x02"
HIGHLIGHT_END = "\x03"
SNIPPET_TOKENS = 16
MAX_COMPLETIONS = 64
PAIR_CANDIDATES = 512
"""The most texts holding a phrase's pairs that are read and checked, about 1 ms; a
phrase in more is common enough for FTS5 to find a page of it fast."""

_TERMS = re.compile(r'"([^"]*)"|(\S+)')

Complete = Callable[[str], list[str] | None]
"""The indexed terms a prefix begins, or None when there are too many to list."""


def _quote(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def match_expression(query: str, complete: Complete | None = None) -> str | None:
    """An FTS5 MATCH expression for what a person typed; None when nothing can match."""
    terms: list[str] = []
    last_word: str | None = None
    # FTS5 strings end at a NUL, so one typed inside a term would unbalance its quotes.
    for match in _TERMS.finditer(query.replace("\x00", " ")):
        phrase, word = match.group(1), match.group(2)
        text = phrase if phrase is not None else word
        if not any(ch.isalnum() for ch in text):
            continue
        terms.append(_quote(text))
        last_word = word
    if not terms:
        return None
    if last_word is not None:
        tokens = WORDS.split(last_word)
        completions = complete(tokens[0]) if complete and len(tokens) == 1 else None
        if completions is None:
            terms[-1] += "*"
        elif not completions:
            return None
        else:
            terms[-1] = "(" + " OR ".join(_quote(term) for term in completions) + ")"
    return " AND ".join(terms)


class Vocabulary:
    """Every term of the full-text index, sorted, read once and kept up to date by
    :meth:`add`; :meth:`invalidate` after another process wrote (an import)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db
        self._terms: list[str] | None = None

    def _load(self) -> list[str]:
        if self._terms is None:
            self._db.execute(
                "CREATE VIRTUAL TABLE IF NOT EXISTS temp.messages_terms "
                "USING fts5vocab(main, messages_fts, row)"
            )
            self._terms = [
                row[0] for row in self._db.execute("SELECT term FROM temp.messages_terms")
            ]
        return self._terms

    def complete(self, prefix: str) -> list[str] | None:
        terms = self._load()
        start = bisect.bisect_left(terms, prefix)
        found = []
        for term in terms[start : start + MAX_COMPLETIONS + 1]:
            if not term.startswith(prefix):
                break
            found.append(term)
        return None if len(found) > MAX_COMPLETIONS else found

    def add(self, body: str) -> None:
        """A new message's words, as the index's tokenizer makes them."""
        if self._terms is None:
            return
        for word in WORDS.split(body):
            index = bisect.bisect_left(self._terms, word)
            if index == len(self._terms) or self._terms[index] != word:
                self._terms.insert(index, word)

    def invalidate(self) -> None:
        self._terms = None


@dataclass(frozen=True)
class Match:
    msg_id: int
    conv: int
    at: int
    key: int
    """The message's sort key: pass it as ``before`` for the next page."""
    snippet: str


def search(
    db: sqlite3.Connection,
    query: str,
    *,
    before: int | None = None,
    limit: int = 50,
    vocabulary: Vocabulary | None = None,
) -> tuple[list[Match], bool]:
    """The newest ``limit`` messages matching ``query`` (older than ``before``), and
    whether there are more. Blocked conversations' texts are kept but never found (they
    show only in the blocked folder, docs/protocol.md section 9)."""
    expression = match_expression(query, vocabulary.complete if vocabulary else None)
    if expression is None:
        return [], False
    after = -(1 << 63) if before is None else before
    phrase = _phrase(query)
    if phrase is not None and _pairs_ready(db):
        found = _phrase_search(db, phrase, expression, after, limit)
        if found is not None:
            return found
    rows = db.execute(
        "SELECT m.id, m.conv, m.at, f.rowid AS key, "
        "snippet(messages_fts, 0, ?, ?, '…', ?) AS snippet "
        "FROM messages_fts f JOIN messages m ON m.sort_key = f.rowid "
        "WHERE messages_fts MATCH ? AND f.rowid > ? "
        "AND m.conv NOT IN (SELECT id FROM conversations WHERE blocked = 1) "
        "ORDER BY f.rowid LIMIT ?",
        (
            HIGHLIGHT_START,
            HIGHLIGHT_END,
            SNIPPET_TOKENS,
            expression,
            after,
            limit + 1,
        ),
    ).fetchall()
    matches = [
        Match(row["id"], row["conv"], row["at"], row["key"], row["snippet"][:500])
        for row in rows[:limit]
    ]
    return matches, len(rows) > limit


def _phrase(query: str) -> list[str] | None:
    """The words of the longest "quoted phrase" in a query, if it has several."""
    phrases = [
        WORDS.split(match.group(1))
        for match in _TERMS.finditer(query.replace("\x00", " "))
        if match.group(1) is not None
    ]
    longest = max(phrases, key=len, default=[])
    return longest if len(longest) > 1 else None


def _pairs_ready(db: sqlite3.Connection) -> bool:
    """False until a store opened at schema 9 has indexed the older texts' pairs."""
    return db.execute("SELECT 1 FROM meta WHERE key = 'phrase_pairs'").fetchone() is None


def _phrase_search(
    db: sqlite3.Connection, phrase: list[str], expression: str, after: int, limit: int
) -> tuple[list[Match], bool] | None:
    """The texts holding every pair of ``phrase`` and the phrase itself, word after
    word, newest first; FTS5 then matches the whole query on them and makes their
    snippets (:class:`Snippets`). None when more than ``PAIR_CANDIDATES`` texts hold
    the pairs: the phrase is common, and FTS5 finds a page of it quickly."""
    pairs = " AND ".join(_quote(a + "_" + b) for a, b in dict.fromkeys(pairwise(phrase)))
    ids = [
        row[0]
        for row in db.execute(
            "SELECT rowid FROM message_pairs WHERE message_pairs MATCH ? LIMIT ?",
            (pairs, PAIR_CANDIDATES + 1),
        )
    ]
    if len(ids) > PAIR_CANDIDATES:
        return None
    rows = db.execute(
        "SELECT id, conv, at, body, sort_key FROM messages "
        "WHERE id IN (SELECT value FROM json_each(?)) AND sort_key > ? "
        "AND conv NOT IN (SELECT id FROM conversations WHERE blocked = 1) ORDER BY sort_key",
        (json.dumps(ids), after),
    ).fetchall()
    holding = [row for row in rows if contains(WORDS.split(row["body"]), phrase)]
    matches: list[Match] = []
    # Usually the phrase is the whole query, and the first limit + 1 all match.
    for start in range(0, len(holding), limit + 1):
        chunk = holding[start : start + limit + 1]
        snippets = SNIPPETS.make([row["body"] for row in chunk], expression)
        matches += [
            Match(row["id"], row["conv"], row["at"], row["sort_key"], snippet[:500])
            for row, snippet in zip(chunk, snippets, strict=True)
            if snippet is not None
        ]
        if len(matches) > limit:
            break
    return matches[:limit], len(matches) > limit


class Snippets:
    """FTS5's snippets for a few texts, from a small index of just them in memory: the
    same function and tokenizer as the full-text index, without seeking four doclists
    of a million texts for each one (70 us a text)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None

    def make(self, bodies: list[str], expression: str) -> list[str | None]:
        """Each body's snippet for ``expression``; None for one it does not match."""
        with self._lock:
            if self._db is None:
                self._db = scratch_index()
            db = self._db
            db.execute("DELETE FROM scratch")
            db.executemany("INSERT INTO scratch (rowid, x) VALUES (?, ?)", enumerate(bodies))
            made = dict(
                db.execute(
                    "SELECT rowid, snippet(scratch, 0, ?, ?, '…', ?) FROM scratch "
                    "WHERE scratch MATCH ?",
                    (HIGHLIGHT_START, HIGHLIGHT_END, SNIPPET_TOKENS, expression),
                ).fetchall()
            )
        return [made.get(index) for index in range(len(bodies))]


SNIPPETS = Snippets()
