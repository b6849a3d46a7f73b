"""The firm's and a matter's portal settings, and a matter's notice recipients."""

from __future__ import annotations

from portal_tui.database import Database
from portal_tui.service.models import PortalFirm, PortalMatter

from .conftest import Api, firm_body, matter_body


def test_firm_settings_are_stored_and_only_a_newer_version_applies(
    api: Api, service_db: Database
) -> None:
    body = firm_body(version=2, enabled=False, permissions=["notes", "invoices", "notes"])
    assert api.put("/firm", body).json() == {"applied": True, "version": 2}
    stale = firm_body(version=1, name="Old name")
    assert api.put("/firm", stale).json() == {"applied": False, "version": 2}
    with service_db.read() as s:
        firm = s.get(PortalFirm, 1)
        assert firm is not None
        assert (firm.name, firm.enabled) == ("Smith & Jones LLP", False)
        assert firm.permissions == ["invoices", "notes"]  # canonical order, once each


def test_matter_settings_and_notice_recipients(api: Api, service_db: Database) -> None:
    # The notice list may come first: it waits on a stand-in until the matter arrives.
    notify = {
        "matter_id": 7,
        "notify": [{"login": "alice", "name": "Alice", "email": "alice@firm.example"}],
        "version": 5,
    }
    assert api.put("/matters/7/notify", notify).json() == {"applied": True, "version": 5}
    assert api.put("/matters/7", matter_body()).json() == {"applied": True, "version": 1}
    assert api.put("/matters/7", matter_body(enabled=False)).json()["applied"] is False
    assert api.put("/matters/7/notify", {**notify, "notify": []}).json()["applied"] is False
    with service_db.read() as s:
        matter = s.get(PortalMatter, 7)
        assert matter is not None
        assert matter.enabled and matter.name == "Estate of Smith [Deceased]"
        assert matter.permissions == ["invoices", "tasks", "documents"]
        assert matter.notify == notify["notify"]


def test_ids_in_the_body_must_match_the_path(api: Api) -> None:
    response = api.put("/matters/8", matter_body(matter_id=7))
    assert response.status_code == 422
    assert "matter_id" in response.json()["detail"]


def test_bad_settings_are_422_with_a_message(api: Api) -> None:
    for body in (
        firm_body(permissions=["invoices", "crypto"]),
        firm_body(version=0),
        firm_body(version=2**63),
        firm_body(name="a\x00b"),
        firm_body(extra="field"),
        {**firm_body(), "enabled": "maybe"},
    ):
        response = api.put("/firm", body)
        assert response.status_code == 422, body
        assert isinstance(response.json()["detail"], str)
    assert api.put("/matters/0", matter_body()).status_code == 422
    assert api.put(f"/matters/{2**31}", matter_body(matter_id=None)).status_code == 422
