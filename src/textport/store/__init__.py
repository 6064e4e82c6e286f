"""The host's SQLite store: numbered migrations, one writer, events that drive sync."""
