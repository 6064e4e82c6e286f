-- textport store, version 3: a received text that came without some of its parts is
-- marked as partial (which parts of how many), rather than described in its reason.

ALTER TABLE messages ADD COLUMN parts   INTEGER NOT NULL DEFAULT 1 CHECK (parts BETWEEN 1 AND 255);
-- The missing part numbers, comma-separated ("2,3"); NULL when the text is whole.
ALTER TABLE messages ADD COLUMN missing TEXT CHECK (missing IS NULL OR missing GLOB '[1-9]*');

