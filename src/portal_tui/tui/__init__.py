"""The Textual staff app."""
