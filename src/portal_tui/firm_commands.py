"""The commands that make a firm from nothing and keep its staff list and data: `portal-tui
init` (the firm and its first Admin), `portal-tui staff list|add|role|disable|enable|key`,
`portal-tui import` (the firm's own exports) and `portal-tui invoice pdf` (an invoice's own
PDF). Nothing is imported but argparse until one of them runs (`portal-tui --help` stays
fast)."""

from __future__ import annotations

import argparse
import getpass
import sys
import warnings
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from portal_tui.config import Settings
    from portal_tui.domain.ssh_keys import PublicKey
    from portal_tui.domain.states import StaffRole
    from portal_tui.imports.pdfs import PdfFile
    from portal_tui.repository import Repository

FIRM_COMMANDS = ("init", "staff", "import", "invoice")
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
    init.add_argument(
        "--portal",
        metavar="URL",
        help="the portal service's address, kept in config.toml (default: the embedded portal); "
        "its staff token is asked for in a terminal, or comes from PORTAL_TUI_PORTAL_TOKEN",
    )

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
    _add_key_commands(actions)


def _add_key_commands(actions: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    key = actions.add_parser(
        "key",
        help="the SSH keys that let staff in through `portal-tui ssh-serve`",
        description="Each SSH public key registered here opens the staff app as its staff "
        "user through the built-in SSH door (portal-tui ssh-serve). Adding and removing keys "
        "is for Admins, and audited.",
    )
    verbs = key.add_subparsers(dest="key_command", metavar="ACTION", required=True)
    add = verbs.add_parser("add", help="register a public key (KEY.pub) for a staff user")
    add.add_argument("login", metavar="LOGIN")
    add.add_argument("file", metavar="FILE", help="the public key file ssh-keygen wrote")
    listed = verbs.add_parser("list", help="the registered keys, everyone's or LOGIN's")
    listed.add_argument("login", metavar="LOGIN", nargs="?")
    remove = verbs.add_parser("remove", help="take a key away (by its fingerprint)")
    remove.add_argument("login", metavar="LOGIN")
    remove.add_argument("fingerprint", metavar="FINGERPRINT", help="SHA256:… as `key list` shows")


def add_import_command(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    bring = commands.add_parser(
        "import",
        parents=[common],
        help="bring in the firm's clients, matters, contacts, invoices, calendar or documents "
        "from its own files",
        description="Read what the firm already has — a CSV export of clients, matters or "
        "portal contacts, invoices as LEDES 1998B or CSV, a calendar as .ics, a matter's "
        "documents (a file, or a folder kept where it is as a linked folder) — and show what "
        "it would add, change and refuse; --apply writes it, the whole file in one "
        "transaction. Rows are matched on the firm's own ids, so importing the same file "
        "again changes nothing (docs/importing.md).",
    )
    bring.add_argument(
        "what", choices=("clients", "matters", "contacts", "invoices", "events", "documents")
    )
    bring.add_argument("file", metavar="PATH", help="the file (documents: a file or a folder)")
    bring.add_argument("--apply", action="store_true", help="write it (default: a dry run)")
    bring.add_argument(
        "--map",
        action="append",
        default=[],
        metavar="COLUMN=FIELD",
        help="read the file's COLUMN as FIELD (CSV; repeatable)",
    )
    bring.add_argument(
        "--matter", metavar="NUMBER", help="events, documents: the matter they belong to"
    )
    bring.add_argument(
        "--folder",
        metavar="NAME",
        help="documents: the matter's folder a file goes in (default: Documents); a folder "
        "imported is linked under its own name",
    )
    bring.add_argument(
        "--pdf",
        metavar="PATH",
        help="invoices: the firm's own PDF of the file's one invoice, or a folder of PDFs named "
        "<INVOICE_NUMBER>.pdf; the client downloads it instead of the PDF made from the lines",
    )


def add_invoice_command(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    invoice = commands.add_parser(
        "invoice",
        parents=[common],
        help="attach, replace or remove an invoice's own PDF",
        description="The firm's own PDF of an invoice is what its client downloads from the "
        "portal instead of the PDF made from the invoice's lines. Attaching, replacing or "
        "removing it is audited, and a shared invoice goes to the portal again.",
    )
    actions = invoice.add_subparsers(dest="invoice_command", metavar="ACTION", required=True)
    pdf = actions.add_parser(
        "pdf",
        help="attach or replace (FILE), or remove (--remove), an invoice's own PDF",
        description="portal-tui invoice pdf NUMBER FILE attaches FILE (a PDF) to invoice "
        "NUMBER, in place of any it had; portal-tui invoice pdf NUMBER --remove takes it "
        "away, and the client downloads the PDF made from the lines again.",
    )
    pdf.add_argument("number", metavar="NUMBER", help="the invoice number")
    pdf.add_argument("file", metavar="FILE", nargs="?", help="the PDF to attach")
    pdf.add_argument("--remove", action="store_true", help="remove the invoice's own PDF")


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
    if args.command == "invoice":
        return _invoice_pdf(args, settings, out)
    return _staff(args, settings, out)


def _limit_bytes(settings: Settings) -> int:
    """The largest PDF an invoice may have: what the portal takes (its upload limit)."""
    return settings.upload_limit_mb * 1024 * 1024


def _read_pdfs(path_text: str) -> list[PdfFile]:
    """The PDFs `--pdf PATH` names: the one file, or every `*.pdf` of the folder (by name,
    whatever its case; other files and subfolders are not looked at). Raises OSError."""
    from pathlib import Path

    from portal_tui.imports.pdfs import PdfFile, number_of

    path = Path(path_text)
    if path.is_dir():
        files = []
        for entry in sorted(path.iterdir(), key=lambda p: p.name):
            number = number_of(entry.name)
            if number is not None and entry.is_file():
                files.append(PdfFile(entry.name, entry.read_bytes(), number))
        if not files:
            raise OSError(f"{path} holds no <INVOICE_NUMBER>.pdf files")
        return files
    return [PdfFile(path.name, path.read_bytes())]


def _invoice_pdf(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    from pathlib import Path

    from portal_tui.imports.pdfs import PdfFile
    from portal_tui.repository import Repository

    if args.remove == (args.file is not None):
        print(
            "portal-tui: say what to do: invoice pdf NUMBER FILE, or invoice pdf NUMBER --remove",
            file=sys.stderr,
        )
        return EXIT_USER_ERROR
    pdf = None
    if args.file is not None:
        path = Path(args.file)
        try:
            pdf = PdfFile(path.name, path.read_bytes())
        except OSError as exc:
            print(f"portal-tui: cannot read {path}: {exc.strerror or exc}", file=sys.stderr)
            return EXIT_USER_ERROR
    repo = Repository.open(settings.database_url, settings.staff_user)
    try:
        done = repo.set_invoice_pdf(args.number, pdf, limit_bytes=_limit_bytes(settings))
    finally:
        repo.close()
    if not done.changed:
        state = "has that PDF already" if pdf is not None else "has no PDF of its own"
        print(f"Invoice {done.number} {state}; nothing changed.", file=out)
        return EXIT_OK
    what = f"now has its own PDF ({pdf.name})" if pdf is not None else "has no PDF of its own now"
    shared = "; the portal gets it with the shared invoice" if done.republished else ""
    print(f"Invoice {done.number} {what}{shared}.", file=out)
    return EXIT_OK


def _import(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    from pathlib import Path

    from portal_tui.imports import calendar, files, ledes, tabular
    from portal_tui.imports.pdfs import Pdfs, PdfsRefused
    from portal_tui.imports.records import FileRefused, Parsed
    from portal_tui.progress import progress_line
    from portal_tui.repository import Repository
    from portal_tui.repository.importing import STAFF_DOCUMENTS_FOLDER, ImportReport

    path = Path(args.file)
    name = path.name or str(path)
    if args.what in ("events", "documents") and not args.matter:
        print(f"portal-tui: import {args.what} needs --matter NUMBER", file=sys.stderr)
        return EXIT_USER_ERROR
    pdfs = None
    if args.pdf is not None:
        if args.what != "invoices":
            print("portal-tui: --pdf goes with import invoices only", file=sys.stderr)
            return EXIT_USER_ERROR
        try:
            pdfs = Pdfs(tuple(_read_pdfs(args.pdf)), _limit_bytes(settings))
        except OSError as exc:
            print(f"portal-tui: cannot read {args.pdf}: {exc.strerror or exc}", file=sys.stderr)
            return EXIT_USER_ERROR
    text = ""
    documents: Parsed[Any] | None = None
    if args.what == "documents":
        limit = settings.upload_limit_mb * 1024 * 1024  # the portal's: a client downloads it
        if path.is_dir():
            documents = files.read_folder(path, limit)
        elif path.exists():
            documents = files.read_file(path, limit)
        else:
            print(f"portal-tui: cannot read {path}: no such file or folder", file=sys.stderr)
            return EXIT_USER_ERROR
    else:
        try:
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            print(f"portal-tui: cannot read {path}: {exc}", file=sys.stderr)
            return EXIT_USER_ERROR
    try:
        renames = tabular.parse_renames(args.map)
    except ValueError as exc:
        print(f"portal-tui: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    repo = Repository.open(settings.database_url, settings.staff_user)
    progress = progress_line(sys.stderr, f"{name}: {args.what}")
    report: ImportReport
    try:
        if args.what == "clients":
            report = repo.import_clients(
                tabular.read_clients(text, renames).checked(name),
                name=name,
                apply=args.apply,
                progress=progress,
            )
        elif args.what == "matters":
            report = repo.import_matters(
                tabular.read_matters(text, renames).checked(name),
                name=name,
                apply=args.apply,
                progress=progress,
            )
        elif args.what == "contacts":
            report = repo.import_contacts(
                tabular.read_contacts(text, renames).checked(name),
                name=name,
                apply=args.apply,
                progress=progress,
            )
        elif args.what == "invoices":
            parsed = (
                ledes.read_ledes(text)
                if ledes.is_ledes(text)
                else tabular.read_invoices(text, renames)
            )
            report = repo.import_invoices(
                parsed.checked(name),
                name=name,
                apply=args.apply,
                progress=progress,
                pdfs=pdfs,
            )
        elif args.what == "documents":
            assert documents is not None
            report = repo.import_documents(
                args.matter,
                documents.checked(name),
                name=name,
                apply=args.apply,
                linked_path=path if path.is_dir() else None,
                folder_name=args.folder or STAFF_DOCUMENTS_FOLDER,
                progress=progress,
            )
        else:
            zone = _firm_zone()
            report = repo.import_events(
                args.matter,
                calendar.read_calendar(text, zone).checked(name),
                name=name,
                apply=args.apply,
                progress=progress,
            )
    except (FileRefused, PdfsRefused) as refused:
        if progress is not None:
            progress.finish()  # the refusal starts on a line of its own
        print(f"portal-tui: {refused}", file=sys.stderr)
        return EXIT_USER_ERROR
    finally:
        if progress is not None:
            progress.finish()
        repo.close()
    verb = "" if report.applied else "would be "
    print(
        f"{name}: {len(report.added)} {report.what} {verb}added, {len(report.changed)} "
        f"{verb}changed, {report.unchanged} already as the file says.",
        file=out,
    )
    attached = "PDF attached" if report.applied else "PDF would be attached"
    labels = (("added", report.added), ("changed", report.changed), (attached, report.pdfs))
    for label, ids in labels:
        if ids:
            shown = ", ".join(ids[:20]) + (f" and {len(ids) - 20:,} more" if len(ids) > 20 else "")
            print(f"  {label}: {shown}", file=out)
    if documents is not None and documents.skipped:
        skipped = documents.skipped
        more = f"; and {len(skipped) - 20:,} more" if len(skipped) > 20 else ""
        print(f"  skipped: {'; '.join(skipped[:20])}{more}", file=out)
    if not report.applied and (report.added or report.changed):
        print("Nothing was written: run it again with --apply to write it.", file=out)
    return EXIT_OK


def _firm_zone() -> Any:
    """Where a floating time in a calendar file is: the machine's own zone."""
    from datetime import datetime

    return datetime.now().astimezone().tzinfo


def _init(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    from portal_tui.config import ConfigError
    from portal_tui.config_writes import check_remember, first_run_settings, remember
    from portal_tui.repository import Repository

    login_default = settings.staff_user or _os_login()
    try:
        firm = _ask(args.firm, "Firm name", None, "--firm")
        login = _ask(args.login, "Your login", login_default, "--login")
        name = _ask(args.name, "Your full name", _full_name(login), "--name")
        email = _ask(args.email, "Your email address", None, "--email")
        portal = _ask_optional(
            args.portal, "The portal's address (blank: the embedded portal)", settings.portal_url
        )
        token = _ask_token(portal, settings.portal_token)
    except _Missing as missing:
        print(f"portal-tui: {missing}", file=sys.stderr)
        return EXIT_USER_ERROR
    kept = first_run_settings(login, portal, token, settings)
    repo = Repository.open(settings.database_url)
    try:
        if repo.firm_is_empty():  # else init_firm says the firm is there, before all else
            # Checked before the firm is made, so a bad address or a clash changes nothing.
            check_remember(settings.config_file, kept)
        repo.init_firm(firm, login, name, email)
    except ConfigError as bad:
        print(f"portal-tui: {bad}", file=sys.stderr)
        return EXIT_USER_ERROR
    finally:
        repo.close()
    print(f"Set up {firm!r} with {login} as its Admin.", file=out)
    try:
        written = remember(settings.config_file, kept)
    except ConfigError as bad:
        print(f"portal-tui: the firm is set up, but {bad}", file=sys.stderr)
        return EXIT_USER_ERROR
    if written:
        print(f"Kept {', '.join(written)} in {settings.config_file}.", file=out)
    if portal and not token:
        print(
            "Set portal_token in config.toml (or PORTAL_TUI_PORTAL_TOKEN) to a staff token of "
            "that portal: `portal-tui token create` on its server.",
            file=out,
        )
    print(
        "Next: `portal-tui staff add` for your colleagues, then `portal-tui` to open it.", file=out
    )
    return EXIT_OK


def _ask_optional(value: str | None, question: str, default: str | None) -> str | None:
    if value is not None:
        return value.strip() or None
    if default or not sys.stdin.isatty():
        return default
    return input(f"{question}: ").strip() or None


def _ask_token(portal: str | None, have: str | None) -> str | None:
    if not portal or have or not sys.stdin.isatty():
        return have
    question = "Its staff token (`portal-tui token create` there; blank: set it later): "
    return getpass.getpass(question).strip() or None


def _staff(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    from portal_tui.domain.states import StaffRole
    from portal_tui.repository import Repository

    key = None
    if args.staff_command == "key" and args.key_command == "add":
        key = _read_key(args.file)  # before the database: a bad file changes nothing
    repo = Repository.open(settings.database_url, settings.staff_user)
    try:
        _ = repo.actor  # an active staff user of this firm, or one line saying how to get one
        if args.staff_command == "key":
            return _staff_key(args, repo, key, out)
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


def _read_key(path_text: str) -> PublicKey:
    """The one public key of the file, or Invalid in one line (the CLI prints it)."""
    from pathlib import Path

    from portal_tui.domain.decision import Invalid
    from portal_tui.domain.ssh_keys import MAX_KEY_TEXT, parse_public_key

    path = Path(path_text)
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_KEY_TEXT + 1)
    except OSError as exc:
        raise Invalid(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = "\x00"  # not text: parse_public_key says so
    key = parse_public_key(text, str(path))
    # The door reads keys with asyncssh: one it could not use is refused now, not at login.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # cryptography's word on DSA, which no key here is
        import asyncssh

    try:
        asyncssh.import_public_key(key.line)
    except (asyncssh.KeyImportError, ValueError):
        raise Invalid(f"{path}: the key's data is damaged: copy the KEY.pub file again.") from None
    return key


def _staff_key(
    args: argparse.Namespace, repo: Repository, key: PublicKey | None, out: TextIO
) -> int:
    if args.key_command == "add":
        assert key is not None
        row, added = repo.add_staff_key(args.login, key)
        if added:
            print(f"Added {row.fingerprint} ({row.kind}) for {row.login}.", file=out)
        else:
            print(f"{row.login} has that key already ({row.fingerprint}); nothing changed.",
                  file=out)  # fmt: skip
        return EXIT_OK
    if args.key_command == "remove":
        row = repo.remove_staff_key(args.login, args.fingerprint)
        print(f"Removed {row.fingerprint} of {row.login}.", file=out)
        return EXIT_OK
    rows = repo.list_staff_keys(args.login)
    if not rows:
        whose = f"{args.login} has" if args.login else "No staff user has"
        print(f"{whose} no SSH key (portal-tui staff key add LOGIN FILE).", file=out)
    width = max((len(r.login) for r in rows), default=5)
    for r in rows:
        day = r.added_at.astimezone().strftime("%Y-%m-%d")
        print(f"{r.login:<{width}}  {r.fingerprint}  {r.kind:<11}  {day}  {r.comment}".rstrip(),
              file=out)  # fmt: skip
    return EXIT_OK


# config.toml's keys as the first-run screen names them.
_ON_SCREEN = {"staff_user": "Your login", "portal_url": "Portal URL", "portal_token": "Its token"}


def first_run_on_screen(settings: Settings, url: str) -> Settings | None:
    """The staff app found an empty firm database: ask `init`'s questions on screen. Returns
    the settings to open the new firm with, or None if nothing was set up (Esc)."""
    from dataclasses import replace

    from portal_tui.config import ConfigError
    from portal_tui.config_writes import check_remember, first_run_settings, remember
    from portal_tui.domain.decision import Invalid, Refused
    from portal_tui.repository import Repository
    from portal_tui.tui.setup.first_run import FirstRunAnswers, FirstRunApp

    repo = Repository.open(url)
    try:
        if not repo.firm_is_empty():
            return None
    finally:
        repo.close()
    unsaved: list[str] = []

    def set_up(a: FirstRunAnswers) -> str | None:
        kept = first_run_settings(a.login, a.portal or None, a.token or None, settings)
        try:
            check_remember(settings.config_file, kept)
        except ConfigError as bad:
            label = _ON_SCREEN.get(bad.key or "", bad.key)
            return bad.problem if label is None else f"{label}: {bad.problem}"
        repo = Repository.open(url)
        try:
            repo.init_firm(a.firm, a.login, a.name, a.email)
        except Invalid as invalid:
            return str(invalid)
        except Refused as refused:
            return refused.message
        finally:
            repo.close()
        try:
            remember(settings.config_file, kept)
        except ConfigError as bad:  # the firm is there: open it, and say what to keep by hand
            unsaved.append(f"the firm is set up, but {bad}")
        return None

    login = settings.staff_user or _os_login()
    answers = FirstRunApp(set_up, login=login, name=_full_name(login)).run()
    for line in unsaved:
        print(f"portal-tui: {line}", file=sys.stderr)
    if answers is None:
        return None
    return replace(
        settings,
        staff_user=answers.login,
        portal_url=answers.portal or settings.portal_url,
        portal_token=answers.token or settings.portal_token,
    )
