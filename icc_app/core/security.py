"""Password hashing, token hashing, encryption at rest and rate limits.

- Passwords: argon2id (argon2-cffi), re-hashed on login when the parameters change.
- Session tokens and API keys: only their SHA-256 is stored; the raw value is shown once.
- Secrets and PII: Fernet (MultiFernet over ENCRYPTION_KEYS, first key encrypts, all decrypt, so keys rotate).
- Rate limits: fixed windows in Redis, or in-process when Redis is not configured (embedded mode).
- Progressive throttles: after a few free failures each further one doubles the wait (capped), and a success
  clears it. Sign-in keys them by (account, IP), so a stranger can slow down only their own guesses.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
import threading
import time

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from icc_app.core.errors import RateLimited
from icc_app.settings import get_settings

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def password_needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def new_token(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)


def hash_token(token: str) -> str:
    """Keyed hash of a bearer secret (session token, API key); the raw token is never stored."""
    return hmac.new(get_settings().secret_key.encode(), token.encode(), hashlib.sha256).hexdigest()


@functools.cache
def _fernet() -> MultiFernet:
    return MultiFernet([Fernet(key) for key in get_settings().encryption_key_list])


def encrypt(plaintext: str) -> str:
    return _fernet().encrypt(plaintext.encode()).decode()


def decrypt(ciphertext: str) -> str:
    try:
        return _fernet().decrypt(ciphertext.encode()).decode()
    except InvalidToken as exc:
        raise ValueError("cannot decrypt: no configured ENCRYPTION_KEYS key matches") from exc


def rotate(ciphertext: str) -> str:
    """Re-encrypt with the newest key (used by the key-rotation command)."""
    return _fernet().rotate(ciphertext.encode()).decode()


class EncryptedString(sa.types.TypeDecorator):
    """A column whose value is stored Fernet-encrypted and read back as plain text."""

    impl = sa.Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: sa.Dialect) -> str | None:
        return None if value is None else encrypt(value)

    def process_result_value(self, value: str | None, dialect: sa.Dialect) -> str | None:
        return None if value is None else decrypt(value)


class _Counters:
    """Per-key counters in Redis (shared by every process), or in this process in embedded mode."""

    prefix = ""

    def __init__(self, name: str):
        self.name = name
        self._local: dict[str, tuple[int, float]] = {}
        self._lock = threading.Lock()

    def _redis(self):
        from icc_app.core.redis import get_redis

        return get_redis()

    def _key(self, key: str) -> str:
        return f"{self.prefix}:{self.name}:{key}"

    def reset(self, key: str) -> None:
        redis = self._redis()
        if redis is not None:
            redis.delete(self._key(key))
        with self._lock:
            self._local.pop(key, None)


class RateLimiter(_Counters):
    """Fixed-window counter per key. `hit` raises RateLimited with the seconds left when over the limit."""

    prefix = "ratelimit"

    def __init__(self, *, name: str, limit: int, window_seconds: int):
        super().__init__(name)
        self.limit, self.window = limit, window_seconds

    def hit(self, key: str) -> None:
        count, retry_after = self._increment(key)
        if count > self.limit:
            raise RateLimited(f"Too many attempts. Try again in {retry_after} s.", retry_after=retry_after)

    def _increment(self, key: str) -> tuple[int, int]:
        redis = self._redis()
        if redis is not None:
            full_key = self._key(key)
            pipe = redis.pipeline()
            pipe.incr(full_key)
            pipe.expire(full_key, self.window, nx=True)
            pipe.ttl(full_key)
            count, _, ttl = pipe.execute()
            return int(count), max(int(ttl), 1)
        now = time.monotonic()
        with self._lock:
            count, started = self._local.get(key, (0, now))
            if now - started >= self.window:
                count, started = 0, now
            count += 1
            self._local[key] = (count, started)
            return count, max(int(self.window - (now - started)), 1)


def normalize_email(email: str) -> str:
    return (email or "").strip().lower()


def email_lookup(email: str) -> str:
    """Blind index of an email address: equal addresses give equal values, the address itself is not stored."""
    return hmac.new(get_settings().secret_key.encode(), b"email:" + normalize_email(email).encode(),
                    hashlib.sha256).hexdigest()


class ProgressiveThrottle(_Counters):
    """Failures per key. Once there are `free` of them, the next attempt waits 2 s after the latest failure,
    and each further failure doubles that (4, 8 ... up to `max_delay`). Forgotten `window` seconds after the
    latest failure, or on `reset` (a success)."""

    prefix = "throttle"

    def __init__(self, *, name: str, free: int, max_delay: int = 900, window: int = 3600):
        super().__init__(name)
        self.free, self.max_delay, self.window = free, max_delay, window

    def _read(self, key: str) -> tuple[int, float]:
        redis = self._redis()
        if redis is not None:
            count, last = redis.hmget(self._key(key), "count", "last")
            return int(count or 0), float(last or 0)
        with self._lock:
            count, last = self._local.get(key, (0, 0.0))
        return (count, last) if time.time() - last < self.window else (0, 0.0)

    def delay_for(self, failures: int) -> int:
        return 0 if failures < self.free else min(2 ** (failures - self.free + 1), self.max_delay)

    def wait_seconds(self, key: str) -> int:
        """How long this key must still wait before its next attempt (0: go ahead)."""
        count, last = self._read(key)
        return max(int(last + self.delay_for(count) - time.time() + 0.999), 0) if count else 0

    def failure(self, key: str) -> int:
        """Count a failure; returns the wait it now imposes."""
        now = time.time()
        redis = self._redis()
        if redis is not None:
            pipe = redis.pipeline()
            pipe.hincrby(self._key(key), "count", 1)
            pipe.hset(self._key(key), "last", repr(now))
            pipe.expire(self._key(key), self.window)
            count = int(pipe.execute()[0])
        else:
            with self._lock:
                count = self._read_locked(key, now) + 1
                self._local[key] = (count, now)
        return self.delay_for(count)

    def _read_locked(self, key: str, now: float) -> int:
        count, last = self._local.get(key, (0, 0.0))
        return count if now - last < self.window else 0



def constant_time_equal(expected: str, given: str | None) -> bool:
    """Compare a secret with what a caller sent, in constant time; any text is accepted (hmac.compare_digest
    refuses non-ASCII str, which would turn a forged value into a server error)."""
    return hmac.compare_digest(expected.encode(), (given or "").encode())
