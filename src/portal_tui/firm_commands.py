"""The commands that make a firm from nothing and keep its staff list: `portal-tui init` (the
firm and its first Admin) and `portal-tui staff list|add|role|disable|enable`. Nothing is
imported but argparse until one of them runs (`portal-tui --help` stays fast)."""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from portal_tui.config import Settings
    from portal_tui.domain.states import StaffRole

FIRM_COMMANDS = ("init", "staff", "import")
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


def add_import_command(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    bring = commands.add_parser(
        "import",
        parents=[common],
        help="bring in the firm's clients, matters, invoices or calendar from its own files",
        description="Read a file the firm already has — a CSV export of clients or matters, "
        "invoices as LEDES 1998B or CSV, a calendar as .ics — and show what it would add, "
        "change and refuse; --apply writes it, the whole file in one transaction. Rows are "
        "matched on the firm's own ids, so importing the same file again changes nothing "
        "(docs/importing.md).",
    )
    bring.add_argument("what", choices=("clients", "matters", "invoices", "events"))
    bring.add_argument("file", metavar="FILE")
    bring.add_argument("--apply", action="store_true", help="write it (default: a dry run)")
    bring.add_argument(
        "--map",
        action="append",
        default=[],
        metavar="COLUMN=FIELD",
        help="read the file's COLUMN as FIELD (CSV; repeatable)",
    )
    bring.add_argument("--matter", metavar="NUMBER", help="events: the matter they belong to")


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
    if args.command == "import":
        return _import(args, settings, out)
    return _staff(args, settings, out)


def _import(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    from pathlib import Path

    from portal_tui.imports import calendar, ledes, tabular
    from portal_tui.imports.records import FileRefused
    from portal_tui.repository import Repository

    path = Path(args.file)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        print(f"portal-tui: cannot read {path}: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    if args.what == "events" and not args.matter:
        print("portal-tui: import events needs --matter NUMBER", file=sys.stderr)
        return EXIT_USER_ERROR
    try:
        renames = tabular.parse_renames(args.map)
    except ValueError as exc:
        print(f"portal-tui: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    repo = Repository.open(settings.database_url, settings.staff_user)
    name = path.name
    try:
        if args.what == "clients":
            report = repo.import_clients(
                tabular.read_clients(text, renames).checked(name), name=name, apply=args.apply
            )
        elif args.what == "matters":
            report = repo.import_matters(
                tabular.read_matters(text, renames).checked(name), name=name, apply=args.apply
            )
        elif args.what == "invoices":
            parsed = (
                ledes.read_ledes(text)
                if ledes.is_ledes(text)
                else tabular.read_invoices(text, renames)
            )
            report = repo.import_invoices(parsed.checked(name), name=name, apply=args.apply)
        else:
            zone = _firm_zone()
            report = repo.import_events(
                args.matter,
                calendar.read_calendar(text, zone).checked(name),
                name=name,
                apply=args.apply,
            )
    except FileRefused as refused:
        print(f"portal-tui: {refused}", file=sys.stderr)
        return EXIT_USER_ERROR
    finally:
        repo.close()
    verb = "" if report.applied else "would be "
    print(
        f"{name}: {len(report.added)} {report.what} {verb}added, {len(report.changed)} "
        f"{verb}changed, {report.unchanged} already as the file says.",
        file=out,
    )
    for label, ids in (("added", report.added), ("changed", report.changed)):
        if ids:
            shown = ", ".join(ids[:20]) + (f" and {len(ids) - 20:,} more" if len(ids) > 20 else "")
            print(f"  {label}: {shown}", file=out)
    if not report.applied and (report.added or report.changed):
        print("Nothing was written: run it again with --apply to write it.", file=out)
    return EXIT_OK


def _firm_zone() -> Any:
    """Where a floating time in a calendar file is: the machine's own zone."""
    from datetime import datetime

    return datetime.now().astimezone().tzinfo


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
