"""COA intake tables: the uploaded document with its original parse and effective values, its analyte rows,
hand corrections, and the registry of licensed testing labs used by the authenticity checks."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field

from icc_app.core.models import BigIntModel, UTCDateTime, UUIDModel

# A parse with no readable potency or test date is not "parsed": it waits for a person (issue 14).
REQUIRED_FOR_LISTING = {"potency (total THC or CBD)": ("total_thc_pct", "total_cbd_pct"), "test date": ("date_tested",)}
MAX_PARSE_RUNS = 3  # a parse whose worker died this many times is failed (a poison file must not loop forever)


class CoaStatus(str, enum.Enum):
    queued = "queued"
    parsing = "parsing"
    parsed = "parsed"
    needs_review = "needs review"  # read only in part (no potency or date, no text layer...): values by hand
    rejected = "rejected"  # not a COA we can read at all (not a PDF, corrupted, empty)
    failed = "failed"  # the parser itself broke; the file is kept and the task can be re-run

    @property
    def finished(self) -> bool:
        return self not in (CoaStatus.queued, CoaStatus.parsing)


_ENDS = {CoaStatus.parsed, CoaStatus.needs_review, CoaStatus.rejected, CoaStatus.failed}
# queued -> parsing -> an end state; an end state may be queued again (re-parse); a stuck parse may fail;
# parsing -> parsing only when the same attempt resumes (a re-delivered task after a worker was killed);
# needs review -> parsed when a person entered what could not be read.
TRANSITIONS: dict[CoaStatus, set[CoaStatus]] = {
    CoaStatus.queued: {CoaStatus.parsing, CoaStatus.failed},
    CoaStatus.parsing: _ENDS | {CoaStatus.parsing},
    CoaStatus.needs_review: {CoaStatus.queued, CoaStatus.parsing, CoaStatus.parsed},
    **{end: {CoaStatus.queued, CoaStatus.parsing} for end in _ENDS - {CoaStatus.needs_review}},
}


# Fields a seller may correct by hand; the same names as ParsedCoa and the CLI's JSON.
NUMBER_FIELDS = ("total_thc_pct", "total_cbd_pct", "total_cannabinoids_pct", "thca_pct", "d9_thc_pct", "cbda_pct",
                 "cbd_pct", "total_terpenes_pct", "moisture_pct", "water_activity_aw")
STATUS_FIELDS = ("pesticides_status", "heavy_metals_status", "microbials_status", "mycotoxins_status",
                 "residual_solvents_status", "foreign_matter_status")
TEXT_FIELDS = ("lab_name", "lab_license", "lab_state", "sample_name", "sample_id", "batch_number", "metrc_tag",
               "product_type", "top_terpene")
DATE_FIELDS = ("date_sampled", "date_received", "date_tested")
CORRECTABLE_FIELDS = TEXT_FIELDS + DATE_FIELDS + NUMBER_FIELDS + STATUS_FIELDS


class CoaDocument(UUIDModel, table=True):
    """One uploaded COA file. `parsed` is the parser's output, never changed after the parse; the columns hold
    the effective values (parse plus corrections) that the exchange, CQI and search read."""

    __tablename__ = "coa_documents"
    __table_args__ = (sa.Index("ix_coa_documents_sha256", "sha256"),)

    business_id: uuid.UUID = Field(foreign_key="businesses.id", index=True, ondelete="CASCADE")
    uploaded_by: uuid.UUID | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    lot_id: uuid.UUID | None = Field(default=None, index=True, foreign_key="lots.id", ondelete="SET NULL")  # its lot
    filename: str = Field(max_length=255)
    storage_key: str = Field(max_length=300)
    sha256: str = Field(max_length=64)
    size_bytes: int
    claimed_total_thc_pct: float | None = None  # what the seller claims (listing), checked against the COA

    status: CoaStatus = Field(default=CoaStatus.queued, sa_type=sa.String(20), index=True)
    status_reason: str | None = Field(default=None, max_length=500)
    parser: str | None = Field(default=None, max_length=40)
    engine: str | None = Field(default=None, max_length=20)
    pages: int | None = None
    parse_ms: int | None = None
    attempts: int = Field(default=0)  # distinct parse attempts (a resumed attempt is the same one)
    parse_attempt_id: str | None = Field(default=None, max_length=64)  # the task id of the current/last attempt
    parse_runs: int = Field(default=0)  # times the current attempt was started (resumes after a lost worker)
    parse_started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    parsed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    parsed: dict | None = Field(default=None, sa_type=sa.JSON)
    flags: list[dict] = Field(default_factory=list, sa_type=sa.JSON)

    lab_name: str | None = Field(default=None, max_length=200)
    lab_license: str | None = Field(default=None, max_length=80)
    lab_state: str | None = Field(default=None, max_length=2)
    sample_name: str | None = Field(default=None, max_length=300)
    sample_id: str | None = Field(default=None, max_length=120)
    batch_number: str | None = Field(default=None, max_length=120)
    metrc_tag: str | None = Field(default=None, max_length=24)
    product_type: str | None = Field(default=None, max_length=20)
    top_terpene: str | None = Field(default=None, max_length=80)
    date_sampled: date | None = None
    date_received: date | None = None
    date_tested: date | None = None
    total_thc_pct: float | None = None
    total_cbd_pct: float | None = None
    total_cannabinoids_pct: float | None = None
    thca_pct: float | None = None
    d9_thc_pct: float | None = None
    cbda_pct: float | None = None
    cbd_pct: float | None = None
    total_terpenes_pct: float | None = None
    moisture_pct: float | None = None
    water_activity_aw: float | None = None
    pesticides_status: str | None = Field(default=None, max_length=10)
    heavy_metals_status: str | None = Field(default=None, max_length=10)
    microbials_status: str | None = Field(default=None, max_length=10)
    mycotoxins_status: str | None = Field(default=None, max_length=10)
    residual_solvents_status: str | None = Field(default=None, max_length=10)
    foreign_matter_status: str | None = Field(default=None, max_length=10)


class CoaEvent(BigIntModel, table=True):
    """One status change of a COA: who (None: the worker), which verb, from, to, why, under which attempt."""

    __tablename__ = "coa_events"

    document_id: uuid.UUID = Field(foreign_key="coa_documents.id", index=True, ondelete="CASCADE")
    actor_id: uuid.UUID | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    verb: str = Field(max_length=40)
    from_status: str = Field(max_length=20)
    to_status: str = Field(max_length=20)
    reason: str | None = Field(default=None, max_length=500)
    attempt_id: str | None = Field(default=None, max_length=64)


class LabAnalyte(BigIntModel, table=True):
    """One printed analyte row of a COA (cannabinoids and terpenes), for similarity search and filters."""

    __tablename__ = "lab_analytes"
    __table_args__ = (sa.UniqueConstraint("document_id", "category", "key", name="uq_lab_analytes_document_key"),)

    document_id: uuid.UUID = Field(foreign_key="coa_documents.id", index=True, ondelete="CASCADE")
    key: str = Field(max_length=40)  # canonical dictionary key
    name: str = Field(max_length=120)  # as printed
    category: str = Field(max_length=20)
    pct: float | None = None
    mg_g: float | None = None
    flag: str | None = Field(default=None, max_length=10)


class CoaCorrection(BigIntModel, table=True):
    """A value a person entered by hand over the parse; the parse itself is kept unchanged."""

    __tablename__ = "coa_corrections"

    document_id: uuid.UUID = Field(foreign_key="coa_documents.id", index=True, ondelete="CASCADE")
    field: str = Field(max_length=40)
    old_value: str | None = Field(default=None, max_length=300)
    new_value: str | None = Field(default=None, max_length=300)
    reason: str = Field(max_length=500)
    corrected_by: uuid.UUID | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")


class TestingLabLicense(UUIDModel, table=True):
    """A licensed testing laboratory as a state regulator lists it."""

    __tablename__ = "testing_lab_licenses"
    __table_args__ = (sa.UniqueConstraint("state", "license_number", name="uq_testing_lab_licenses_state_number"),)

    state: str = Field(max_length=2)
    license_number: str = Field(max_length=80)
    lab_name: str = Field(max_length=200)
    status: str = Field(default="active", max_length=40)
    expires_on: date | None = None
    source: str = Field(default="", max_length=200)
