"""History at scale in the store: migration 2, keyset pages, full-text search, and
bulk import and export of history records with attachments kept as files."""

from __future__ import annotations

import random
import sqlite3
import types
from concurrent.futures import Executor
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from textport.store.attachments import AttachmentFiles
from textport.store.backup.records import Attachment, HistoryMessage
from textport.store.db import SCHEMA_VERSION, connect, migrate
from textport.store.history import HistoryImport, export_history
from textport.store.search import match_expression, search
from textport.store.store import SORT_BITS, Store

NOW = 1_790_000_000.0
PNG = bytes.fromhex("89504e470d0a1a0a") + b"pixels"


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(connect(tmp_path / "t.db"), lambda: NOW)


def _sms(peer: str, body: str, at: int, direction: str = "in", **extra: object) -> HistoryMessage:
    return HistoryMessage(
        kind="sms",
        direction="in" if direction == "in" else "out",
        peers=(peer,),
        sender=peer if direction == "in" else "",
        body=body,
        at_ms=at,
        read=bool(extra.pop("read", True)),
        state="received" if direction == "in" else "sent",
        **extra,  # type: ignore[arg-type]
    )


def test_a_version_1_database_is_migrated_with_its_data(tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / "t.db", isolation_level=None)
    migrate(db, upto=1)
    db.execute("INSERT INTO conversations (peers, name, last_at) VALUES ('+15550100', 'Ana', 5)")
    db.execute("INSERT INTO conversations (peers, last_at) VALUES ('+15550101,+15550102', 6)")
    for at, body in ((5, "same ms one"), (5, "same ms two"), (6, "group hello")):
        db.execute(
            "INSERT INTO messages (conv, dir, sender, body, at, state) "
            "VALUES (?, 'in', '+15550100', ?, ?, 'received')",
            (1 if at == 5 else 2, body, at),
        )
    db.close()

    store = Store(connect(tmp_path / "t.db"), lambda: NOW)
    assert store.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert store.db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    participants = store.db.execute("SELECT conv, number FROM participants ORDER BY 1, 2")
    assert [tuple(row) for row in participants] == [
        (1, "+15550100"),
        (2, "+15550101"),
        (2, "+15550102"),
    ]
    contacts = store.db.execute("SELECT number, name FROM contacts")
    assert [tuple(row) for row in contacts] == [("+15550100", "Ana")]
    keys = [row[0] for row in store.db.execute("SELECT sort_key FROM messages ORDER BY id")]
    assert keys == [-(5 << SORT_BITS), -(5 << SORT_BITS) - 1, -(6 << SORT_BITS)]
    assert [m.msg_id for m in search(store.db, "hello")[0]] == [3]
    assert [m.msg_id for m in search(store.db, "ms")[0]] == [2, 1]


def test_a_partial_text_is_marked_with_the_parts_that_never_came(store: Store) -> None:
    whole = store.add_incoming("+15550100", "all of it", 5, "s1", parts=3)
    partial = store.add_incoming("+15550100", "end only", 6, "s2", parts=4, missing=(3, 1))
    assert whole is not None and partial is not None
    conv = store.db.execute("SELECT conv FROM messages WHERE id = ?", (whole,)).fetchone()[0]
    records = {m.id: m for m in store.thread_page(conv, limit=10)}
    assert (records[whole].parts, records[whole].missing) == (3, [])
    assert (records[partial].parts, records[partial].missing) == (4, [1, 3])
    assert records[partial].reason is None
    with pytest.raises(sqlite3.IntegrityError):
        store.add_incoming("+15550100", "no such part", 7, "s3", parts=300)


def test_sort_keys_are_unique_and_ascend_from_the_newest(store: Store, tmp_path: Path) -> None:
    """Live texts and imported ones of the same millisecond each take the next lower key,
    and search lists them newest first, the later of one millisecond first."""
    ids = [store.add_incoming("+15550100", f"t{i}", at, f"s{i}") for i, at in enumerate([9, 9, 3])]
    history = [_sms("+15550100", f"t{i}", at) for i, at in ((3, 9), (4, 3), (5, 3))]
    HistoryImport(store, AttachmentFiles(tmp_path / "a")).run(history)
    keys = dict(store.db.execute("SELECT body, sort_key FROM messages").fetchall())
    high9, high3 = -(9 << SORT_BITS), -(3 << SORT_BITS)
    assert keys == {
        "t0": high9,
        "t1": high9 - 1,
        "t2": high3,
        "t3": high9 - 2,
        "t4": high3 - 1,
        "t5": high3 - 2,
    }
    bodies = dict(store.db.execute("SELECT id, body FROM messages").fetchall())
    found = [bodies[m.msg_id] for m in search(store.db, "t")[0]]
    assert found == ["t3", "t1", "t0", "t5", "t4", "t2"]
    assert [bodies[i] for i in ids] == ["t0", "t1", "t2"]


