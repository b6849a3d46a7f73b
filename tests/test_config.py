"""load_settings: precedence, sources, types, and one clear line for every broken setting."""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from portal_tui import config
from portal_tui.config import ConfigError, Settings, load_settings, mask_url_password

Load = Callable[..., Settings]


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    return tmp_path / "cfg" / "config.toml"


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def base_env(config_file: Path, data_dir: Path) -> dict[str, str]:
    return {"PORTAL_TUI_CONFIG": str(config_file), "PORTAL_TUI_DATA_DIR": str(data_dir)}


@pytest.fixture
def load(base_env: dict[str, str]) -> Load:
    """load_settings with a hermetic environment: only what the test adds to base_env."""

    def _load(flags: dict[str, object] | None = None, **env: str) -> Settings:
        return load_settings(flags, {**base_env, **env})

    return _load


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def error_of(action: Callable[[], object]) -> str:
    with pytest.raises(ConfigError) as caught:
        action()
    text = str(caught.value)
    assert "\n" not in text
    assert text.startswith("config error: ")
    return text


# Defaults ------------------------------------------------------------------------------------


def test_defaults_put_the_database_in_the_data_folder(load: Load, data_dir: Path) -> None:
    settings = load()
    assert settings.data_dir == data_dir
    assert settings.database_url == f"sqlite:///{data_dir / 'firm.db'}"
    assert settings.portal_url is None
    assert settings.portal_token is None
    assert settings.smtp_host is None
    assert settings.smtp_port == 587
    assert settings.smtp_starttls is True
    assert settings.upload_limit_mb == 25
    assert settings.demo_database_url == f"sqlite:///{data_dir / 'demo' / 'firm.db'}"
    assert settings.demo_database_url != settings.database_url
    assert set(settings.sources) == {"config_file", "data_dir", *config.KEYS}
    assert all(settings.sources[key] == "default" for key in config.KEYS)


def test_loading_writes_nothing(load: Load, tmp_path: Path) -> None:
    load()
    assert sorted(tmp_path.iterdir()) == []


