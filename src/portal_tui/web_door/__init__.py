"""`portal-tui web`: the staff app in a browser tab, through textual-serve, for staff on a
machine with no terminal. Nobody gets in without a staff user's token (tokens.py); each
browser connection runs one app process as that staff user (server.py)."""
