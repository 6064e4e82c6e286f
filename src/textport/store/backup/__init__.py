"""The "SMS Backup & Restore" XML format (SyncTech): read it as a stream, write it back.

``records`` holds what one message of such a file means to textport, ``reader`` turns a
file into records (no database), ``writer`` turns records into a file.
"""