def test_staff_user_defaults_to_the_os_login(load: Load, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(config.getpass, "getuser", lambda: "jdoe")
    assert load().staff_user == "jdoe"


def test_unknown_os_login_leaves_staff_user_unset(
    load: Load, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_login() -> str:
        raise OSError("No username set in the environment")

    monkeypatch.setattr(config.getpass, "getuser", no_login)
    assert load().staff_user is None


def test_default_folders_come_from_platformdirs(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    if sys.platform != "linux":
        pytest.skip("XDG folders are how platformdirs is steered on Linux")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    settings = load_settings(env={})
    assert settings.config_file == tmp_path / "xdg-config" / "portal-tui" / "config.toml"
    assert settings.data_dir == tmp_path / "xdg-data" / "portal-tui"
    assert settings.sources["config_file"] == "default"
    assert settings.sources["data_dir"] == "default"


def test_relocation_variables_are_named_as_sources(load: Load, config_file: Path) -> None:
    settings = load()
    assert settings.config_file == config_file
    assert settings.sources["config_file"] == "env PORTAL_TUI_CONFIG"
    assert settings.sources["data_dir"] == "env PORTAL_TUI_DATA_DIR"


def test_relative_and_home_paths_are_made_absolute(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    settings = load_settings(
        env={"PORTAL_TUI_CONFIG": "~/c.toml", "PORTAL_TUI_DATA_DIR": "rel/data"}
    )
    assert settings.config_file == tmp_path / "home" / "c.toml"
    assert settings.data_dir == tmp_path / "rel" / "data"


# Precedence ----------------------------------------------------------------------------------


def test_file_overrides_default(load: Load, config_file: Path) -> None:
    write(config_file, 'database_url = "sqlite:///from-file.db"\nupload_limit_mb = 50\n')
    settings = load()
    assert settings.database_url == "sqlite:///from-file.db"
    assert settings.upload_limit_mb == 50
    assert settings.sources["database_url"] == f"file {config_file}"
    assert settings.sources["portal_url"] == "default"


def test_env_overrides_file(load: Load, config_file: Path) -> None:
    write(config_file, 'database_url = "sqlite:///from-file.db"\nstaff_user = "filer"\n')
    settings = load(PORTAL_TUI_DATABASE_URL="sqlite:///from-env.db")
    assert settings.database_url == "sqlite:///from-env.db"
    assert settings.sources["database_url"] == "env PORTAL_TUI_DATABASE_URL"
    assert settings.staff_user == "filer"
    assert settings.sources["staff_user"] == f"file {config_file}"


def test_flag_overrides_env_and_file(load: Load, config_file: Path) -> None:
    write(config_file, 'database_url = "sqlite:///from-file.db"\nascii = false\n')
    settings = load(
        {"database_url": "sqlite:///from-flag.db", "ascii": True, "portal_url": None},
        PORTAL_TUI_DATABASE_URL="sqlite:///from-env.db",
        PORTAL_TUI_ASCII="no",
    )
    assert settings.database_url == "sqlite:///from-flag.db"
    assert settings.sources["database_url"] == "flag --database-url"
    assert settings.ascii is True
    assert settings.sources["ascii"] == "flag --ascii"
    # A flag given as None was not given.
    assert settings.sources["portal_url"] == "default"


def test_no_flag_is_named_as_such(load: Load) -> None:
    settings = load({"ascii": False}, PORTAL_TUI_ASCII="yes")
    assert settings.ascii is False
    assert settings.sources["ascii"] == "flag --no-ascii"


def test_config_flag_overrides_config_variable(load: Load, tmp_path: Path) -> None:
    other = write(tmp_path / "other.toml", 'staff_user = "other"\n')
    settings = load({"config": str(other)})
    assert settings.config_file == other
    assert settings.staff_user == "other"
    assert settings.sources["config_file"] == "flag --config"
    assert settings.sources["staff_user"] == f"file {other}"


def test_empty_variable_counts_as_unset(load: Load, config_file: Path) -> None:
    write(config_file, 'staff_user = "filer"\n')
    settings = load(PORTAL_TUI_STAFF_USER="", PORTAL_TUI_DATA_DIR="")
    assert settings.staff_user == "filer"
    assert settings.sources["data_dir"] == "default"


def test_empty_string_switches_an_optional_setting_off(load: Load, config_file: Path) -> None:
    write(config_file, 'portal_url = "https://portal.example.com"\n')
    settings = load({"portal_url": ""})
    assert settings.portal_url is None
    assert settings.sources["portal_url"] == "flag --portal-url"


def test_other_portal_tui_variables_are_left_alone(load: Load) -> None:
    # PORTAL_TUI_TEST_PG_URL and friends belong to other tools, not to the settings.
    load(PORTAL_TUI_TEST_PG_URL="postgresql://x", PORTAL_TUI_WHATEVER="1")


def test_every_key_can_be_set_in_the_file(load: Load, config_file: Path) -> None:
    write(
        config_file,
        """
database_url = "postgresql://firm@db.example.com/firm"
portal_url = "https://portal.example.com/"
portal_token = "tok"
staff_user = "jdoe"
ascii = true
smtp_host = "mail.example.com"
smtp_port = 25
smtp_starttls = false
smtp_user = "mailer"
smtp_password = "pw"
mail_from = "Firm <portal@example.com>"
upload_limit_mb = 100
reset_link_valid_minutes = 30
sign_in_links = true
session_places = true
embedded_portal_port = 36363
forwarded_allow_ips = "10.0.0.5, 192.168.1.0/24"
keep_outbox_days = 60
keep_feed_days = 45
keep_idempotency_days = 14
keep_mail_days = 90
keep_sessions_days = 3
keep_login_failures_days = 2
""",
    )
    settings = load()
    assert settings.database_url == "postgresql://firm@db.example.com/firm"
    assert settings.portal_url == "https://portal.example.com/"
    assert settings.portal_token == "tok"
    assert settings.staff_user == "jdoe"
    assert settings.ascii is True
    assert settings.smtp_host == "mail.example.com"
    assert settings.smtp_port == 25
    assert settings.smtp_starttls is False
    assert settings.smtp_user == "mailer"
    assert settings.smtp_password == "pw"
    assert settings.mail_from == "Firm <portal@example.com>"
    assert settings.upload_limit_mb == 100
    assert settings.reset_link_valid_minutes == 30
    assert settings.sign_in_links is True
    assert settings.session_places is True
    assert settings.forwarded_allow_ips == "10.0.0.5,192.168.1.0/24"
    assert settings.embedded_portal_port == 36363
    assert (
        settings.keep_outbox_days,
        settings.keep_feed_days,
        settings.keep_idempotency_days,
        settings.keep_mail_days,
        settings.keep_sessions_days,
        settings.keep_login_failures_days,
    ) == (60, 45, 14, 90, 3, 2)
    assert all(settings.sources[key] == f"file {config_file}" for key in config.KEYS)


# Types from text (environment, flags) --------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1", True),
        ("true", True),
        ("YES", True),
        ("on", True),
        ("0", False),
        ("False", False),
        ("no", False),
        ("off", False),
    ],
)
def test_booleans_from_the_environment(load: Load, text: str, expected: bool) -> None:
    assert load(PORTAL_TUI_SMTP_STARTTLS=text).smtp_starttls is expected


def test_integers_from_the_environment(load: Load) -> None:
    assert load(PORTAL_TUI_SMTP_PORT=" 2525 ").smtp_port == 2525


# ascii: automatic ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("encoding", "utf8"),
    [
        ("utf-8", True),
        ("UTF8", True),
        ("ascii", False),
        ("latin-1", False),
        ("cp1252", False),
        ("no-such-codec", False),
    ],
)
def test_stream_encoding_decides_unicode(encoding: str, utf8: bool) -> None:
    stream = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    fake = type("Fake", (), {"encoding": encoding})()
    assert config.stream_is_utf8(fake) is utf8
    assert config.stream_is_utf8(stream) is True


@pytest.mark.parametrize("value", ["auto", None])
def test_ascii_is_automatic_from_stdout(
    load: Load, monkeypatch: pytest.MonkeyPatch, value: str | None
) -> None:
    env = {"PORTAL_TUI_ASCII": value} if value else {}
    monkeypatch.setattr(sys, "stdout", io.TextIOWrapper(io.BytesIO(), encoding="latin-1"))
    assert load(**env).ascii is True
    monkeypatch.setattr(sys, "stdout", io.TextIOWrapper(io.BytesIO(), encoding="utf-8"))
    assert load(**env).ascii is False


@pytest.mark.parametrize(
    ("term", "ascii_only"),
    [
        ("xterm-256color", False),
        ("screen-256color", False),
        ("tmux-256color", False),
        ("vte-256color", False),
        ("", False),
        ("linux", True),
        ("vt100", True),
        ("VT220-8bit", True),
        ("dumb", True),
    ],
)
def test_ascii_is_automatic_from_the_terminal_named_in_term(
    load: Load, monkeypatch: pytest.MonkeyPatch, term: str, ascii_only: bool
) -> None:
    """Over SSH the output is UTF-8 whatever the staff member's terminal draws; TERM, which the
    SSH client sends, says when it cannot draw the icons. A setting still wins."""
    monkeypatch.setattr(sys, "stdout", io.TextIOWrapper(io.BytesIO(), encoding="utf-8"))
    assert load(TERM=term).ascii is ascii_only
    assert load(TERM=term, PORTAL_TUI_ASCII="no").ascii is False


def test_ascii_auto_in_the_file(load: Load, config_file: Path) -> None:
    write(config_file, 'ascii = "auto"\n')
    settings = load()
    assert settings.sources["ascii"] == f"file {config_file}"
    assert isinstance(settings.ascii, bool)


# URLs ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://firm@db.example.com/firm",
        "postgresql://firm:secret@db.example.com:5433/firm?sslmode=require",
        "postgres://firm@localhost/firm",
        "postgresql+psycopg://postgres@127.0.0.1:55432/postgres",
        "sqlite:///relative.db",
        "sqlite:////absolute/path/firm.db",
    ],
)
def test_database_urls_accepted(load: Load, url: str) -> None:
    assert load(PORTAL_TUI_DATABASE_URL=url).database_url == url


