"""The portal service: staff API, the clients' pages, and email."""
