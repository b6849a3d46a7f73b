"""Settings of portal-tui: defaults < config.toml < PORTAL_TUI_* environment < command-line flags.

Loading only reads: it never creates the data folder or the database, so a broken setting can
be reported before anything is written. Every problem is a `ConfigError` whose text is one line
naming where the setting came from (file, environment variable or flag) and the key.

sqlalchemy is imported only inside the database URL check (not for a plain SQLite file), and
platformdirs only when a default folder is needed: `import portal_tui.config` has to stay cheap
because the CLI imports it first.
"""

from __future__ import annotations

import codecs
import difflib
import functools
import getpass
import ipaddress
import os
import re
import sys
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Final
from urllib.parse import urlsplit

APP_NAME: Final = "portal-tui"
ENV_PREFIX: Final = "PORTAL_TUI_"
CONFIG_ENV: Final = "PORTAL_TUI_CONFIG"
DATA_DIR_ENV: Final = "PORTAL_TUI_DATA_DIR"
CONFIG_FILE_NAME: Final = "config.toml"
DATABASE_FILE_NAME: Final = "firm.db"
DEMO_FOLDER_NAME: Final = "demo"
MASK: Final = "********"
# The table of config.toml that remaps the app's keys by binding id.
KEYMAP: Final = "keymap"

_PASSWORD_PARAM: Final = re.compile(r"((?:^|[&;])(?:password|passwd|pwd)=)[^&;#]*", re.IGNORECASE)
# `sqlite:///path` with nothing SQLAlchemy would read another way (a query, %-escapes).
_PLAIN_SQLITE_URL: Final = re.compile(r"sqlite(?:\+pysqlite)?:///[^?%\x00-\x1f]*")
_TRUE: Final = frozenset({"1", "true", "yes", "on"})
_FALSE: Final = frozenset({"0", "false", "no", "off"})


class ConfigError(Exception):
    """A setting that cannot be used. `str()` is one line: where, which key, what is wrong."""

    def __init__(self, where: str, problem: str, key: str | None = None) -> None:
        self.where = where
        self.key = key
        self.problem = problem
        super().__init__(self._line())

    def _line(self) -> str:
        key = f"key {self.key!r}: " if self.key else ""
        text = f"config error: {self.where}: {key}{self.problem}"
        # The CLI promises one line; a stray newline in a value or a library message breaks it.
        return " ".join(text.split())


@dataclass(frozen=True, slots=True)
class _Key:
    kind: type
    optional: bool = False
    secret: bool = False
    help: str = ""


# The keys a config file, a PORTAL_TUI_<KEY> variable or a flag may set, in display order.
KEYS: Final[dict[str, _Key]] = {
    "database_url": _Key(str, help="firm database (any SQLAlchemy URL)"),
    "portal_url": _Key(str, optional=True, help="portal service URL; none = embedded portal"),
    "portal_token": _Key(str, optional=True, secret=True, help="staff API token of the portal"),
    "staff_user": _Key(str, optional=True, help="acting staff user; default = OS login"),
    "ascii": _Key(bool, help="ASCII-only glyphs; default = automatic from stdout's encoding"),
    "smtp_host": _Key(str, optional=True, help="SMTP server; none = mail written to a folder"),
    "smtp_port": _Key(int, help="SMTP port"),
    "smtp_starttls": _Key(bool, help="use STARTTLS with the SMTP server"),
    "smtp_user": _Key(str, optional=True, help="SMTP login"),
    "smtp_password": _Key(str, optional=True, secret=True, help="SMTP password"),
    "mail_from": _Key(str, optional=True, help="sender address of portal emails"),
    "upload_limit_mb": _Key(int, help="largest client upload, in MB"),
    "reset_link_valid_minutes": _Key(
        int, help='minutes a client\'s emailed "Forgot your password?" link works'
    ),
    "sign_in_links": _Key(
        bool, help="clients may sign in by an emailed link (15 minutes, one browser); default off"
    ),
    "session_places": _Key(
        bool,
        help="keep the address each client session signed in from and show it on the "
        "client's account page; off by default",
    ),
    "embedded_portal_port": _Key(
        int,
        optional=True,
        help="port of the embedded portal; default: one chosen at the first start and kept",
    ),
    "forwarded_allow_ips": _Key(
        str,
        optional=True,
        help="reverse proxies whose X-Forwarded-For the portal trusts (comma-separated "
        "addresses or networks); none by default",
    ),
    # Housekeeping: how long what is done with is kept before it is pruned (docs/housekeeping.md).
    "keep_outbox_days": _Key(int, help="days a delivered outbox row keeps its copy of the item"),
    "keep_feed_days": _Key(int, help="days the portal keeps a change the firm has read"),
    "keep_idempotency_days": _Key(int, help="days the portal keeps an answered request's key"),
    "keep_mail_days": _Key(int, help="days the portal keeps an email sent or given up"),
    "keep_sessions_days": _Key(int, help="days the portal keeps a client session that ended"),
    "keep_login_failures_days": _Key(int, help="days the portal keeps a failed login"),
}

