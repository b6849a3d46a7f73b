"""Talking to the portal service's staff API over HTTP (httpx).

Every answer is sorted into what the relay should do with it: delivered; retry later (408, 409,
429, 5xx, honouring Retry-After; and a request whose answer was lost — the connection broke, or
no answer came in time — which its idempotency key makes safe to send again); rejected for good
(any other 4xx, with the portal's reason); or broken — the portal cannot be used at all (it
cannot be reached, a wrong token, garbage, an API version this app does not know, a proxy in
front of it saying it is down), which stops the pass with a lasting message.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from portal_tui.domain.decision import NotFound
from portal_tui.domain.states import OutboxOp
from portal_tui.sqltypes import utcnow

from .delivery import Broken, Delivered, OutboxMessage, Outcome, Rejected, RetryLater
from .feed_sync import CursorRejected

API_VERSION = "1"
VERSION_HEADER = "X-Portal-API-Version"
TIMEOUT = httpx.Timeout(10.0, connect=5.0)
_RETRY_STATUSES = frozenset({408, 409, 425, 429})
_GATEWAY_DOWN = frozenset({502, 503, 504})
# Failures before any of the request went out: the portal cannot be reached at all.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.UnsupportedProtocol, httpx.ProxyError)


class PortalUnusable(Exception):
    """The portal cannot be used at all; `str()` says why, in words for the user."""


@dataclass(frozen=True, slots=True)
class FeedPage:
    changes: list[dict[str, Any]]
    cursor: str
    more: bool


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, (parsedate_to_datetime(value) - utcnow()).total_seconds())
    except (TypeError, ValueError):
        return None


def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.reason_phrase
    detail = body.get("detail") if isinstance(body, dict) else None
    if isinstance(detail, list):  # FastAPI's validation errors: name the first field
        first = detail[0] if detail else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
        return f"{where}: {first.get('msg', 'invalid')}" if where else str(first.get("msg"))
    return str(detail or response.reason_phrase)


class PortalClient:
    """The staff API at `base_url`, authenticated with a staff token."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        document_content: Callable[[int], bytes] | None = None,
        transport: httpx.BaseTransport | None = None,
        timeout: httpx.Timeout | float = TIMEOUT,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._document_content = document_content
        self._http = httpx.Client(
            base_url=self.base_url + "/api/v1",
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
            timeout=timeout,
            transport=transport,
            follow_redirects=False,
        )

    def close(self) -> None:
        self._http.close()

    # Sending --------------------------------------------------------------------------------

    def _call(
        self,
        method: str,
        path: str,
        *,
        key: str | None = None,
        json: Any = None,
        content: bytes | None = None,
        params: dict[str, Any] | None = None,
    ) -> httpx.Response:
        headers = {"Idempotency-Key": key} if key else {}
        if content is not None:
            headers["Content-Type"] = "application/octet-stream"
        try:
            return self._http.request(
                method, path, json=json, content=content, params=params, headers=headers
            )
        except _NOT_SENT as exc:
            raise PortalUnusable(
                f"The portal service at {self.base_url} cannot be reached ({exc.__class__.__name__}"
                "); shares stay pending and go out when it is back."
            ) from exc
        except httpx.TimeoutException as exc:
            raise _Transient(f"the portal at {self.base_url} did not answer in time") from exc
        except httpx.TransportError as exc:
            # Sent, perhaps applied, but the answer is lost: the same key makes a retry safe.
            raise _Transient(
                f"the connection to the portal at {self.base_url} broke before it answered "
                f"({exc.__class__.__name__})"
            ) from exc

    def _check(self, response: httpx.Response) -> None:
        """Refuse answers that do not come from a portal service this app understands."""
        if response.status_code in (401, 403):
            raise PortalUnusable(
                f"The portal service at {self.base_url} refused the staff token "
                f"({response.status_code}); set portal_token to a valid token "
                "(portal-tui token create --staff LOGIN)."
            )
        version = response.headers.get(VERSION_HEADER)
        if version is None and response.status_code in _GATEWAY_DOWN:
            # A reverse proxy in front of the portal, answering for a service that is down.
            raise PortalUnusable(
                f"The portal service at {self.base_url} is not available (HTTP "
                f"{response.status_code} from in front of it); shares stay pending and go out "
                "when it is back."
            )
        if version is None:
            raise PortalUnusable(
                f"{self.base_url} does not answer like a portal service (HTTP "
                f"{response.status_code} without {VERSION_HEADER}); check portal_url."
            )
        if version != API_VERSION:
            raise PortalUnusable(
                f"The portal service at {self.base_url} speaks API version {version!r}; this "
                f"portal-tui knows version {API_VERSION}. Upgrade the one that is older."
            )

    def _outcome(self, response: httpx.Response) -> Outcome:
        self._check(response)
        status = response.status_code
        if 200 <= status < 300:
            try:
                body = response.json()
            except ValueError:
                body = None
            if not isinstance(body, dict):
                raise PortalUnusable(
                    f"The portal service at {self.base_url} answered garbage (HTTP {status}, "
                    "not a JSON object); shares stay pending."
                )
            return Delivered()
        if status in _RETRY_STATUSES or status >= 500:
            return RetryLater(f"{status}: {_detail(response)}", _retry_after(response))
        return Rejected(f"The portal refused it ({status}): {_detail(response)}")

    def deliver(self, message: OutboxMessage) -> Outcome:
        try:
            return self._deliver(message)
        except _Transient as exc:
            return RetryLater(str(exc), lost=True)
        except PortalUnusable as exc:
            return Broken(str(exc))

    def _deliver(self, m: OutboxMessage) -> Outcome:
        p = m.payload
        key = m.idempotency_key
        # Rows about the firm, a matter or its parties carry no version of their own; the
        # outbox id grows with every change, so it orders them just as well.
        if m.op is OutboxOp.FIRM:
            return self._outcome(self._call("PUT", "/firm", key=key, json={**p, "version": m.id}))
        if m.op is OutboxOp.MATTER:
            body = {**p, "version": m.id}
            return self._outcome(
                self._call("PUT", f"/matters/{p['matter_id']}", key=key, json=body)
            )
        if m.op is OutboxOp.PARTIES:
            body = {**p, "version": m.id}
            path = f"/matters/{p['matter_id']}/notify"
            return self._outcome(self._call("PUT", path, key=key, json=body))
        if m.op is OutboxOp.CONTACT:
            path = f"/contacts/{p['contact_id']}"
            return self._outcome(self._call("PUT", path, key=key, json=p))
        if m.op is OutboxOp.NOTIFY:
            return self._outcome(self._call("POST", f"/batches/{p['batch']}/notify", key=key))
        if m.op is OutboxOp.REVOKE:
            params = {"version": p["version"], "matter_id": p["matter_id"]}
            path = f"/items/{p['kind']}/{p['item_id']}"
            return self._outcome(self._call("DELETE", path, key=key, params=params))
        return self._publish(m)

    def _publish(self, m: OutboxMessage) -> Outcome:
        p = m.payload
        body = {**p, "batch": m.batch}
        path = f"/items/{p['kind']}/{p['item_id']}"
        content = None
        if p["kind"] == "document":
            # Read before anything is sent: a file that cannot be read fails the share without
            # leaving the portal a new version it has no bytes for.
            if self._document_content is None:
                return Rejected("This app cannot read document files to send them.")
            try:
                content = self._document_content(int(p["item_id"]))
            except NotFound as exc:
                return Rejected(str(exc))
        outcome = self._outcome(self._call("PUT", path, key=m.idempotency_key, json=body))
        if not isinstance(outcome, Delivered) or content is None:
            return outcome
        # Keyed by the bytes too: a linked file that changed between two tries is a new
        # request, not the old key reused for another body (which the portal refuses for good).
        digest = hashlib.sha256(content).hexdigest()[:16]
        return self._outcome(
            self._call(
                "PUT",
                f"{path}/content",
                key=f"{m.idempotency_key}:content:{digest}",
                content=content,
                params={"version": p["version"]},
            )
        )

    # Reading back ----------------------------------------------------------------------------

    def changes(self, cursor: str | None, limit: int = 200) -> FeedPage:
        params: dict[str, Any] = {"limit": limit}
        if cursor:
            params["cursor"] = cursor
        try:
            response = self._call("GET", "/changes", params=params)
        except _Transient as exc:
            raise PortalUnusable(str(exc)) from exc
        self._check(response)
        if response.status_code == 400 and cursor:
            raise CursorRejected(_detail(response))
        if response.status_code != 200:
            raise PortalUnusable(f"The changes feed failed: {_detail(response)}")
        try:
            body = response.json()
            page = FeedPage(list(body["changes"]), str(body["cursor"]), bool(body["more"]))
        except (ValueError, KeyError, TypeError) as exc:
            raise PortalUnusable(
                f"The portal service at {self.base_url} answered garbage to the changes feed "
                f"(HTTP {response.status_code})."
            ) from exc
        return page

    def upload_content(self, upload_id: int) -> bytes:
        try:
            response = self._call("GET", f"/uploads/{upload_id}/content")
        except _Transient as exc:
            raise PortalUnusable(str(exc)) from exc
        self._check(response)
        if response.status_code != 200:
            raise PortalUnusable(f"Upload {upload_id} could not be fetched: {_detail(response)}")
        return response.content


class _Transient(Exception):
    """A request that may well work if simply tried again (a timeout)."""
