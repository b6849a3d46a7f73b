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
