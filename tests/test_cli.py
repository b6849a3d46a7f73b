"""The `portal-tui` command, run as a real process with every folder inside tmp_path.

Fine-grained setting rules are unit-tested in test_config.py; here: precedence as the user sees
it in `portal-tui config`, one line and exit status 2 for every broken setting on every command
with nothing written, the demo and seed commands, and the README/CI contract.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import sqlite3
import subprocess
import sys
import types
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from portal_tui import cli

ROOT = Path(__file__).resolve().parent.parent
README_COMMANDS = (
    "python3 -m venv .venv && .venv/bin/pip install -e . && .venv/bin/portal-tui demo",
    "python3 -m venv .venv && .venv/bin/pip install -e '.[test]'"
    " && .venv/bin/python -m pytest -n 2",
)


@dataclass(frozen=True)
class Run:
    status: int
    out: str
    err: str

    @property
    def err_lines(self) -> list[str]:
        return self.err.splitlines()


@dataclass(frozen=True)
class Home:
    root: Path
    config: Path
    data: Path
    env: dict[str, str]

    def write_config(self, text: str) -> Path:
        self.config.parent.mkdir(parents=True, exist_ok=True)
        self.config.write_text(text, encoding="utf-8")
        return self.config

    def files(self) -> list[str]:
        return sorted(str(p.relative_to(self.root)) for p in self.root.rglob("*"))

    def run(self, *args: str, timeout: float = 300, **env: str) -> Run:
        proc = subprocess.run(
            [sys.executable, "-m", "portal_tui", *args],
            env={**self.env, **env},
            cwd=self.root,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            encoding="utf-8",
            timeout=timeout,
        )
        return Run(proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture
def home(tmp_path: Path) -> Home:
    """A user with nothing yet: HOME, XDG folders, config file and data folder in tmp_path."""
    root = tmp_path / "home"
    root.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PORTAL_TUI_", "XDG_"))}
    config = root / "cfg" / "config.toml"
    data = root / "data"
    env.update(
        HOME=str(root),
        XDG_CONFIG_HOME=str(root / "xdg-config"),
        XDG_DATA_HOME=str(root / "xdg-data"),
        PORTAL_TUI_CONFIG=str(config),
        PORTAL_TUI_DATA_DIR=str(data),
        PYTHONIOENCODING="utf-8",
        NO_COLOR="1",
        COLUMNS="120",
    )
    return Home(root, config, data, env)


def settings_shown(run: Run) -> dict[str, tuple[str, str]]:
    """`portal-tui config` output as {key: (value, source)}."""
    assert run.status == 0, run.err
    shown = {}
    for line in run.out.splitlines():
        match = re.fullmatch(r"([\w.-]+) *= (.*)  \((.*)\)", line)
        assert match, f"not 'key = value  (source)': {line!r}"
        shown[match[1]] = (match[2], match[3])
    return shown


# portal-tui config: precedence as the user sees it -------------------------------------------


def test_config_shows_every_setting_with_its_source(home: Home) -> None:
    shown = settings_shown(home.run("config"))
    assert list(shown) == [
        "config_file", "data_dir", "database_url", "portal_url", "portal_token", "staff_user",
        "ascii", "smtp_host", "smtp_port", "smtp_starttls", "smtp_user", "smtp_password",
        "mail_from", "upload_limit_mb", "reset_link_valid_minutes", "sign_in_links",
        "session_places", "embedded_portal_port",
        "forwarded_allow_ips", "keep_outbox_days", "keep_feed_days",
        "keep_idempotency_days", "keep_mail_days", "keep_sessions_days",
        "keep_login_failures_days", "keymap",
    ]  # fmt: skip
    assert shown["keep_outbox_days"] == ("30", "default")
    assert shown["config_file"] == (str(home.config), "env PORTAL_TUI_CONFIG")
    assert shown["data_dir"] == (str(home.data), "env PORTAL_TUI_DATA_DIR")
    assert shown["database_url"] == (f"sqlite:///{home.data / 'firm.db'}", "default")
    assert shown["upload_limit_mb"] == ("25", "default")
    assert not home.data.exists()


def test_precedence_default_file_env_flag(home: Home) -> None:
    home.write_config(
        'database_url = "sqlite:///file.db"\n'
        'staff_user = "file-user"\n'
        'portal_url = "http://file.example"\n'
        "smtp_port = 2525\n"
    )
    shown = settings_shown(
        home.run(
            "config",
            "--database-url", "sqlite:///flag.db",
            PORTAL_TUI_DATABASE_URL="sqlite:///env.db",
            PORTAL_TUI_STAFF_USER="env-user",
        )
    )  # fmt: skip
    in_file = f"file {home.config}"
    assert shown["upload_limit_mb"] == ("25", "default")
    assert shown["smtp_port"] == ("2525", in_file)
    assert shown["portal_url"] == ("http://file.example", in_file)
    assert shown["staff_user"] == ("env-user", "env PORTAL_TUI_STAFF_USER")
    assert shown["database_url"] == ("sqlite:///flag.db", "flag --database-url")


def test_flags_work_before_and_after_the_command(home: Home) -> None:
    before = settings_shown(home.run("--no-ascii", "--staff-user", "a", "config"))
    after = settings_shown(home.run("config", "--no-ascii", "--staff-user", "a"))
    assert before == after
    assert before["ascii"] == ("false", "flag --no-ascii")
    assert before["staff_user"] == ("a", "flag --staff-user")


def test_config_flag_names_the_file(home: Home, tmp_path: Path) -> None:
    other = tmp_path / "other.toml"
    other.write_text('staff_user = "other"\n', encoding="utf-8")
    shown = settings_shown(home.run("--config", str(other), "config"))
    assert shown["config_file"] == (str(other), "flag --config")
    assert shown["staff_user"] == ("other", f"file {other}")


def test_config_shows_the_keymap_in_effect(home: Home) -> None:
    home.write_config('[keymap]\n"items.share" = "ctrl+s"\n"app.keys" = "f1,?"\n')
    shown = settings_shown(home.run("config"))
    assert shown["keymap.items.share"] == ("ctrl+s", f"file {home.config}")
    assert shown["keymap.app.keys"] == ("f1,?", f"file {home.config}")
    assert "keymap" not in shown


def test_a_bad_keymap_is_one_config_error(home: Home) -> None:
    home.write_config('[keymap]\n"items.shar" = "ctrl+s"\n')
    run = home.run("config")
    assert run.status == 2
    assert run.err_lines == [
        f"portal-tui: config error: {home.config}: key 'keymap.items.shar': no binding has the"
        " id 'items.shar' (did you mean 'items.share'?)"
    ]
    assert run.out == ""


def test_secrets_never_appear(home: Home) -> None:
    home.write_config(
        'portal_token = "tok-SECRET1"\ndatabase_url = "postgresql://firm:SECRET2@db.example/firm"\n'
    )
    run = home.run(
        "config",
        "--portal-url", "https://api:SECRET3@portal.example",
        PORTAL_TUI_SMTP_PASSWORD="SECRET4",
    )  # fmt: skip
    shown = settings_shown(run)
    assert "SECRET" not in run.out + run.err
    assert shown["portal_token"][0] == "********"
    assert shown["smtp_password"] == ("********", "env PORTAL_TUI_SMTP_PASSWORD")
    assert shown["database_url"][0] == "postgresql://firm:***@db.example/firm"
    assert shown["portal_url"][0] == "https://api:***@portal.example"


def test_secret_in_a_broken_url_is_not_echoed(home: Home) -> None:
    run = home.run("config", "--database-url", "postgresql://u:SECRET@db:port/firm")
    assert run.status == 2
    assert "SECRET" not in run.out + run.err
    assert "postgresql://u:***@db:port/firm" in run.err


# Broken settings: one line, exit 2, nothing written -------------------------------------------


@dataclass(frozen=True)
class Broken:
    """A broken setting: how to make it, and what the one line must name."""

    id: str
    setup: Callable[[Home], tuple[list[str], dict[str, str]]]
    names: Callable[[Home], list[str]]


def _file(text: str) -> Callable[[Home], tuple[list[str], dict[str, str]]]:
    def setup(home: Home) -> tuple[list[str], dict[str, str]]:
        home.write_config(text)
        return [], {}

    return setup


def _directory(home: Home) -> tuple[list[str], dict[str, str]]:
    home.config.mkdir(parents=True)
    return [], {}


BROKEN = [
    Broken("bad-toml", _file('staff_user = "jdoe"\nascii = yes\n'),
           lambda h: [str(h.config), "line 2"]),
    Broken("unknown-key", _file('databse_url = "sqlite:///x.db"\n'),
           lambda h: [str(h.config), "'databse_url'"]),
    Broken("wrong-bool", _file("ascii = 1\n"), lambda h: [str(h.config), "'ascii'"]),
    Broken("wrong-int", _file('smtp_port = "smtp"\n'), lambda h: [str(h.config), "'smtp_port'"]),
    Broken("bad-database-url", _file('database_url = "firm.db"\n'),
           lambda h: [str(h.config), "'database_url'", "'firm.db'"]),
    Broken("bad-portal-url", _file('portal_url = "portal.example.com"\n'),
           lambda h: [str(h.config), "'portal_url'"]),
    Broken("unreadable", _directory, lambda h: [str(h.config), "directory"]),
    Broken("bad-env", lambda h: ([], {"PORTAL_TUI_UPLOAD_LIMIT_MB": "lots"}),
           lambda h: ["env PORTAL_TUI_UPLOAD_LIMIT_MB", "'upload_limit_mb'"]),
    Broken("bad-flag", lambda h: (["--database-url", "::nonsense"], {}),
           lambda h: ["flag --database-url", "'database_url'"]),
    Broken("missing-config-flag", lambda h: (["--config", str(h.root / "nope.toml")], {}),
           lambda h: [str(h.root / "nope.toml"), "no such file"]),
]  # fmt: skip

COMMANDS = [
    pytest.param([], id="open"),
    pytest.param(["config"], id="config"),
    pytest.param(["demo"], id="demo"),
    pytest.param(["seed", "--demo"], id="seed-demo"),
    pytest.param(["seed", "--matters", "2", "--activities", "5"], id="seed-scale"),
]


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("broken", BROKEN, ids=[b.id for b in BROKEN])
def test_broken_setting_gives_one_line_and_writes_nothing(
    home: Home, broken: Broken, command: list[str]
) -> None:
    flags, env = broken.setup(home)
    before = home.files()
    run = home.run(*flags, *command, **env)
    assert run.status == 2
    assert run.out == ""
    assert len(run.err_lines) == 1, run.err
    line = run.err_lines[0]
    assert line.startswith("portal-tui: config error: ")
    for name in broken.names(home):
        assert name in line
    assert "Traceback" not in run.err
    assert home.files() == before
    assert not home.data.exists()


# Usage, version, quiet exits ------------------------------------------------------------------


def test_version(home: Home) -> None:
    run = home.run("--version")
    assert run.status == 0
    assert run.out.startswith("portal-tui ")


def test_help_lists_the_commands(home: Home) -> None:
    run = home.run("--help")
    assert run.status == 0
    for command in ("config", "seed", "demo"):
        assert command in run.out


@pytest.mark.parametrize(
    "args",
    [
        ["seed"],
        ["seed", "--demo", "--matters", "3", "--activities", "1"],
        ["seed", "--matters", "3"],
        ["seed", "--matters", "0", "--activities", "1"],
        ["seed", "--matters", "x", "--activities", "1"],
        ["nosuchcommand"],
    ],
)
def test_usage_errors_exit_2_and_write_nothing(home: Home, args: list[str]) -> None:
    run = home.run(*args)
    assert run.status == 2
    assert "error:" in run.err
    assert "Traceback" not in run.err
    assert not home.data.exists()


def test_a_reader_that_leaves_early_is_not_an_error(home: Home) -> None:
    proc = subprocess.run(
        f"{shlex.quote(sys.executable)} -m portal_tui config | head -c 1 >/dev/null",
        shell=True,
        env=home.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.stderr == ""


# The command's wiring, in-process with stand-ins for the seeders and errors -------------------


@pytest.fixture
def stub_modules(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[object]]:
    """Stand-ins for portal_tui.seed.demo / .scale recording their calls."""
    calls: dict[str, list[object]] = {"demo": [], "scale": []}
    demo = types.ModuleType("portal_tui.seed.demo")
    scale = types.ModuleType("portal_tui.seed.scale")
    demo.seed_demo = lambda url, seed: calls["demo"].append((url, seed))  # type: ignore[attr-defined]
    scale.seed_scale = lambda url, m, a, seed: calls["scale"].append((url, m, a, seed))  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "portal_tui.seed.demo", demo)
    monkeypatch.setitem(sys.modules, "portal_tui.seed.scale", scale)
    return calls


@pytest.fixture
def in_process(home: Home, monkeypatch: pytest.MonkeyPatch) -> Home:
    for key in list(os.environ):
        if key.startswith("PORTAL_TUI_"):
            monkeypatch.delenv(key)
    for key in ("PORTAL_TUI_CONFIG", "PORTAL_TUI_DATA_DIR", "HOME"):
        monkeypatch.setenv(key, home.env[key])
    return home


def test_seed_demo_calls_the_seeder(
    in_process: Home, stub_modules: dict[str, list[object]], capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["seed", "--demo", "--seed", "7", "--database-url", "sqlite:///x.db"]) == 0
    assert stub_modules["demo"] == [("sqlite:///x.db", 7)]
    assert "seed 7" in capsys.readouterr().out


def test_seed_demo_default_seed_is_1(
    in_process: Home, stub_modules: dict[str, list[object]]
) -> None:
    assert cli.main(["seed", "--demo"]) == 0
    assert stub_modules["demo"] == [(f"sqlite:///{in_process.data / 'firm.db'}", 1)]


def test_seed_scale_calls_the_seeder(
    in_process: Home, stub_modules: dict[str, list[object]]
) -> None:
    args = ["seed", "--matters", "10", "--activities", "1000", "--seed", "3"]
    assert cli.main([*args, "--database-url", "postgresql://u:pw@h/firm"]) == 0
    assert stub_modules["scale"] == [("postgresql://u:pw@h/firm", 10, 1000, 3)]


def _raise(exc: BaseException) -> Callable[..., None]:
    def handler(*args: object) -> None:
        raise exc

    return handler


def test_refused_is_one_line(
    in_process: Home, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from portal_tui.domain import Refused

    monkeypatch.setattr(cli, "_cmd_open", _raise(Refused("R1", "Read-only staff\nmay not.")))
    assert cli.main([]) == 2
    captured = capsys.readouterr()
    assert captured.err == "portal-tui: Read-only staff may not.\n"
    assert captured.out == ""


def test_store_errors_are_one_line(
    in_process: Home, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from portal_tui.store.migrate import DatabaseLockedError, DatabaseNewerError

    for error in (DatabaseNewerError("/x/firm.db", "0099_future"), DatabaseLockedError("/x", 5)):
        monkeypatch.setattr(cli, "_cmd_open", _raise(error))
        assert cli.main([]) == 2
        err = capsys.readouterr().err
        assert err == f"portal-tui: {error}\n"


def test_keyboard_interrupt_exits_130_quietly(
    in_process: Home, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(cli, "_cmd_demo", _raise(KeyboardInterrupt()))
    assert cli.main(["demo"]) == 130
    assert capsys.readouterr() == ("", "")


def test_a_bug_keeps_its_traceback(in_process: Home, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "_cmd_open", _raise(RuntimeError("bug")))
    with pytest.raises(RuntimeError, match="bug"):
        cli.main([])


def test_interrupted_demo_seed_leaves_no_demo_firm(
    in_process: Home, monkeypatch: pytest.MonkeyPatch
) -> None:
    demo = types.ModuleType("portal_tui.seed.demo")
    stale_file_seen: list[bool] = []

    def half_seed(url: str, seed: int) -> None:
        database = Path(url.removeprefix("sqlite:///"))
        database.parent.mkdir(parents=True, exist_ok=True)
        database.write_bytes(b"half")
        raise KeyboardInterrupt

    def full_seed(url: str, seed: int) -> None:
        stale_file_seen.append(Path(url.removeprefix("sqlite:///")).exists())

    demo.seed_demo = half_seed  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "portal_tui.seed.demo", demo)
    assert cli.main(["demo"]) == 130
    assert not (in_process.data / "demo").exists()

    # A half-written demo folder left by a crash is started afresh, not trusted.
    demo_dir = in_process.data / "demo"
    demo_dir.mkdir()
    (demo_dir / "firm.db").write_bytes(b"")
    demo.seed_demo = full_seed  # type: ignore[attr-defined]
    monkeypatch.setattr(cli, "_show_matters", lambda *args, **kwargs: 0)
    assert cli.main(["demo"]) == 0
    assert stale_file_seen == [False]
    assert (demo_dir / ".complete").exists()


@pytest.mark.parametrize(
    ("text", "ascii_text"),
    [("Park – purchase", "Park - purchase"), ("Jörg Müller", "Jorg Muller"),
     ("“Smith [Deceased]”", '"Smith [Deceased]"'), ("山田", "??"), ("O’Brien…", "O'Brien...")],
)  # fmt: skip
def test_ascii_output_keeps_the_letters(text: str, ascii_text: str) -> None:
    assert cli._to_ascii(text) == ascii_text


# The real thing: demo firm, seeding, opening ---------------------------------------------------


def _matter_lines(out: str) -> list[str]:
    return [line for line in out.splitlines() if re.search(r"\b(ON|OFF)\s*\|?\s*$", line)]


def test_demo_makes_its_own_firm_and_lists_its_matters(home: Home) -> None:
    firm_db = home.root / "real" / "firm.db"
    run = home.run("demo", PORTAL_TUI_DATABASE_URL=f"sqlite:///{firm_db}")
    assert run.status == 0, run.err
    assert (home.data / "demo" / "firm.db").is_file()
    assert not firm_db.exists()
    assert not firm_db.parent.exists()
    lines = _matter_lines(run.out)
    assert len(lines) >= 20
    assert any(line.rstrip(" |").endswith("ON") for line in lines)
    assert any(line.rstrip(" |").endswith("OFF") for line in lines)
    assert (home.data / "demo" / "linked-docs").is_dir()
    assert sorted(p.name for p in home.data.iterdir()) == ["demo", "demo.lock"]

    again = home.run("demo")
    assert again.status == 0, again.err
    assert _matter_lines(again.out) == lines
    assert "Creating the demo firm" not in again.err


def test_demo_in_ascii(home: Home) -> None:
    run = home.run("demo", "--ascii")
    assert run.status == 0, run.err
    run.out.encode("ascii")
    assert "+--" in run.out or "|" in run.out


def test_seed_demo_fills_a_fresh_data_folder(home: Home) -> None:
    run = home.run("seed", "--demo", "--seed", "1")
    assert run.status == 0, run.err
    assert (home.data / "firm.db").is_file()
    listed = home.run()
    assert listed.status == 0, listed.err
    assert len(_matter_lines(listed.out)) >= 20
    assert "portal-tui demo" not in listed.out


def test_seed_demo_refuses_a_firm_that_has_matters(home: Home) -> None:
    assert home.run("seed", "--demo").status == 0
    database = home.data / "firm.db"
    before = database.read_bytes()
    run = home.run("seed", "--demo", "--seed", "2")
    assert run.status == 2
    assert len(run.err_lines) == 1, run.err
    assert run.err_lines[0].startswith("portal-tui: ")
    assert "Traceback" not in run.err
    assert database.read_bytes() == before


def test_an_empty_firm_suggests_the_demo(home: Home) -> None:
    run = home.run()
    assert run.status == 0, run.err
    assert "has no firm yet" in run.out and "portal-tui init" in run.out
    assert "portal-tui demo" in run.out


def test_a_newer_database_is_refused_in_one_line(home: Home) -> None:
    assert home.run("seed", "--demo").status == 0
    database = home.data / "firm.db"
    with sqlite3.connect(database) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999_from_the_future'")
    conn.close()
    before = database.read_bytes()
    run = home.run()
    assert run.status == 2
    assert len(run.err_lines) == 1, run.err
    assert run.err_lines[0].startswith("portal-tui: ")
    assert "newer" in run.err
    assert database.read_bytes() == before


@pytest.mark.parametrize("command", [[], ["sync"], ["seed", "--demo"], ["status"]])
def test_an_empty_file_at_the_firm_path_is_refused_and_stays_empty(
    home: Home, command: list[str]
) -> None:
    database = home.data / "firm.db"
    database.parent.mkdir(parents=True, exist_ok=True)
    database.write_bytes(b"")
    run = home.run(*command)
    assert run.status == 2, run.out
    assert run.err_lines == [
        f"portal-tui: Cannot open the firm database at {database}: the file is empty, not a "
        "firm database; move it away to start a new one there, or point to the right file."
    ]
    assert database.read_bytes() == b""


@pytest.mark.postgres
def test_seed_and_open_on_postgresql(home: Home, pg_url: str) -> None:
    run = home.run("seed", "--demo", "--database-url", pg_url)
    assert run.status == 0, run.err
    listed = home.run("--database-url", pg_url)
    assert listed.status == 0, listed.err
    assert len(_matter_lines(listed.out)) >= 20
    assert not home.data.exists()


# README and CI ---------------------------------------------------------------------------------


def test_readme_opens_with_the_two_commands() -> None:
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("# ")
    assert lines[1] == ""
    assert lines[2].strip()  # the one-line description
    assert lines[3] == ""
    assert lines[4] == "```sh"
    assert tuple(lines[5:7]) == README_COMMANDS
    assert lines[7] == "```"


def test_ci_runs_the_readme_test_command() -> None:
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("no bash")
    run = subprocess.run(
        [bash, str(ROOT / ".ci" / "run"), "--print-test-command"],
        capture_output=True,
        text=True,
        check=True,
        stdin=subprocess.DEVNULL,
    )
    assert run.stdout == README_COMMANDS[1] + "\n"


def test_ci_script_is_executable_and_strict() -> None:
    script = ROOT / ".ci" / "run"
    assert os.access(script, os.X_OK)
    text = script.read_text(encoding="utf-8")
    assert text.startswith("#!/usr/bin/env bash\n")
    assert "set -euo pipefail" in text


def test_the_console_script_is_declared() -> None:
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert project["project"]["scripts"]["portal-tui"] == "portal_tui.cli:main"
