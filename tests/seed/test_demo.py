"""The demo firm (`portal-tui seed --demo`): what it holds, the same for the same seed, on both
backends."""

from __future__ import annotations

import getpass
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal_tui.database import Database
from portal_tui.domain import rules
from portal_tui.domain.kinds import ALL_CATEGORIES, Category, ItemKind, categories_from_names
from portal_tui.domain.states import (
    ContactStatus,
    DocumentSource,
    FieldType,
    FormRule,
    InvoiceStatus,
    ShareState,
    StaffRole,
)
from portal_tui.repository import Repository
from portal_tui.seed.demo import DemoRefused, default_linked_root, seed_demo, tiny_pdf
from portal_tui.seed.demo_data import CLIENT_PORTAL_FOLDER, LINKED_DIR
from portal_tui.store.models import (
    Client,
    Document,
    Folder,
    IntakeForm,
    Invoice,
    InvoiceLine,
    Matter,
    Message,
    PortalContact,
    ShareMark,
    StaffUser,
)

Dump = Callable[[str], dict[str, list[tuple[Any, ...]]]]


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def demo_firm(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Path]]:
    """The demo firm (seed 1), written once per backend for the tests that only read it:
    (database URL, linked folder root)."""
    folder = tmp_path_factory.mktemp("demo")
    if request.param == "sqlite":
        url = f"sqlite:///{folder / 'firm.db'}"
        seed_demo(url, 1, linked_root=folder / "linked")
        yield url, folder / "linked"
        return
    from sqlalchemy import text

    from portal_tui.database import normalise_url

    admin = request.getfixturevalue("pg_admin")
    name = f"pt_demo_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = normalise_url(str(admin.url)).set(database=name).render_as_string(hide_password=False)
    try:
        seed_demo(url, 1, linked_root=folder / "linked")
        yield url, folder / "linked"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def demo(demo_firm: tuple[str, Path]) -> Iterator[Session]:
    """A session reading the demo firm."""
    db = Database(demo_firm[0])
    try:
        with db.read() as s:
            yield s
    finally:
        db.dispose()


def _count(s: Session, model: type[object]) -> int:
    return s.scalar(select(func.count()).select_from(model)) or 0


def test_same_seed_gives_the_same_firm_another_varies_details(
    tmp_path: Path, dump_db: Dump
) -> None:
    urls = []
    for name, seed in (("a", 1), ("b", 1), ("c", 2)):
        (tmp_path / name).mkdir()
        url = f"sqlite:///{tmp_path / name / 'firm.db'}"
        seed_demo(url, seed)
        urls.append(url)
    first, second, other = (dump_db(url) for url in urls)
    assert first["matters"], "the dump is empty"
    assert first == second
    # Another seed varies details (dates, amounts), never the shape of the firm.
    assert first["invoices"] != other["invoices"]
    assert first["clients"] == other["clients"]
    assert [r[1] for r in first["matters"]] == [r[1] for r in other["matters"]]
    # The linked files on disk are the same too, each next to its own database.
    files = [
        {
            str(p.relative_to(tmp_path / n)): p.read_bytes()
            for p in (tmp_path / n / LINKED_DIR).rglob("*")
            if p.is_file()
        }
        for n in ("a", "b")
    ]
    assert files[0]
    assert files[0] == files[1]


def test_staff_one_per_role_and_the_os_login(demo: Session) -> None:
    staff = {u.login: u.role for u in demo.scalars(select(StaffUser))}
    assert set(staff.values()) == set(StaffRole)
    assert staff["admin"] is StaffRole.ADMIN
    assert staff["jnormal"] is StaffRole.NORMAL
    assert staff["bbilling"] is StaffRole.BILLING
    assert staff["rreader"] is StaffRole.READ_ONLY
    # The app maps the OS login to a staff user: the demo works without staff_user set.
    assert getpass.getuser() in staff


def test_clients_people_companies_and_markup(demo: Session) -> None:
    clients = list(demo.scalars(select(Client)))
    assert 18 <= len(clients) <= 22
    names = [c.name for c in clients]
    assert any("Smith [Deceased]" in n for n in names)
    assert any(n.endswith(("LLC", "Inc.", "Corp.", "LP")) for n in names)
    without_email = [c for c in clients if not c.primary_email]
    assert 2 <= len(without_email) <= 6


