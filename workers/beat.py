"""The periodic schedule, and the scheduler that makes it run once however many beat processes start.

Every entry has an expiry so a backlog after downtime does not pile up. `LockedScheduler` holds a Redis lock
(SET NX with a TTL, renewed on every tick by its holder only): a second beat process, started by mistake or
by a deploy overlapping the old one, waits and sends nothing until the holder stops or dies and its lock
expires. Tasks stay idempotent, so the one overlap a lost lock can cause does no harm.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid

from celery.beat import PersistentScheduler
from celery.schedules import crontab

log = logging.getLogger(__name__)

LOCK_KEY = "icc:beat:lock"
LOCK_TTL_S = 60
LOCK_RENEW_S = 10  # the holder ticks at least this often, so the lock never lapses while it lives

SCHEDULE = {
    "verify-audit-chain-nightly": {
        "task": "core.verify_audit_chain",
        "schedule": crontab(hour=3, minute=15),
        "options": {"expires": 6 * 3600},
    },
    "anchor-audit-chain": {
        "task": "core.anchor_audit_chain",
        "schedule": crontab(minute="*/10"),
        "options": {"expires": 540},
    },
    "sweep-stuck-coa-parses": {
        "task": "labs.sweep_stuck_parses",
        "schedule": crontab(minute="*/2"),
        "options": {"expires": 100},
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
    "integrations-tick": {  # due POS syncs (jittered) and runs whose worker died
        "task": "integrations.tick",
        "schedule": crontab(minute="*"),
        "options": {"expires": 50},
    },
    "retry-partner-webhooks": {  # outbound partner webhooks whose retry time has come
        "task": "integrations.retry_partner_webhooks",
        "schedule": crontab(minute="*"),
        "options": {"expires": 50},
    },
    "metrc-compliance-hourly": {  # licenses whose compliance check is due
        "task": "metrc.compliance_tick",
        "schedule": crontab(minute=20),
        "options": {"expires": 3000},
    },
    "metrc-follow-transfers": {  # manifests and In Transit for orders with a Metrc transfer template
        "task": "metrc.follow_transfers",
        "schedule": crontab(minute="*/5"),
        "options": {"expires": 240},
    },
    "refresh-forecasts-daily": {  # fast movers daily; slow movers on Mondays (the task decides)
        "task": "operations.refresh_forecasts",
        "schedule": crontab(hour=2, minute=30),
        "options": {"expires": 6 * 3600},
    },
    "refresh-forecasts-weekly-slow-movers": {
        "task": "operations.refresh_forecasts",
        "schedule": crontab(day_of_week=1, hour=3, minute=0),
        "kwargs": {"slow_too": True},
        "options": {"expires": 12 * 3600},
    },
    "loyalty-segments-nightly": {
        "task": "loyalty.compute_segments",
        "schedule": crontab(hour=3, minute=30),
        "options": {"expires": 6 * 3600},
    },
    "loyalty-send-due-campaigns": {  # scheduled campaigns and quiet-hours holds whose time has come
        "task": "loyalty.send_due",
        "schedule": crontab(minute="*"),
        "options": {"expires": 50},
    },
    "loyalty-attribute-hourly": {  # purchases after a campaign's messages: redemption and lift
        "task": "loyalty.attribute",
        "schedule": crontab(minute=25),
        "options": {"expires": 3000},
    },
    "budtender-retrain-nightly": {  # retrain, evaluate offline, promote only if not worse
        "task": "budtender.retrain",
        "schedule": crontab(hour=4, minute=30),
        "options": {"expires": 6 * 3600},
    },
    "train-price-model-weekly": {
        "task": "quality.train_price_model",
        "schedule": crontab(day_of_week=1, hour=5, minute=0),
        "options": {"expires": 12 * 3600},
    },
}

# Renew only a lock we still hold; release only our own.
_RENEW = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('expire', KEYS[1], ARGV[2]) end return 0"
_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"


class BeatLock:
    """One holder at a time across processes and machines sharing the Redis."""

    def __init__(self, redis_client, *, key: str = LOCK_KEY, ttl_s: int = LOCK_TTL_S):
        self.redis, self.key, self.ttl = redis_client, key, ttl_s
        self.token = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.held = False

    def acquire_or_renew(self) -> bool:
        if self.held and self.redis.eval(_RENEW, 1, self.key, self.token, self.ttl):
            return True
        self.held = bool(self.redis.set(self.key, self.token, nx=True, ex=self.ttl))
        return self.held

    def release(self) -> None:
        if self.held:
            self.redis.eval(_RELEASE, 1, self.key, self.token)
            self.held = False


class LockedScheduler(PersistentScheduler):
    """A PersistentScheduler that sends nothing unless it holds the beat lock."""

    def __init__(self, *args, **kwargs):
        self._lock: BeatLock | None = None
        super().__init__(*args, **kwargs)

    def _beat_lock(self) -> BeatLock | None:
        if self._lock is None:
            url = self.app.conf.broker_url
            if not str(url).startswith(("redis://", "rediss://")):
                return None  # embedded mode: no broker, no second beat
            import redis

            self._lock = BeatLock(redis.Redis.from_url(url))
        return self._lock

    def tick(self, *args, **kwargs):
        lock = self._beat_lock()
        if lock is not None:
            was_held = lock.held
            if not lock.acquire_or_renew():
                if was_held:
                    log.error("beat lost its lock to another process; standing by")
                self._keep_pace()
                return LOCK_RENEW_S
            if not was_held:
                log.info("beat holds the scheduler lock (%s)", lock.token)
        return min(super().tick(*args, **kwargs), LOCK_RENEW_S)

    def _keep_pace(self) -> None:
        """While standing by, the holder sends every slot: mark them run here too, so that taking over later does
        not send again the slots the holder already sent."""
        now = self.app.now()
        for entry in self.schedule.values():
            entry.last_run_at = now

    def close(self):
        try:
            super().close()
        finally:
            if self._lock is not None:
                self._lock.release()
