"""The firm the pilot tests run on, and reading what the screen shows.

A tiny purpose-built firm per test (Textual's and Posting's practice: small, fixed data), made
through the repository as staff would make it. Getting about the app and waiting for it are
in pilot.py, the one set of moves every TUI test makes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from rich.text import Text
from textual.pilot import Pilot
from textual.widgets import OptionList, Static

from portal_tui.domain import Category, InvoiceStatus, ItemKind, StaffRole
from portal_tui.domain.records import Share, ShareRecord
from portal_tui.repository import Repository
from portal_tui.tui.app import PortalApp
from portal_tui.tui.common.item_table import ItemTable

SIZE = (120, 40)
TIMEOUT_S = 10.0

# One staff login per role (R1).
ADMIN, NORMAL, BILLING, READER = "admin", "jnormal", "bbilling", "rreader"

Table = ItemTable[Any]
AppPilot = Pilot[None]


@dataclass(frozen=True)
class TuiFirm:
    """Three matters and one item of each kind a test looks for, by id.

    Matters list newest number first: 2026-0003 (ON), 2026-0002 (OFF), 2026-0001 (ON, narrow).
    """

    url: str
    on_matter: int  # 2026-0003 "Estate of Byrne", client Ada Byrne: portal ON, all permitted
    off_matter: int  # 2026-0002 "Estate of Smith", client "Smith [Deceased]": portal OFF
    narrow_matter: int  # 2026-0001 "Lease of Unit 4", client Carla Diaz: ON, Notes not permitted
    draft_invoice: int  # INV-0002, ON matter, issued 2026-02-05 (listed first in the matter)
    final_invoice: int  # INV-0001, ON matter, issued 2026-01-05
    off_invoice: int  # INV-0003, OFF matter, Draft, issued 2026-03-05 (first in Activities)
    event: int
    task: int
    note: int
    off_note: int  # subject "[b]bold[/b]", on the OFF matter
    narrow_note: int  # on the matter that does not permit Notes
    stored_doc: int  # engagement-letter.txt, in "Client Portal Documents"
    linked_doc: int  # will-scan.txt, in the linked folder "Scans"
    off_doc: int  # probate-form.txt, on the OFF matter

    system: Repository  # the test's own look at the database, beside the app's

    def repo(self, login: str | None = None) -> Repository:
        """The firm's data as `login` (None: the system), on the test's own engine."""
        return Repository(self.system.db, login)

    def share(self, kind: ItemKind, item_id: int) -> Share:
        """The item's share mark as the database holds it."""
        return self.system.share_state(kind, item_id)

    def row(self, kind: ItemKind, item_id: int) -> Any:
        return self.system.item_row(kind, item_id)

    def record(self, kind: ItemKind, item_id: int) -> ShareRecord:
        record = self.system.share_record(kind, item_id)
        assert record is not None, f"{kind.label} {item_id} has never been shared"
        return record

    def invoice_status(self, invoice_id: int) -> InvoiceStatus:
        return InvoiceStatus(self.row(ItemKind.INVOICE, invoice_id).status)

    def count(self, kind: ItemKind, matter_id: int) -> int:
        return len(self.system.list_items(kind, matter_id=matter_id, limit=1000).rows)

    def share_now(self, kind: ItemKind, item_id: int) -> None:
        """Share an item before the app starts, as if done earlier."""
        self.repo(ADMIN).share(kind, item_id, confirmed=True)

    def app(self, login: str = ADMIN, **kw: Any) -> PortalApp:
        url = self.url
        kw.setdefault("deliver", False)
        return PortalApp(lambda: Repository.open(url, login), **kw)


