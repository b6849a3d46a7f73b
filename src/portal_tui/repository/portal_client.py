"""Talking to the portal service's staff API over HTTP (httpx).

Every answer is sorted into what the relay should do with it: delivered; retry later (408, 409,
429, 5xx, honouring Retry-After; and a request whose answer was lost — the connection broke, or
no answer came in time — which its idempotency key makes safe to send again); rejected for good
(any other 4xx, with the portal's reason); or broken — the portal cannot be used at all (it
cannot be reached, a wrong token, garbage, an API version this app does not know, a proxy in
front of it saying it is down), which stops the pass with a lasting message.

Item publishes and revokes may go several at once (`deliver_many`: POST /items/batch), each
answered on its own; a document's publish goes alone, its bytes right after it. A portal
without the batch endpoint (404/405) is sent one request per row, and asked again later.
An invoice with a PDF of its own goes alone too: its bytes follow only when the publish's
answer says the portal does not hold them (`has_content` false), so a republish of it (a
changed memo, a matter turned back ON) does not send megabytes again.
"""

from __future__ import annotations

import hashlib
import json as jsonlib
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from portal_tui.domain.decision import NotFound, PortalAway
from portal_tui.domain.records import ContactSignIns, FirmIdentity
from portal_tui.domain.states import OutboxOp
from portal_tui.sqltypes import utcnow

from .delivery import Broken, Delivered, OutboxMessage, Outcome, Rejected, RetryLater
from .feed_sync import CursorRejected

