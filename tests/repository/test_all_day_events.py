"""An all-day event added or edited on the Add/Edit screen keeps its days (first to last,
both included), on SQLite and PostgreSQL; days that do not agree are refused with one clear
message and nothing saved; a shared one that changes goes to the portal with its days."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from portal_tui.domain import ItemKind, OutboxOp
from portal_tui.domain.decision import Invalid
from portal_tui.store.models import OutboxEntry

from .conftest import Firm


def test_an_all_day_event_is_added_with_its_day_and_edited_to_several(firm: Firm) -> None:
    repo = firm.admin
    # Times given with the box ticked are ignored: the day is what counts.
    event = repo.add_event(
        firm.matter_id,
        title="Mediation",
        all_day=True,
        first_day=date(2027, 3, 8),
        starts_at=datetime(2027, 1, 1, 9, tzinfo=UTC),
    )
    row = repo.item_row(ItemKind.EVENT, event)
    assert (row.all_day, row.first_day, row.last_day) == (True, date(2027, 3, 8), date(2027, 3, 8))
    assert row.starts_at.astimezone().date() == date(2027, 3, 8)  # sorts on its day

    repo.share(ItemKind.EVENT, event)
    repo.edit_item(ItemKind.EVENT, event, last_day=date(2027, 3, 10))
    row = repo.item_row(ItemKind.EVENT, event)
    assert (row.first_day, row.last_day) == (date(2027, 3, 8), date(2027, 3, 10))
    with firm.system.db.read() as s:
        sent = s.scalars(
            select(OutboxEntry)
            .where(OutboxEntry.op == OutboxOp.PUBLISH, OutboxEntry.item_id == event)
            .order_by(OutboxEntry.id.desc())
        ).first()
        assert sent is not None
        data = sent.payload["data"]
    assert (data["all_day"], data["first_day"], data["last_day"]) == (
        True,
        "2027-03-08",
        "2027-03-10",
    )

    # Made a timed event: the days go, the times given are kept, the copy is timed again.
    at = datetime(2027, 3, 8, 14, tzinfo=UTC)
    repo.edit_item(ItemKind.EVENT, event, all_day=False, starts_at=at, ends_at=None)
    row = repo.item_row(ItemKind.EVENT, event)
    assert (row.all_day, row.first_day, row.last_day, row.starts_at) == (False, None, None, at)


@pytest.mark.parametrize(
    ("days", "message"),
    [
        ({"first_day": None}, "An all-day event needs its day."),
        (
            {"first_day": date(2027, 3, 8), "last_day": date(2027, 3, 7)},
            "An event cannot end before it starts.",
        ),
    ],
)
def test_days_that_do_not_agree_are_refused_and_nothing_is_saved(
    firm: Firm, days: dict[str, date | None], message: str
) -> None:
    repo = firm.admin
    before = len(repo.list_items(ItemKind.EVENT, matter_id=firm.matter_id).rows)
    with pytest.raises(Invalid, match=message):
        repo.add_event(firm.matter_id, title="Mediation", all_day=True, **days)
    assert len(repo.list_items(ItemKind.EVENT, matter_id=firm.matter_id).rows) == before

    event = repo.add_event(
        firm.matter_id, title="Hearing", all_day=True, first_day=date(2027, 3, 9)
    )
    with pytest.raises(Invalid, match=message):
        repo.edit_item(ItemKind.EVENT, event, title="Moved", **days)
    row = repo.item_row(ItemKind.EVENT, event)
    assert (row.title, row.first_day, row.last_day) == (
        "Hearing",
        date(2027, 3, 9),
        date(2027, 3, 9),
    )
