"""Phrases found through an index of adjacent word pairs (``message_pairs``, migration 0009).

FTS5 finds a phrase by walking the doclist of every word in it. When every word is
common and the phrase is rare, that is most of the index: 8-9 ms at a million texts for
``"on the way home"``, each of its words in 12-49 % of them. The pair index holds each
two adjacent words of a text as one term (``way_home``), so a phrase of n words becomes
n - 1 terms with short doclists, and only the few texts holding all of them are read and
checked for the phrase itself: 0.3-0.5 ms (docs/history.md, "Figures").

A pair the index missed would hide a text from a search, so the words must be exactly
those of the full-text index's tokenizer (``unicode61 remove_diacritics 2``), whose
tables are SQLite's, not Python's (they disagree on thousands of characters). So
:class:`Words` asks SQLite itself, the first time it meets a character outside ASCII,
how that tokenizer treats it: a separator, or a word character and what it folds to.
The tokenizer's treatment of a character does not depend on its neighbours
(``tests/store/test_phrases.py`` checks every code point).

The pair table's own tokenizer is ``ascii`` with ``_`` as a word character: it keeps a
pair term whole (folded words hold only lower-case ASCII letters and digits, or
characters above ASCII, which ``ascii`` leaves alone) and changes nothing in it.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable
from itertools import pairwise

TOKENIZER = "unicode61 remove_diacritics 2"
"""The full-text index's tokenizer (migrations 0007 and 0008 spell it out)."""


def scratch_index() -> sqlite3.Connection:
    """A private in-memory database with one FTS5 table, ``scratch (x)``, tokenized as
    the full-text index is: for asking FTS5 itself about a few texts."""
    db = sqlite3.connect(":memory:", check_same_thread=False)
    db.execute(f"CREATE VIRTUAL TABLE scratch USING fts5 (x, tokenize = '{TOKENIZER}')")
    return db


_ASCII = bytes(ord(chr(c).lower()) if chr(c).isalnum() else 32 for c in range(256))


class Words:
    """Text split into the full-text index's words: folded, in order."""

    def __init__(self) -> None:
        # Each code point seen: what it becomes in a word, or " " for a separator.
        self._table: dict[int, str] = {
            code: chr(code).lower() if chr(code).isalnum() else " " for code in range(128)
        }
        self._lock = threading.Lock()
        self._probe: sqlite3.Connection | None = None

    def split(self, text: str) -> list[str]:
        if not text.isascii():
            unknown = {ord(ch) for ch in text}.difference(self._table)
            if unknown:
                self._learn(unknown)
        return text.translate(self._table).split()

    def pairs(self, text: str) -> str:
        """The pair index's text for a message: its adjacent words, joined by ``_``."""
        if text.isascii():  # the same, a fifth faster: a million texts take 1.4 s
            data = text.encode().translate(_ASCII).split()
            return b" ".join(map(b"_".join, pairwise(data))).decode()
        words = self.split(text)
        return " ".join(map("_".join, pairwise(words)))

    def _learn(self, codes: Iterable[int]) -> None:
        """Ask SQLite's tokenizer about each character, inside a word: ``a<c>a`` gives
        one term (``c`` is a word character; the term's middle is its folding, maybe
        nothing for a combining accent) or two (``c`` separates words)."""
        with self._lock:
            if self._probe is None:
                self._probe = scratch_index()
                self._probe.execute(
                    "CREATE VIRTUAL TABLE scratch_terms USING fts5vocab (scratch, instance)"
                )
            db = self._probe
            codes = [code for code in codes if code not in self._table]
            # A lone surrogate cannot be stored (it is not UTF-8): a separator here.
            asked = [code for code in codes if not 0xD800 <= code <= 0xDFFF]
            db.execute("DELETE FROM scratch")
            db.executemany(
                "INSERT INTO scratch (rowid, x) VALUES (?, ?)",
                [(code, f"a{chr(code)}a") for code in asked],
            )
            terms: dict[int, list[str]] = {}
            for term, doc in db.execute("SELECT term, doc FROM scratch_terms"):
                terms.setdefault(doc, []).append(term)
            for code in codes:
                found = terms.get(code, [])
                self._table[code] = found[0][1:-1] if len(found) == 1 else " "


def contains(words: list[str], phrase: list[str]) -> bool:
    """Whether ``phrase`` occurs in ``words``, word after word."""
    size = len(phrase)
    first = phrase[0]
    return any(
        word == first and words[start : start + size] == phrase for start, word in enumerate(words)
    )


WORDS = Words()
"""One table for the process: it depends only on the SQLite library."""
