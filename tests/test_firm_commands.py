"""A real firm from nothing, as its first user would start it (README: "A firm of your own"):
`portal-tui init`, `portal-tui staff` and `portal-tui import`, run as programs on a fresh data
folder; every error one line with exit status 2, and nothing changed by it."""

from __future__ import annotations

import os
import stat

from .test_cli import Home, home  # noqa: F401  (the fixture)


def test_a_firm_from_nothing_in_three_commands(home: Home) -> None:  # noqa: F811
    # An empty firm database says how to begin.
    opened = home.run("--staff-user", "jdoe", "staff", "list")
    assert opened.status == 2 and "portal-tui init" in opened.err
    made = home.run(
        "init", "--firm", "Harbor & Vale LLP", "--login", "jdoe",
        "--name", "Jane Doe", "--email", "jane@hv.example",
    )  # fmt: skip
    assert made.status == 0, made.err
    assert "Set up 'Harbor & Vale LLP' with jdoe as its Admin." in made.out
    firm_db = home.data / "firm.db"
    assert stat.S_IMODE(os.stat(firm_db).st_mode) == 0o600
    added = home.run(
        "--staff-user", "jdoe", "staff", "add", "mkay",
        "--name", "Max Kay", "--email", "max@hv.example", "--role", "billing",
    )  # fmt: skip
    assert added.status == 0 and "Added mkay (Billing)." in added.out
    listed = home.run("--staff-user", "jdoe", "staff", "list").out.splitlines()
    assert [line.split()[:3] for line in listed] == [
        ["jdoe", "Admin", "active"],
        ["mkay", "Billing", "active"],
    ]
    # The new staff user opens the firm: its rows are theirs to read.
    status = home.run("--staff-user", "mkay", "status")
    assert status.status == 0 and "Harbor & Vale LLP" in status.out


def test_init_over_a_firm_and_init_without_answers_are_refused(home: Home) -> None:  # noqa: F811
    asked = home.run("init", "--firm", "Harbor & Vale LLP")  # no terminal to ask in
    assert asked.status == 2 and asked.err_lines == [
        "portal-tui: --email is required (or run `portal-tui init` in a terminal to be asked)"
    ]
    assert (
        not (home.data / "firm.db").exists()
        or home.run("--staff-user", "x", "staff", "list").status == 2
    )
    first = home.run("init", "--firm", "A", "--login", "jdoe", "--name", "J", "--email", "j@a.test")
    assert first.status == 0, first.err
    again = home.run("init", "--firm", "B", "--login", "x", "--name", "X", "--email", "x@b.test")
    assert again.status == 2 and len(again.err_lines) == 1
    assert "already holds a firm (A): nothing was changed" in again.err


def test_staff_changes_keep_an_admin_and_refuse_in_one_line(home: Home) -> None:  # noqa: F811
    home.run("init", "--firm", "A", "--login", "jdoe", "--name", "J", "--email", "j@a.test")
    home.run("--staff-user", "jdoe", "staff", "add", "amy", "--name", "Amy", "--email", "a@a.test")
    for args, said in [
        (("staff", "disable", "jdoe"), "You cannot disable your own staff user"),
        (("staff", "role", "jdoe", "normal"), "at least one active Admin"),
        (("staff", "role", "nobody", "admin"), "There is no staff user with login 'nobody'."),
        (("staff", "add", "bad login", "--name", "B", "--email", "b@a.test"), "not usable"),
    ]:
        run = home.run("--staff-user", "jdoe", *args)
        assert run.status == 2 and len(run.err_lines) == 1 and said in run.err, run.err
    assert home.run("--staff-user", "amy", "staff", "disable", "jdoe").status == 2  # Normal
    assert home.run("--staff-user", "jdoe", "staff", "role", "amy", "admin").status == 0
    assert (
        home.run("--staff-user", "amy", "staff", "disable", "jdoe").out == "jdoe is now disabled.\n"
    )
    gone = home.run("--staff-user", "jdoe", "staff", "list")
    assert gone.status == 2 and "No active staff user with login 'jdoe'" in gone.err
    bad_role = home.run("--staff-user", "amy", "staff", "role", "jdoe", "boss")
    assert (
        bad_role.status == 2
        and "a role is one of admin, normal, billing, read_only" in bad_role.err
    )