def test_matters_portal_on_and_off_with_permissions(demo: Session) -> None:
    matters = list(demo.scalars(select(Matter)))
    assert 25 <= len(matters) <= 35
    on = [m for m in matters if m.portal_enabled]
    off = [m for m in matters if not m.portal_enabled]
    assert len(on) >= 5
    assert len(off) >= 5
    assert all(m.number[:4].isdigit() and m.number[4] == "-" for m in matters)
    names = " | ".join(m.name for m in matters)
    for pattern in ("Estate of ", " v. ", "Purchase of 14 Elm St"):
        assert pattern in names
    sets = [categories_from_names(m.portal_permissions) for m in on]
    assert sum(s == ALL_CATEGORIES for s in sets) > len(on) // 2
    assert ALL_CATEGORIES - {Category.DOCUMENTS} in sets
    assert ALL_CATEGORIES - {Category.FORMS} in sets
    # A matter never turned ON has no permissions of its own yet (M2 starts from the firm's).
    assert all(m.portal_permissions is None for m in off)


def test_contacts_invited_and_active_only_on_portal_matters(demo: Session) -> None:
    contacts = list(demo.scalars(select(PortalContact)))
    statuses = Counter(c.status for c in contacts)
    assert statuses[ContactStatus.INVITED] >= 2
    assert statuses[ContactStatus.ACTIVE] >= 2
    for c in contacts:
        matter = demo.get(Matter, c.matter_id)
        assert matter is not None
        assert matter.portal_enabled
        assert (c.activated_at is not None) == (c.status is ContactStatus.ACTIVE)


def test_invoices_draft_and_final_with_lines(demo: Session) -> None:
    invoices = list(demo.scalars(select(Invoice)))
    statuses = Counter(i.status for i in invoices)
    assert statuses[InvoiceStatus.DRAFT] >= 3
    assert statuses[InvoiceStatus.FINAL] >= 3
    assert len({i.number for i in invoices}) == len(invoices)
    for invoice in invoices:
        lines = list(demo.scalars(select(InvoiceLine).where(InvoiceLine.invoice_id == invoice.id)))
        assert lines
        assert sum(ln.amount_cents for ln in lines) == invoice.total_cents
        assert 0 <= invoice.paid_cents <= invoice.total_cents


def test_events_tasks_notes_messages(demo: Session) -> None:
    from portal_tui.store.models import CalendarEvent, Note, Task

    matters = _count(demo, Matter)
    assert _count(demo, CalendarEvent) >= matters
    assert _count(demo, Task) >= matters
    assert _count(demo, Note) >= matters
    messages = list(demo.scalars(select(Message)))
    assert len(messages) >= 5
    assert all(m.author_staff_id is not None for m in messages)


def test_documents_stored_and_linked(demo: Session, demo_firm: tuple[str, Path]) -> None:
    docs = list(demo.scalars(select(Document)))
    by_source = Counter(d.source for d in docs)
    assert by_source[DocumentSource.STORED] >= 10
    assert by_source[DocumentSource.LINKED] >= 3
    folders = list(demo.scalars(select(Folder)))
    assert any(f.name == CLIENT_PORTAL_FOLDER for f in folders)
    assert len({f.name for f in folders}) >= 3
    linked = [f for f in folders if f.linked_path]
    assert linked
    for folder in linked:
        path = Path(folder.linked_path or "")
        assert path.is_relative_to(demo_firm[1])
        assert sorted(p.name for p in path.iterdir())
    for doc in docs:
        if doc.source is DocumentSource.LINKED:
            folder = demo.get(Folder, doc.folder_id)
            assert folder is not None
            assert (Path(folder.linked_path or "") / (doc.linked_name or "")).is_file()
        else:
            assert doc.size > 0
    assert any(d.from_client for d in docs)


def test_pdfs_are_pdfs() -> None:
    pdf = tiny_pdf("Engagement letter", ["Matter 2024-0012: Estate (planning) – Park"])
    assert pdf.startswith(b"%PDF-1.4\n")
    assert pdf.rstrip().endswith(b"%%EOF")
    start = int(pdf.rsplit(b"startxref\n", 1)[1].split(b"\n")[0])
    assert pdf[start:].startswith(b"xref")
    assert b"\\(planning\\)" in pdf


