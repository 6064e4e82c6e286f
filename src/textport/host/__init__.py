"""The host daemon: beside the SMS source, owner of the store, devices and outbox."""
