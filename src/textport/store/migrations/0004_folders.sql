-- textport store, version 4: conversation management. The flags of version 2 (pinned,
-- archived, muted, blocked) become folders a device pages on its own, and a deleted
-- conversation is announced by a new event kind, 'gone'.

-- Folders, each newest first by keyset (last_at, id): inbox (archived = 0, pinned = 0),
-- pinned (pinned = 1) and archived (archived = 1) among the unblocked; blocked apart.
-- Blocking unpins, pinning unarchives and archiving unpins, so every folder is one
-- range of one of these two indexes.
DROP INDEX conversations_recent;
CREATE INDEX conversations_folder ON conversations (archived, pinned, last_at DESC, id DESC)
    WHERE blocked = 0;
CREATE INDEX conversations_blocked ON conversations (last_at DESC, id DESC) WHERE blocked = 1;

-- events is rebuilt for its CHECK (SQLite cannot change one): 'gone' names a deleted
-- conversation. The AUTOINCREMENT high-water mark is carried over, so no seq is reused.
CREATE TABLE events_v4 (
    seq   INTEGER PRIMARY KEY AUTOINCREMENT,
    kind  TEXT    NOT NULL CHECK (kind IN ('msg', 'status', 'conv', 'gone')),
    ref   INTEGER NOT NULL,
    at    INTEGER NOT NULL
) STRICT;
INSERT INTO events_v4 (seq, kind, ref, at) SELECT seq, kind, ref, at FROM events;
INSERT INTO sqlite_sequence (name, seq)
    SELECT 'events_v4', seq FROM sqlite_sequence WHERE name = 'events'
    AND NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'events_v4');
UPDATE sqlite_sequence SET seq = max(seq, coalesce(
    (SELECT seq FROM sqlite_sequence WHERE name = 'events'), 0)) WHERE name = 'events_v4';
DROP TABLE events;
ALTER TABLE events_v4 RENAME TO events;
