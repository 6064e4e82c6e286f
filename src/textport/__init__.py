"""textport: text from any browser through your own phone number, end-to-end encrypted."""

__version__ = "0.1.0"
