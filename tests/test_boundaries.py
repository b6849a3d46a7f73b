"""The boundaries of docs/architecture.md, checked statically (every import in the source, by the
import-linter contracts in pyproject.toml) and dynamically (what importing a layer really loads,
in a fresh interpreter).

Statically (`lint-imports`; the contracts name each rule):
- layers: cli > tui > embedded > service | repository > store > domain, none importing up;
- tui/ imports neither sqlalchemy nor httpx, nor the service but through embedded.py;
- domain/ imports nothing of the project, no I/O module, nor sqlalchemy, httpx, textual;
- service/ imports neither tui/ nor the firm store/;
- the package root imports nothing of the project;
- no import cycles between siblings anywhere: none in tui/, whose screens reach the app
  through tui/common/context.py, never tui/app.py, and none in repository/.
Here as well: domain/ calls no open(), read_text() and the like (no contract can say so).

Dynamically:
- `import portal_tui.cli` loads none of sqlalchemy, alembic, textual, httpx, asyncssh
  (start-up time);
- the staff app's first matter rows (settings, the first page read with sqlite3, the main
  screen) load neither sqlalchemy nor alembic: the repository opens behind them (cold start
  to the first matter row <= 2.5x a bare Textual app).
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src"
PACKAGE = SRC / "portal_tui"
# The venv's own script, next to its interpreter: the test extras install it.
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")

HEAVY = ("sqlalchemy", "alembic", "textual", "httpx")


def is_within(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


# Static: the source as written -----------------------------------------------------------------


def lint_imports(*args: str, src: Path = SRC) -> subprocess.CompletedProcess[str]:
    """`lint-imports` on the contracts of pyproject.toml, over the package found in `src`."""
    assert LINT_IMPORTS.exists(), f"{LINT_IMPORTS} is missing: pip install -e '.[test]'"
    env = {**os.environ, "PYTHONPATH": str(src)}
    return subprocess.run(
        # No cache: parallel test workers would share one directory in the worktree.
        [str(LINT_IMPORTS), "--no-logo", "--no-cache", *args, str(ROOT / "pyproject.toml")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def test_the_source_keeps_every_import_contract() -> None:
    run = lint_imports()
    assert run.returncode == 0, f"lint-imports found broken contracts:\n{run.stdout}{run.stderr}"
    assert "0 broken" in run.stdout


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        ("domain/texts.py", "import os", "domain-no-io"),
        ("domain/texts.py", "from .. import config", "domain-pure"),
        ("__init__.py", "from portal_tui.domain import rules", "root-empty"),
        ("tui/app.py", "def f() -> None:\n    import sqlalchemy.orm", "tui-no-db-http"),
        ("tui/app.py", "from ..service import tokens", "tui-service-via-embedded"),
        ("service/feed.py", "from ..store import models", "service-apart"),
        ("store/models.py", "from portal_tui.repository import base", "layers"),
        ("store/revision.py", "from portal_tui.store import migrate", "acyclic"),
        # The cycle the repository's services were taken apart to end: sharing and the bulk
        # share meet in share_rows.py, which imports neither.
        ("repository/share_rows.py", "from . import sharing", "acyclic"),
        # The tui: a screen knowing the app, common/ importing a feature, two features
        # importing each other.
        ("tui/matter/item_form.py", "def f() -> None:\n    from ..app import PortalApp", "acyclic"),
        ("tui/common/list_pane.py", "def f() -> None:\n    from ..sharing import bulk", "acyclic"),
        (
            "tui/sharing/flows.py",
            "def f() -> None:\n    from ..matter import forms_pane",
            "acyclic",
        ),
    ],
)
def test_a_boundary_crossed_breaks_its_contract(
    tmp_path: Path, module: str, line: str, contract: str
) -> None:
    # A copy of the package with one import that crosses a boundary; the contract that names
    # the boundary must say so (and not, say, skip it as an overlap or an indirect import).
    copy = tmp_path / "src" / "portal_tui"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    with (copy / module).open("a", encoding="utf-8") as file:
        file.write(f"\n{line}\n")
    run = lint_imports("--contract", contract, src=tmp_path / "src")
    assert run.returncode == 1, run.stdout + run.stderr
    assert "0 kept, 1 broken" in run.stdout


def python_files(folder: Path) -> list[Path]:
    files = sorted(folder.rglob("*.py"))
    assert files, f"no modules under {folder}"
    return files


def test_domain_opens_no_file() -> None:
    calls = []
    for path in python_files(PACKAGE / "domain"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.id if isinstance(func, ast.Name) else None
            attr = func.attr if isinstance(func, ast.Attribute) else None
            if name in ("open", "exec", "eval", "__import__", "input", "print") or attr in (
                "open", "read_text", "read_bytes", "write_text", "write_bytes",
            ):  # fmt: skip
                calls.append(f"{path.relative_to(SRC)}:{node.lineno}: {name or attr}()")
    assert calls == []


# Dynamic: what importing really loads -----------------------------------------------------------


def loaded_after(code: str) -> list[str]:
    """sys.modules (names) after running `code` in a fresh interpreter."""
    script = textwrap.dedent(code) + "\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))\n"
    run = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    names: list[str] = json.loads(run.stdout.splitlines()[-1])
    return names


IMPORT_ALL = """
import importlib, pkgutil
import {package} as root
for info in pkgutil.walk_packages(root.__path__, root.__name__ + "."):
    importlib.import_module(info.name)