DEFAULT_SMTP_PORT: Final = 587
DEFAULT_UPLOAD_LIMIT_MB: Final = 25
DEFAULT_RESET_LINK_MINUTES: Final = 60
# How long each kind of finished record is kept (docs/housekeeping.md says why each is enough).
DEFAULT_KEEP_DAYS: Final[dict[str, int]] = {
    "keep_outbox_days": 30,
    "keep_feed_days": 30,
    "keep_idempotency_days": 7,
    "keep_mail_days": 30,
    "keep_sessions_days": 30,
    "keep_login_failures_days": 1,
}


@dataclass(frozen=True, slots=True)
class Settings:
    """The effective settings. `sources[key]` says where each value came from."""

    config_file: Path
    data_dir: Path
    database_url: str
    portal_url: str | None
    portal_token: str | None
    staff_user: str | None
    ascii: bool
    smtp_host: str | None
    smtp_port: int
    smtp_starttls: bool
    smtp_user: str | None
    smtp_password: str | None
    mail_from: str | None
    upload_limit_mb: int
    reset_link_valid_minutes: int
    sign_in_links: bool
    session_places: bool
    embedded_portal_port: int | None
    forwarded_allow_ips: str | None
    keep_outbox_days: int
    keep_feed_days: int
    keep_idempotency_days: int
    keep_mail_days: int
    keep_sessions_days: int
    keep_login_failures_days: int
    sources: dict[str, str]
    # [keymap] of config.toml: binding id -> keys ("ctrl+s" or "ctrl+s,f2"). Checked against
    # the app's bindings by portal_tui.tui.keymap, which knows them (this module stays cheap).
    keymap: dict[str, str] = field(default_factory=dict)

    @property
    def demo_dir(self) -> Path:
        return self.data_dir / DEMO_FOLDER_NAME

    @property
    def demo_database_url(self) -> str:
        """The demo firm's own database: never the configured one."""
        return sqlite_url(self.demo_dir / DATABASE_FILE_NAME)

    def shown(self, key: str) -> str:
        """The value of `key` as it may be printed: secrets masked, URL passwords hidden."""
        value = getattr(self, key)
        if key in KEYS and KEYS[key].secret:
            return MASK if value else "(not set)"
        if value is None:
            return "(embedded portal)" if key == "portal_url" else "(not set)"
        if isinstance(value, bool):
            return "true" if value else "false"
        if key in ("database_url", "portal_url"):
            return mask_url_password(str(value))
        return str(value)

    def describe(self) -> list[tuple[str, str, str]]:
        """(key, printable value, source) for every setting, in a stable order."""
        keys = ["config_file", "data_dir", *KEYS]
        rows = [(key, self.shown(key), self.sources[key]) for key in keys]
        source = self.sources.get(KEYMAP, "default")
        if not self.keymap:
            return [*rows, (KEYMAP, "(none: the default keys, listed by ? in the app)", source)]
        return rows + [(f"{KEYMAP}.{id_}", keys, source) for id_, keys in self.keymap.items()]


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def mask_url_password(url: str) -> str:
    """Hide the password of `scheme://user:password@host...`, even in a URL that won't parse.

    Everything up to the last '@' counts as user info, so a password holding an unescaped '@',
    ':' or '/' is hidden whole (SQLAlchemy's own rendering would split it at the first '@' and
    show the rest as the host). A `password=` query parameter, which libpq honours, is hidden
    too. At worst a little more than the password is masked.
    """
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    userinfo, at_sign, host = rest.rpartition("@")
    if at_sign and ":" in userinfo:
        rest = f"{userinfo.split(':', 1)[0]}:***@{host}"
    if "?" in rest:
        before, _, query = rest.partition("?")
        rest = before + "?" + _PASSWORD_PARAM.sub(r"\1***", query)
    return f"{scheme}://{rest}"