def test_pages_of_conversations_and_of_a_thread_have_no_gaps_or_repeats(store: Store) -> None:
    rng = random.Random(7)
    for i in range(230):
        peer = f"+1555011{rng.randrange(60):02d}"
        store.add_incoming(peer, f"text {i}", rng.randrange(10**6), f"s{i}")
    seen: list[int] = []
    before = None
    while page := store.conversations_page(before, limit=7):
        seen += [c.id for c in page]
        before = (page[-1].last_at, page[-1].id)
    expected = store.db.execute(
        "SELECT id FROM conversations ORDER BY last_at DESC, id DESC"
    ).fetchall()
    assert seen == [row[0] for row in expected]

    conv = store.db.execute(
        "SELECT conv FROM messages GROUP BY conv ORDER BY count(*) DESC LIMIT 1"
    ).fetchone()[0]
    got: list[int] = []
    cursor = None
    while page_m := store.thread_page(conv, cursor, limit=3):
        got += [m.id for m in page_m]
        cursor = (page_m[-1].at, page_m[-1].id)
    expected = store.db.execute(
        "SELECT id FROM messages WHERE conv = ? ORDER BY at DESC, id DESC", (conv,)
    ).fetchall()
    assert got == [row[0] for row in expected]
    assert len(got) > 3


def test_archived_conversations_leave_the_list(store: Store) -> None:
    store.add_incoming("+15550100", "a", 1, "a")
    store.add_incoming("+15550101", "b", 2, "b")
    store.db.execute("UPDATE conversations SET archived = 1 WHERE peers = '+15550101'")
    assert [c.peers for c in store.conversations_page()] == [["+15550100"]]


@pytest.mark.parametrize(
    ("typed", "expression"),
    [
        ("hello", '"hello"*'),
        ("hello wor", '"hello" AND "wor"*'),
        ('"see you" soon', '"see you" AND "soon"*'),
        ('say "see you"', '"say" AND "see you"'),
        ("AND OR NOT", '"AND" AND "OR" AND "NOT"*'),
        ('he said "hi', '"he" AND "said" AND """hi"*'),
        ("- * ( )", None),
        ("", None),
    ],
)
def test_what_people_type_becomes_a_safe_match_expression(
    typed: str, expression: str | None
) -> None:
    assert match_expression(typed) == expression


def test_the_last_word_expands_into_the_terms_it_begins() -> None:
    vocabulary = {"din": ["dinner", "dinners"], "x": [], "s": None}
    complete = vocabulary.__getitem__
    assert match_expression("see DÍN", complete) == '"see" AND ("dinner" OR "dinners")'
    assert match_expression("x", complete) is None, "no term begins it: nothing can match"
    assert match_expression("see s", complete) == '"see" AND "s"*', "too many: FTS5's prefix"
    assert match_expression("o'clock", complete) == '"o\'clock"*', "two tokens: no expansion"


def test_the_vocabulary_lists_indexed_terms_and_learns_new_ones(store: Store) -> None:
    store.add_incoming("+15550100", "Dinner at Café Noir", 1, "a")
    vocabulary = store.vocabulary
    assert vocabulary.complete("din") == ["dinner"]
    assert vocabulary.complete("cafe") == ["cafe"]
    store.add_incoming("+15550100", "dinners again", 2, "b")
    assert vocabulary.complete("din") == ["dinner", "dinners"]
    assert [m.at for m in search(store.db, "din", vocabulary=vocabulary)[0]] == [2, 1]
    many = " ".join(f"zz{n:03d}" for n in range(100))
    store.add_incoming("+15550100", many, 3, "c")
    assert vocabulary.complete("zz") is None
    assert [m.at for m in search(store.db, "zz", vocabulary=vocabulary)[0]] == [3]


