"""Setup > Intake Forms: every form of the firm, whatever its matter, with how many times it
was submitted; and editing a form's name, fields and processing rule (S4)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, or_, select

from portal_tui.domain import texts
from portal_tui.domain.decision import Invalid, NotFound, Refused
from portal_tui.domain.kinds import ItemKind
from portal_tui.domain.records import FormField, Key, Page, Share
from portal_tui.domain.states import FormRule
from portal_tui.store.models import Client, FormSubmission, IntakeForm, Matter, ShareMark

from .base import Context, Service, check_unchanged, get_row, locked_row
from .items import check_form_fields
from .paging import AnyRow, AnySelect, keyset_page, like_pattern
from .share_rows import mark_of
from .sharing import SharingService

# Said by add_form too: one wording whichever screen saves the form.
ASSOCIATE_NEEDS_MATTER = "A form that associates with an existing matter must name the matter."


@dataclass(frozen=True, slots=True)
class IntakeFormRow:
    """One line of Setup > Intake Forms: the form, the matter its rule fills (if any), and how
    many submissions it has had."""

    id: int
    name: str
    description: str | None
    rule: FormRule
    matter_id: int | None
    matter_number: str | None
    matter_name: str | None
    client_name: str | None
    fields: tuple[FormField, ...]
    submissions: int
    share: Share
    key: Key
    kind: ItemKind = ItemKind.FORM
    edit_version: int = 0  # as read: the editor's Save is refused if it moved on


def form_fields(stored: Sequence[dict[str, Any]] | None) -> tuple[FormField, ...]:
    return tuple(
        FormField(
            f["key"],
            f.get("label", f["key"]),
            f["type"],
            bool(f.get("required")),
            tuple(f.get("choices") or ()),
            f.get("target"),
        )
        for f in stored or ()
    )


def _row(r: AnyRow) -> IntakeFormRow:
    share = Share()
    if r.share_state is not None:
        share = Share(r.share_state, bool(r.share_wanted), r.share_error)
    return IntakeFormRow(
        id=r.id,
        name=r.name,
        description=r.description,
        rule=r.rule,
        matter_id=r.matter_id,
        matter_number=r.matter_number,
        matter_name=r.matter_name,
        client_name=r.client_name,
        fields=form_fields(r.fields),
        submissions=int(r.submissions or 0),
        share=share,
        key=(r.name, r.id),
        edit_version=r.edit_version,
    )


def _clean_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise Invalid("Form name cannot be blank.")
    return name


class FormsService(Service):
    """Intake forms (S4): their list and their edits; a shared form's copy through `sharing`."""

    def __init__(self, ctx: Context, sharing: SharingService) -> None:
        super().__init__(ctx)
        self.sharing = sharing

    def _forms_select(self) -> AnySelect:
        counts = (
            select(FormSubmission.form_id, func.count().label("n"))
            .group_by(FormSubmission.form_id)
            .subquery()
        )
        mark = and_(ShareMark.kind == ItemKind.FORM, ShareMark.item_id == IntakeForm.id)
        return (
            select(
                IntakeForm.id,
                IntakeForm.name,
                IntakeForm.description,
                IntakeForm.rule,
                IntakeForm.matter_id,
                IntakeForm.fields,
                IntakeForm.edit_version,
                Matter.number.label("matter_number"),
                Matter.name.label("matter_name"),
                Client.name.label("client_name"),
                counts.c.n.label("submissions"),
                ShareMark.state.label("share_state"),
                ShareMark.wanted.label("share_wanted"),
                ShareMark.last_error.label("share_error"),
            )
            .outerjoin(Matter, Matter.id == IntakeForm.matter_id)
            .outerjoin(Client, Client.id == Matter.client_id)
            .outerjoin(counts, counts.c.form_id == IntakeForm.id)
            .outerjoin(ShareMark, mark)
        )

    def list_intake_forms(
        self,
        text: str = "",
        *,
        matter_id: int | None = None,
        after: Key | None = None,
        before: Key | None = None,
        limit: int = 50,
    ) -> Page[IntakeFormRow]:
        """The firm's intake forms by name, across every matter (or one), with their
        submission counts; `text` matches the name, the description or the matter number."""
        stmt = self._forms_select()
        if matter_id is not None:
            stmt = stmt.where(IntakeForm.matter_id == matter_id)
        if text.strip():
            pattern = like_pattern(text.strip())
            stmt = stmt.where(
                or_(
                    IntakeForm.name.ilike(pattern, escape="\\"),
                    IntakeForm.description.ilike(pattern, escape="\\"),
                    Matter.number.ilike(pattern, escape="\\"),
                )
            )
        with self.db.read() as s:
            return keyset_page(
                s,
                stmt,
                IntakeForm.name,
                IntakeForm.id,
                _row,
                descending=False,
                after=after,
                before=before,
                limit=limit,
            )

    def intake_form(self, form_id: int) -> IntakeFormRow:
        with self.db.read() as s:
            found = s.execute(self._forms_select().where(IntakeForm.id == form_id)).first()
            if found is None:
                raise NotFound(f"No intake form with id {form_id}.")
            return _row(found)

    def edit_form(
        self,
        form_id: int,
        *,
        name: str,
        fields: Sequence[dict[str, Any]],
        rule: FormRule,
        matter_id: int | None = None,
        description: str | None = None,
        expected_version: int | None = None,
    ) -> str | None:
        """Save the Edit screen of an intake form: everything checked as add_form checks it.

        A shared form keeps its matter and its associate rule (unshare it first): the portal
        holds it under that matter. A shared form that changed is published again. With
        `expected_version`, a Save after someone else's is refused (EditConflict).
        """
        if rule is FormRule.ASSOCIATE and matter_id is None:
            raise Invalid(ASSOCIATE_NEEDS_MATTER)
        clean_name = _clean_name(name)
        clean_fields = check_form_fields(fields)
        new_matter = matter_id if rule is FormRule.ASSOCIATE else None
        with self.db.write() as s:
            form = locked_row(s, IntakeForm, form_id, "intake form")
            check_unchanged(
                s,
                form.edit_version,
                expected_version,
                what="intake form",
                kind=ItemKind.FORM.value,
                item_id=form_id,
            )
            if new_matter is not None:
                get_row(s, Matter, new_matter, "matter")
            mark = mark_of(s, ItemKind.FORM, form_id)
            if mark is not None and mark.wanted and new_matter != form.matter_id:
                raise Refused("S4", texts.FORM_SHARED_CANNOT_MOVE)
            changes = {
                "name": clean_name,
                "description": (description or "").strip() or None,
                "fields": clean_fields,
                "rule": rule,
                "matter_id": new_matter,
            }
            changed = self.ctx.apply(
                s, form, changes, "edit", ItemKind.FORM.value, form_id, new_matter
            )
            return self.sharing.set_shared(s, ItemKind.FORM, form, None, changed=bool(changed))