@pytest.mark.parametrize(
    "url",
    [
        "http://portal.example.com",
        "https://portal.example.com:8443/base/",
        "http://127.0.0.1:8000",
        "http://[::1]:8000",
    ],
)
def test_portal_urls_accepted(load: Load, url: str) -> None:
    assert load({"portal_url": url}).portal_url == url


# Errors: one line, naming where and which key ------------------------------------------------


def test_bad_toml_names_the_file_and_line(load: Load, config_file: Path) -> None:
    write(config_file, 'staff_user = "a"\nascii = \n')
    text = error_of(load)
    assert text.startswith(f"config error: {config_file}: line 2")
    assert "invalid TOML" in text


def test_unclosed_string_names_the_file(load: Load, config_file: Path) -> None:
    write(config_file, 'portal_url = "http://x\n')
    assert error_of(load).startswith(f"config error: {config_file}: line 1")


def test_unknown_key_suggests_the_right_one(load: Load, config_file: Path) -> None:
    write(config_file, 'databse_url = "sqlite:///x.db"\n')
    assert error_of(load) == (
        f"config error: {config_file}: unknown key 'databse_url' (did you mean 'database_url'?)"
    )


def test_unknown_key_without_a_near_match_lists_the_keys(load: Load, config_file: Path) -> None:
    write(config_file, "colour = 'red'\n")
    text = error_of(load)
    assert f"{config_file}: unknown key 'colour'" in text
    assert "known keys: database_url, portal_url" in text