@given(st.text(alphabet='abcdé AND"*-', max_size=12))
@settings(max_examples=100, deadline=None)
def test_search_finds_the_same_with_and_without_the_vocabulary(typed: str) -> None:
    store = _memory_store()
    for n, body in enumerate(["abc dab", "bad cab", "Abé dé", "dad AND cad", "b-a"]):
        store.add_incoming("+15550101", body, 10 + n, f"v{n}")
    plain = search(store.db, typed)[0]
    expanded = search(store.db, typed, vocabulary=store.vocabulary)[0]
    assert [m.msg_id for m in expanded] == [m.msg_id for m in plain]


@given(st.text(max_size=40))
@settings(max_examples=200, deadline=None)
def test_no_typed_text_breaks_the_search(typed: str) -> None:
    matches, more = search(_memory_store().db, typed)
    assert isinstance(matches, list)
    assert not more


def _memory_store() -> Store:
    db = sqlite3.connect(":memory:", isolation_level=None)
    db.row_factory = sqlite3.Row
    migrate(db)
    store = Store(db, lambda: NOW)
    store.add_incoming("+15550100", 'Dinner at 8? Café Noir, "usual" table (AND) -- ok*', 5, "x")
    return store


def test_search_is_newest_first_with_highlights_and_pages(store: Store) -> None:
    for i in range(12):
        store.add_incoming("+15550100", f"pizza night number {i}", 1000 + i, f"p{i}")
    store.add_incoming("+15550101", "Café crème tonight?", 5000, "c")
    store.add_incoming("+15550101", "nothing to see", 6000, "n")

    first, more = search(store.db, "pizza", limit=5)
    assert more
    assert [m.at for m in first] == [1011, 1010, 1009, 1008, 1007]
    assert first[0].snippet == "\x02pizza\x03 night number 11"
    rest: list[int] = []
    before = first[-1].key
    while True:
        page, more = search(store.db, "pizza", before=before, limit=5)
        rest += [m.at for m in page]
        if not more:
            break
        before = page[-1].key
    assert rest == [1006, 1005, 1004, 1003, 1002, 1001, 1000]

    # Accents do not matter; the last word is a prefix while it is typed.
    assert [m.snippet for m in search(store.db, "creme")[0]] == ["Café \x02crème\x03 tonight?"]
    assert [m.at for m in search(store.db, "ton")[0]] == [5000]
    assert search(store.db, '"night number 3"')[0][0].at == 1003
    assert search(store.db, "pizza crème")[0] == []


def test_import_writes_messages_conversations_attachments_and_names(
    store: Store, tmp_path: Path
) -> None:
    files = AttachmentFiles(tmp_path / "attachments")
    history = [
        _sms("+15550100", "hi there", 1000, names={"+15550100": "Ana"}),
        _sms("+15550100", "hello back", 2000, direction="out"),
        _sms("+15550100", "unread one", 3000, read=False),
        HistoryMessage(
            kind="mms",
            direction="in",
            peers=("+15550101", "+15550102"),
            sender="+15550102",
            body="",
            at_ms=4000,
            read=True,
            state="received",
            attachments=(
                Attachment("image/png", "cat.png", PNG),
                Attachment("image/jpeg", "broken.jpg", None, "corrupt base64"),
            ),
        ),
    ]
    progress: list[int] = []
    result = HistoryImport(store, files, batch=3, progress=progress.append).run(history)
    assert (result.messages, result.duplicates, result.attachments, result.broken) == (4, 0, 1, 1)
    assert len(result.conversations) == 2
    assert progress == [3, 1]

    ana, group = store.conversations_page()[::-1]
    assert (ana.hist, group.hist) == (1, 1), "each batch that adds history bumps hist"
    assert (ana.name, ana.snippet, ana.unread, ana.last_at) == ("Ana", "unread one", 1, 3000)
    assert (group.peers, group.snippet) == (["+15550101", "+15550102"], "📷 Photo")
    rows = store.db.execute(
        "SELECT content_type, size, sha256, broken FROM attachments ORDER BY seq"
    ).fetchall()
    assert rows[0]["size"] == len(PNG)
    assert files.path(rows[0]["sha256"]).read_bytes() == PNG
    assert files.path(rows[0]["sha256"]).stat().st_mode & 0o777 == 0o600
    assert (rows[1]["sha256"], rows[1]["broken"]) == (None, "corrupt base64")
    # One event per conversation per batch, not one per message.
    kinds = [row[0] for row in store.db.execute("SELECT kind FROM events")]
    assert "msg" not in kinds

    again = HistoryImport(store, files).run(history)
    assert (again.messages, again.duplicates) == (0, 4)
    assert store.db.execute("SELECT count(*) FROM messages").fetchone()[0] == 4


