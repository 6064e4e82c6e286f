-- textport store, version 6: scheduled texts. A text scheduled for later waits in the
-- outbox with scheduled = 1 until the worker claims it at its time (next_attempt_at).
-- Devices see it as state "queued": messages.state cannot say so itself (its CHECK has
-- no 'queued', and changing a CHECK means rebuilding the messages table), so the
-- message is stored as 'sending' and the store renders it "queued" while this flag is
-- set. ADD COLUMN with a constant default rewrites nothing, at any history size.
ALTER TABLE outbox ADD COLUMN scheduled INTEGER NOT NULL DEFAULT 0 CHECK (scheduled IN (0, 1));
