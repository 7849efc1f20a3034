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


class ParsedCoa(BaseModel):
    file: str | None = None
    parser: str = "generic"
    engine: str = "pdfium"  # which library read the text layer (pdfplumber for fonts PDFium cannot map)
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

    def summary(self) -> dict:
        """The flat JSON of `python -m icc_app.cli coa parse --json`."""
        data = self.model_dump(mode="json")
        return data