def test_an_import_leaves_the_search_index_in_one_segment(store: Store, tmp_path: Path) -> None:
    """Later writes must not pay for merging the import's segments (docs/history.md)."""
    history = [_sms(f"+1555010{i % 7}", f"word{i} and more", 1000 + i) for i in range(500)]

    def segments() -> int:
        row = store.db.execute("SELECT count(DISTINCT segid) FROM messages_fts_idx").fetchone()
        return int(row[0])

    HistoryImport(store, AttachmentFiles(tmp_path / "a"), batch=50).run(history)
    assert segments() == 1
    assert [m.msg_id for m in search(store.db, "word123")[0]] == [124]
    store.add_incoming("+15550100", "a live text", 9_000, "live")
    assert segments() == 2


def _merging(store: Store, table: str = "messages_fts") -> dict[str, int]:
    rows = store.db.execute(
        f"SELECT k, v FROM {table}_config WHERE k IN ('automerge', 'crisismerge')"
    )
    return {row[0]: row[1] for row in rows}


def test_an_import_pauses_index_merges_and_turns_them_back_on(store: Store, tmp_path: Path) -> None:
    """Segments pile up unmerged during the import (merged once at its end); after it,
    FTS5 merges as it always does."""
    history = [_sms(f"+1555010{i % 7}", f"word{i}", 1000 + i) for i in range(400)]
    seen: list[int] = []
    real_write = HistoryImport._write

    def write(self: HistoryImport, batch: list[HistoryMessage], indexer: Executor) -> None:
        real_write(self, batch, indexer)
        seen.append(_merging(store)["automerge"])
        assert _merging(store, "message_pairs") == {"automerge": 0, "crisismerge": 1999}

    importer = HistoryImport(store, AttachmentFiles(tmp_path / "a"), batch=40)
    importer._write = types.MethodType(write, importer)  # type: ignore[method-assign]
    importer.run(history)
    assert seen == [0] * 10
    assert _merging(store) == {"automerge": 4, "crisismerge": 16}
    assert _merging(store, "message_pairs") == {"automerge": 4, "crisismerge": 16}


def test_merges_paused_by_a_killed_import_resume_when_the_store_opens_again(
    tmp_path: Path,
) -> None:
    path = tmp_path / "t.db"
    first = Store(connect(path), lambda: NOW)
    paused = first.bulk_index()
    paused.__enter__()  # the importer is killed inside: its finally never runs
    assert _merging(first) == {"automerge": 0, "crisismerge": 1999}
    again = Store(connect(path), lambda: NOW)
    assert _merging(again) == {"automerge": 4, "crisismerge": 16}


def test_export_then_import_into_a_fresh_store_round_trips(store: Store, tmp_path: Path) -> None:
    files = AttachmentFiles(tmp_path / "a1")
    store.add_incoming("+15550100", "live text", 500, "live")
    history = [
        _sms("+15550100", "imported", 1000, names={"+15550100": "Ana"}),
        HistoryMessage(
            kind="mms",
            direction="out",
            peers=("+15550101", "+15550102"),
            sender="",
            body="look",
            at_ms=2000,
            read=True,
            state="delivered",
            subject="Trip",
            attachments=(Attachment("image/png", "cat.png", PNG),),
        ),
    ]
    HistoryImport(store, files).run(history)
    exported = list(export_history(store, files))
    assert [m.body for m in exported] == ["live text", "imported", "look"]
    assert exported[1:] == history

    fresh = Store(connect(tmp_path / "fresh.db"), lambda: NOW)
    fresh_files = AttachmentFiles(tmp_path / "a2")
    first = HistoryImport(fresh, fresh_files).run(exported)
    assert first.messages == 3
    assert list(export_history(fresh, fresh_files)) == exported
    # Exported records dedupe against the store they came from, live texts included.
    back = HistoryImport(store, files).run(exported)
    assert (back.messages, back.duplicates) == (0, 3)