def test_a_table_gets_the_flat_key_named(load: Load, config_file: Path) -> None:
    write(config_file, "[smtp]\nhost = 'x'\n")
    assert error_of(load) == (
        f"config error: {config_file}: unknown key 'smtp' "
        "(settings are top-level keys, not tables, e.g. smtp_host = ...)"
    )


@pytest.mark.parametrize(
    ("toml", "key", "problem"),
    [
        ("ascii = 3", "ascii", "expected true or false"),
        ('smtp_starttls = "yes"', "smtp_starttls", "expected true or false"),
        ('smtp_port = "587"', "smtp_port", "expected an integer, got a string"),
        ("smtp_port = 25.0", "smtp_port", "expected an integer, got a float"),
        ("upload_limit_mb = true", "upload_limit_mb", "expected an integer, got a boolean"),
        ("staff_user = 7", "staff_user", "expected a string, got an integer"),
        ("database_url = ['sqlite://']", "database_url", "expected a string, got an array"),
        ("smtp_port = 70000", "smtp_port", "from 1 to 65535"),
        ("upload_limit_mb = 0", "upload_limit_mb", "at least 1"),
        ("keep_mail_days = 0", "keep_mail_days", "a whole number of days, at least 1"),
        ('forwarded_allow_ips = "proxy.local"', "forwarded_allow_ips", "not an IP address"),
        ('staff_user = "  "', "staff_user", "must not be empty"),
        ('mail_from = "nobody"', "mail_from", "expected an email address"),
    ],
)
def test_wrong_type_in_the_file(
    load: Load, config_file: Path, toml: str, key: str, problem: str
) -> None:
    write(config_file, toml + "\n")
    text = error_of(load)
    assert text.startswith(f"config error: {config_file}: key {key!r}: ")
    assert problem in text


