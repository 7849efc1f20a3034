"""The structured result of a COA parse, shared by the parser, the CLI, the task and the UI."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field


class AnalyteResult(BaseModel):
    key: str | None  # canonical key from the lab-test dictionary; None when the name is unknown
    name: str  # as printed
    category: str
    pct: float | None  # percent by weight; 0 for ND/<LOQ (see flag); None when not printed
    mg_g: float | None = None
    flag: str | None = None  # "ND", "<LOQ", "NR" ...


class Evidence(BaseModel):
    page: int | None = None  # 1-based
    text: str | None = None  # the printed row the value was read from


class ParsedCoa(BaseModel):
    """A parsed COA. Besides the values, two maps say how far to trust each one:

    - `confidence`: field name -> 0..1, for every reported field. Keys are the field names of this model
      ("total_thc_pct", "date_tested", "lab_name", "pesticides_status" ...) and, per analyte row,
      "analytes.<dictionary key>" ("analytes.thca", "analytes.myrcene"). Calibrated on the truth files: fields
      at >= 0.9 were right at least 99% of the time (docs/coa.md); show anything below 0.9 as "check this".
    - `evidence`: the same keys -> {page, text}: the printed row the value was read from.
    """

    file: str | None = None
    parser: str = "generic"
    engine: str = "pdfium"  # pdfium | pdfplumber (fonts PDFium cannot map) | ocr (a scan without a text layer)
    status: str = "parsed"  # parsed | needs review | rejected
    reason: str | None = None
    lab_name: str | None = None
    lab_license: str | None = None
    lab_state: str | None = None
    sample_name: str | None = None
    sample_id: str | None = None
    batch_number: str | None = None
    metrc_tag: str | None = None
    product_type: str | None = None
    date_sampled: date | None = None
    date_received: date | None = None
    date_tested: date | None = None
    total_thc_pct: float | None = None
    total_thc_computed: bool = False
    total_cbd_pct: float | None = None
    total_cbd_computed: bool = False
    total_cannabinoids_pct: float | None = None
    thca_pct: float | None = None
    d9_thc_pct: float | None = None
    cbda_pct: float | None = None
    cbd_pct: float | None = None
    total_terpenes_pct: float | None = None
    top_terpene: str | None = None
    moisture_pct: float | None = None
    water_activity_aw: float | None = None
    pesticides_status: str | None = None
    heavy_metals_status: str | None = None
    microbials_status: str | None = None
    mycotoxins_status: str | None = None
    residual_solvents_status: str | None = None
    foreign_matter_status: str | None = None
    cannabinoids: list[AnalyteResult] = Field(default_factory=list)
    terpenes: list[AnalyteResult] = Field(default_factory=list)
    flags: list[str] = Field(default_factory=list)
    pages: int = 0
    ocr_pages: int = 0  # pages read by OCR (no text layer): their fields carry a lower confidence
    confidence: dict[str, float] = Field(default_factory=dict)
    evidence: dict[str, Evidence] = Field(default_factory=dict)

    def summary(self) -> dict:
        """The flat JSON of `python -m icc_app.cli coa parse --json`."""
        data = self.model_dump(mode="json")
        return data
