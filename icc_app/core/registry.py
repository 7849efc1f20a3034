"""Imports every product's models so that SQLModel.metadata is complete (Alembic, workers, tests)."""

from icc_app.core import audit, notifications  # noqa: F401
from icc_app.identity import models as identity_models  # noqa: F401
from icc_app.identity.oidc import models as oidc_models  # noqa: F401
from icc_app.labs import models as labs_models  # noqa: F401
from icc_app.exchange import models as exchange_models  # noqa: F401
from icc_app.quality import models as quality_models  # noqa: F401
from icc_app.maps import models as maps_models  # noqa: F401
from sqlmodel import SQLModel

metadata = SQLModel.metadata
