"""The exchange fixtures (a listed lot with a real COA) serve the CQI tests too."""

from tests.exchange.conftest import market  # noqa: F401