def test_import_a_firms_clients_and_matters_from_its_exports(home: Home) -> None:  # noqa: F811
    home.run("init", "--firm", "A", "--login", "jdoe", "--name", "J", "--email", "j@a.test")
    clients = home.root / "clients.csv"
    clients.write_text("Client ID,Display Name,Email\nC-1,Anna Łukasiewicz,anna@example.test\n")
    matters = home.root / "matters.csv"
    matters.write_text("File #,Title,Client ID\nM-1,Estate,C-1\nM-2,Lost,C-404\n")
    as_jdoe = ("--staff-user", "jdoe", "import")
    dry = home.run(*as_jdoe, "clients", str(clients))
    assert dry.status == 0 and "1 clients would be added" in dry.out and "--apply" in dry.out
    applied = home.run(*as_jdoe, "clients", str(clients), "--apply")
    assert applied.status == 0 and "1 clients added, 0 changed" in applied.out
    again = home.run(*as_jdoe, "clients", str(clients), "--apply")
    assert "0 clients added, 0 changed, 1 already as the file says." in again.out
    unmapped = home.run(*as_jdoe, "matters", str(matters), "--apply")
    assert unmapped.status == 2 and "no column for number" in unmapped.err
    refused = home.run(*as_jdoe, "matters", str(matters), "--map", "File #=number", "--apply")
    assert refused.status == 2 and "nothing was imported" in refused.err
    assert "line 3: client C-404 is not in the firm" in refused.err
    missing = home.run(*as_jdoe, "invoices", str(home.root / "none.ledes"))
    assert missing.status == 2 and missing.err.startswith("portal-tui: cannot read")


def test_p2_import_invoices_with_their_own_pdfs_and_invoice_pdf(home: Home) -> None:  # noqa: F811
    home.run("init", "--firm", "A", "--login", "jdoe", "--name", "J", "--email", "j@a.test")
    (home.root / "clients.csv").write_text("Client ID,Name\nC-1,Anna\n")
    (home.root / "matters.csv").write_text("Matter Number,Matter Name,Client ID\nM-1,Estate,C-1\n")
    as_jdoe = ("--staff-user", "jdoe")
    home.run(*as_jdoe, "import", "clients", str(home.root / "clients.csv"), "--apply")
    home.run(*as_jdoe, "import", "matters", str(home.root / "matters.csv"), "--apply")
    invoices = home.root / "nov.csv"
    invoices.write_text(
        "Invoice Number,Matter,Date,Total\nINV-1,M-1,2026-11-01,10.00\nINV-2,M-1,2026-11-02,20.00\n"
    )
    folder = home.root / "pdfs"
    folder.mkdir()
    (folder / "inv-1.PDF").write_bytes(b"%PDF-1.4 one")
    (folder / "notes.txt").write_text("not looked at")
    dry = home.run(*as_jdoe, "import", "invoices", str(invoices), "--pdf", str(folder))
    assert dry.status == 0, dry.err
    assert "  PDF would be attached: INV-1" in dry.out and "--apply" in dry.out
    (folder / "INV-3.pdf").write_bytes(b"%PDF-1.4 three")
    stray = home.run(*as_jdoe, "import", "invoices", str(invoices), "--pdf", str(folder), "--apply")
    assert stray.status == 2 and "INV-3.pdf: names no invoice of nov.csv" in stray.err
    (folder / "INV-3.pdf").unlink()
    done = home.run(*as_jdoe, "import", "invoices", str(invoices), "--pdf", str(folder), "--apply")
    assert done.status == 0 and "  PDF attached: INV-1" in done.out

    not_pdf = home.root / "scan.png"
    not_pdf.write_bytes(b"\x89PNG")
    refused = home.run(*as_jdoe, "invoice", "pdf", "INV-2", str(not_pdf))
    assert refused.status == 2 and refused.err_lines == [
        "portal-tui: scan.png: not a PDF (a PDF file starts with %PDF-); nothing was changed."
    ]
    own = home.root / "two.pdf"
    own.write_bytes(b"%PDF-1.7 two")
    attached = home.run(*as_jdoe, "invoice", "pdf", "INV-2", str(own))
    assert attached.out == "Invoice INV-2 now has its own PDF (two.pdf).\n", attached.err
    removed = home.run(*as_jdoe, "invoice", "pdf", "INV-2", "--remove")
    assert removed.out == "Invoice INV-2 has no PDF of its own now.\n"
    both = home.run(*as_jdoe, "invoice", "pdf", "INV-2", str(own), "--remove")
    assert both.status == 2 and "invoice pdf NUMBER --remove" in both.err


