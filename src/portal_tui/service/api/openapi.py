"""The staff API's OpenAPI document: FastAPI's, with what it cannot know put right.

- FastAPI documents an optional parameter (`X | None = None`) as "X or null". A query
  parameter or header that is not sent is simply absent; it has no null, and a client taking
  the document at its word would send the text "null", which the API refuses. So such a
  parameter is documented as X alone, not required.
- A document's bytes, and an invoice's own PDF, may be as long as this service's upload
  limit, a setting: the document states the one this service was started with.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

from ..config import ServiceConfig

CONTENT_PATHS = (
    "/api/v1/items/document/{item_id}/content",
    "/api/v1/items/invoice/{item_id}/content",
)
_NULL = {"type": "null"}


def tidy_document(app: FastAPI, config: ServiceConfig) -> None:
    make: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        first = app.openapi_schema is None
        doc = make()  # made once, then FastAPI's cached copy
        if first:
            for operations in doc.get("paths", {}).values():
                for operation in operations.values():
                    for parameter in operation.get("parameters", []):
                        if not parameter.get("required", False):
                            parameter["schema"] = _without_null(parameter["schema"])
            for path in CONTENT_PATHS:
                content = doc["paths"][path]["put"]["requestBody"]["content"]
                schema = content["application/octet-stream"]["schema"]
                schema["maxLength"] = config.upload_limit_bytes
        return doc

    app.openapi = openapi  # type: ignore[method-assign]


def _without_null(schema: dict[str, Any]) -> dict[str, Any]:
    branches = schema.get("anyOf")
    if not isinstance(branches, list) or _NULL not in branches or len(branches) != 2:
        return schema
    (value,) = [branch for branch in branches if branch != _NULL]
    rest = {key: v for key, v in schema.items() if key != "anyOf"}
    return {**value, **rest}
