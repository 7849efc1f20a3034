"""What the Point of sale page draws: connections and sync runs as words ("Healthy", "12 minutes ago",
"Every 15 minutes", "3 created · 1 updated"). Pure: no reflex, no database; the state fills these from the rows the
integrations services return, so the browser never receives credentials or enum values."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from icc_app.core.models import utcnow
from icc_app.integrations import base
from icc_app.integrations.service import STATUS_LABELS
from icc_app.ui.format import local_time, plural

STATUS_COLORS = {"new": "gray", "healthy": "green", "failing": "red", "paused": "amber", "disconnected": "gray"}
RUN_STATUS_LABELS = {"queued": "Waiting to start", "running": "Running", "succeeded": "Succeeded", "failed": "Failed"}
RUN_STATUS_COLORS = {"queued": "gray", "running": "blue", "succeeded": "green", "failed": "red"}
TRIGGER_LABELS = {"manual": "Sync now", "schedule": "Scheduled", "webhook": "Live update (webhook)",
                  "cli": "Command line", "retry": "Retry"}
STREAM_LABELS = {"menu": "menu", "sales": "sales", "customers": "customers"}


def ago(moment: datetime | None, *, now: datetime | None = None) -> str:
    """How long ago, as people say it: "just now", "1 minute ago", "12 minutes ago", "3 hours ago", "2 days ago";
    older than a week: the date and time in the business's zone. None: "Never"."""
    if moment is None:
        return "Never"
    seconds = ((now or utcnow()) - moment).total_seconds()
    if seconds < 45:
        return "just now"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{plural(minutes, 'minute')} ago"
    hours = round(seconds / 3600)
    if hours < 24:
        return f"{plural(hours, 'hour')} ago"
    days = round(seconds / 86400)
    if days <= 7:
        return f"{plural(days, 'day')} ago"
    return local_time(moment)


def duration(milliseconds: int | None) -> str:
    """"0.4 s", "12 s", "2 min 5 s"; unknown: "—"."""
    if milliseconds is None:
        return "—"
    seconds = milliseconds / 1000
    if seconds < 10:
        return f"{seconds:.1f} s"
    if seconds < 60:
        return f"{round(seconds)} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest} s" if rest else f"{minutes} min"


def capabilities_line(vendor: str) -> str:
    """What the vendor's adapter can do, in words, in a stable order ("Menu and inventory · Sales transactions")."""
    try:
        capabilities = base.adapter_class(vendor).capabilities
    except base.Unsupported:
        return ""
    return " · ".join(c.label for c in base.Capability if c in capabilities)


class VendorOption(BaseModel):
    value: str
    label: str
    capabilities: str
    url_hint: str  # where the base URL comes from
    location_hint: str = ""


class CredentialField(BaseModel):
    key: str
    label: str
    optional: bool = False


class ConnectionCard(BaseModel):
    id: str
    name: str
    vendor: str
    vendor_label: str
    status: str  # the stored value: drives the badge colour and the buttons, never shown
    status_label: str
    status_color: str
    last_success: str  # "12 minutes ago" / "Never"
    last_error: str = ""
    last_error_when: str = ""
    capabilities: str
    dispensary: str  # "Capitol Hill Cannabis" or why nothing feeds a menu
    feeds_menu: bool
    credentials: str  # "Saved (ends …6789)": never the secret itself
    interval: str  # "Every 15 minutes"
    interval_minutes: int = 15
    dispensary_id: str = ""
    base_url: str
    location: str = ""
    active: str = ""  # "Waiting to start" / "Syncing: menu: page 2 of 3" while a run is queued or running
    can_sync: bool = False
    paused: bool = False
    disconnected: bool = False


class RunCard(BaseModel):
    id: str
    connection_id: str
    connection: str
    trigger: str
    status: str
    status_label: str
    status_color: str
    started: str
    duration: str
    streams: str  # "menu, sales and customers"
    counts: str  # "3 created · 1 updated · 40 unchanged · 2 out of stock · 0 skipped"
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    out_of_stock: int = 0
    skipped: int = 0
    extra: str = ""  # "12 sales · 4 customers"
    progress: str = ""
    error: str = ""
    item_errors: list[str] = []
    finished: bool = False
    retryable: bool = False


def _join(words: list[str]) -> str:
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


def credential_fields(vendor: str) -> list[CredentialField]:
    try:
        fields = base.adapter_class(vendor).credential_fields
    except base.Unsupported:
        return []
    return [CredentialField(key=key, label=label, optional="optional" in label.lower())
            for key, label in fields.items()]


