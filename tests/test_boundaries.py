"""The boundaries of docs/architecture.md, checked statically (every import in the source) and
dynamically (what importing a layer really loads, in a fresh interpreter).

- tui/ imports neither sqlalchemy nor httpx;
- domain/ does no I/O and imports nothing of the project (nor sqlalchemy, httpx, textual);
- service/ imports neither tui/ nor the firm store/;
- `import portal_tui.cli` loads none of sqlalchemy, alembic, textual, httpx (start-up time);
- the staff app's first matter rows (settings, the first page read with sqlite3, the main
  screen) load neither sqlalchemy nor alembic: the repository opens behind them (cold start
  to the first matter row <= 2.5x a bare Textual app).
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src"
PACKAGE = SRC / "portal_tui"

HEAVY = ("sqlalchemy", "alembic", "textual", "httpx")
# Modules whose import means the domain touches the outside world.
IO_MODULES = (
    "os", "pathlib", "socket", "sqlite3", "subprocess", "shutil", "tempfile", "io", "glob",
    "asyncio", "selectors", "ssl", "http", "urllib.request", "smtplib", "ftplib", "requests",
    "psycopg", "importlib", "platformdirs", "filelock", "logging",
)  # fmt: skip


@dataclass(frozen=True)
class Import:
    path: Path
    line: int
    module: str

    def __str__(self) -> str:
        where = self.path.relative_to(SRC) if self.path.is_relative_to(SRC) else self.path
        return f"{where}:{self.line}: {self.module}"


def module_name(path: Path, root: Path = SRC) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def python_files(folder: Path) -> list[Path]:
    files = sorted(folder.rglob("*.py"))
    assert files, f"no modules under {folder}"
    return files


def imports_of(path: Path, root: Path = SRC) -> Iterator[Import]:
    """Every module `path` imports, relative imports resolved; `from a import b` yields both
    `a` and `a.b`, since b may be a submodule. TYPE_CHECKING imports count too: a layer that
    names another's types depends on it."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    name = module_name(path, root)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(path, node.lineno, alias.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = package.split(".")
                if node.level > 1:
                    base_parts = base_parts[: -(node.level - 1)]
                base = ".".join(base_parts)
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module or ""
            yield Import(path, node.lineno, target)
            for alias in node.names:
                if alias.name != "*":
                    yield Import(path, node.lineno, f"{target}.{alias.name}")


def is_within(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def violations(folder: str, forbidden: tuple[str, ...]) -> list[str]:
    return [
        str(imp)
        for path in python_files(PACKAGE / folder)
        for imp in imports_of(path)
        if is_within(imp.module, forbidden)
    ]


# Static: the source as written -----------------------------------------------------------------


def test_the_import_walker_resolves_relative_imports() -> None:
    imports = {imp.module for imp in imports_of(PACKAGE / "domain" / "__init__.py")}
    assert "portal_tui.domain.decision" in imports
    assert "portal_tui.domain.decision.Refused" in imports


def test_tui_imports_neither_sqlalchemy_nor_httpx() -> None:
    assert violations("tui", ("sqlalchemy", "httpx")) == []


def test_domain_imports_nothing_of_the_project() -> None:
    outside = [
        str(imp)
        for path in python_files(PACKAGE / "domain")
        for imp in imports_of(path)
        if is_within(imp.module, ("portal_tui",))
        and not is_within(imp.module, ("portal_tui.domain",))
    ]
    assert outside == []


def test_domain_imports_no_database_network_or_ui_library() -> None:
    assert violations("domain", ("sqlalchemy", "httpx", "textual", "rich", "alembic")) == []


def test_domain_imports_no_io_module() -> None:
    assert violations("domain", IO_MODULES) == []


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


def test_service_imports_neither_tui_nor_store() -> None:
    assert violations("service", ("portal_tui.tui", "portal_tui.store")) == []


def test_the_package_root_imports_nothing_of_the_project() -> None:
    # `import portal_tui.domain` runs portal_tui/__init__.py first; it must stay empty of
    # project imports, or the domain would drag them in.
    imports = imports_of(PACKAGE / "__init__.py")
    assert [str(imp) for imp in imports if is_within(imp.module, ("portal_tui",))] == []


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("import sqlalchemy.orm", "sqlalchemy.orm"),
        ("from sqlalchemy import select", "sqlalchemy.select"),
        ("from ..widgets import table", "portal_tui.tui.widgets.table"),
        ("from ...store import models", "portal_tui.store.models"),
        ("import portal_tui.repository as repo", "portal_tui.repository"),
        ("from . import x", "portal_tui.tui.screens.x"),
    ],
)
def test_the_import_walker_sees_every_form(tmp_path: Path, source: str, expected: str) -> None:
    # A module at src/portal_tui/tui/screens/probe.py, as the walker would meet it.
    folder = tmp_path / "src" / "portal_tui" / "tui" / "screens"
    folder.mkdir(parents=True)
    probe = folder / "probe.py"
    probe.write_text(source + "\n", encoding="utf-8")
    assert expected in {imp.module for imp in imports_of(probe, tmp_path / "src")}


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
    assert [m for m in loaded if is_within(m, (*HEAVY, "rich", "platformdirs"))] == []


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
    """Cold start (first matter row <= 2.5x a bare Textual app): from the command line's settings to
    the first matter rows on screen, nothing imports SQLAlchemy or Alembic; the repository is opened
    after them (here it never is: its opening fails once the rows are seen, and the app ends)."""
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

        asyncio.run(run())
        assert app.failure is not None
    """
    loaded = loaded_after(code)
    assert "portal_tui.tui.screens.main" in loaded
    assert [m for m in loaded if is_within(m, ("sqlalchemy", "alembic"))] == []