def test_import_contacts_and_documents_from_the_command_line(home: Home) -> None:  # noqa: F811
    home.run("init", "--firm", "A", "--login", "jdoe", "--name", "J", "--email", "j@a.test")
    as_jdoe = ("--staff-user", "jdoe", "import")
    clients = home.root / "clients.csv"
    clients.write_text("Client ID,Name\nC-1,Anna Łukasiewicz\n")
    matters = home.root / "matters.csv"
    matters.write_text(
        "Matter Number,Matter Name,Client ID,Responsible Attorney\nM-1,Estate,C-1,J\n"
    )
    assert home.run(*as_jdoe, "clients", str(clients), "--apply").status == 0
    assert home.run(*as_jdoe, "matters", str(matters), "--apply").status == 0
    contacts = home.root / "contacts.csv"
    contacts.write_text("Client ID,Name,Email\nC-1,Anna Łukasiewicz,anna@example.test\n")
    off = home.run(*as_jdoe, "contacts", str(contacts), "--apply")
    assert (
        off.status == 2 and "line 2: client C-1 has no matter whose client portal is ON" in off.err
    )
    from portal_tui.repository import Repository

    repo = Repository.open(f"sqlite:///{home.data / 'firm.db'}", "jdoe")
    try:
        matter = repo.list_matters().rows[0]
        repo.set_matter_portal(matter.id, True)
    finally:
        repo.close()
    invited = home.run(*as_jdoe, "contacts", str(contacts), "--apply")
    assert invited.status == 0, invited.err
    assert "1 contacts added" in invited.out and "anna@example.test on M-1" in invited.out
    again = home.run(*as_jdoe, "contacts", str(contacts), "--apply")
    assert "0 contacts added, 0 changed, 1 already as the file says." in again.out

    case = home.root / "Case files"
    case.mkdir()
    (case / "Chronology.txt").write_text("1. The contract.\n")
    (case / ".hidden").write_text("x")
    no_matter = home.run(*as_jdoe, "documents", str(case))
    assert no_matter.status == 2 and "needs --matter NUMBER" in no_matter.err
    dry = home.run(*as_jdoe, "documents", "--matter", "M-1", str(case))
    assert dry.status == 0 and "1 documents would be added" in dry.out
    assert "skipped: .hidden: a hidden file" in dry.out
    linked = home.run(*as_jdoe, "documents", "--matter", "M-1", str(case), "--apply")
    assert "1 documents added" in linked.out
    letter = home.root / "letter.txt"
    letter.write_text("Dear client")
    stored = home.run(*as_jdoe, "documents", "--matter", "M-1", str(letter), "--apply")
    assert stored.status == 0 and "added: letter.txt" in stored.out
    same = home.run(*as_jdoe, "documents", "--matter", "M-1", str(case), "--apply")
    assert "0 documents added, 0 changed, 1 already as the file says." in same.out
    big = home.root / "big.pdf"
    big.write_bytes(b"x" * (2 * 1024 * 1024))
    refused = home.run(
        *as_jdoe, "documents", "--matter", "M-1", str(big), PORTAL_TUI_UPLOAD_LIMIT_MB="1"
    )
    assert refused.status == 2 and f"{big}: is 2.0 MB, over the portal's limit" in refused.err