"""


def test_importing_the_domain_loads_nothing_else() -> None:
    loaded = loaded_after(IMPORT_ALL.format(package="portal_tui.domain"))
    assert [m for m in loaded if is_within(m, (*HEAVY, "rich"))] == []
    project = [m for m in loaded if is_within(m, ("portal_tui",))]
    assert "portal_tui.domain.rules" in project
    assert [m for m in project if m != "portal_tui" and not is_within(m, ("portal_tui.domain",))] \
        == []  # fmt: skip


def test_importing_the_service_loads_neither_tui_nor_store() -> None:
    loaded = loaded_after(IMPORT_ALL.format(package="portal_tui.service"))
    assert [m for m in loaded if is_within(m, ("portal_tui.tui", "portal_tui.store"))] == []


@pytest.mark.parametrize("module", ["portal_tui.cli", "portal_tui.config"])
def test_cli_start_up_imports_nothing_heavy(module: str) -> None:
    loaded = loaded_after(f"import {module}")
    assert [m for m in loaded if is_within(m, (*HEAVY, "rich", "platformdirs", "asyncssh"))] == []


def test_help_and_config_import_nothing_heavy(tmp_path: Path) -> None:
    code = f"""
        import contextlib, io, os
        os.environ["PORTAL_TUI_CONFIG"] = {str(tmp_path / "config.toml")!r}
        os.environ["PORTAL_TUI_DATA_DIR"] = {str(tmp_path / "data")!r}
        from portal_tui.cli import main
        with contextlib.redirect_stdout(io.StringIO()):
            assert main(["--help"]) == 0
            assert main(["config"]) == 0
    """
    loaded = loaded_after(code)
    assert [m for m in loaded if is_within(m, HEAVY)] == []


def test_opening_the_firm_and_the_app_imports_no_http_client() -> None:
    """The app's path to its first screen (the repository, the main screen) leaves httpx and
    Alembic to the delivery thread and to upgrades: they cost start-up time."""
    loaded = loaded_after("import portal_tui.repository, portal_tui.tui.app")
    assert [m for m in loaded if is_within(m, ("httpx", "alembic", "fastapi", "uvicorn"))] == []


def test_the_first_matter_rows_load_no_sqlalchemy(tmp_path: Path) -> None:
    """Cold start (first matter row <= 2.5x a bare Textual app): from the command line's
    settings to the first matter rows on screen, nothing imports SQLAlchemy or Alembic; the
    repository is opened after them (here it never is: its opening fails once the rows are
    seen, and the app ends)."""
    from portal_tui.repository import Repository

    url = f"sqlite:///{tmp_path / 'firm.db'}"
    repo = Repository.open(url)
    repo.setup_firm("Hale & Forde LLP")
    repo.add_matter(repo.add_client("Ada Byrne"), number="2026-0001", name="Estate of Byrne")
    repo.close()
    code = f"""
        import asyncio, threading
        from portal_tui.config import load_settings
        settings = load_settings(
            {{"database_url": {url!r}}},
            env={{"PORTAL_TUI_CONFIG": {str(tmp_path / "none.toml")!r},
                  "PORTAL_TUI_DATA_DIR": {str(tmp_path / "data")!r}}},
        )
        from portal_tui.cli import _read_first_page_soon
        from portal_tui.tui.app import PortalApp

        seen = threading.Event()

        def open_repo():
            seen.wait(60)
            raise RuntimeError("this test opens no repository")

        first = _read_first_page_soon(settings.database_url, None)
        app = PortalApp(open_repo, deliver=False, first_page=first)

        async def run():
            async with app.run_test(size=(120, 40)) as pilot:
                for _ in range(1000):
                    tables = app.screen.query("#matters ItemTable")
                    if tables and tables.first().row_count:
                        break
                    await pilot.pause(0.01)
                assert [r.number for r in tables.first().rows_shown] == ["2026-0001"]
                seen.set()
                # The opening thread's error reaches the app in its own time (a busy machine):
                # wait for it while the app runs, or it is never recorded.
                for _ in range(3000):
                    if app.failure is not None:
                        break
                    await pilot.pause(0.01)

        asyncio.run(run())
        assert app.failure is not None
    """
    loaded = loaded_after(code)
    assert "portal_tui.tui.matters.main_screen" in loaded
    assert [m for m in loaded if is_within(m, ("sqlalchemy", "alembic"))] == []
