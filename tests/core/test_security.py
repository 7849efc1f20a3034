"""Encryption at rest with key rotation, and token hashing."""

import pytest
from cryptography.fernet import Fernet

from icc_app.core import security
from icc_app.settings import get_settings


@pytest.fixture()
def keys(monkeypatch):
    def use(*ks):
        monkeypatch.setenv("ENCRYPTION_KEYS", ",".join(ks))
        get_settings.cache_clear()
        security._fernet.cache_clear()

    yield use
    get_settings.cache_clear()
    security._fernet.cache_clear()


def test_round_trip_and_ciphertext_hides_plaintext(keys):
    keys(Fernet.generate_key().decode())
    token = security.encrypt("1990-04-01")
    assert "1990" not in token and security.decrypt(token) == "1990-04-01"


def test_rotation_keeps_old_data_readable_and_reencrypts_with_new_key(keys):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    keys(old)
    stored = security.encrypt("secret")
    keys(new, old)  # new key first: encrypts; old key still decrypts
    assert security.decrypt(stored) == "secret"
    rotated = security.rotate(stored)
    keys(new)  # old key retired
    assert security.decrypt(rotated) == "secret"
    with pytest.raises(ValueError, match="no configured ENCRYPTION_KEYS key matches"):
        security.decrypt(stored)


def test_token_hash_is_keyed_and_stable():
    assert security.hash_token("abc") == security.hash_token("abc")
    assert security.hash_token("abc") != security.hash_token("abd")
    assert len(security.hash_token("abc")) == 64


@pytest.mark.parametrize("embedded", [False, True])
def test_progressive_throttle_doubles_the_wait_and_forgets_on_success(monkeypatch, redis_client, embedded):
    from icc_app.core.security import ProgressiveThrottle

    throttle = ProgressiveThrottle(name="test", free=2, max_delay=8)
    if embedded:  # no Redis: the counters live in this process
        monkeypatch.setattr(throttle, "_redis", lambda: None)
    assert [throttle.failure("k") for _ in range(6)] == [0, 2, 4, 8, 8, 8]
    assert 7 <= throttle.wait_seconds("k") <= 8 and throttle.wait_seconds("other") == 0
    throttle.reset("k")
    assert throttle.wait_seconds("k") == 0