def stream_is_utf8(stream: IO[Any] | None) -> bool:
    """Whether text written to `stream` can carry Unicode glyphs."""
    encoding = getattr(stream, "encoding", None) if stream is not None else None
    if not encoding:
        import locale

        encoding = locale.getpreferredencoding(False)
    try:
        return codecs.lookup(encoding).name == "utf-8"
    except LookupError:
        return False


# Terminals whose glyphs are a small fixed set: a VT100-family terminal draws no Unicode at
# all, and the Linux console's font has the box lines but not the share icons.
# (vt100, vt220-8bit, linux-16color, cons25; not vte-256color, a Unicode terminal).
_ASCII_TERM = re.compile(r"(vt\d+|linux|cons\d+|ansi|dumb)([-+].*)?", re.IGNORECASE)


def term_draws_unicode(term: str) -> bool:
    """Whether a terminal named `term` (the TERM variable) draws Unicode glyphs; an unset
    TERM says nothing, so the output's encoding decides alone."""
    return _ASCII_TERM.fullmatch(term.strip()) is None


def default_staff_user() -> str | None:
    try:
        login = getpass.getuser()
    except (OSError, KeyError, ImportError):
        # Containers may run with a uid that has neither $USER nor a passwd entry.
        return None
    return login or None


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _type_name(value: object) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a float"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    return f"a {type(value).__name__}"


def _parse_bool(key: str, raw: object, *, text: bool) -> bool | None:
    """A boolean, or None for "automatic" (allowed for `ascii` only)."""
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str):
        word = raw.strip().lower()
        if key == "ascii" and word == "auto":
            return None
        if text and word in _TRUE:
            return True
        if text and word in _FALSE:
            return False
        if text:
            allowed = "true/false, yes/no, on/off, 1/0" + (" or auto" if key == "ascii" else "")
            raise ValueError(f"expected {allowed}, got {_show(raw)}")
    auto = ' (or "auto")' if key == "ascii" else ""
    raise ValueError(f"expected true or false{auto}, got {_type_name(raw)} ({_show(raw)})")


def _parse_int(raw: object, *, text: bool) -> int:
    if isinstance(raw, int) and not isinstance(raw, bool):
        return raw
    if text and isinstance(raw, str):
        try:
            return int(raw.strip())
        except ValueError:
            raise ValueError(f"expected an integer, got {_show(raw)}") from None
    raise ValueError(f"expected an integer, got {_type_name(raw)} ({_show(raw)})")


def _check_database_url(url: str) -> str:
    if _PLAIN_SQLITE_URL.fullmatch(url):
        # SQLAlchemy always parses these, and its SQLite driver is always there: no need to
        # import it (0.15 s, on the way to the app's first frame: cold start to the first
        # matter row <= 2.5x a bare Textual app).
        return url
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    shown = _show(mask_url_password(url))
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        raise ValueError(f"cannot parse {shown} as a database URL") from None
    if parsed.drivername in ("postgresql", "postgres"):
        # The store maps plain postgresql:// to psycopg 3; check the URL it will really use.
        parsed = parsed.set(drivername="postgresql+psycopg")
    try:
        parsed.get_dialect()
    except NoSuchModuleError:
        raise ValueError(
            f"unknown database kind {parsed.drivername!r} in {shown}"
            " (use sqlite:///path or postgresql://user@host/db)"
        ) from None
    return url


