"""Pulling the portal's changes feed into the firm, by cursor. The cursor is stored only after
a page is applied, and every change is applied idempotently, so a pass that dies half-way is
simply run again."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import select

from portal_tui.domain.decision import Invalid, NotFound
from portal_tui.domain.kinds import ItemKind
from portal_tui.sqltypes import utcnow
from portal_tui.store.models import Document, PortalContact, SyncState

from .base import Context, Service, first_insert
from .contacts import ContactsService, record_login
from .sync import SyncService


class CursorRejected(Exception):
    """The portal does not know the stored feed cursor (its database was replaced)."""


CURSOR_KEY = "feed.cursor"


class FeedSource(Protocol):
    def changes(self, cursor: str | None, limit: int = 200) -> Any: ...

    def upload_content(self, upload_id: int) -> bytes: ...


@dataclass
class SyncReport:
    applied: int = 0
    skipped: list[str] = field(default_factory=list)
    portal_replaced: bool = False


def _when(value: Any) -> datetime:
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
            if parsed.tzinfo is not None:
                return parsed
        except ValueError:
            pass
    return utcnow()


class FeedSyncService(Service):
    """Applies the feed: what clients did lands through `sync`, contact activations through
    `contacts`."""

    staff_commands = False  # works for whoever runs it: the relay, sync, housekeeping

    def __init__(self, ctx: Context, sync: SyncService, contacts: ContactsService) -> None:
        super().__init__(ctx)
        self.sync = sync
        self.contacts = contacts

    def feed_cursor(self) -> str | None:
        with self.db.read() as s:
            row = s.get(SyncState, CURSOR_KEY)
            return row.value if row is not None else None

    def _save_cursor(self, cursor: str, *, read: str | None) -> None:
        """Keep the cursor after a page applied from `read`; if another relay has moved the
        stored one on meanwhile, theirs stays (it is as far on as ours, or further)."""
        with self.db.write() as s:
            row = s.get(SyncState, CURSOR_KEY, with_for_update=True, populate_existing=True)
            if row is None:
                first_insert(s, SyncState(key=CURSOR_KEY, value=cursor))
            elif row.value == read:
                row.value = cursor

    def sync_changes(self, source: FeedSource, *, max_pages: int = 50) -> SyncReport:
        """Apply what clients did since the stored cursor (raises PortalUnusable untouched)."""
        report = SyncReport()
        stored = cursor = self.feed_cursor()
        for _ in range(max_pages):
            try:
                page = source.changes(cursor)
            except CursorRejected:
                # A new portal database: read its feed from the start (every change is applied
                # idempotently), and send it everything the firm has shared, again.
                cursor = None
                page = source.changes(cursor)
                report.portal_replaced = True
            for change in page.changes:
                try:
                    if self.apply_change(change, source):
                        report.applied += 1
                except (Invalid, NotFound, KeyError, TypeError, ValueError) as exc:
                    # One bad change must not hold the whole feed back: note it and go on.
                    report.skipped.append(f"{change.get('type')} #{change.get('seq')}: {exc}")
            self._save_cursor(page.cursor, read=stored)
            stored = cursor = page.cursor
            if not page.more:
                break
        return report

    def apply_change(self, change: dict[str, Any], source: FeedSource) -> bool:
        """Apply one change of the feed; False for a type this app does not act on."""
        kind = change.get("type")
        p = change.get("payload") or {}
        matter_id = int(change.get("matter_id") or 0)
        at = _when(change.get("at"))
        if kind == "reply":
            self.sync.record_client_reply(
                matter_id,
                portal_ref=f"reply-{p['message_id']}",
                author_name=str(p.get("author_name") or "Client"),
                body=str(p["body"]),
                sent_at=_when(p.get("sent_at") or change.get("at")),
            )
        elif kind == "upload":
            ref = f"upload-{p['upload_id']}"
            if not self._has_upload(ref):
                content = source.upload_content(int(p["upload_id"]))
                self.sync.record_client_upload(
                    matter_id,
                    portal_ref=ref,
                    name=str(p["name"]),
                    content=content,
                    content_type=p.get("content_type"),
                    uploaded_at=at,
                )
        elif kind == "form_submission":
            self.sync.record_form_submission(
                int(p["form_id"]),
                portal_ref=f"submission-{p['submission_id']}",
                answers=dict(p.get("answers") or {}),
                submitted_by=str(p.get("submitted_by") or f"contact {p.get('contact_id')}"),
                submitted_at=_when(p.get("submitted_at") or change.get("at")),
            )
        elif kind in ("first_view", "first_download"):
            item_kind = ItemKind(p["kind"])
            if kind == "first_view":
                self.sync.record_item_seen(item_kind, int(p["item_id"]), viewed_at=at)
            else:
                self.sync.record_item_seen(item_kind, int(p["item_id"]), downloaded_at=at)
        elif kind == "activation":
            self.contacts.record_contact_activated(int(p["contact_id"]), at)
        elif kind == "login":
            self._record_client_login(int(p["account_id"]), at)
        else:
            return False
        return True

    def _has_upload(self, portal_ref: str) -> bool:
        with self.db.read() as s:
            return (
                s.scalar(select(Document.id).where(Document.portal_ref == portal_ref)) is not None
            )

    def _record_client_login(self, client_id: int, at: datetime) -> None:
        with self.db.write() as s:
            record_login(s, PortalContact.client_id == client_id, at)
