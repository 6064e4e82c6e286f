-- textport store, version 5: the devices page. A device paired for one browser session
-- only is unpaired soon after it disconnects for good; any device idle for the host's
-- device_idle_days is unpaired too. revoked_by says who unpaired it (docs/protocol.md
-- section 11): 'user' (the CLI or a paired browser), 'idle' or 'session'.
ALTER TABLE devices ADD COLUMN session_only INTEGER NOT NULL DEFAULT 0
    CHECK (session_only IN (0, 1));
ALTER TABLE devices ADD COLUMN revoked_by TEXT
    CHECK (revoked_by IS NULL OR revoked_by IN ('user', 'idle', 'session'));
