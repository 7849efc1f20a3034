"""Imports every product's models so that SQLModel.metadata is complete (Alembic, workers, tests)."""

from icc_app.core import audit, notifications  # noqa: F401
from icc_app.identity import models as identity_models  # noqa: F401
from icc_app.identity.oidc import models as oidc_models  # noqa: F401
from icc_app.labs import models as labs_models  # noqa: F401
from icc_app.exchange import models as exchange_models  # noqa: F401
from icc_app.quality import models as quality_models  # noqa: F401
from icc_app.maps import models as maps_models  # noqa: F401
from icc_app.integrations import models as integrations_models  # noqa: F401
from icc_app.integrations.partners import models as partners_models  # noqa: F401
from icc_app.integrations.metrc import models as metrc_models  # noqa: F401
from icc_app.operations import models as operations_models  # noqa: F401
from icc_app.loyalty import models as loyalty_models  # noqa: F401
from icc_app.budtender import models as budtender_models  # noqa: F401
from sqlmodel import SQLModel

metadata = SQLModel.metadata
