"""Phrase search through the index of adjacent word pairs (store/phrases.py, migration 9):
the words are exactly FTS5's, so the pairs miss no text, and a phrase search finds what
FTS5's own phrase query finds, newest first, with its snippets."""

from __future__ import annotations

import re
import sqlite3
from itertools import pairwise
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from textport.store import search as search_module
from textport.store.attachments import AttachmentFiles
from textport.store.backup.records import Attachment, HistoryMessage
from textport.store.db import connect, migrate
from textport.store.history import HistoryImport
from textport.store.phrases import TOKENIZER, Words, contains
from textport.store.search import match_expression, search
from textport.store.store import Store

NOW = 1_790_000_000.0
PAIR_WORD = re.compile("[a-z0-9\x80-\U0010ffff]+")
"""What the pair table's ``ascii`` tokenizer keeps whole (with ``_``) and leaves as is."""


def _fts_words(db: sqlite3.Connection, texts: list[str]) -> list[list[str]]:
    """Each text's terms as FTS5 itself indexes them, in order."""
    db.execute("DELETE FROM t")
    db.executemany("INSERT INTO t (rowid, x) VALUES (?, ?)", enumerate(texts))
    found: list[list[tuple[int, str]]] = [[] for _ in texts]
    for term, doc, offset in db.execute("SELECT term, doc, offset FROM v"):
        found[doc].append((offset, term))
    return [[term for _, term in sorted(terms)] for terms in found]


def test_words_are_the_index_words_for_every_character_in_every_position() -> None:
    """Every code point but the surrogates, at the start, middle and end of a word, on
    its own, and next to others: Words splits and folds as SQLite's unicode61 does."""
    db = sqlite3.connect(":memory:")
    db.execute(f"CREATE VIRTUAL TABLE t USING fts5 (x, tokenize = '{TOKENIZER}')")
    db.execute("CREATE VIRTUAL TABLE v USING fts5vocab (t, instance)")
    codes = [c for c in range(1, 0x110000) if not 0xD800 <= c <= 0xDFFF]
    checked = 0
    for start in range(0, len(codes), 64 * 2000):  # a fresh table for each 128 k
        words = Words()
        texts = []
        for at in range(start, min(start + 64 * 2000, len(codes)), 64):
            chunk = [chr(c) for c in codes[at : at + 64]]
            texts.append("".join(f"{ch}q{ch} Q{ch}q {ch} " for ch in chunk) + "".join(chunk))
        for text, expected in zip(texts, _fts_words(db, texts), strict=True):
            got = words.split(text)
            assert got == expected, f"{text!r}: {got} != {expected}"
            assert all(PAIR_WORD.fullmatch(word) for word in got), got
            checked += len(text) // 11  # 11 characters of text per code point
    assert checked == len(codes) == 0x110000 - 0x800 - 1


def test_pairs_are_adjacent_words_and_contains_is_word_after_word() -> None:
    words = Words()
    assert words.pairs("On the WAY home!") == "on_the the_way way_home"
    assert words.pairs("Ça va? Très bien, Zoë.") == "ca_va va_tres tres_bien bien_zoe"
    assert words.pairs("one") == ""
    assert words.pairs("snake_case it") == "snake_case case_it", "_ separates words"
    text = words.split("on the way, the way home")
    assert not contains(text, ["on", "the", "way", "home"])
    assert contains(text, ["the", "way", "home"])
    assert contains(text, ["on", "the"])


@given(st.text(st.characters(max_codepoint=0x7F)) | st.text())
@settings(max_examples=300, deadline=None)
def test_pairs_join_the_words_split_makes(text: str) -> None:
    """ASCII texts take a faster path (bytes) to the same pairs."""
    words = Words()
    split = words.split(text)
    assert words.pairs(text) == " ".join(f"{a}_{b}" for a, b in pairwise(split))


def _store(tmp_path: Path) -> Store:
    return Store(connect(tmp_path / "t.db"), lambda: NOW)


def _phrase_ids(db: sqlite3.Connection, phrase: str) -> list[int]:
    """FTS5's own answer, newest first: the full-text index's phrase query."""
    rows = db.execute(
        "SELECT m.id FROM messages_fts f JOIN messages m ON m.sort_key = f.rowid "
        "WHERE messages_fts MATCH ? ORDER BY f.rowid",
        ('"' + phrase.replace('"', '""') + '"',),
    )
    return [row[0] for row in rows]


def test_a_rare_phrase_is_found_through_the_pairs_with_its_snippet(tmp_path: Path) -> None:
    store = _store(tmp_path)
    hit = store.add_incoming("+15550100", "Pick up milk On THE wáy home, please", 10, "a")
    pairs_only = store.add_incoming("+15550100", "on the way, the way home", 11, "b")  # no phrase
    store.add_incoming("+15550100", "home the way on", 12, "c")
    later = store.add_incoming("+15550101", "on the way home now", 13, "d")
    assert hit is not None and later is not None
    blocked = store.add_incoming("+15550102", "on the way home too", 14, "e")
    assert blocked is not None
    store.set_flags(store.message(blocked).conv, blocked=True)
    statements: list[str] = []
    store.db.set_trace_callback(statements.append)
    matches, more = search(store.db, '"on the way home"')
    store.db.set_trace_callback(None)
    assert any("message_pairs MATCH" in sql for sql in statements), "read through the pairs"
    assert [m.msg_id for m in matches] == [later, hit]
    assert not more
    assert matches[1].snippet == ("Pick up milk \x02On THE wáy home\x03, please"), (
        "FTS5 still marks the phrase"
    )
    first, more = search(store.db, '"on the way home"', limit=1)
    assert [m.msg_id for m in first] == [later]
    assert more
    rest, more = search(store.db, '"on the way home"', before=first[0].key, limit=1)
    assert ([m.msg_id for m in rest], more) == ([hit], False)
    assert search(store.db, '"milk way home"')[0] == []

    store.delete_conversation(store.message(later).conv)
    assert [m.msg_id for m in search(store.db, '"on the way home"')[0]] == [hit]
    left = store.db.execute("SELECT rowid FROM message_pairs WHERE message_pairs MATCH 'way_home'")
    assert [row[0] for row in left] == [hit, pairs_only, blocked], "deleted texts' pairs go"
    store.db.execute("INSERT INTO message_pairs (message_pairs) VALUES ('integrity-check')")