API_VERSION = "1"
VERSION_HEADER = "X-Portal-API-Version"
FIRM_HEADER = "X-Portal-Firm"
EPOCH_HEADER = "X-Portal-Firm-Epoch"
TIMEOUT = httpx.Timeout(10.0, connect=5.0)
_RETRY_STATUSES = frozenset({408, 409, 425, 429})
_GATEWAY_DOWN = frozenset({502, 503, 504})
# Failures before any of the request went out: the portal cannot be reached at all.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.UnsupportedProtocol, httpx.ProxyError)
BATCH_PATH = "/items/batch"
# The portal takes JSON bodies up to 5 MB; a bigger batch goes one row at a time.
BATCH_BODY_LIMIT = 4 * 1024 * 1024
# After a portal said it has no batch endpoint: one request per row until then.
NO_BATCH_RECHECK_S = 600.0


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
        invoice_pdf: Callable[[int], bytes | None] | None = None,
        transport: httpx.BaseTransport | None = None,
        timeout: httpx.Timeout | float = TIMEOUT,
        firm: FirmIdentity | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._document_content = document_content
        self._invoice_pdf = invoice_pdf
        self._no_batches_until = 0.0
        self.firm = firm
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        if firm is not None:
            # One portal serves one firm: it binds to the first that names itself, and
            # refuses any other (and any copy of this firm's database older than a restore).
            headers[FIRM_HEADER] = firm.firm_id
            headers[EPOCH_HEADER] = str(firm.epoch)
        self._http = httpx.Client(
            base_url=self.base_url + "/api/v1",
            headers=headers,
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
        content_type: str = "application/octet-stream",
        params: dict[str, Any] | None = None,
    ) -> httpx.Response:
        headers = {"Idempotency-Key": key} if key else {}
        if content is not None:
            headers["Content-Type"] = content_type
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
        if response.status_code == 421 and response.headers.get(VERSION_HEADER):
            raise PortalUnusable(self._misdirected(response))
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

    def _misdirected(self, response: httpx.Response) -> str:
        """421: this portal serves another firm, or a restored copy of this one."""
        try:
            body = response.json()
        except ValueError:
            body = {}
        body = body if isinstance(body, dict) else {}
        code = body.get("code")
        ours = self.firm
        if code == "other_firm" and ours is not None:
            found = body.get("portal_firm")
            theirs: dict[str, Any] = found if isinstance(found, dict) else {}
            name = str(theirs.get("name") or "")
            shown = f'"{name}", ' if name else ""
            return (
                f"The portal service at {self.base_url} serves another firm ({shown}id "
                f'{theirs.get("id")}), not this one ("{ours.name}", id {ours.firm_id}): each '
                "firm needs a portal service of its own; set portal_url to this firm's portal."
            )
        if code == "stale_epoch":
            return (
                f"The portal service at {self.base_url} follows a restored copy of this firm's "
                f"database (epoch {body.get('portal_epoch')}); this one is older (epoch "
                f"{ours.epoch if ours else '?'}). Point database_url at the restored database."
            )
        return f"The portal service at {self.base_url} refused this firm: {_detail(response)}"

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

    def batchable(self, m: OutboxMessage) -> bool:
        if time.monotonic() < self._no_batches_until:
            return False
        if m.op is OutboxOp.REVOKE:
            return True
        # A document's bytes follow its publish at once, an invoice's own PDF when the portal
        # lacks it: they go on their own.
        return m.op is OutboxOp.PUBLISH and not _has_bytes(m.payload)

    def deliver_many(self, messages: Sequence[OutboxMessage]) -> list[Outcome] | None:
        """Deliver item publishes and revokes in one request, an outcome for each; None when
        they should go one by one (no batch endpoint, too big, or refused as a whole)."""
        try:
            return self._deliver_many(messages)
        except _Transient as exc:
            return [RetryLater(str(exc), lost=True)] * len(messages)
        except PortalUnusable as exc:
            return [Broken(str(exc))] * len(messages)

    def _deliver_many(self, messages: Sequence[OutboxMessage]) -> list[Outcome] | None:
        if time.monotonic() < self._no_batches_until:
            return None
        body = jsonlib.dumps(
            {"operations": [_operation(m) for m in messages]},
            separators=(",", ":"),
            ensure_ascii=False,
        ).encode("utf-8")
        if len(body) > BATCH_BODY_LIMIT:
            return None
        # The same rows make the same key: a batch sent again after its answer was lost gets
        # the portal's stored answer.
        rows = "\n".join(m.idempotency_key for m in messages)
        key = "batch-" + hashlib.sha256(rows.encode()).hexdigest()[:48]
        response = self._call(
            "POST", BATCH_PATH, key=key, content=body, content_type="application/json"
        )
        if response.status_code in (404, 405):
            # A portal service from before batches (or a proxy that does not pass them).
            self._no_batches_until = time.monotonic() + NO_BATCH_RECHECK_S
            return None
        self._check(response)
        status = response.status_code
        if status in _RETRY_STATUSES or status >= 500:
            later = RetryLater(f"{status}: {_detail(response)}", _retry_after(response))
            return [later] * len(messages)
        if not 200 <= status < 300:
            return None  # refused as a whole: each row alone gets its own answer
        return self._batch_outcomes(response, messages)

    def _batch_outcomes(
        self, response: httpx.Response, messages: Sequence[OutboxMessage]
    ) -> list[Outcome]:
        try:
            results = response.json()["results"]
            if not isinstance(results, list) or len(results) != len(messages):
                raise TypeError("not one result per row")
            outcomes = [_outcome_of(result) for result in results]
        except (ValueError, KeyError, TypeError) as exc:
            raise PortalUnusable(
                f"The portal service at {self.base_url} answered garbage to a batch (HTTP "
                f"{response.status_code}: {exc}); shares stay pending."
            ) from exc
        return outcomes

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
        if m.op is OutboxOp.TWO_FACTOR_RESET:
            path = f"/contacts/{p['contact_id']}/two-factor/reset"
            return self._outcome(self._call("POST", path, key=key))
        if m.op is OutboxOp.RESET:
            return self._outcome(self._call("POST", "/firm/reset", key=key, json=p))
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
        response = self._call("PUT", path, key=m.idempotency_key, json=body)
        outcome = self._outcome(response)
        if not isinstance(outcome, Delivered):
            return outcome
        if p["kind"] == "invoice":
            return self._invoice_pdf_after(m, response)
        if content is None:
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

    def _invoice_pdf_after(self, m: OutboxMessage, published: httpx.Response) -> Outcome:
        """After an invoice's publish: its own PDF, if its copy names one the portal lacks."""
        p = m.payload
        wanted = (p.get("data") or {}).get("pdf_sha256")
        if not wanted or published.json().get("has_content") is not False:
            return Delivered()
        if self._invoice_pdf is None:
            return Rejected("This app cannot read invoice PDFs to send them.")
        content = self._invoice_pdf(int(p["item_id"]))
        if content is None or hashlib.sha256(content).hexdigest() != wanted:
            # Removed or replaced since this row was written: that change queued a newer
            # publish, which brings what the invoice has now.
            return Delivered()
        return self._outcome(
            self._call(
                "PUT",
                f"/items/invoice/{p['item_id']}/content",
                key=f"{m.idempotency_key}:content:{wanted[:16]}",
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

    def binding(self) -> FirmIdentity | None:
        """The firm this portal serves, as it says; None before any firm has spoken to it."""
        try:
            response = self._call("GET", "/firm/binding")
        except _Transient as exc:
            raise PortalUnusable(str(exc)) from exc
        self._check(response)
        if response.status_code != 200:
            raise PortalUnusable(
                f"The portal did not say which firm it serves: {_detail(response)}"
            )
        try:
            body = response.json()
            if body.get("firm_id") is None:
                return None
            return FirmIdentity(str(body["firm_id"]), str(body["name"]), int(body["epoch"]))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise PortalUnusable(
                f"The portal service at {self.base_url} answered garbage (HTTP "
                f"{response.status_code})."
            ) from exc

    # A contact's sign-ins (the contact screen) -------------------------------------------------

    def _ask(self, method: str, path: str, what: str) -> dict[str, Any]:
        """One call a staff member waits for: any failure is PortalAway, in words."""
        try:
            response = self._call(method, path, key=uuid.uuid4().hex if method != "GET" else None)
            self._check(response)
        except (PortalUnusable, _Transient) as exc:
            raise PortalAway(f"{what}: {exc}") from exc
        if response.status_code != 200:
            raise PortalAway(f"{what}: the portal answered {_detail(response)}")
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise PortalAway(f"{what}: the portal at {self.base_url} answered garbage.")
        return body

    def contact_sign_ins(self, contact_id: int) -> ContactSignIns:
        what = "The portal's sign-ins could not be read"
        body = self._ask("GET", f"/contacts/{contact_id}/security", what)
        try:
            at = body.get("last_login_at")
            return ContactSignIns(
                bool(body["two_factor"]),
                datetime.fromisoformat(at) if isinstance(at, str) else None,
                int(body["active_sessions"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise PortalAway(f"{what}: the portal answered garbage.") from exc

    def sign_out_contact(self, contact_id: int) -> int:
        what = "Nobody was signed out"
        body = self._ask("POST", f"/contacts/{contact_id}/sign-out", what)
        try:
            return int(body["ended"])
        except (KeyError, TypeError, ValueError) as exc:
            raise PortalAway(f"{what}: the portal answered garbage.") from exc

    def upload_content(self, upload_id: int) -> bytes:
        try:
            response = self._call("GET", f"/uploads/{upload_id}/content")
        except _Transient as exc:
            raise PortalUnusable(str(exc)) from exc
        self._check(response)
        if response.status_code != 200:
            raise PortalUnusable(f"Upload {upload_id} could not be fetched: {_detail(response)}")
        return response.content


def _has_bytes(payload: dict[str, Any]) -> bool:
    """A publish whose bytes may follow it: a document, or an invoice with its own PDF."""
    if payload.get("kind") == "document":
        return True
    return payload.get("kind") == "invoice" and bool((payload.get("data") or {}).get("pdf_sha256"))


def _operation(m: OutboxMessage) -> dict[str, Any]:
    """A row as an operation of POST /items/batch: the single request's body, and what its
    path said."""
    p = m.payload
    if m.op is OutboxOp.REVOKE:
        return {
            "op": "revoke",
            "kind": p["kind"],
            "item_id": p["item_id"],
            "version": p["version"],
            "matter_id": p["matter_id"],
        }
    return {**p, "batch": m.batch, "op": "publish"}


def _outcome_of(result: Any) -> Outcome:
    """One operation's result, sorted as the answer to its single request would be."""
    status = result["status"]
    if not isinstance(status, int) or isinstance(status, bool):
        raise TypeError("a result without a status")
    if 200 <= status < 300:
        return Delivered()
    detail = str(result.get("detail") or status)
    if status in _RETRY_STATUSES or status >= 500:
        after = result.get("retry_after")
        wait = (
            float(after) if isinstance(after, int | float) and not isinstance(after, bool) else None
        )
        return RetryLater(f"{status}: {detail}", wait)
    return Rejected(f"The portal refused it ({status}): {detail}")


class _Transient(Exception):
    """A request that may well work if simply tried again (a timeout)."""
