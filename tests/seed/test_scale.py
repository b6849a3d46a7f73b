"""Scale data (`portal-tui seed --matters N --activities M`): exactly the activities asked for,
deterministic for a seed, appended without collisions, readable by the repository on both
backends."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from portal_tui.database import Database
from portal_tui.domain.kinds import ItemKind, categories_from_names
from portal_tui.domain.states import InvoiceStatus, ShareState
from portal_tui.repository import Repository
from portal_tui.seed.demo import seed_demo
from portal_tui.seed.scale import seed_scale, split_activities
from portal_tui.store.models import (
    CalendarEvent,
    Client,
    FirmSettings,
    Invoice,
    InvoiceLine,
    Matter,
    MatterParty,
    Note,
    PortalContact,
    ShareMark,
    StaffUser,
    Task,
)

Dump = Callable[[str], dict[str, list[tuple[Any, ...]]]]
ROOT = Path(__file__).resolve().parents[2]

ACTIVITY_MODELS: dict[ItemKind, type[Any]] = {
    ItemKind.INVOICE: Invoice,
    ItemKind.EVENT: CalendarEvent,
    ItemKind.TASK: Task,
    ItemKind.NOTE: Note,
}


def _counts(url: str) -> dict[str, int]:
    db = Database(url)
    try:
        with db.read() as s:
            models: dict[str, type[Any]] = {
                "matters": Matter,
                "clients": Client,
                "staff": StaffUser,
                "marks": ShareMark,
                "lines": InvoiceLine,
                "parties": MatterParty,
                "contacts": PortalContact,
                **{k.value: m for k, m in ACTIVITY_MODELS.items()},
            }
            return {
                name: s.scalar(select(func.count()).select_from(model)) or 0
                for name, model in models.items()
            }
    finally:
        db.dispose()


def test_split_is_35_25_25_15_and_exact() -> None:
    plan = split_activities(1_000_000)
    assert (plan.invoices, plan.events, plan.tasks, plan.notes) == (
        350_000,
        250_000,
        250_000,
        150_000,
    )
    for n in (0, 1, 7, 999, 5_001):
        p = split_activities(n)
        assert p.invoices + p.events + p.tasks + p.notes == n


def test_writes_exactly_what_was_asked(database_url: str) -> None:
    seed_scale(database_url, 50, 5_000, seed=1, progress=False)
    counts = _counts(database_url)
    assert counts["matters"] == 50
    assert counts["clients"] == round(50 / 1.5)
    assert sum(counts[k.value] for k in ACTIVITY_MODELS) == 5_000
    assert (counts["invoice"], counts["event"], counts["task"], counts["note"]) == (
        1_750,
        1_250,
        1_250,
        750,
    )
    assert counts["staff"] >= 3
    assert counts["lines"] > 0

    db = Database(database_url)
    try:
        with db.read() as s:
            assert s.get(FirmSettings, 1) is not None
            numbers = s.scalars(select(Invoice.number)).all()
            assert len(set(numbers)) == len(numbers)
            statuses = Counter(s.scalars(select(Invoice.status)))
            assert statuses[InvoiceStatus.DRAFT]
            assert statuses[InvoiceStatus.FINAL]
            years = {d.year for d in s.scalars(select(Invoice.issued_on))}
            assert len(years) >= 4, "dates spread over several years"
            # Lines, where written, add up to their invoice's total.
            for invoice_id, total in s.execute(
                select(InvoiceLine.invoice_id, func.sum(InvoiceLine.amount_cents)).group_by(
                    InvoiceLine.invoice_id
                )
            ):
                assert s.get(Invoice, invoice_id).total_cents == total  # type: ignore[union-attr]
            _check_portal_and_marks(s)
    finally:
        db.dispose()


def _check_portal_and_marks(s: Any) -> None:
    matters = {m.id: m for m in s.scalars(select(Matter))}
    on = [m for m in matters.values() if m.portal_enabled]
    assert on, "some matters have the portal ON"
    assert all(m.portal_permissions for m in on)
    assert all(m.portal_permissions is None for m in matters.values() if not m.portal_enabled)
    marks = list(s.scalars(select(ShareMark)))
    assert marks, "a few items are shared, so lists show icons"
    for mark in marks:
        assert mark.state is ShareState.SHARED
        assert mark.wanted
        matter = matters[mark.matter_id]
        # Only where sharing would be allowed: portal ON, the category permitted (M1, S6).
        assert matter.portal_enabled
        assert mark.kind.category in categories_from_names(matter.portal_permissions)
        item = s.get(ACTIVITY_MODELS[mark.kind], mark.item_id)
        assert item is not None
        assert item.matter_id == mark.matter_id
        if mark.kind is ItemKind.INVOICE:
            assert item.status is InvoiceStatus.FINAL


def test_same_seed_same_data_other_seed_other_data(tmp_path: Path, dump_db: Dump) -> None:
    urls = [f"sqlite:///{tmp_path / name}.db" for name in ("a", "b", "c")]
    for url, seed in zip(urls, (7, 7, 8), strict=True):
        seed_scale(url, 30, 2_000, seed=seed, progress=False)
    a, b, c = (dump_db(url) for url in urls)
    assert a["invoices"]
    assert a == b
    assert a["invoices"] != c["invoices"]


def test_appends_without_collisions_then_the_app_writes_on(database_url: str) -> None:
    seed_scale(database_url, 20, 1_000, seed=1, progress=False)
    seed_scale(database_url, 20, 1_000, seed=1, progress=False)
    counts = _counts(database_url)
    assert counts["matters"] == 40
    assert sum(counts[k.value] for k in ACTIVITY_MODELS) == 2_000
    # The scale staff are reused by the second run, not added twice.
    assert counts["staff"] == 6
    # Ids were chosen by the seeder: the database's own sequences must still hand out new ones.
    repo = Repository.open(database_url)
    try:
        client = repo.add_client("After Scale")
        matter = repo.add_matter(client, number="9999-0001", name="After scale")
        invoice = repo.add_invoice(
            matter, number="INV-after", issued_on=date(2026, 1, 2), lines=[("Advice", "1", 10_000)]
        )
        assert repo.list_invoices(matter_id=matter).rows[0].id == invoice
        page = repo.list_invoices(limit=25)
        assert len(page.rows) == 25
        assert page.more_after
    finally:
        repo.close()


def test_on_top_of_the_demo_firm(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'firm.db'}"
    seed_demo(url, 1)
    before = _counts(url)
    seed_scale(url, 10, 500, seed=3, progress=False)
    after = _counts(url)
    assert after["matters"] == before["matters"] + 10
    added = sum(after[k.value] - before[k.value] for k in ACTIVITY_MODELS)
    assert added == 500
    repo = Repository.open(url)
    try:
        assert repo.firm_name() == "Hartley, Mensah & Ng LLP"  # the firm row is kept
    finally:
        repo.close()


def test_progress_bar_on_stderr(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    seed_scale(f"sqlite:///{tmp_path / 'firm.db'}", 5, 100, progress=True)
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "105/105" in captured.err


def test_bad_sizes_are_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'firm.db'}"
    with pytest.raises(ValueError, match="at least one matter"):
        seed_scale(url, 0, 10, progress=False)
    with pytest.raises(ValueError, match="negative"):
        seed_scale(url, 5, -1, progress=False)


def _cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PORTAL_TUI_", "XDG_"))}
    env.update(
        HOME=str(tmp_path),
        PORTAL_TUI_CONFIG=str(tmp_path / "cfg" / "config.toml"),
        PORTAL_TUI_DATA_DIR=str(tmp_path / "data"),
        NO_COLOR="1",
    )
    return subprocess.run(
        [sys.executable, "-m", "portal_tui", *args],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_cli_seed_scale(tmp_path: Path) -> None:
    cli = ROOT / "src" / "portal_tui" / "cli.py"
    if not cli.exists() or "seed_scale" not in cli.read_text(encoding="utf-8"):
        pytest.skip("src/portal_tui/cli.py has no seed command yet")
    url = f"sqlite:///{tmp_path / 'firm.db'}"
    run = _cli(tmp_path, "seed", "--matters", "20", "--activities", "1000", "--database-url", url)
    assert run.returncode == 0, run.stderr
    counts = _counts(url)
    assert counts["matters"] == 20
    assert sum(counts[k.value] for k in ACTIVITY_MODELS) == 1_000


def test_cli_seed_demo_then_refuses_a_second_time(tmp_path: Path) -> None:
    cli = ROOT / "src" / "portal_tui" / "cli.py"
    if not cli.exists() or "seed_demo" not in cli.read_text(encoding="utf-8"):
        pytest.skip("src/portal_tui/cli.py has no seed command yet")
    url = f"sqlite:///{tmp_path / 'firm.db'}"
    run = _cli(tmp_path, "seed", "--demo", "--seed", "1", "--database-url", url)
    assert run.returncode == 0, run.stderr
    assert _counts(url)["matters"] == 30
    again = _cli(tmp_path, "seed", "--demo", "--database-url", url)
    assert again.returncode == 2
    assert again.stderr.count("\n") == 1
    assert "already holds matters" in again.stderr


def test_seeded_items_are_in_the_search_index_and_new_ones_join_them(database_url: str) -> None:
    """The seeder indexes its rows in one go (triggers set aside): filtering a seeded list
    through the trigram index shows what a full scan shows, and the triggers are back for the
    app's own writes."""
    from portal_tui.repository import search

    seed_scale(database_url, 20, 2_000, seed=1, progress=False)
    repo = Repository.open(database_url)
    try:
        if not repo.db.is_sqlite:
            pytest.skip("the trigram indexes are SQLite's")
        seeded = repo.list_items(ItemKind.NOTE, limit=1).rows[0]
        word = seeded.subject.split()[-1]
        typed = word if len(word) >= 3 else seeded.subject
        indexed = [r.id for r in repo.list_items(ItemKind.NOTE, text=typed, limit=1000).rows]
        original = search.FEW_ITEMS
        search.FEW_ITEMS = -1  # every text "common": the LIKE scan
        try:
            scanned = [r.id for r in repo.list_items(ItemKind.NOTE, text=typed, limit=1000).rows]
        finally:
            search.FEW_ITEMS = original
        assert seeded.id in indexed
        assert indexed == scanned

        matter = repo.list_matters(limit=1).rows[0].id
        added = repo.add_note(matter, subject="Quokka sighting", body="")
        assert [r.id for r in repo.list_items(ItemKind.NOTE, text="quokka").rows] == [added]
    finally:
        repo.close()
