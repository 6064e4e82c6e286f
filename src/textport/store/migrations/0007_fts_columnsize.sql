-- textport store, version 7: the full-text index keeps no column sizes (columnsize=0).
-- They serve only bm25 ranking, and textport never ranks: search is newest first
-- (search.py). Writing them was a fifth of the indexing time (1 M texts: 2.25 s
-- against 1.77 s, measured). The triggers of version 2 name the table, so they keep
-- working on the new one; the index is rebuilt from the messages once.
DROP TABLE messages_fts;
CREATE VIRTUAL TABLE messages_fts USING fts5 (
    body,
    content = 'messages',
    content_rowid = 'sort_key',
    tokenize = 'unicode61 remove_diacritics 2',
    columnsize = 0
);
INSERT INTO messages_fts (messages_fts) VALUES ('rebuild');
