"""`python -m portal_tui`: the same as the `portal-tui` command."""

from portal_tui.cli import main

raise SystemExit(main())