@pytest.mark.parametrize(
    ("variable", "value", "key"),
    [
        ("PORTAL_TUI_ASCII", "maybe", "ascii"),
        ("PORTAL_TUI_SMTP_STARTTLS", "2", "smtp_starttls"),
        ("PORTAL_TUI_SMTP_PORT", "smtp", "smtp_port"),
        ("PORTAL_TUI_UPLOAD_LIMIT_MB", "2.5", "upload_limit_mb"),
    ],
)
def test_wrong_type_in_the_environment(load: Load, variable: str, value: str, key: str) -> None:
    text = error_of(lambda: load(**{variable: value}))
    assert text.startswith(f"config error: env {variable}: key {key!r}: ")
    assert repr(value) in text


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("not a url", "cannot parse 'not a url' as a database URL"),
        ("", "cannot parse"),
        ("postgresql://u:pw@db:port/firm", "cannot parse 'postgresql://u:***@db:port/firm'"),
        ("nosuchdb://u:pw@host/firm", "unknown database kind 'nosuchdb'"),
    ],
)
def test_unusable_database_url_in_the_file(
    load: Load, config_file: Path, url: str, problem: str
) -> None:
    write(config_file, f"database_url = {url!r}\n")
    text = error_of(load)
    assert text.startswith(f"config error: {config_file}: key 'database_url': ")
    assert problem in text
    assert "pw" not in text


def test_unusable_database_url_from_a_flag(load: Load) -> None:
    text = error_of(lambda: load({"database_url": "::"}))
    assert (
        text == "config error: flag --database-url: key 'database_url': cannot parse '::' "
        "as a database URL"
    )


@pytest.mark.parametrize(
    "url",
    [
        "portal.example.com",
        "ftp://portal.example.com",
        "http://",
        "https:///path",
        "http://host:notaport",
        "http://host:99999",
        "mailto:x@example.com",
    ],
)
def test_bad_portal_url(load: Load, url: str) -> None:
    text = error_of(lambda: load(PORTAL_TUI_PORTAL_URL=url))
    assert text.startswith("config error: env PORTAL_TUI_PORTAL_URL: key 'portal_url': ")


def test_a_directory_is_not_a_config_file(load: Load, config_file: Path) -> None:
    config_file.mkdir(parents=True)
    assert error_of(load) == (
        f"config error: {config_file}: cannot read: it is a directory, not a file"
    )


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root reads every file")
def test_an_unreadable_config_file(load: Load, config_file: Path) -> None:
    write(config_file, 'staff_user = "x"\n').chmod(0)
    assert error_of(load) == f"config error: {config_file}: cannot read: permission denied"


def test_an_unreadable_config_file_even_as_root(
    load: Load, config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(config_file, 'staff_user = "x"\n')

    def denied(self: Path, *args: object, **kwargs: object) -> object:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "open", denied)
    assert error_of(load) == f"config error: {config_file}: cannot read: permission denied"


def test_a_config_file_that_is_not_utf8(load: Load, config_file: Path) -> None:
    config_file.parent.mkdir(parents=True)
    config_file.write_bytes(b'staff_user = "J\xf6rg"\n')
    assert error_of(load).startswith(f"config error: {config_file}: not UTF-8 text")


