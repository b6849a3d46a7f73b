"""What every part of the staff app shares: the list widget, message boxes, glyphs, client text."""
