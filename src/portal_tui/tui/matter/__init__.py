"""One matter: its details, billing, client portal, messages, forms and item forms."""
