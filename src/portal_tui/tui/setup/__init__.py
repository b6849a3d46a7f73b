"""Setup: the firm's portal settings, staff and intake forms."""
