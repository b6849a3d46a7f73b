"""Setup > Intake Forms at repository level: every form of the firm with its matter and its
submission count, and editing a form's name, fields and processing rule (S4)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from portal_tui.domain import FormRule, Invalid, ItemKind, NotFound, OutboxOp, Refused
from portal_tui.domain.records import FormField
from portal_tui.store.models import OutboxEntry

from .conftest import Firm

EMAIL = {"key": "email", "label": "Email", "type": "email", "target": "client.primary_email"}
CHOICE = {"key": "how", "label": "How we met", "type": "choice", "choices": ["Web", "Friend"]}


def _forms(firm: Firm) -> tuple[int, int]:
    """An associate form on the matter and a create form; two submissions to the first."""
    repo = firm.admin
    associate = repo.add_form(
        "Client details",
        fields=[EMAIL, CHOICE],
        rule=FormRule.ASSOCIATE,
        matter_id=firm.matter_id,
        description="Who you are",
    )
    create = repo.add_form("New enquiry", fields=[CHOICE], rule=FormRule.CREATE)
    for n in (1, 2):
        firm.system.record_form_submission(
            associate,
            portal_ref=f"sub-{n}",
            answers={"email": f"ada{n}@example.test", "how": "Web"},
            submitted_by="ada@example.test",
            submitted_at=datetime(2026, 3, n, tzinfo=UTC),
        )
    return associate, create


def _publishes(firm: Firm, form_id: int) -> list[int]:
    with firm.system.db.read() as s:
        return list(
            s.scalars(
                select(OutboxEntry.version).where(
                    OutboxEntry.op == OutboxOp.PUBLISH,
                    OutboxEntry.kind == ItemKind.FORM.value,
                    OutboxEntry.item_id == form_id,
                )
            )
        )


def test_s4_every_form_of_the_firm_listed_with_its_matter_and_submissions(firm: Firm) -> None:
    associate, create = _forms(firm)
    other = firm.admin.add_form(
        "Another matter's form",
        fields=[EMAIL],
        rule=FormRule.ASSOCIATE,
        matter_id=firm.other_matter_id,
    )
    rows = firm.admin.list_intake_forms().rows
    assert [r.name for r in rows] == ["Another matter's form", "Client details", "New enquiry"]
    by_id = {r.id: r for r in rows}
    first = by_id[associate]
    assert (first.rule, first.matter_id, first.matter_number) == (
        FormRule.ASSOCIATE,
        firm.matter_id,
        "2026-0001",
    )
    assert first.client_name == "Ada Byrne"
    assert first.submissions == 2
    assert first.fields[0] == FormField(
        "email", "Email", "email", False, (), "client.primary_email"
    )
    assert first.fields[1].choices == ("Web", "Friend")
    assert (by_id[create].matter_id, by_id[create].matter_number) == (None, None)
    assert by_id[create].submissions == 0
    assert by_id[other].matter_number == "2026-0002"
    assert not first.share.wanted


def test_the_form_list_filters_and_pages(firm: Firm) -> None:
    _forms(firm)
    repo = firm.admin
    assert [r.name for r in repo.list_intake_forms("enquiry").rows] == ["New enquiry"]
    assert [r.name for r in repo.list_intake_forms("who you").rows] == ["Client details"]
    assert [r.name for r in repo.list_intake_forms("2026-0001").rows] == ["Client details"]
    only = repo.list_intake_forms(matter_id=firm.matter_id).rows
    assert [r.name for r in only] == ["Client details"]
    first = repo.list_intake_forms(limit=1)
    assert [r.name for r in first.rows] == ["Client details"] and first.more_after
    second = repo.list_intake_forms(after=first.rows[-1].key, limit=1)
    assert [r.name for r in second.rows] == ["New enquiry"]


def test_s4_a_shared_form_shows_shared_in_the_list(firm: Firm) -> None:
    associate, _ = _forms(firm)
    firm.admin.share(ItemKind.FORM, associate)
    assert firm.admin.intake_form(associate).share.wanted


def test_edit_form_saves_name_fields_and_rule(firm: Firm) -> None:
    associate, _ = _forms(firm)
    repo = firm.admin
    assert (
        repo.edit_form(
            associate,
            name="  Client details (2026)  ",
            description="",
            fields=[CHOICE, EMAIL],
            rule=FormRule.ASSOCIATE,
            matter_id=firm.other_matter_id,
        )
        is None
    )
    row = repo.intake_form(associate)
    assert row.name == "Client details (2026)"
    assert row.description is None
    assert [f.key for f in row.fields] == ["how", "email"]
    assert row.matter_id == firm.other_matter_id
    assert row.submissions == 2  # submissions stay with the form
    audit = [a for a in repo.audit_for_item("form", associate) if a.action == "edit"]
    assert audit and audit[-1].after is not None and "fields" in audit[-1].after

    repo.edit_form(associate, name="Client details", fields=[EMAIL], rule=FormRule.CREATE)
    row = repo.intake_form(associate)
    assert (row.rule, row.matter_id) == (FormRule.CREATE, None)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"name": "  "}, "Form name cannot be blank."),
        (
            {"fields": [{"key": "how", "label": "How we met", "type": "choice"}]},
            "Choice field 'How we met' needs at least one choice.",
        ),
        (
            {"matter_id": None},
            "A form that associates with an existing matter must name the matter.",
        ),
    ],
    ids=["no-name", "choice-without-choices", "associate-without-matter"],
)
def test_invalid_edit_says_why_and_saves_nothing(
    firm: Firm, changes: dict[str, Any], message: str
) -> None:
    associate, _ = _forms(firm)
    before = firm.admin.intake_form(associate)
    values: dict[str, Any] = {
        "name": "Renamed",
        "fields": [EMAIL],
        "rule": FormRule.ASSOCIATE,
        "matter_id": firm.matter_id,
        **changes,
    }
    with pytest.raises(Invalid) as e:
        firm.admin.edit_form(associate, **values)
    assert str(e.value) == message
    assert firm.admin.intake_form(associate) == before


def test_add_form_refuses_the_same_invalid_input(firm: Firm) -> None:
    with pytest.raises(Invalid, match="must name the matter"):
        firm.admin.add_form("Lost", fields=[EMAIL], rule=FormRule.ASSOCIATE)
    with pytest.raises(Invalid, match="cannot be blank"):
        firm.admin.add_form(" ", fields=[EMAIL], rule=FormRule.CREATE)
    assert firm.admin.list_intake_forms().rows == ()


def test_edit_an_unknown_form_or_matter_is_not_found(firm: Firm) -> None:
    associate, _ = _forms(firm)
    with pytest.raises(NotFound):
        firm.admin.edit_form(9999, name="X", fields=[], rule=FormRule.CREATE)
    with pytest.raises(NotFound):
        firm.admin.edit_form(
            associate, name="X", fields=[], rule=FormRule.ASSOCIATE, matter_id=9999
        )
    with pytest.raises(NotFound):
        firm.admin.intake_form(9999)


def test_s4_a_shared_form_that_changes_is_published_again(firm: Firm) -> None:
    associate, _ = _forms(firm)
    repo = firm.admin
    repo.share(ItemKind.FORM, associate)
    assert _publishes(firm, associate) == [1]
    repo.edit_form(
        associate,
        name="Client details",
        description="Who you are",
        fields=[EMAIL, CHOICE],
        rule=FormRule.ASSOCIATE,
        matter_id=firm.matter_id,
    )
    assert _publishes(firm, associate) == [1]  # nothing changed: nothing sent
    repo.edit_form(
        associate, name="Your details", fields=[EMAIL], rule=FormRule.ASSOCIATE,
        matter_id=firm.matter_id,
    )  # fmt: skip
    assert _publishes(firm, associate) == [1, 2]
    assert repo.intake_form(associate).share.wanted


@pytest.mark.parametrize("rule", [FormRule.ASSOCIATE, FormRule.CREATE])
def test_s4_a_shared_form_keeps_its_matter_and_rule(firm: Firm, rule: FormRule) -> None:
    associate, _ = _forms(firm)
    repo = firm.admin
    repo.share(ItemKind.FORM, associate)
    before = repo.intake_form(associate)
    with pytest.raises(Refused) as e:
        repo.edit_form(
            associate,
            name="Moved",
            fields=[EMAIL],
            rule=rule,
            matter_id=firm.other_matter_id if rule is FormRule.ASSOCIATE else None,
        )
    assert e.value.rule == "S4"
    assert "Unshare it before" in e.value.message
    assert repo.intake_form(associate) == before
