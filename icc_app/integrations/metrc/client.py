"""Metrc v2 seed-to-sale adapter: one facility license of one state.

Protocol (Metrc's v2 reference pages and OpenAPI description):
- HTTP Basic: the integrator's *vendor key* as user name, the facility user's *user key* as password.
- `licenseNumber` on every facility-scoped call (facilities list excepted).
- One API host per state (`https://api-<st>.metrc.com`, sandbox `https://sandbox-api-<st>.metrc.com`); the
  connection's base URL is used as given (staging and tests point it at a local server).
- Lists come wrapped: {"Data": [...], "Total", "TotalRecords", "PageSize", "RecordsOnPage", "Page", "CurrentPage",
  "TotalPages"}; `pageSize` may not exceed 20, so every list read is paged (pageNumber 1..TotalPages). A page whose
  Data is shorter than its RecordsOnPage (or whose count changes under us) is re-read once, then refused.
- `lastModifiedStart/End` filters may span at most 24 hours: a longer range is read as consecutive 24-hour windows.
- 429 with Retry-After, 5xx and timeouts retried with exponential backoff and jitter (integrations.http.VendorHttp);
  401/403 stop at once. GETs draw from one rate budget per vendor key + user key, shared by every worker (Redis).

Writes: outgoing transfer *templates* (the only way the API creates outgoing transfers). A POST is not retried
blindly: after a failure we look for the template by its name before sending it again, so a lost answer never
creates two templates. Metrc v2 documents no endpoint to receive (accept/reject) an incoming transfer nor one that
returns a manifest PDF: the manifest number is read from the outgoing transfer that the template became.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import httpx

from icc_app.integrations.base import (
    AuthFailed,
    Capability,
    ConnectionConfig,
    IntegrationError,
    MalformedPayload,
    Progress,
    VendorUnavailable,
    no_progress,
)
from icc_app.integrations.http import RETRY_STATUSES, RateBudget, VendorHttp, retry_after_seconds

PAGE_SIZE = 20  # Metrc: "a value that does not exceed 20"
WINDOW = timedelta(hours=24)  # the longest lastModified range one call may ask for
GET_BUDGET = (50, 1)  # GETs per second per key, shared by all workers
ENVIRONMENTS = ("production", "sandbox")


def state_base_url(state: str, *, sandbox: bool = False) -> str:
    """The API host of a state's Metrc (production or sandbox)."""
    code = (state or "").strip().lower()
    if len(code) != 2 or not code.isalpha():
        raise IntegrationError("The state is two letters, e.g. CO.")
    return f"https://{'sandbox-' if sandbox else ''}api-{code}.metrc.com"


def iso(value: datetime) -> str:
    """A UTC timestamp to the second, as Metrc's examples write it."""
    value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def windows(since: datetime, until: datetime, size: timedelta = WINDOW) -> list[tuple[datetime, datetime]]:
    """[since, until) cut into consecutive windows of at most `size` (Metrc refuses longer lastModified ranges)."""
    out: list[tuple[datetime, datetime]] = []
    start = since
    while start < until:
        end = min(until, start + size)
        out.append((start, end))
        start = end
    return out


