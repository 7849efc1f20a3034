"""Metrc tests: a FakeMetrc per test and an adapter pointed at it with short waits."""

from __future__ import annotations

import pytest

from icc_app.integrations.base import ConnectionConfig
from icc_app.integrations.metrc.client import Adapter
from tests.integrations.fakes.metrc import FakeMetrc

FAST = {"backoff_s": 0.01, "max_backoff_s": 0.05, "timeout_s": 1.0, "max_retries": 2, "get_rate": (1000, 1)}


def adapter_for(metrc: FakeMetrc, **overrides) -> Adapter:
    options = {**FAST, **overrides.pop("http_options", {})}
    credentials = {**metrc.credentials(), **overrides.pop("credentials", {})}
    return Adapter(ConnectionConfig(vendor="metrc", base_url=metrc.url, credentials=credentials,
                                    rate_key="test", http_options=options))


@pytest.fixture()
def metrc():
    with FakeMetrc() as server:
        server.timeout_hang_s = 1.5
        yield server
