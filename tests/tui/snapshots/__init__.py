"""SVG snapshots of every screen and modal of the staff app, at 80x24 and 120x40."""