class Adapter:
    vendor: ClassVar[str] = "metrc"
    # Metrc is a compliance source, not a menu: it feeds compliance checks and the CCX workflows (metrc/workflows.py),
    # so the POS sync engine has nothing to run for it.
    capabilities: ClassVar[frozenset[Capability]] = frozenset()
    credential_fields: ClassVar[dict[str, str]] = {
        "vendor_key": "Vendor (integrator) API key",
        "user_key": "User API key",
        "license_number": "Facility license number",
        "state": "State (two letters)",
        "environment": "Environment: production or sandbox (optional)",
    }

    def __init__(self, config: ConnectionConfig):
        self.config = config
        creds = config.credentials
        self.vendor_key = str(creds.get("vendor_key") or "").strip()
        self.user_key = str(creds.get("user_key") or "").strip()
        self.license_number = str(creds.get("license_number") or config.location_id or "").strip()
        self.state = str(creds.get("state") or "").strip().upper()
        self.environment = str(creds.get("environment") or "production").strip().lower()
        if not self.vendor_key or not self.user_key:
            raise AuthFailed("Metrc needs both the vendor API key and the user API key.")
        if not self.license_number:
            raise IntegrationError("Metrc needs the facility license number (every call names it).")
        options: dict[str, Any] = dict(config.http_options)
        rate = options.pop("get_rate", GET_BUDGET)
        self.http = VendorHttp(config.base_url, vendor=self.vendor, auth=(self.vendor_key, self.user_key),
                               **options)
        # The budget belongs to the key, not the connection: two connections of one user key share it.
        key_hash = hashlib.sha256(f"{self.vendor_key}:{self.user_key}".encode()).hexdigest()[:16]
        self.budget = RateBudget(f"metrc:get:{key_hash}", limit=rate[0], window_s=rate[1],
                                 sleep=options.get("sleep", self.http.sleep)) if rate else None
        self.reads = 0  # GET requests sent (retries included), for benchmarks and run summaries

    def close(self) -> None:
        self.http.close()

    @property
    def calls(self) -> int:
        return self.http.calls

    # --- plumbing -------------------------------------------------------------------------------------------
    def _get(self, path: str, params: dict[str, Any] | None = None, *, licensed: bool = True) -> Any:
        query = dict(params or {})
        if licensed:
            query["licenseNumber"] = self.license_number
        if self.budget is not None:
            self.budget.acquire()
        self.reads += 1
        return self.http.get(path, params=query)

    def _page(self, path: str, params: dict[str, Any], number: int) -> dict:
        body = self._get(path, {**params, "pageNumber": number, "pageSize": PAGE_SIZE})
        if isinstance(body, list):  # pagination not honoured: the whole list at once
            return {"Data": body, "TotalPages": 1, "RecordsOnPage": len(body), "TotalRecords": len(body)}
        if not isinstance(body, dict) or not isinstance(body.get("Data"), list):
            raise MalformedPayload(f"Metrc {path} answered without a Data list.")
        return body

    def _paged(self, path: str, params: dict[str, Any] | None = None, *, progress: Progress = no_progress,
               what: str = "") -> list[dict]:
        """Every record of a list endpoint, page by page; a short or inconsistent page is read again once, then
        the whole read fails (never a partial list)."""
        params = dict(params or {})
        out: list[dict] = []
        number, total_pages, total_records = 1, None, None
        while True:
            for attempt in (1, 2):
                page = self._page(path, params, number)
                data = page["Data"]
                on_page = page.get("RecordsOnPage", len(data))
                records = page.get("TotalRecords", page.get("Total"))
                consistent = on_page == len(data) and (total_records is None or records == total_records)
                if consistent:
                    break
                if attempt == 2:
                    raise MalformedPayload(f"Metrc {path} page {number} came back incomplete ({len(data)} of "
                                           f"{on_page} records) twice: try again later.")
            total_records = records
            total_pages = int(page.get("TotalPages") or 1)
            out.extend(data)
            if what:
                progress(f"{what}: page {number} of {total_pages}")
            if number >= total_pages or not data:
                return out
            number += 1

    def _windowed(self, path: str, since: datetime, until: datetime, **kwargs: Any) -> list[dict]:
        """Whole seconds (the start floored, the end rounded up: nothing modified in the last fraction of a second
        is missed), then windows of at most 24 hours."""
        since = since.replace(microsecond=0)
        if until.microsecond:
            until = until.replace(microsecond=0) + timedelta(seconds=1)
        out: list[dict] = []
        for start, end in windows(since, until):
            out.extend(self._paged(path, {"lastModifiedStart": iso(start), "lastModifiedEnd": iso(end)}, **kwargs))
        return out

    def _listing(self, path: str, since: datetime | None, until: datetime | None, **kwargs: Any) -> list[dict]:
        if since is None:
            return self._paged(path, **kwargs)
        return self._windowed(path, since, until or datetime.now(UTC), **kwargs)

    # --- facilities, items, strains ---------------------------------------------------------------------------
    def facilities(self) -> list[dict]:
        body = self._get("/facilities/v2", licensed=False)
        if isinstance(body, dict) and isinstance(body.get("Data"), list):
            body = body["Data"]
        if not isinstance(body, list):
            raise MalformedPayload("Metrc /facilities/v2 answered something that is not a list of facilities.")
        return body

    def facility(self) -> dict:
        """This connection's facility (its capability flags are in FacilityType)."""
        for facility in self.facilities():
            if (facility.get("License") or {}).get("Number") == self.license_number:
                return facility
        raise IntegrationError(f"This Metrc user has no access to license {self.license_number}: check the license "
                               "number and the user's facility permissions.")

    def test_connection(self) -> str:
        facility = self.facility()
        name = facility.get("DisplayName") or facility.get("Name") or "the facility"
        return f"Connected to {name}, license {self.license_number} ({self.state or 'Metrc'} {self.environment})"

    def items(self, *, since: datetime | None = None, until: datetime | None = None) -> list[dict]:
        return self._listing("/items/v2/active", since, until)

    def strains(self, *, since: datetime | None = None, until: datetime | None = None) -> list[dict]:
        return self._listing("/strains/v2/active", since, until)

    # --- packages -----------------------------------------------------------------------------------------------
    def active_packages(self, *, since: datetime | None = None, until: datetime | None = None,
                        progress: Progress = no_progress) -> list[dict]:
        """All active packages, or (with `since`) those modified in [since, until), in 24-hour windows."""
        return self._listing("/packages/v2/active", since, until, progress=progress, what="packages")

    def inactive_packages(self, *, since: datetime, until: datetime | None = None) -> list[dict]:
        return self._windowed("/packages/v2/inactive", since, until or datetime.now(UTC))

    def onhold_packages(self, *, since: datetime | None = None, until: datetime | None = None) -> list[dict]:
        return self._listing("/packages/v2/onhold", since, until)

    def intransit_packages(self, *, since: datetime | None = None, until: datetime | None = None) -> list[dict]:
        return self._listing("/packages/v2/intransit", since, until)

    def package(self, label: str) -> dict:
        body = self._get(f"/packages/v2/{label}")
        if not isinstance(body, dict) or "Label" not in body:
            raise MalformedPayload(f"Metrc answered something that is not a package for {label}.")
        return body

    # --- lab tests ----------------------------------------------------------------------------------------------
    def lab_results(self, package_id: int) -> list[dict]:
        return self._paged("/labtests/v2/results", {"packageId": package_id})

    def lab_document(self, document_id: int) -> bytes:
        """The lab's COA document (PDF bytes) for a lab test result's LabTestResultDocumentFileId."""
        path = f"/labtests/v2/labtestdocument/{document_id}"
        attempt = 0
        while True:
            if self.budget is not None:
                self.budget.acquire()
            self.reads += 1
            self.http.calls += 1
            try:
                response = self.http.client.get(path, params={"licenseNumber": self.license_number})
            except httpx.TransportError as exc:
                if attempt >= self.http.max_retries:
                    raise VendorUnavailable(f"Metrc lab document {document_id} could not be fetched.") from exc
                self.http._wait(attempt, None)
                attempt += 1
                continue
            if response.status_code in (401, 403):
                raise AuthFailed(f"Metrc refused the credentials ({response.status_code} on {path}).")
            if response.status_code in RETRY_STATUSES and attempt < self.http.max_retries:
                self.http._wait(attempt, retry_after_seconds(response.headers.get("retry-after")))
                attempt += 1
                continue
            if response.status_code >= 400:
                raise IntegrationError(f"Metrc has no lab document {document_id} ({response.status_code}).")
            return response.content

    # --- transfers ----------------------------------------------------------------------------------------------
    def incoming_transfers(self, *, since: datetime, until: datetime | None = None) -> list[dict]:
        return self._windowed("/transfers/v2/incoming", since, until or datetime.now(UTC))

    def outgoing_transfers(self, *, since: datetime, until: datetime | None = None) -> list[dict]:
        return self._windowed("/transfers/v2/outgoing", since, until or datetime.now(UTC))

    def rejected_transfers(self) -> list[dict]:
        return self._paged("/transfers/v2/rejected")

    def deliveries(self, transfer_id: int) -> list[dict]:
        return self._paged(f"/transfers/v2/{transfer_id}/deliveries")

    def delivery_packages(self, delivery_id: int) -> list[dict]:
        return self._paged(f"/transfers/v2/deliveries/{delivery_id}/packages")

    def templates(self, *, since: datetime, until: datetime | None = None) -> list[dict]:
        return self._windowed("/transfers/v2/templates/outgoing", since, until or datetime.now(UTC))

    def template_packages(self, delivery_id: int) -> list[dict]:
        return self._paged(f"/transfers/v2/templates/outgoing/deliveries/{delivery_id}/packages")

    def find_template(self, name: str, *, since: datetime) -> dict | None:
        for template in self.templates(since=since):
            if template.get("Name") == name:
                return template
        return None

    def create_template(self, template: dict, *, now: datetime | None = None) -> int:
        """POST one outgoing transfer template; returns its id. Safe to call again after a lost answer: the name
        (unique per order) is looked up before a second POST."""
        now = now or datetime.now(UTC)
        name = template["Name"]
        params = {"licenseNumber": self.license_number}
        for attempt in range(self.http.max_retries + 1):
            try:
                body = self._post_once("/transfers/v2/templates/outgoing", params, [template])
            except VendorUnavailable:
                found = self.find_template(name, since=now - timedelta(hours=1))
                if found is not None:
                    return int(found["Id"])
                if attempt >= self.http.max_retries:
                    raise
                self.http._wait(attempt, None)
                continue
            ids = (body or {}).get("Ids") if isinstance(body, dict) else None
            if ids:
                return int(ids[0])
            found = self.find_template(name, since=now - timedelta(hours=1))
            if found is None:
                raise MalformedPayload("Metrc accepted the template but did not say its id.")
            return int(found["Id"])
        raise VendorUnavailable("Metrc did not take the template.")  # pragma: no cover - loop always returns

    def _post_once(self, path: str, params: dict, body: Any) -> Any:
        """One POST, 429 retried (the server did nothing), anything else reported as it is."""
        attempt = 0
        while True:
            self.http.calls += 1
            try:
                response = self.http.client.post(path, params=params, json=body)
            except httpx.TransportError as exc:
                raise VendorUnavailable(f"Metrc POST {path} got no answer.") from exc
            status = response.status_code
            if status in (401, 403):
                raise AuthFailed(f"Metrc refused the credentials ({status} on {path}).")
            if status == 429 and attempt < self.http.max_retries:
                self.http._wait(attempt, retry_after_seconds(response.headers.get("retry-after")))
                attempt += 1
                continue
            if status in RETRY_STATUSES:
                raise VendorUnavailable(f"Metrc POST {path} failed ({status}).")
            if status >= 400:
                raise IntegrationError(f"Metrc refused the template ({status}): {_messages(response)}")
            return response.json() if response.content else None

    # --- sales ----------------------------------------------------------------------------------------------------
    def receipts(self, *, since: datetime, until: datetime | None = None) -> list[dict]:
        """Sales receipts modified in [since, until) (with their transactions: package label and quantity)."""
        return self._windowed("/sales/v2/receipts/active", since, until or datetime.now(UTC))


def _messages(response: httpx.Response) -> str:
    """Metrc answers a refused write with [{"row": 0, "message": "..."}]: the messages, joined."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(body, list):
        return "; ".join(str(row.get("message", row)) for row in body if isinstance(row, dict))[:500]
    if isinstance(body, dict):
        return str(body.get("Message") or body.get("message") or body)[:500]
    return str(body)[:200]
