"""portal-tui: a law firm's client portal — staff terminal app and client portal service."""

__version__ = "0.1.0"