def test_a_missing_file_named_by_the_flag(load: Load, tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    assert error_of(lambda: load({"config": str(missing)})) == (
        f"config error: {missing}: no such file"
    )


def test_a_missing_file_named_by_the_variable_is_fine(load: Load, config_file: Path) -> None:
    assert not config_file.exists()
    assert load().sources["config_file"] == "env PORTAL_TUI_CONFIG"


def test_error_text_stays_on_one_line(load: Load, config_file: Path) -> None:
    write(config_file, 'staff_user = """\n\n"""\n')
    text = error_of(load)
    assert "must not be empty" in text


def test_file_errors_come_before_environment_errors(load: Load, config_file: Path) -> None:
    write(config_file, "smtp_port = 'x'\n")
    text = error_of(lambda: load(PORTAL_TUI_ASCII="maybe"))
    assert str(config_file) in text


def test_error_carries_its_parts(load: Load, config_file: Path) -> None:
    write(config_file, "smtp_port = 'x'\n")
    with pytest.raises(ConfigError) as caught:
        load()
    assert caught.value.where == str(config_file)
    assert caught.value.key == "smtp_port"


# [keymap]: its shape here; its ids and keys are checked by the app (tests/tui/test_keys.py) --


def test_keymap_is_read_from_its_table(load: Load, config_file: Path) -> None:
    write(config_file, '[keymap]\n"items.share" = " ctrl+s "\n"app.keys" = "f1,?"\n')
    settings = load()
    assert settings.keymap == {"items.share": "ctrl+s", "app.keys": "f1,?"}
    assert settings.sources["keymap"] == f"file {config_file}"
    rows = {key: (value, source) for key, value, source in settings.describe()}
    assert rows["keymap.items.share"] == ("ctrl+s", f"file {config_file}")


def test_no_keymap_means_the_default_keys(load: Load) -> None:
    settings = load()
    assert settings.keymap == {}
    rows = {key: (value, source) for key, value, source in settings.describe()}
    assert rows["keymap"][1] == "default"


@pytest.mark.parametrize(
    ("text", "key", "problem"),
    [
        ('keymap = "ctrl+s"\n', "keymap", "expected a table"),
        ('[keymap]\n"items.share" = 5\n', "keymap.items.share", "got an integer (5)"),
        ('[keymap]\n"items.share" = ["s"]\n', "keymap.items.share", "got an array"),
        ('[keymap]\n"items.share" = " "\n', "keymap.items.share", "got an empty string"),
    ],
)
def test_a_keymap_of_the_wrong_shape(
    load: Load, config_file: Path, text: str, key: str, problem: str
) -> None:
    write(config_file, text)
    line = error_of(load)
    assert line.startswith(f"config error: {config_file}: key {key!r}: ")
    assert problem in line


# Secrets -------------------------------------------------------------------------------------


def test_secrets_are_masked_when_shown(load: Load, config_file: Path) -> None:
    write(
        config_file,
        'portal_token = "tok-123"\nsmtp_password = "hunter2"\n'
        'database_url = "postgresql://firm:dbpass@db/firm?password=qpass"\n'
        'portal_url = "https://api:urlpass@portal.example.com"\n',
    )
    shown = "\n".join(" ".join(row) for row in load().describe())
    for secret in ("tok-123", "hunter2", "dbpass", "qpass", "urlpass"):
        assert secret not in shown
    assert "portal_token ******** file" in shown
    assert "postgresql://firm:***@db/firm?password=***" in shown


def test_unset_secrets_say_so(load: Load) -> None:
    assert load().shown("smtp_password") == "(not set)"


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("postgresql://u:p@h/db", "postgresql://u:***@h/db"),
        ("postgresql://u:p@ss/w@h/db", "postgresql://u:***@h/db"),
        ("postgresql://u@h/db", "postgresql://u@h/db"),
        (
            "postgresql://h/db?sslmode=require&password=s",
            "postgresql://h/db?sslmode=require&password=***",
        ),
        ("sqlite:////home/a@b/firm.db", "sqlite:////home/a@b/firm.db"),
        ("no scheme:pw@x", "no scheme:pw@x"),
    ],
)
def test_mask_url_password(url: str, masked: str) -> None:
    assert mask_url_password(url) == masked


def test_importing_config_does_not_import_sqlalchemy() -> None:
    import subprocess

    code = "import sys, portal_tui.config; print('sqlalchemy' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "False"
