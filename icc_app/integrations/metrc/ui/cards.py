"""What the Metrc compliance page draws: alerts and checks as words ("High", "On hold but for sale", "12 minutes
ago", "Metrc 100 Grams · the POS 80 g"). Pure: no reflex, no database."""

from __future__ import annotations

from pydantic import BaseModel

from icc_app.integrations.metrc.models import Alert, AlertEvent, AlertKind, ComplianceCheck
from icc_app.integrations.ui.cards import ago
from icc_app.ui.format import local_time, plural

SEVERITY_LABELS = {"high": "High", "medium": "Medium", "low": "Low"}
STATUS_LABELS = {"open": "Open", "resolved": "Resolved", "dismissed": "Dismissed"}
SOURCE_WORDS = {"pos": "the POS", "lot": "a CCX lot", "menu": "the ICC menu"}
MODE_LABELS = {"full": "Full read", "incremental": "Changes only"}


class AlertCard(BaseModel):
    id: str
    title: str
    kind_label: str
    severity: str
    severity_label: str
    status: str
    status_label: str
    tag: str
    evidence: list[str]
    fix: str
    seen: str
    history: list[str]


class CheckCard(BaseModel):
    id: str
    connection_id: str
    connection: str
    license_number: str
    when: str
    status: str
    summary: str
    error: str


def evidence_lines(evidence: dict) -> list[str]:
    """Both sides' numbers in words."""
    lines = []
    metrc = evidence.get("metrc")
    if isinstance(metrc, dict) and "quantity" in metrc:
        state = f"Metrc: {metrc['quantity']} {metrc.get('unit', '')}".rstrip()
        extras = [w for w, on in (("on hold", metrc.get("on_hold")),) if on]
        if metrc.get("lab_state"):
            extras.append(f"lab {metrc['lab_state']}")
        lines.append(state + (f" ({', '.join(extras)})" if extras else ""))
    elif "metrc" in evidence:
        lines.append("Metrc: not an active package of this license")
    for holding in evidence.get("icc") or []:
        name = f" ({holding['name']})" if holding.get("name") else ""
        lines.append(f"{SOURCE_WORDS.get(holding.get('source'), 'ICC')}: {holding.get('quantity')} "
                     f"{holding.get('unit', '')}{name}")
    for sale in (evidence.get("sales") or [])[:5]:
        lines.append(f"POS sale {sale.get('sale')} on {str(sale.get('at', ''))[:10]}: {sale.get('quantity')}")
    if "metrc_last_reported" in evidence:
        last = evidence.get("metrc_last_reported")
        lines.append(f"Metrc's last reported sale of it: {last[:10] if last else 'none'}")
    return lines


def alert_card(alert: Alert, events: list[AlertEvent]) -> AlertCard:
    status = str(alert.status)
    history = [f"{local_time(e.created_at)}: {STATUS_LABELS.get(e.to_status, e.to_status)}"
               + (f" ({e.note})" if e.note else "") for e in events]
    return AlertCard(
        id=str(alert.id), title=alert.title, kind_label=AlertKind(alert.kind).label, severity=str(alert.severity),
        severity_label=SEVERITY_LABELS.get(str(alert.severity), str(alert.severity)), status=status,
        status_label=STATUS_LABELS.get(status, status), tag=alert.package_label,
        evidence=evidence_lines(alert.evidence or {}), fix=alert.suggested_fix,
        seen=f"First seen {ago(alert.first_seen_at)}, last seen {ago(alert.last_seen_at)}", history=history)


def check_card(check: ComplianceCheck, connection_name: str) -> CheckCard:
    if check.status == "failed":
        summary = "Metrc could not be read"
    else:
        summary = (f"{MODE_LABELS.get(check.mode, check.mode)}: {plural(check.packages, 'package')}, "
                   f"{plural(check.discrepancies, 'discrepancy', 'discrepancies')}, "
                   f"{plural(check.calls, 'Metrc call')}"
                   + (f" ({check.calls_avoided} avoided)" if check.calls_avoided else ""))
    return CheckCard(id=str(check.id), connection_id=str(check.connection_id), connection=connection_name,
                     license_number=check.license_number, when=ago(check.created_at), status=check.status,
                     summary=summary, error=check.error or "")
