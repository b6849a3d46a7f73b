"""Crossing edits (docs/many-staff.md, "Edits"): two staff members open the same event, task,
note, intake form or portal contact; the first saves; the second's Save, made from what they
read, is refused with EditConflict naming the first (by name) and when, and writes nothing:
the first's change stands. The refusal names whoever last changed the row's own fields: a
share of the item by a third staff member in between does not make it name the sharer, and a
share alone is no crossing at all (the Save goes through, and the share stands). Each staff
member has a Repository (and a database connection) of their own; on SQLite and on
PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from portal_tui.database import Database
from portal_tui.domain import EditConflict, FormRule, ItemKind, texts
from portal_tui.repository import Repository
from portal_tui.store.models import AuditEntry, OutboxEntry

from ..delivery.support import Firm
from .support import STAFF, add_staff

EMAIL = {"key": "email", "label": "Email", "type": "email", "target": "client.primary_email"}


@dataclass(frozen=True)
class Row:
    """One kind of row staff edit, as its screen reads and saves it."""

    what: str  # as the refusal calls it
    trail: str  # the kind its audit entries carry
    item: ItemKind | None  # its kind of shared item, if it is one
    make: Callable[[Firm], int]
    read: Callable[[Repository, int], int]  # the version the screen keeps
    save: Callable[[Repository, int, int, str], object]  # `by`'s change, made at that version
    shown: Callable[[Repository, int], str]  # what the row holds now


def _item(kind: ItemKind, field: str, make: Callable[[Firm], int]) -> Row:
    return Row(
        kind.label,
        kind.value,
        kind,
        make,
        lambda repo, row: repo.item_row(kind, row).edit_version,
        lambda repo, row, version, by: repo.edit_item(
            kind, row, expected_version=version, **{field: f"As {by} saved it"}
        ),
        lambda repo, row: getattr(repo.item_row(kind, row), field),
    )


def _form(firm: Firm) -> int:
    return firm.repo.add_form(
        "Client details", fields=[EMAIL], rule=FormRule.ASSOCIATE, matter_id=firm.matters[0]
    )


def _save_form(repo: Repository, form: int, version: int, by: str) -> object:
    read = repo.intake_form(form)
    return repo.edit_form(
        form,
        name=f"As {by} saved it",
        fields=[EMAIL],
        rule=FormRule.ASSOCIATE,
        matter_id=read.matter_id,
        expected_version=version,
    )


def _act_on_contact(repo: Repository, contact: int, version: int, by: str) -> object:
    # The first disables the contact; the second, from the same screen, removes them.
    if by == STAFF["admin"]:
        return repo.disable_contact(contact, expected_version=version)
    return repo.remove_contact(contact, confirmed=True, expected_version=version)


HEARING = datetime(2026, 5, 4, 9, 30, tzinfo=UTC)

ROWS = {
    "event": _item(
        ItemKind.EVENT,
        "title",
        lambda firm: firm.repo.add_event(firm.matters[0], title="Hearing", starts_at=HEARING),
    ),
    "task": _item(
        ItemKind.TASK, "title", lambda firm: firm.repo.add_task(firm.matters[0], title="Sign")
    ),
    "note": _item(
        ItemKind.NOTE,
        "subject",
        lambda firm: firm.repo.add_note(firm.matters[0], subject="Next steps", body="."),
    ),
    "intake form": Row(
        "intake form",
        ItemKind.FORM.value,
        ItemKind.FORM,
        _form,
        lambda repo, form: repo.intake_form(form).edit_version,
        _save_form,
        lambda repo, form: repo.intake_form(form).name,
    ),
    "contact": Row(
        "contact",
        "contact",
        None,
        lambda firm: firm.clients[0].contacts[0],
        lambda repo, contact: repo.contact(contact).version,
        _act_on_contact,
        lambda repo, contact: repo.contact(contact).status.value,
    ),
}
# What each row holds once the first staff member (Ada Admin) has saved.
ADAS = {name: f"As {STAFF['admin']} saved it" for name in ROWS} | {"contact": "disabled"}


@pytest.fixture
def staff(firm: Firm, database_url: str) -> Iterator[dict[str, Repository]]:
    """Ada (the firm's Admin), Bea and Cal, each with a connection of their own."""
    add_staff(firm, "bea", "cal")
    others = {login: Repository(Database(database_url), login) for login in ("bea", "cal")}
    try:
        yield {"admin": firm.repo, **others}
    finally:
        for repo in others.values():
            repo.close()


def _written(repo: Repository) -> tuple[int, int]:
    """How many audit entries and outbox rows the firm has."""
    with repo.db.read() as s:
        audit = s.scalar(select(func.count()).select_from(AuditEntry)) or 0
        outbox = s.scalar(select(func.count()).select_from(OutboxEntry)) or 0
    return audit, outbox


@pytest.mark.parametrize("name", list(ROWS))
def test_a_save_after_someone_elses_is_refused_naming_them_and_writes_nothing(
    firm: Firm, staff: dict[str, Repository], name: str
) -> None:
    row = ROWS[name]
    ada, bea, cal = staff["admin"], staff["bea"], staff["cal"]
    target = row.make(firm)
    # Both open it.
    adas_read, beas_read = row.read(ada, target), row.read(bea, target)
    assert adas_read == beas_read

    row.save(ada, target, adas_read, STAFF["admin"])
    (saved,) = [e for e in ada.audit_for_item(row.trail, target) if e.actor == "admin"][-1:]
    if row.item is not None:
        # A third staff member shares it meanwhile: not a change of the row's fields.
        cal.share(row.item, target)
    before = _written(firm.repo)

    with pytest.raises(EditConflict) as refused:
        row.save(bea, target, beas_read, STAFF["bea"])
    when = saved.at.astimezone().strftime("%Y-%m-%d %H:%M")
    assert refused.value.message == texts.EDIT_CROSSED.format(
        who=STAFF["admin"], what=row.what, when=when
    )
    assert refused.value.changed_by == STAFF["admin"]
    assert refused.value.changed_at == saved.at

    # Ada's change stands; nothing of Bea's was written, not even to the trail or the outbox.
    assert row.shown(bea, target) == ADAS[name]
    assert _written(firm.repo) == before
    assert "bea" not in {e.actor for e in ada.audit_for_item(row.trail, target)}
    if row.item is not None:
        assert cal.share_state(row.item, target).wanted


def test_a_share_by_someone_else_is_no_crossing_and_the_save_keeps_it(
    firm: Firm, staff: dict[str, Repository]
) -> None:
    bea, cal = staff["bea"], staff["cal"]
    for name, row in ROWS.items():
        if row.item is None:
            continue
        target = row.make(firm)
        beas_read = row.read(bea, target)
        cal.share(row.item, target)
        # Bea's Save, made from what she read before Cal's share, goes through.
        assert row.save(bea, target, beas_read, STAFF["bea"]) is None, name
        assert row.shown(bea, target) == f"As {STAFF['bea']} saved it", name
        # Her untouched Share box did not undo Cal's share: the portal gets the new copy.
        assert bea.share_state(row.item, target).wanted, name
        trail = [(e.actor, e.action) for e in bea.audit_for_item(row.trail, target)]
        assert trail[-3:] == [("cal", "share"), ("bea", "edit"), ("bea", "republish")], name