def test_two_forms_associate_and_create(demo: Session) -> None:
    forms = {f.rule: f for f in demo.scalars(select(IntakeForm))}
    assert set(forms) == {FormRule.ASSOCIATE, FormRule.CREATE}
    associate, create = forms[FormRule.ASSOCIATE], forms[FormRule.CREATE]
    assert create.matter_id is None
    assert associate.matter_id is not None
    matter = demo.get(Matter, associate.matter_id)
    assert matter is not None
    # S4: the associate form is shareable as seeded (portal ON, Forms permitted).
    firm = rules.f2_default_firm_portal()
    portal = rules.MatterPortal(
        matter.portal_enabled, categories_from_names(matter.portal_permissions)
    )
    assert rules.s4_may_share_form(FormRule.ASSOCIATE, portal, firm)
    types = {f["type"] for form in forms.values() for f in form.fields}
    assert types == {t.value for t in FieldType}
    assert any(f["required"] for f in associate.fields)
    assert any(not f["required"] for f in associate.fields)
    targets = {f["target"] for form in forms.values() for f in form.fields}
    assert {"client.phone", "client.address", "matter.description"} <= targets


def test_some_items_are_already_shared(demo: Session) -> None:
    marks = list(demo.scalars(select(ShareMark).where(ShareMark.wanted.is_(True))))
    kinds = Counter(m.kind for m in marks)
    assert kinds[ItemKind.INVOICE] >= 2
    for kind in (ItemKind.EVENT, ItemKind.TASK, ItemKind.NOTE, ItemKind.DOCUMENT):
        assert kinds[kind] >= 1, kind
    assert all(m.state in (ShareState.PENDING, ShareState.SHARED) for m in marks)
    for mark in marks:
        if mark.kind is ItemKind.INVOICE:
            invoice = demo.get(Invoice, mark.item_id)
            assert invoice is not None
            assert invoice.status is InvoiceStatus.FINAL
    linked_shared = [
        m
        for m in marks
        if m.kind is ItemKind.DOCUMENT
        and (d := demo.get(Document, m.item_id)) is not None
        and d.source is DocumentSource.LINKED
    ]
    assert linked_shared, "S3: a document from a linked folder is shared too"


def test_the_app_opens_it_as_the_os_user(demo_firm: tuple[str, Path]) -> None:
    repo = Repository.open(demo_firm[0], getpass.getuser())
    try:
        assert repo.firm_name()
        assert repo.current_staff() is not None
        assert len(repo.list_matters(limit=100).rows) == 30
    finally:
        repo.close()


def test_a_firm_with_matters_is_refused_and_left_alone(tmp_path: Path, dump_db: Dump) -> None:
    url = f"sqlite:///{tmp_path / 'firm.db'}"
    seed_demo(url, 1)
    before = dump_db(url)
    with pytest.raises(DemoRefused, match="already holds matters"):
        seed_demo(url, 2)
    assert dump_db(url) == before


def test_a_firm_with_a_demo_login_is_refused_before_writing(tmp_path: Path, dump_db: Dump) -> None:
    url = f"sqlite:///{tmp_path / 'firm.db'}"
    repo = Repository.open(url)
    try:
        repo.setup_firm("Real Firm LLP")
        repo.add_staff("jnormal", "Jo Normal", "jo@real.example", StaffRole.NORMAL)
    finally:
        repo.close()
    before = dump_db(url)
    with pytest.raises(DemoRefused, match="'jnormal'"):
        seed_demo(url, 1)
    assert dump_db(url) == before


def test_linked_folder_next_to_an_sqlite_file(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x' / 'firm.db'}"
    assert default_linked_root(url) == tmp_path / "x" / LINKED_DIR
    assert default_linked_root("postgresql+psycopg://u@h/firm").name == LINKED_DIR
    assert default_linked_root("sqlite://").name == LINKED_DIR


@pytest.mark.postgres
def test_postgres_holds_the_same_firm_as_sqlite(pg_url: str, tmp_path: Path, dump_db: Dump) -> None:
    sqlite_url = f"sqlite:///{tmp_path / 'firm.db'}"
    seed_demo(sqlite_url, 1, linked_root=tmp_path / "a")
    seed_demo(pg_url, 1, linked_root=tmp_path / "b")
    assert dump_db(pg_url) == dump_db(sqlite_url)
