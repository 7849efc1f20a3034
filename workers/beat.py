"""The periodic schedule. Every entry has an expiry so a backlog after downtime does not pile up."""

from celery.schedules import crontab

SCHEDULE = {
    "verify-audit-chain-nightly": {
        "task": "core.verify_audit_chain",
        "schedule": crontab(hour=3, minute=15),
        "options": {"expires": 6 * 3600},
    },
    "check-license-expiry-daily": {
        "task": "identity.check_license_expiry",
        "schedule": crontab(hour=7, minute=0),
        "options": {"expires": 12 * 3600},
    },
    "expire-offers": {
        "task": "exchange.expire_offers",
        "schedule": crontab(minute="*/5"),
        "options": {"expires": 240},
    },
    "expire-listings-hourly": {
        "task": "exchange.expire_listings",
        "schedule": crontab(minute=7),
        "options": {"expires": 3000},
    },
    "suspend-unlicensed-listings": {
        "task": "exchange.suspend_unlicensed",
        "schedule": crontab(hour=7, minute=10),
        "options": {"expires": 12 * 3600},
    },
    "rescore-active-lots-nightly": {
        "task": "quality.rescore_all_active_lots",
        "schedule": crontab(hour=4, minute=0),
        "options": {"expires": 6 * 3600},
    },
    "train-price-model-weekly": {
        "task": "quality.train_price_model",
        "schedule": crontab(day_of_week=1, hour=5, minute=0),
        "options": {"expires": 12 * 3600},
    },
}
