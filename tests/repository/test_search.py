"""Filter as you type on SQLite: the trigram indexes (0004) answer rare text quickly, and a list
read through them shows exactly the rows the plain LIKE scan shows — after adds, edits and
deletes too, and for matches through the matter's number or the client's name."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from portal_tui.domain import ItemKind
from portal_tui.repository import Repository, search

from .conftest import Firm


def _shown(repo: Repository, kind: ItemKind, typed: str) -> list[int]:
    return [row.id for row in repo.list_items(kind, text=typed, limit=500).rows]


def _both_ways(repo: Repository, kind: ItemKind, typed: str, monkeypatch: Any) -> list[int]:
    """The list as the indexes give it, checked against the scan for the same text."""
    indexed = _shown(repo, kind, typed)
    with monkeypatch.context() as m:
        m.setattr(search, "FEW_ITEMS", -1)  # every text is "common": always the LIKE scan
        scanned = _shown(repo, kind, typed)
    assert indexed == scanned, f"{kind.value} {typed!r}"
    return indexed


@pytest.fixture
def sqlite_firm(firm: Firm) -> Firm:
    if not firm.system.db.is_sqlite:
        pytest.skip("the trigram indexes are SQLite's")
    return firm


def test_rare_text_is_found_through_the_index_with_the_same_rows_as_a_scan(
    sqlite_firm: Firm, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = sqlite_firm.system
    m = sqlite_firm.matter_id
    note = repo.add_note(m, subject="Call with the Ombudsman", body="Zebra crossing case")
    repo.add_note(m, subject="Other", body="nothing here")
    event = repo.add_event(
        m, title="Site visit", location="Quixote Street", starts_at=datetime(2026, 1, 2, tzinfo=UTC)
    )
    task = repo.add_task(m, title="File the Xylophone claim", due_on=date(2026, 2, 1))

    with repo.db.read() as s:  # rare text goes through the index, common text does not
        assert search.indexed_filter(s, ItemKind.NOTE, "ombuds") is not None
        monkeypatch.setattr(search, "FEW_ITEMS", 1)
        assert search.indexed_filter(s, ItemKind.NOTE, "ing") is None  # 2 > 1
        monkeypatch.undo()
    assert _both_ways(repo, ItemKind.NOTE, "ombuds", monkeypatch) == [note]  # any case
    assert _both_ways(repo, ItemKind.NOTE, "ZEBRA CROSS", monkeypatch) == [note]  # the body
    assert _both_ways(repo, ItemKind.EVENT, "quixote", monkeypatch) == [event]  # location
    assert _both_ways(repo, ItemKind.TASK, "xylophone", monkeypatch) == [task]
    assert _both_ways(repo, ItemKind.TASK, "no such words", monkeypatch) == []
    # Short text and LIKE's own wildcards, typed literally, take the scan and still work.
    assert note in _both_ways(repo, ItemKind.NOTE, "Ca", monkeypatch)
    assert _both_ways(repo, ItemKind.NOTE, "100%", monkeypatch) == []


def test_the_index_follows_edits_and_deletes(
    sqlite_firm: Firm, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = sqlite_firm.system
    note = repo.add_note(sqlite_firm.matter_id, subject="Walrus meeting", body="")
    assert _both_ways(repo, ItemKind.NOTE, "walrus", monkeypatch) == [note]

    repo.edit_item(ItemKind.NOTE, note, subject="Narwhal meeting")
    assert _both_ways(repo, ItemKind.NOTE, "walrus", monkeypatch) == []
    assert _both_ways(repo, ItemKind.NOTE, "narwhal", monkeypatch) == [note]

    repo.delete_item(ItemKind.NOTE, note)
    assert _both_ways(repo, ItemKind.NOTE, "narwhal", monkeypatch) == []


def test_items_are_found_by_their_matter_number_and_invoices_by_client_name(
    sqlite_firm: Firm, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = sqlite_firm.system
    matter = repo.matter(sqlite_firm.matter_id)
    invoice = sqlite_firm.item(ItemKind.INVOICE)
    task = sqlite_firm.item(ItemKind.TASK)
    document = sqlite_firm.item(ItemKind.DOCUMENT)

    assert invoice in _both_ways(repo, ItemKind.INVOICE, matter.client.name[:5], monkeypatch)
    assert invoice in _both_ways(repo, ItemKind.INVOICE, matter.number, monkeypatch)
    assert task in _both_ways(repo, ItemKind.TASK, matter.number, monkeypatch)
    assert document in _both_ways(repo, ItemKind.DOCUMENT, "client portal", monkeypatch)


def test_a_matter_filter_and_the_index_combine(
    sqlite_firm: Firm, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = sqlite_firm.system
    here = repo.add_note(sqlite_firm.matter_id, subject="Pelican brief", body="")
    repo.add_note(sqlite_firm.other_matter_id, subject="Pelican brief", body="")
    page = repo.list_items(ItemKind.NOTE, matter_id=sqlite_firm.matter_id, text="pelican")
    assert [row.id for row in page.rows] == [here]
