from tests.exchange.conftest import market  # noqa: F401 - a verified seller with a listed lot and a verified buyer
