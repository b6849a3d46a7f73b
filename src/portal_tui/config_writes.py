"""Settings that `portal-tui init` (or the first-run screen) keeps in config.toml for the next
start: the portal's address and token, and which staff user this OS account is. The file is
written whole to a private temporary beside it and moved into place, so it is either as it was
or as it should be; what it already says is never overwritten (the owner may have a reason)."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping
from pathlib import Path

from portal_tui.config import KEYS, ConfigError, Settings, check_setting, default_staff_user
from portal_tui.private import write_private


def first_run_settings(
    login: str, portal: str | None, token: str | None, settings: Settings
) -> dict[str, str]:
    """What config.toml must say for the next start to open the new firm as `login`, with
    its portal at `portal` (None: the embedded one)."""
    kept: dict[str, str] = {}
    login = login.strip()
    if login and login != (settings.staff_user or default_staff_user()):
        kept["staff_user"] = login
    if portal and portal != settings.portal_url:
        kept["portal_url"] = portal
    if token and token != settings.portal_token:
        kept["portal_token"] = token
    return kept


def checked(values: Mapping[str, str]) -> dict[str, str]:
    """Each value as config.toml would take it; ConfigError names the first that will not do."""
    out: dict[str, str] = {}
    for key, value in values.items():
        try:
            out[key] = str(check_setting(key, value))
        except ValueError as exc:
            raise ConfigError("init", str(exc), key) from None
    return out


def remember(config_file: Path, values: Mapping[str, str]) -> list[str]:
    """Adds the keys of `values` to config.toml (made 0600 if missing) and returns those
    written; a key the file already sets to another value is a ConfigError, and nothing is
    written."""
    new, old = _planned(config_file, values)
    if not new:
        return []
    # Top-level keys must come before the first [table]: at the top of the file they always do.
    # A JSON string of the characters themselves is a TOML basic string (the same escapes).
    lines = "".join(
        f"{key} = {json.dumps(value, ensure_ascii=False)}\n" for key, value in new.items()
    )
    text = lines + ("\n" + old if old else "")
    _replace(config_file, text)
    return list(new)


def check_remember(config_file: Path, values: Mapping[str, str]) -> None:
    """The ConfigError `remember` would raise, before anything else is done."""
    _planned(config_file, values)


def _planned(config_file: Path, values: Mapping[str, str]) -> tuple[dict[str, str], str]:
    wanted = checked(values)
    try:
        old = config_file.read_text(encoding="utf-8")
    except FileNotFoundError:
        old = ""
    except OSError as exc:
        raise ConfigError(str(config_file), f"cannot read: {exc.strerror or exc}") from None
    try:
        present = tomllib.loads(old)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(config_file), f"not valid TOML ({exc})") from None
    new: dict[str, str] = {}
    for key, value in wanted.items():
        if key not in present:
            new[key] = value
        elif present[key] != value:
            shown = "another token" if KEYS[key].secret else repr(present[key])
            raise ConfigError(str(config_file), f"already set to {shown}; change it there", key)
    return new, old


def _replace(path: Path, text: str) -> None:
    try:
        write_private(path, text)
    except OSError as exc:
        raise ConfigError(str(path), f"cannot write: {exc.strerror or exc}") from None
