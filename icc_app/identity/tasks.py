"""Identity tasks: the daily license-expiry sweep (alerts at 60 days, suspension at expiry)."""

from __future__ import annotations

from icc_app.core.db import unit_of_work
from icc_app.identity import licenses
from workers.celery_app import celery_app


@celery_app.task(name="identity.check_license_expiry")
def check_license_expiry() -> dict:
    """Idempotent: an alert is sent once per license and expiry date; expired licenses are marked once."""
    with unit_of_work() as session:
        report = licenses.check_expiring_licenses(session)
    return {"alerted": report.alerted, "expired": report.expired}