def _check_portal_url(url: str) -> str:
    shown = _show(mask_url_password(url))
    try:
        parts = urlsplit(url)
        _ = parts.port  # raises ValueError for a port that is not a number in range
    except ValueError:
        raise ValueError(f"cannot parse {shown} as a URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"expected http://host... or https://host..., got {shown}")
    return url


def _check_port(port: int) -> int:
    if not 1 <= port <= 65535:
        raise ValueError(f"expected a port number from 1 to 65535, got {port}")
    return port


def _check_positive(number: int) -> int:
    if number < 1:
        raise ValueError(f"expected a whole number of megabytes, at least 1, got {number}")
    return number


def _check_proxies(value: str) -> str:
    """Each entry an IP address or network (uvicorn's forwarded_allow_ips)."""
    entries = [entry.strip() for entry in value.split(",") if entry.strip()]
    if not entries:
        raise ValueError("expected IP addresses or networks, comma-separated")
    for entry in entries:
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError:
            raise ValueError(f"{_show(entry)} is not an IP address or network") from None
    return ",".join(entries)


def _check_days(number: int) -> int:
    if number < 1:
        raise ValueError(f"expected a whole number of days, at least 1, got {number}")
    return number


def _check_not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty")
    return value


def _check_mail_from(value: str) -> str:
    if "@" not in value:
        raise ValueError(f"expected an email address, got {_show(value)}")
    return value


_CHECKS: Final[dict[str, Callable[[Any], Any]]] = {
    "database_url": _check_database_url,
    "portal_url": _check_portal_url,
    "staff_user": _check_not_blank,
    "smtp_host": _check_not_blank,
    "smtp_user": _check_not_blank,
    "smtp_port": _check_port,
    "upload_limit_mb": _check_positive,
    "reset_link_valid_minutes": _check_positive,
    "mail_from": _check_mail_from,
    "forwarded_allow_ips": _check_proxies,
    "embedded_portal_port": _check_port,
    **{key: _check_days for key in DEFAULT_KEEP_DAYS},
}


def _convert(key: str, raw: object, *, text: bool) -> object:
    """Type-check and validate one value. `text`: it came as a string (environment, flag)."""
    spec = KEYS[key]
    if spec.kind is bool:
        return _parse_bool(key, raw, text=text)
    if spec.kind is int:
        value: object = _parse_int(raw, text=text)
    else:
        if not isinstance(raw, str):
            raise ValueError(f"expected a string, got {_type_name(raw)} ({_show(raw)})")
        if spec.optional and raw == "":
            # An empty string switches an optional setting off, e.g. back to the embedded portal.
            return None
        value = raw
    check = _CHECKS.get(key)
    return check(value) if check is not None else value


def check_setting(key: str, value: str) -> object:
    """`value` as config.toml's `key` would take it (typed and checked); ValueError if not."""
    return _convert(key, value, text=True)


def _flag_name(key: str, value: object) -> str:
    name = "--" + key.replace("_", "-")
    if value is False and KEYS.get(key, _Key(str)).kind is bool:
        return "--no-" + key.replace("_", "-")
    return name


def _expand(path: str) -> Path:
    return Path(path).expanduser().absolute()


def _config_location(flags: Mapping[str, object], env: Mapping[str, str]) -> tuple[Path, str, bool]:
    """(path, source, must_exist): a file named on the command line has to be there."""
    flag = flags.get("config")
    if flag is not None:
        if not isinstance(flag, str | os.PathLike):
            raise ConfigError("flag --config", f"expected a path, got {_type_name(flag)}")
        return _expand(os.fspath(flag)), "flag --config", True
    if env.get(CONFIG_ENV):
        return _expand(env[CONFIG_ENV]), f"env {CONFIG_ENV}", False
    import platformdirs

    folder = platformdirs.user_config_dir(APP_NAME, appauthor=False)
    return Path(folder) / CONFIG_FILE_NAME, "default", False


def _data_location(env: Mapping[str, str]) -> tuple[Path, str]:
    if env.get(DATA_DIR_ENV):
        return _expand(env[DATA_DIR_ENV]), f"env {DATA_DIR_ENV}"
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)), "default"


