"""Sharing with clients: the share flow, bulk share, share history, sharing a form."""
