"""The staff API's OpenAPI document and the API agree where a client reads one and meets the
other: the methods of a path (and a 405's Allow), the firm's headers, optional parameters,
and the size of a document's bytes. (Schemathesis checks the rest: test_schemathesis.py.)"""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from portal_tui.domain.kinds import ItemKind
from portal_tui.service.api.binding import EPOCH_HEADER, FIRM_HEADER
from portal_tui.service.config import ServiceConfig

from .conftest import Api, matter_body, publish_body


def _document(client: TestClient) -> dict[str, Any]:
    doc: dict[str, Any] = client.get("/openapi.json").json()
    return doc


@pytest.mark.parametrize("url", ["/api/v1/items/invoice/1", "/api/v1/items/document/1"])
def test_a_405_allows_what_the_document_lists_for_the_path(
    api: Api, client: TestClient, url: str
) -> None:
    path = url.rsplit("/", 1)[0] + "/{item_id}"
    listed = sorted(method.upper() for method in _document(client)["paths"][path])
    assert listed == ["DELETE", "GET", "PUT"]
    response = client.request("PATCH", url, headers=api.headers())
    assert response.status_code == 405
    assert response.headers["Allow"] == ", ".join(listed)


def test_revoke_and_read_work_under_each_kinds_own_path(api: Api) -> None:
    assert api.get("/items/task/5").status_code == 404
    revoked = api.delete("/items/task/5?version=2&matter_id=7")
    assert revoked.status_code == 200 and revoked.json()["applied"] is True
    assert api.get("/items/task/5").json()["version"] == 2
    unknown = api.delete("/items/widget/5?version=2")
    assert unknown.status_code == 422 and "no item kind 'widget'" in unknown.json()["detail"]


def test_every_kind_has_its_own_path_and_publish_body(api: Api, client: TestClient) -> None:
    # A kind the routes were not made for would be refused as unknown, and one made with
    # another kind's body would take (and document) that kind's data.
    doc = _document(client)
    data_schemas = set()
    for kind in ItemKind:
        operations = doc["paths"][f"/api/v1/items/{kind.value}/{{item_id}}"]
        assert sorted(operations) == ["delete", "get", "put"], kind
        ref = operations["put"]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        body = doc["components"]["schemas"][ref.rsplit("/", 1)[1]]
        assert {"type": "string", "const": kind.value} in body["properties"]["kind"]["anyOf"]
        data_schemas.add(body["properties"]["data"]["$ref"])
    assert len(data_schemas) == len(ItemKind)
    event_as_invoice = api.put("/items/invoice/11", publish_body(kind="event"))
    assert event_as_invoice.status_code == 422, event_as_invoice.text


FIRM = "3f2b8c1e-9d4a-4e7b-8c6f-1a2b3c4d5e6f"


@pytest.mark.parametrize(
    ("firm", "epoch"),
    [
        (None, "01"),  # the epoch alone is checked too
        (None, "two"),
        (FIRM, "0"),
        (FIRM, "+2"),
        (FIRM, "1" * 16),  # beyond 15 digits
        ("{" + FIRM + "}", "1"),  # only 8-4-4-4-12, as portal-tui sends it
        (FIRM.replace("-", ""), "1"),
        ("urn:uuid:" + FIRM, "1"),
    ],
)
def test_firm_headers_outside_the_documented_forms_are_400(
    api: Api, client: TestClient, firm: str | None, epoch: str
) -> None:
    headers = {EPOCH_HEADER: epoch} if firm is None else {FIRM_HEADER: firm, EPOCH_HEADER: epoch}
    response = client.put("/api/v1/matters/7", json=matter_body(), headers=api.headers(**headers))
    assert response.status_code == 400 and response.json()["code"] == "bad_firm", response.text
    assert client.get("/api/v1/firm/binding", headers=api.headers()).json()["firm_id"] is None


def test_a_firm_id_in_capitals_is_the_same_firm(api: Api, client: TestClient) -> None:
    for spelled in (FIRM, FIRM.upper()):
        headers = api.headers(**{FIRM_HEADER: spelled, EPOCH_HEADER: "1"})
        assert client.put("/api/v1/matters/7", json=matter_body(), headers=headers).is_success
    assert api.get("/firm/binding").json()["firm_id"] == FIRM


def test_optional_parameters_are_never_offered_as_null(client: TestClient) -> None:
    for operations in _document(client)["paths"].values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                assert "null" not in json.dumps(parameter["schema"]), parameter


def test_the_document_states_the_upload_limit(
    api: Api, client: TestClient, service_config: ServiceConfig
) -> None:
    body = _document(client)["paths"]["/api/v1/items/document/{item_id}/content"]["put"]
    schema = body["requestBody"]["content"]["application/octet-stream"]["schema"]
    assert (schema["minLength"], schema["maxLength"]) == (1, service_config.upload_limit_bytes)
    too_big = api.put_bytes(
        "/items/document/3/content?version=1", b"x" * (service_config.upload_limit_bytes + 1)
    )
    assert too_big.status_code == 413