def _read_file(path: Path, must_exist: bool) -> dict[str, Any]:
    where = str(path)
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        if must_exist:
            raise ConfigError(where, "no such file") from None
        return {}
    except IsADirectoryError:
        raise ConfigError(where, "cannot read: it is a directory, not a file") from None
    except PermissionError:
        raise ConfigError(where, "cannot read: permission denied") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(where, f"not UTF-8 text (byte {exc.start})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(where, _toml_problem(exc)) from None
    except OSError as exc:
        raise ConfigError(where, f"cannot read: {exc.strerror or exc}") from None


def _unknown_key(key: str, raw: object) -> str:
    if isinstance(raw, dict):
        # "[smtp]\nhost = ..." is a natural guess; the keys are flat: smtp_host.
        flat = [f"{key}_{sub}" for sub in raw if f"{key}_{sub}" in KEYS]
        example = f", e.g. {flat[0]} = ..." if flat else ""
        return f"unknown key {key!r} (settings are top-level keys, not tables{example})"
    close = difflib.get_close_matches(key, KEYS, n=1)
    if close:
        return f"unknown key {key!r} (did you mean {close[0]!r}?)"
    return f"unknown key {key!r} (known keys: {', '.join(KEYS)})"


def _read_keymap(where: str, raw: object) -> dict[str, str]:
    """[keymap]'s shape: binding id = "keys". Whether the ids and keys exist is the app's to
    say (portal_tui.tui.keymap), before it starts."""
    if not isinstance(raw, dict):
        raise ConfigError(
            where,
            f'expected a table ([keymap] then "binding.id" = "keys"), got {_type_name(raw)}',
            KEYMAP,
        )
    keymap: dict[str, str] = {}
    for binding_id, keys in raw.items():
        name = f"{KEYMAP}.{binding_id}"
        if not isinstance(keys, str):
            shown = f"{_type_name(keys)} ({_show(keys)})"
            raise ConfigError(where, f'expected keys as a string ("ctrl+s"), got {shown}', name)
        if not keys.strip():
            raise ConfigError(where, "expected keys, got an empty string", name)
        keymap[binding_id] = keys.strip()
    return keymap


def _toml_problem(exc: tomllib.TOMLDecodeError) -> str:
    message = str(exc)
    # tomllib puts the position at the end: "Invalid value (at line 2, column 5)".
    head, sep, tail = message.rpartition(" (at ")
    if sep and tail.endswith(")"):
        return f"{tail[:-1]}: invalid TOML: {head}"
    return f"invalid TOML: {message}"


def load_settings(
    flags: Mapping[str, object] | None = None, env: Mapping[str, str] | None = None
) -> Settings:
    """The effective settings; raises ConfigError on the first setting that cannot be used.

    `flags` maps key names (plus "config", the config file path) to command-line values; a
    value of None means the flag was not given. `env` defaults to os.environ. An environment
    variable set to the empty string counts as not set.
    """
    flags = {k: v for k, v in (flags or {}).items() if v is not None}
    env = os.environ if env is None else env

    config_file, config_source, must_exist = _config_location(flags, env)
    data_dir, data_source = _data_location(env)
    values: dict[str, object] = {}
    sources: dict[str, str] = {"config_file": config_source, "data_dir": data_source}

    file_values = _read_file(config_file, must_exist)
    keymap: dict[str, str] = {}
    if KEYMAP in file_values:
        keymap = _read_keymap(str(config_file), file_values.pop(KEYMAP))
        sources[KEYMAP] = f"file {config_file}"
    for key, raw in file_values.items():
        if key not in KEYS:
            raise ConfigError(str(config_file), _unknown_key(key, raw))
        try:
            values[key] = _convert(key, raw, text=False)
        except ValueError as exc:
            raise ConfigError(str(config_file), str(exc), key) from None
        sources[key] = f"file {config_file}"

    for key in KEYS:
        name = ENV_PREFIX + key.upper()
        raw_env = env.get(name)
        if not raw_env:
            continue
        try:
            values[key] = _convert(key, raw_env, text=True)
        except ValueError as exc:
            raise ConfigError(f"env {name}", str(exc), key) from None
        sources[key] = f"env {name}"

    for key, raw_flag in flags.items():
        if key == "config":
            continue
        flag = _flag_name(key, raw_flag)
        if key not in KEYS:
            raise ConfigError(f"flag {flag}", f"unknown key {key!r}")
        try:
            values[key] = _convert(key, raw_flag, text=isinstance(raw_flag, str))
        except ValueError as exc:
            raise ConfigError(f"flag {flag}", str(exc), key) from None
        sources[key] = f"flag {flag}"

    defaults: dict[str, Callable[[], object]] = {
        "database_url": lambda: sqlite_url(data_dir / DATABASE_FILE_NAME),
        "portal_url": lambda: None,
        "portal_token": lambda: None,
        "staff_user": default_staff_user,
        "ascii": lambda: None,
        "smtp_host": lambda: None,
        "smtp_port": lambda: DEFAULT_SMTP_PORT,
        "smtp_starttls": lambda: True,
        "smtp_user": lambda: None,
        "smtp_password": lambda: None,
        "mail_from": lambda: None,
        "upload_limit_mb": lambda: DEFAULT_UPLOAD_LIMIT_MB,
        "reset_link_valid_minutes": lambda: DEFAULT_RESET_LINK_MINUTES,
        "sign_in_links": lambda: False,
        "session_places": lambda: False,
        "embedded_portal_port": lambda: None,
        "forwarded_allow_ips": lambda: None,
        **{key: functools.partial(int, days) for key, days in DEFAULT_KEEP_DAYS.items()},
    }
    for key, make_default in defaults.items():
        if key not in values:
            values[key] = make_default()
            sources[key] = "default"
    if values["ascii"] is None:
        # "auto", whether by default or said explicitly: decide from where the output goes,
        # and from the terminal the staff member says they have (over SSH, the client's TERM).
        values["ascii"] = not stream_is_utf8(sys.stdout) or not term_draws_unicode(
            env.get("TERM", "")
        )

    return Settings(
        config_file=config_file,
        data_dir=data_dir,
        sources=sources,
        keymap=keymap,
        **values,  # type: ignore[arg-type]
    )