_VOCABULARY = ["on", "the", "way", "home", "Héllo", "hello", "ça", "va", "x_y", "😀", "no."]


@given(
    bodies=st.lists(
        st.lists(st.sampled_from(_VOCABULARY), min_size=1, max_size=8).map(" ".join),
        min_size=1,
        max_size=30,
    ),
    phrase=st.lists(st.sampled_from(_VOCABULARY), min_size=2, max_size=4).map(" ".join),
    word=st.sampled_from(["", "on", "ho", "hél", "va", '"the way"']),
    limit=st.integers(1, 40),
)
@settings(max_examples=80, deadline=None)
def test_the_pairs_find_what_fts5_finds(
    bodies: list[str], phrase: str, word: str, limit: int
) -> None:
    """A phrase alone, or with another term (the last typed word is a prefix): newest
    first, a page of ``limit`` and whether there is more, as FTS5's own answer for the
    same expression."""
    db = sqlite3.connect(":memory:", isolation_level=None)
    db.row_factory = sqlite3.Row
    migrate(db)
    store = Store(db, lambda: NOW)
    for n, body in enumerate(bodies):
        store.add_incoming(f"+1555010{n % 3}", body, 100 + n % 7, f"s{n}")
    query = f'"{phrase}" {word}'
    expression = match_expression(query)
    assert expression is not None
    expected = [
        row[0]
        for row in db.execute(
            "SELECT m.id FROM messages_fts f JOIN messages m ON m.sort_key = f.rowid "
            "WHERE messages_fts MATCH ? ORDER BY f.rowid",
            (expression,),
        )
    ]
    matches, more = search(db, query, limit=limit)
    assert [m.msg_id for m in matches] == expected[:limit]
    assert more == (len(expected) > limit)
    if matches:
        page, _ = search(db, query, before=matches[-1].key, limit=100)
        assert [m.msg_id for m in page] == expected[len(matches) :]


def test_an_import_indexes_pairs_and_an_upgrade_indexes_the_older_texts(tmp_path: Path) -> None:
    """Imported texts are found by phrase; a store at version 8 gets its texts' pairs
    when it first opens at version 9, once."""
    db = sqlite3.connect(tmp_path / "t.db", isolation_level=None)
    db.row_factory = sqlite3.Row
    migrate(db, upto=8)
    old = Store(db, lambda: NOW)
    old.index_pairs = lambda pairs: None  # type: ignore[method-assign]  # none at version 8
    before = old.add_incoming("+15550100", "see you on the way home", 5, "s1")
    db.close()

    store = Store(connect(tmp_path / "t.db"), lambda: NOW)
    assert store.get_meta("phrase_pairs") is None
    assert [m.msg_id for m in search(store.db, '"on the way home"')[0]] == [before]
    history = [
        HistoryMessage(
            kind="sms",
            direction="in",
            peers=(f"+1555010{n % 4}",),
            sender=f"+1555010{n % 4}",
            body=f"text {n} on the way home" if n % 100 == 7 else f"text {n} on the way",
            at_ms=1000 + n,
            read=True,
            state="received",
            # Texts with attachments are stored after the others of their batch.
            attachments=(Attachment("image/png", "p.png", b"png"),) if n % 3 == 0 else (),
        )
        for n in range(500)
    ]
    HistoryImport(store, AttachmentFiles(tmp_path / "a"), batch=64).run(history)
    found = search(store.db, '"on the way home"')[0]
    assert [m.at for m in found] == [1407, 1307, 1207, 1107, 1007, 5]  # 1207 has a picture
    assert found == search(store.db, '"on the way home"', limit=50)[0]
    assert [m.msg_id for m in found] == _phrase_ids(store.db, "on the way home")
    segments = store.db.execute("SELECT count(DISTINCT segid) FROM message_pairs_idx")
    assert segments.fetchone()[0] == 1, "the import merges the pairs' segments too"


def test_a_phrase_in_more_texts_than_are_checked_goes_to_fts5(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past PAIR_CANDIDATES texts holding its pairs, FTS5 finds a page of the phrase (it
    is common, so that is fast); the answer is the same either way."""
    store = _store(tmp_path)
    for n in range(6):
        store.add_incoming("+15550100", f"see you soon {n}", 10 + n, f"s{n}")
    store.add_incoming("+15550100", "soon you see, see you", 20, "x")  # pairs, no phrase
    checked = [m.msg_id for m in search(store.db, '"see you soon"', limit=4)[0]]
    monkeypatch.setattr(search_module, "PAIR_CANDIDATES", 3)
    statements: list[str] = []
    store.db.set_trace_callback(statements.append)
    matches, more = search(store.db, '"see you soon"', limit=4)
    store.db.set_trace_callback(None)
    assert any("messages_fts MATCH" in sql and "snippet" in sql for sql in statements)
    assert [m.msg_id for m in matches] == checked == _phrase_ids(store.db, "see you soon")[:4]
    assert more
    assert matches[0].snippet == "\x02see you soon\x03 5"