def build_firm(folder: Path, url: str | None = None) -> TuiFirm:
    """The firm, in an SQLite file in `folder` unless `url` names another database."""
    url = url or f"sqlite:///{folder / 'firm.db'}"
    repo = Repository.open(url)
    try:
        repo.setup_firm("Hale & Forde LLP")
        for login, name, role in (
            (ADMIN, "Avery Admin", StaffRole.ADMIN),
            (NORMAL, "Jo Normal", StaffRole.NORMAL),
            (BILLING, "Bea Billing", StaffRole.BILLING),
            (READER, "Rae Reader", StaffRole.READ_ONLY),
        ):
            repo.add_staff(login, name, f"{login}@firm.test", role)
        ada = repo.add_client("Ada Byrne", primary_email="ada@example.test")
        smith = repo.add_client("Smith [Deceased]", primary_email="smith@example.test")
        carla = repo.add_client("Carla Diaz", primary_email="carla@example.test")
        narrow = repo.add_matter(carla, number="2026-0001", name="Lease of Unit 4")
        off = repo.add_matter(smith, number="2026-0002", name="Estate of Smith")
        on = repo.add_matter(ada, number="2026-0003", name="Estate of Byrne")
        repo.set_matter_portal(on, True)
        repo.set_matter_portal(narrow, True)
        repo.set_matter_permissions(narrow, [c for c in Category if c is not Category.NOTES])
        lines = [("Advice", "2", 25000)]
        final = repo.add_invoice(
            on,
            number="INV-0001",
            issued_on=date(2026, 1, 5),
            lines=lines,
            status=InvoiceStatus.FINAL,
        )
        draft = repo.add_invoice(on, number="INV-0002", issued_on=date(2026, 2, 5), lines=lines)
        off_invoice = repo.add_invoice(
            off, number="INV-0003", issued_on=date(2026, 3, 5), lines=lines
        )
        event = repo.add_event(
            on, title="Probate hearing", starts_at=datetime(2026, 12, 1, 15, tzinfo=UTC)
        )
        task = repo.add_task(on, title="Sign the inventory", due_on=date(2026, 12, 3))
        note = repo.add_note(on, subject="Call with Ada", body="Discussed the estate.")
        off_note = repo.add_note(off, subject="[b]bold[/b]", body="[red]not red[/red]")
        narrow_note = repo.add_note(narrow, subject="Landlord call", body="Rent review.")
        stored = repo.add_document(
            on, repo.client_portal_folder(on), name="engagement-letter.txt", content=b"Dear Ada"
        )
        linked_dir = folder / "linked"
        linked_dir.mkdir()
        (linked_dir / "will-scan.txt").write_bytes(b"The last will of Ada's father")
        scans = repo.add_folder(on, "Scans", linked_path=str(linked_dir))
        linked = repo.link_document(on, scans, linked_name="will-scan.txt")
        off_doc = repo.add_document(
            off, repo.client_portal_folder(off), name="probate-form.txt", content=b"Form"
        )
    except BaseException:
        repo.close()
        raise
    return TuiFirm(
        url=url,
        on_matter=on,
        off_matter=off,
        narrow_matter=narrow,
        draft_invoice=draft,
        final_invoice=final,
        off_invoice=off_invoice,
        event=event,
        task=task,
        note=note,
        off_note=off_note,
        narrow_note=narrow_note,
        stored_doc=stored,
        linked_doc=linked,
        off_doc=off_doc,
        system=repo,
    )


# Waiting ---------------------------------------------------------------------------------------


# Reading the screen ---------------------------------------------------------------------------


def ids(table: Table) -> list[int]:
    return [row.id for row in table.rows_shown]


def row_index(table: Table, item_id: int) -> int:
    shown = ids(table)
    assert item_id in shown, f"item {item_id} is not in the list {shown}"
    return shown.index(item_id)


def cell(table: Table, item_id: int, column: str) -> str:
    """One cell's plain text; `column` is "share" (the far-left icon) or a column's header."""
    row_index(table, item_id)
    key = "share"
    if column != "share":
        key = next(str(k.value) for k, c in table.columns.items() if c.label.plain == column)
    value = table.get_cell(str(item_id), key)
    return value.plain if isinstance(value, Text) else str(value)


def glyph(app: PortalApp, share: Share) -> str:
    """What the far-left cell must show for this share mark."""
    return app.glyphs.share(share).plain


def options(app: PortalApp) -> list[str]:
    """The prompts of the option list on the top screen (the Action menu)."""
    menu = app.screen.query_one(OptionList)
    return [str(menu.get_option_at_index(i).prompt) for i in range(menu.option_count)]


def dialog(app: PortalApp) -> tuple[str, str]:
    """The title and the message of the Confirm or Notice on top."""
    title = app.screen.query_one(".dialog-title", Static)
    body = app.screen.query_one(".dialog-body", Static)
    return str(title.content), str(body.content)


def screen_text(app: PortalApp) -> str:
    """The screen as the terminal would show it, as plain text."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


# Moving about, by keyboard --------------------------------------------------------------------
