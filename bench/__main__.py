"""`python -m bench` (from the repository's root, with its venv's python)."""

import sys

from .cli import main

sys.exit(main())