def _store_before_pairs(db: sqlite3.Connection) -> Store:
    """Today's Store on a schema older than 9, which had no word-pair index to write."""
    store = Store(db, lambda: NOW)
    store.index_pairs = lambda pairs: None  # type: ignore[method-assign]
    return store


def test_version_7_keeps_no_column_sizes_and_finds_what_was_indexed_before(
    tmp_path: Path,
) -> None:
    """Migration 7 rebuilds the index without its docsize table; earlier texts are still
    found, and the delete trigger still keeps the index right."""
    db = sqlite3.connect(tmp_path / "t.db", isolation_level=None)
    migrate(db, upto=6)
    old = _store_before_pairs(db)
    kept = old.add_incoming("+15550100", "lunch tomorrow at noon", 5, "s1")
    gone = old.add_incoming("+15550100", "lunch is off", 6, "s2")
    # Keys as version 6 had them: ascending with time (the trigger reindexes them).
    db.execute("UPDATE messages SET sort_key = -sort_key")
    assert db.execute("SELECT count(*) FROM messages_fts_docsize").fetchone() == (2,)
    db.close()

    store = Store(connect(tmp_path / "t.db"), lambda: NOW)
    names = {row[0] for row in store.db.execute("SELECT name FROM sqlite_master")}
    assert "messages_fts_docsize" not in names
    assert [m.msg_id for m in search(store.db, "lunch")[0]] == [gone, kept]
    store.db.execute("DELETE FROM messages WHERE id = ?", (gone,))
    assert [m.msg_id for m in search(store.db, "lunch")[0]] == [kept]
    assert search(store.db, "noon")[0][0].snippet == "lunch tomorrow at \x02noon\x03"


def test_version_8_turns_the_keys_newest_first_and_reindexes_them(tmp_path: Path) -> None:
    """Migration 8 negates every sort key (ties keep their order: the later of one
    millisecond sorts first) and rebuilds the index on them; both triggers still keep
    it right, and export still runs oldest first."""
    db = sqlite3.connect(tmp_path / "t.db", isolation_level=None)
    db.row_factory = sqlite3.Row
    migrate(db, upto=7)
    old = _store_before_pairs(db)
    first = old.add_incoming("+15550100", "lunch tomorrow at noon", 5, "s1")
    second = old.add_incoming("+15550100", "lunch moved", 5, "s2")
    third = old.add_incoming("+15550100", "lunch is off", 6, "s3")
    # Keys as version 7 had them: ascending with time (the trigger reindexes them).
    db.execute("UPDATE messages SET sort_key = -sort_key")
    assert [m.msg_id for m in search(db, "lunch")[0]] == [first, second, third]
    db.close()

    store = Store(connect(tmp_path / "t.db"), lambda: NOW)
    keys = [row[0] for row in store.db.execute("SELECT sort_key FROM messages ORDER BY id")]
    assert keys == [-(5 << SORT_BITS), -(5 << SORT_BITS) - 1, -(6 << SORT_BITS)]
    assert [m.msg_id for m in search(store.db, "lunch")[0]] == [third, second, first]
    page, more = search(store.db, "lunch", limit=1)
    assert more
    assert [m.msg_id for m in search(store.db, "lunch", before=page[0].key)[0]] == [second, first]
    store.db.execute("UPDATE messages SET body = 'dinner is off' WHERE id = ?", (third,))
    assert [m.msg_id for m in search(store.db, "lunch")[0]] == [second, first]
    assert [m.msg_id for m in search(store.db, "dinner")[0]] == [third]
    store.db.execute("DELETE FROM messages WHERE id = ?", (second,))
    assert [m.msg_id for m in search(store.db, "lunch")[0]] == [first]
    exported = export_history(store, AttachmentFiles(tmp_path / "a"))
    assert [m.body for m in exported] == ["lunch tomorrow at noon", "dinner is off"]
    later = store.add_incoming("+15550100", "lunch again", 7, "s4")
    assert [m.msg_id for m in search(store.db, "lunch")[0]] == [later, first]
    # FTS5 checks its segments' structure (SQLite 3.40 does not compare the content).
    store.db.execute("INSERT INTO messages_fts (messages_fts) VALUES ('integrity-check')")
