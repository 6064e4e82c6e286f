-- textport store, version 1: conversations keep their last message (the list query
-- does not aggregate); messages; the host outbox; paired devices; and the append-only
-- events table whose seq drives sync (docs/protocol.md section 9).

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

CREATE TABLE conversations (
    id       INTEGER PRIMARY KEY,
    peers    TEXT    NOT NULL UNIQUE,          -- the other numbers, sorted, comma-separated
    name     TEXT,                             -- contact name, NULL when unknown
    last_at  INTEGER NOT NULL DEFAULT 0,       -- ms since the epoch
    snippet  TEXT    NOT NULL DEFAULT '',
    unread   INTEGER NOT NULL DEFAULT 0 CHECK (unread >= 0)
) STRICT;
CREATE INDEX conversations_recent ON conversations (last_at DESC, id DESC);

CREATE TABLE devices (
    id          BLOB    PRIMARY KEY,           -- derive.device_id(public_key)
    public_key  BLOB    NOT NULL UNIQUE,
    name        TEXT    NOT NULL,
    agent       TEXT    NOT NULL,
    token_hash  BLOB    NOT NULL UNIQUE,       -- derive.token_hash(token); the token itself is not kept
    created_at  INTEGER NOT NULL,
    last_seen_at INTEGER,
    status      TEXT    NOT NULL CHECK (status IN ('active', 'revoked')),
    revoked_at  INTEGER
) STRICT;

CREATE TABLE messages (
    id         INTEGER PRIMARY KEY,
    conv       INTEGER NOT NULL REFERENCES conversations (id),
    dir        TEXT    NOT NULL CHECK (dir IN ('in', 'out')),
    sender     TEXT    NOT NULL,               -- the peer for inbound texts, '' for outbound
    body       TEXT    NOT NULL,
    at         INTEGER NOT NULL,
    state      TEXT    NOT NULL CHECK (state IN
                   ('sending', 'sent', 'delivered', 'failed', 'unknown', 'received')),
    reason     TEXT,
    device_id  BLOB    REFERENCES devices (id),
    cmid       TEXT,
    source_id  TEXT,                           -- the transport's id of an inbound text
    carrier_ref TEXT,                          -- the transport's id of a submitted text
    UNIQUE (device_id, cmid),
    UNIQUE (source_id)
) STRICT;
CREATE INDEX messages_thread ON messages (conv, at DESC, id DESC);
CREATE INDEX messages_carrier_ref ON messages (carrier_ref) WHERE carrier_ref IS NOT NULL;

-- Texts the host still has to hand to its transport. 'submitting' is claimed: a row
-- found in that state at start-up was maybe sent, maybe not, and becomes 'unknown'.
CREATE TABLE outbox (
    msg_id          INTEGER PRIMARY KEY REFERENCES messages (id),
    recipients      TEXT    NOT NULL,          -- comma-separated E.164 numbers
    state           TEXT    NOT NULL CHECK (state IN ('queued', 'submitting')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL
) STRICT;
CREATE INDEX outbox_due ON outbox (state, next_attempt_at);

-- Every change a device must learn, in order. kind: 'msg' (a message appeared),
-- 'status' (its state changed), 'conv' (a conversation changed); ref: its id.
CREATE TABLE events (
    seq   INTEGER PRIMARY KEY AUTOINCREMENT,
    kind  TEXT    NOT NULL CHECK (kind IN ('msg', 'status', 'conv')),
    ref   INTEGER NOT NULL,
    at    INTEGER NOT NULL
) STRICT;
