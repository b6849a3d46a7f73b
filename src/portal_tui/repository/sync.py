"""What the portal sends back, applied to the firm: client replies, uploads, form submissions,
first views and downloads. Each is keyed by the portal's own id, so applying the same change
twice (a sync run again after a crash, or two relays reading the feed at once) changes nothing
the second time: the row that records it is inserted first, and a second insert of the same
key waits for the first and then finds it (the unique key, in a savepoint)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from portal_tui.domain.decision import Invalid, NotFound
from portal_tui.domain.kinds import ItemKind
from portal_tui.domain.records import SubmissionRow
from portal_tui.domain.states import FormRule
from portal_tui.sqltypes import utcnow
from portal_tui.store.models import (
    Client,
    Document,
    Folder,
    FormSubmission,
    IntakeForm,
    Matter,
    Message,
    ShareMark,
)

from .base import ITSELF, Service, first_insert, get_row, locked_row
from .items import CLIENT_PORTAL_FOLDER, stored_document

# How a form target names the model attribute it fills.
_TARGET_TYPES: dict[str, type] = {"client.date_of_birth": date}


def submission_row(sub: FormSubmission) -> SubmissionRow:
    return SubmissionRow(
        sub.id,
        sub.form_id,
        sub.matter_id,
        dict(sub.answers),
        sub.submitted_by,
        sub.submitted_at,
        sub.processed_at,
        tuple(sub.changes or ()),
    )


class SyncService(Service):
    """What clients did, recorded in the firm's data: replies, uploads, first views and
    downloads, form submissions. Each is keyed by the portal's own reference, so it lands once."""

    staff_commands = False  # works for whoever runs it: the relay, sync, housekeeping

    def record_client_reply(
        self, matter_id: int, *, portal_ref: str, author_name: str, body: str, sent_at: datetime
    ) -> int | None:
        """A client's reply in the matter's thread (S5). None when it was recorded before."""
        with self.db.write() as s:
            if s.scalar(select(Message.id).where(Message.portal_ref == portal_ref)) is not None:
                return None
            get_row(s, Matter, matter_id, "matter")
            msg = Message(
                matter_id=matter_id,
                from_client=True,
                author_name=author_name,
                subject="",
                body=body,
                sent_at=sent_at,
                portal_ref=portal_ref,
            )
            if not self.ctx.added(
                s,
                msg,
                "client.reply",
                kind=ItemKind.MESSAGE.value,
                matter_id=matter_id,
                after={"author_name": author_name, "portal_ref": portal_ref},
                unique=True,
            ):
                return None
            return msg.id

    def record_client_upload(
        self,
        matter_id: int,
        *,
        portal_ref: str,
        name: str,
        content: bytes,
        content_type: str | None,
        uploaded_at: datetime,
    ) -> int | None:
        """A client's upload becomes a document in the matter's "Client Portal Documents"
        folder. None when it was recorded before."""
        with self.db.write() as s:
            if s.scalar(select(Document.id).where(Document.portal_ref == portal_ref)):
                return None
            get_row(s, Matter, matter_id, "matter")
            folder_id = self._portal_folder(s, matter_id)
            doc = stored_document(
                matter_id,
                folder_id,
                name,
                content,
                content_type,
                from_client=True,
                created_at=uploaded_at,
                portal_ref=portal_ref,
            )
            if not self.ctx.added(
                s,
                doc,
                "client.upload",
                kind=ItemKind.DOCUMENT.value,
                matter_id=matter_id,
                after={"name": name, "size": len(content), "portal_ref": portal_ref},
                unique=True,
            ):
                return None
            return doc.id

    def _portal_folder(self, s: Session, matter_id: int) -> int:
        """The matter's "Client Portal Documents" folder, made in this transaction if need be
        (by whichever of two relays gets there first)."""
        find = select(Folder.id).where(
            Folder.matter_id == matter_id, Folder.name == CLIENT_PORTAL_FOLDER
        )
        found = s.scalar(find)
        if found is not None:
            return found
        folder = Folder(matter_id=matter_id, name=CLIENT_PORTAL_FOLDER)
        if first_insert(s, folder):
            return folder.id
        found = s.scalar(find)
        assert found is not None  # the insert that beat ours has committed
        return found

    def record_item_seen(
        self,
        kind: ItemKind,
        item_id: int,
        *,
        viewed_at: datetime | None = None,
        downloaded_at: datetime | None = None,
    ) -> None:
        """The first time a client viewed or downloaded a shared item lands on its mark: the
        earliest wins, compared in SQL, so two relays noting views at once keep the first. (A
        mark deleted with its item meanwhile is simply not there to note it on.)"""
        this = (ShareMark.kind == kind, ShareMark.item_id == item_id)
        with self.db.write() as s:
            for column, at in (
                (ShareMark.first_viewed_at, viewed_at),
                (ShareMark.first_downloaded_at, downloaded_at),
            ):
                if at is None:
                    continue
                s.execute(
                    update(ShareMark)
                    .where(*this, or_(column.is_(None), column > at))
                    .values({column: at})
                    .execution_options(synchronize_session=False)
                )

    # Intake forms (S4) ------------------------------------------------------------------------

    def form_submissions(self, form_id: int) -> list[SubmissionRow]:
        """A form's submissions, oldest first, each with what its processing rule changed."""
        with self.db.read() as s:
            rows = s.scalars(
                select(FormSubmission)
                .where(FormSubmission.form_id == form_id)
                .order_by(FormSubmission.id)
            )
            return [submission_row(sub) for sub in rows]

    def record_form_submission(
        self,
        form_id: int,
        *,
        portal_ref: str,
        answers: dict[str, Any],
        submitted_by: str,
        submitted_at: datetime,
    ) -> SubmissionRow:
        """Apply a submitted form by its processing rule, and keep what it changed.

        Associate: fill the named fields of the form's matter and its client. Create: a new
        client and a new matter from the answers. Recorded once per portal_ref.
        """
        known_one = select(FormSubmission).where(FormSubmission.portal_ref == portal_ref)
        with self.db.write() as s:
            known = s.scalar(known_one)
            if known is not None:
                return submission_row(known)
            form = s.get(IntakeForm, form_id)
            if form is None:
                raise NotFound(f"No intake form with id {form_id}.")
            values = _target_values(form.fields, answers)
            # The submission is recorded first, so that a second relay applying the same one
            # at the same moment waits on its key and then finds it, instead of applying the
            # rule (and perhaps making a client and matter) a second time.
            sub = FormSubmission(
                form_id=form.id,
                answers=answers,
                submitted_by=submitted_by,
                submitted_at=submitted_at,
                portal_ref=portal_ref,
            )
            if not first_insert(s, sub):
                known = s.scalar(known_one)
                assert known is not None
                return submission_row(known)
            if form.rule is FormRule.ASSOCIATE and form.matter_id is not None:
                matter = locked_row(s, Matter, form.matter_id, "matter")
                client = locked_row(s, Client, matter.client_id, "client")
            else:
                client, matter = self._new_client_and_matter(s, form, values, submitted_by)
            changes = self._fill(s, client, matter, values)
            sub.matter_id = matter.id
            sub.processed_at = utcnow()
            sub.changes = changes
            s.flush()
            self.ctx.audit(
                s,
                "form.submission",
                kind=ItemKind.FORM.value,
                item_id=form.id,
                matter_id=matter.id,
                after={"submission_id": sub.id, "changes": changes},
            )
            return submission_row(sub)

    def _new_client_and_matter(
        self, s: Session, form: IntakeForm, values: dict[str, Any], submitted_by: str
    ) -> tuple[Client, Matter]:
        name = str(values.pop("client.name", "") or submitted_by).strip() or submitted_by
        client = Client(name=name, created_at=utcnow())
        s.add(client)
        s.flush()
        year = utcnow().year
        count = s.scalar(select(func.count()).select_from(Matter)) or 0
        matter_name = str(values.pop("matter.name", "") or f"{name} — {form.name}")
        while True:
            count += 1
            number = f"{year}-I{count:04d}"
            if s.scalar(select(Matter.id).where(Matter.number == number)) is not None:
                continue
            matter = Matter(
                client_id=client.id,
                number=number,
                name=matter_name,
                portal_enabled=False,
                opened_on=utcnow().date(),
            )
            # Another submission may make a matter at the same moment and take the number:
            # the next one is tried then.
            if self.ctx.added(
                s,
                matter,
                "form.create_matter",
                kind="matter",
                matter_id=ITSELF,
                after={"number": number, "client": name, "form": form.name},
                unique=True,
            ):
                return client, matter

    def _fill(
        self, s: Session, client: Client, matter: Matter, values: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Set each targeted field, returning [{field, before, after}] for what changed."""
        changes: list[dict[str, Any]] = []
        for target, value in values.items():
            owner, attr = target.split(".", 1)
            obj: Client | Matter = client if owner == "client" else matter
            before = getattr(obj, attr)
            if before == value:
                continue
            setattr(obj, attr, value)
            changes.append(
                {
                    "field": target,
                    "before": before.isoformat() if isinstance(before, date) else before,
                    "after": value.isoformat() if isinstance(value, date) else value,
                }
            )
        s.flush()
        return changes


def _target_values(fields: list[dict[str, Any]], answers: dict[str, Any]) -> dict[str, Any]:
    """The answers that fill a client or matter field, converted to the field's type."""
    values: dict[str, Any] = {}
    for f in fields:
        target = f.get("target")
        answer = answers.get(f.get("key", ""))
        if not target or answer is None or (isinstance(answer, str) and not answer.strip()):
            continue
        if _TARGET_TYPES.get(target) is date:
            try:
                values[target] = date.fromisoformat(str(answer))
            except ValueError as exc:
                raise Invalid(f"{f.get('label', target)!r} is not a date: {answer!r}.") from exc
        else:
            values[target] = str(answer).strip()
    return values
