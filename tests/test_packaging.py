"""The wheel carries what the app loads at run time: the Textual styles and the migrations."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_wheel_holds_styles_and_migrations(tmp_path: Path) -> None:
    src = tmp_path / "src-copy"
    shutil.copytree(
        ROOT, src, ignore=shutil.ignore_patterns(".venv", ".git", "*.db", "__pycache__", ".*_cache")
    )
    out = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "hatchling", "build", "-t", "wheel", "-d", str(out)],
        cwd=src,
        check=True,
        capture_output=True,
    )
    (wheel,) = out.glob("portal_tui-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "portal_tui/tui/styles/app.tcss" in names
    assert "portal_tui/store/migrations/script.py.mako" in names
    assert "portal_tui/store/migrations/versions/0001_initial.py" in names
    assert "portal_tui/service/migrations/env.py" in names
    assert "portal_tui/service/migrations/script.py.mako" in names
    assert "portal_tui/service/migrations/versions/0001_portal_initial.py" in names
    assert any(n.endswith("entry_points.txt") for n in names)