def vendor_options() -> list[VendorOption]:
    hints = {"dutchie": "Dutchie POS API address: https://api.pos.dutchie.com",
             "treez": "Treez dispensary API address: https://api.treez.io/v2.0/dispensary",
             "flowhub": "Flowhub API address: https://api.flowhub.co",
             "jane": "The host of the product feed Jane granted (e.g. https://api.iheartjane.com)"}
    location_hints = {"dutchie": "Optional: the key already belongs to one location; set its ID to double-check.",
                      "treez": "Optional when the credentials name the dispensary.",
                      "flowhub": "The location ID Flowhub shows for this store (needed when the account has several).",
                      "jane": "Your Jane store ID: webhooks find this connection by it."}
    return [VendorOption(value=v, label=base.VENDOR_LABELS[v], capabilities=capabilities_line(v),
                         url_hint=hints.get(v, "The vendor's API address (https://…)"),
                         location_hint=location_hints.get(v, ""))
            for v in base.available_vendors()]


def active_text(status: str | None, progress: str) -> str:
    """A queued or running run in words: "Waiting to start", "Syncing the menu: page 2 of 3"."""
    if status == "queued":
        return "Waiting to start"
    if status != "running":
        return ""
    stream, _, detail = (progress or "").partition(": ")
    if stream in STREAM_LABELS and detail:
        return f"Syncing {'the menu' if stream == 'menu' else STREAM_LABELS[stream]}: {detail}"
    return f"Syncing: {progress}" if progress and progress not in ("starting", "done") else "Syncing…"


def connection_card(connection, *, dispensary_name: str | None, active_run=None,
                    now: datetime | None = None) -> ConnectionCard:
    status = str(connection.status.value if hasattr(connection.status, "value") else connection.status)
    disconnected = status == "disconnected"
    return ConnectionCard(
        id=str(connection.id), name=connection.name, vendor=connection.vendor,
        vendor_label=base.VENDOR_LABELS.get(connection.vendor, connection.vendor),
        status=status, status_label=STATUS_LABELS.get(status, status), status_color=STATUS_COLORS.get(status, "gray"),
        last_success=ago(connection.last_success_at, now=now),
        last_error=connection.last_error or "",
        last_error_when=ago(connection.last_error_at, now=now) if connection.last_error_at else "",
        capabilities=capabilities_line(connection.vendor),
        dispensary=dispensary_name or "No dispensary chosen: its menu is not synced",
        feeds_menu=dispensary_name is not None,
        credentials=("Erased" if disconnected else
                     f"Saved (ends {connection.credentials_hint})" if connection.credentials_hint.startswith("…")
                     else "Saved"),
        interval=f"Every {connection.interval_minutes} minutes", interval_minutes=connection.interval_minutes,
        dispensary_id=str(connection.dispensary_id) if connection.dispensary_id else "",
        base_url=connection.base_url, location=connection.location_id or "",
        active=active_text(active_run.status if active_run else None, active_run.progress if active_run else ""),
        can_sync=status in ("new", "healthy", "failing") and active_run is None,
        paused=status == "paused", disconnected=disconnected)


def run_card(run, *, connection_name: str) -> RunCard:
    status = str(run.status.value if hasattr(run.status, "value") else run.status)
    finished = status in ("succeeded", "failed")
    counts = (f"{run.created:,} created · {run.updated:,} updated · {run.unchanged:,} unchanged · "
              f"{run.out_of_stock:,} out of stock · {run.skipped:,} skipped")
    extra = [plural(run.sales, "sale")] if "sales" in (run.streams or []) else []
    extra += [plural(run.customers, "customer")] if "customers" in (run.streams or []) else []
    return RunCard(
        id=str(run.id), connection_id=str(run.connection_id), connection=connection_name,
        trigger=TRIGGER_LABELS.get(run.trigger, run.trigger.title()),
        status=status, status_label=RUN_STATUS_LABELS.get(status, status),
        status_color=RUN_STATUS_COLORS.get(status, "gray"),
        started=local_time(run.started_at or run.created_at),
        duration=duration(run.duration_ms) if finished else "—",
        streams=_join([STREAM_LABELS.get(s, s) for s in run.streams or []]),
        counts=counts if status == "succeeded" else "",
        created=run.created, updated=run.updated, unchanged=run.unchanged, out_of_stock=run.out_of_stock,
        skipped=run.skipped, extra=" · ".join(extra) if status == "succeeded" else "",
        progress=active_text(status, run.progress), error=run.error or "",
        item_errors=[f"{e.get('item') or 'An item'}: {e.get('reason') or 'no reason given'}"
                     for e in (run.errors or [])],
        finished=finished, retryable=status == "failed")
