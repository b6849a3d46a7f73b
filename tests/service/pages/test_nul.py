"""NUL, the one character no database of the portal or the firm can hold (PostgreSQL text and
JSON refuse it), in what a client posts: a reply and a form answer are taken, each NUL kept
visible as U+2400 and every other character as sent — on SQLite and on PostgreSQL, where a
raw NUL would end the request in a 500."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from portal_tui.domain.kinds import ItemKind
from portal_tui.service.config import ServiceConfig
from portal_tui.service.models import Change, ClientMessage, FormSubmission

from .conftest import GOOD_ANSWERS, MATTER_A, SHOWN, Browser, Portal, Scene

A = f"/m/{MATTER_A}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def service_config(request: pytest.FixtureRequest, tmp_path: Path) -> ServiceConfig:
    url = (
        f"sqlite:///{tmp_path / 'portal.db'}"
        if request.param == "sqlite"
        else str(request.getfixturevalue("pg_url"))
    )
    return ServiceConfig(
        database_url=url,
        data_dir=tmp_path / "portal-data",
        base_url="http://testserver",
        send_mail=False,
        prune=False,
    )


def test_a_reply_with_nul_is_kept_with_the_nul_made_visible(
    portal: Portal, scene: Scene, ann: Browser
) -> None:
    sent = ann.post(f"{A}/messages", {"body": "before\x00after \x1b[2J"})
    assert sent.status_code == 303
    with portal.db.read() as s:
        reply = s.scalar(select(ClientMessage))
        change = s.scalar(select(Change).where(Change.type == "reply"))
    assert reply is not None and reply.body == "before\u2400after \x1b[2J"
    assert change is not None and change.payload["body"] == reply.body


def test_a_form_answer_with_nul_is_kept_with_the_nul_made_visible(
    portal: Portal, scene: Scene, ann: Browser
) -> None:
    answers = {**GOOD_ANSWERS, "field-story": "It began\x00on a Tuesday."}
    sent = ann.post(f"{A}/forms/{SHOWN[ItemKind.FORM]}", answers)
    assert sent.status_code == 303
    with portal.db.read() as s:
        submission = s.scalar(select(FormSubmission))
    assert submission is not None
    assert submission.answers["story"] == "It began\u2400on a Tuesday."
