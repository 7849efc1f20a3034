"""Lab-specific refinements, chosen by the lab the report names (labs.identify_lab).

Each function receives the generic result and the report's normalized lines, and corrects only what its
lab's format prints differently. A lab without an entry keeps the generic result.
"""

from __future__ import annotations

from collections.abc import Callable

from icc_app.labs.schemas import ParsedCoa


def _acs(result: ParsedCoa, lines: list[str]) -> None:
    """ACS Laboratory prints "Moisture <action level> <result>" and "Water Activity <action level> <result>"."""
    from icc_app.labs.parsers.generic import _row_number

    moisture = _row_number(lines, "moisture", low=0, high=40, last=True)
    if moisture is not None:
        result.moisture_pct = moisture
    aw = _row_number(lines, "water activity", low=0, high=1, last=True)
    if aw is not None:
        result.water_activity_aw = aw


def _veda(result: ParsedCoa, lines: list[str]) -> None:
    """Veda Scientific prints "aw <finding> <limit> Pass": the finding comes first."""
    from icc_app.labs.parsers.generic import _row_number

    aw = _row_number(lines, "aw", low=0, high=1, last=False)
    if aw is not None:
        result.water_activity_aw = aw


REFINERS: dict[str, Callable[[ParsedCoa, list[str]], None]] = {
    "acs": _acs,
    "veda": _veda,
}


def refine(result: ParsedCoa, lines: list[str]) -> ParsedCoa:
    refiner = REFINERS.get(result.parser)
    if refiner:
        refiner(result, lines)
    return result
