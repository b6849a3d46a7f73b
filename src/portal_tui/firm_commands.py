"""The commands that make a firm from nothing and keep its staff list: `portal-tui init` (the
firm and its first Admin) and `portal-tui staff list|add|role|disable|enable`. Nothing is
imported but argparse until one of them runs (`portal-tui --help` stays fast)."""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from portal_tui.config import Settings
    from portal_tui.domain.states import StaffRole

FIRM_COMMANDS = ("init", "staff")
ROLES = ("admin", "normal", "billing", "read_only")
EXIT_OK = 0
EXIT_USER_ERROR = 2


def _role(text: str) -> str:
    value = text.strip().lower().replace("-", "_")
    if value not in ROLES:
        raise argparse.ArgumentTypeError(f"a role is one of {', '.join(ROLES)}; got {text!r}")
    return value


def add_firm_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser],
                      common: argparse.ArgumentParser) -> None:  # fmt: skip
    init = commands.add_parser(
        "init",
        parents=[common],
        help="set up a new firm in the configured firm database, with you as its Admin",
        description="Create the firm and its first staff user, an Admin (by default your OS "
        "login), in one step. Refused over a database that already holds a firm. Asks for "
        "what is not given as an option when run in a terminal.",
    )
    init.add_argument("--firm", metavar="NAME", help="the firm's name, as clients see it")
    init.add_argument("--login", metavar="LOGIN", help="the Admin's login (default: OS login)")
    init.add_argument("--name", metavar="NAME", help="the Admin's full name")
    init.add_argument("--email", metavar="EMAIL", help="the Admin's email address")

    staff = commands.add_parser(
        "staff",
        parents=[common],
        help="list, add, change or disable the firm's staff users (Admins only)",
        description="The firm's staff users (R1 roles: admin, normal, billing, read_only). "
        "Changes are made as the configured staff_user, who must be an Admin; every change "
        "is audited.",
    )
    actions = staff.add_subparsers(dest="staff_command", metavar="ACTION", required=True)
    actions.add_parser("list", help="every staff user with role and whether active")
    add = actions.add_parser("add", help="add a staff user")
    add.add_argument("login", metavar="LOGIN")
    add.add_argument("--name", required=True, metavar="NAME")
    add.add_argument("--email", required=True, metavar="EMAIL")
    add.add_argument("--role", type=_role, default="normal", help="default: normal")
    role = actions.add_parser("role", help="change a staff user's role")
    role.add_argument("login", metavar="LOGIN")
    role.add_argument("role", type=_role, metavar="ROLE")
    for verb in ("disable", "enable"):
        action = actions.add_parser(verb, help=f"{verb} a staff user")
        action.add_argument("login", metavar="LOGIN")


def _ask(value: str | None, question: str, default: str | None, flag: str) -> str:
    if value is not None and value.strip():
        return value
    if not sys.stdin.isatty():
        if default:
            return default
        raise _Missing(f"{flag} is required (or run `portal-tui init` in a terminal to be asked)")
    shown = f" [{default}]" if default else ""
    answer = input(f"{question}{shown}: ").strip()
    return answer or default or ""


class _Missing(Exception):
    pass


def _os_login() -> str | None:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return None


def _full_name(login: str | None) -> str | None:
    try:
        import pwd

        gecos = pwd.getpwnam(login or "").pw_gecos.split(",")[0].strip()
    except (ImportError, KeyError):
        return None
    return gecos or None


def run_firm_command(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    if args.command == "init":
        return _init(args, settings, out)
    return _staff(args, settings, out)


def _init(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    from portal_tui.repository import Repository

    login_default = settings.staff_user or _os_login()
    try:
        firm = _ask(args.firm, "Firm name", None, "--firm")
        login = _ask(args.login, "Your login", login_default, "--login")
        name = _ask(args.name, "Your full name", _full_name(login), "--name")
        email = _ask(args.email, "Your email address", None, "--email")
    except _Missing as missing:
        print(f"portal-tui: {missing}", file=sys.stderr)
        return EXIT_USER_ERROR
    repo = Repository.open(settings.database_url)
    try:
        repo.init_firm(firm, login, name, email)
    finally:
        repo.close()
    print(f"Set up {firm!r} with {login} as its Admin.", file=out)
    if login != settings.staff_user and login != _os_login():
        print(f"Act as {login}: set staff_user = {login!r} in {settings.config_file}.", file=out)
    print(
        "Next: `portal-tui staff add` for your colleagues, then `portal-tui` to open it.", file=out
    )
    return EXIT_OK


def _staff(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    from portal_tui.domain.states import StaffRole
    from portal_tui.repository import Repository

    repo = Repository.open(settings.database_url, settings.staff_user)
    try:
        _ = repo.actor  # an active staff user of this firm, or one line saying how to get one
        if args.staff_command == "list":
            rows = repo.list_staff()
            width = max((len(r.login) for r in rows), default=5)
            for r in rows:
                state = "active" if r.active else "disabled"
                print(f"{r.login:<{width}}  {r.role.label:<9}  {state:<8}  {r.name} <{r.email}>",
                      file=out)  # fmt: skip
            return EXIT_OK
        if args.staff_command == "add":
            role: StaffRole = StaffRole(args.role)
            repo.add_staff(args.login, args.name, args.email, role)
            print(f"Added {args.login} ({role.label}).", file=out)
        elif args.staff_command == "role":
            row = repo.set_staff_role(args.login, StaffRole(args.role))
            print(f"{row.login} is now {row.role.label}.", file=out)
        else:
            row = repo.set_staff_active(args.login, args.staff_command == "enable")
            print(f"{row.login} is now {'active' if row.active else 'disabled'}.", file=out)
        return EXIT_OK
    finally:
        repo.close()
