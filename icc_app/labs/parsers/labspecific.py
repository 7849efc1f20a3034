"""Lab-specific refinements, chosen by the lab the report names (labs.identify_lab).

Each function receives the generic result and the report's normalized lines, and corrects only what its
lab's format prints differently. A lab without an entry keeps the generic result.
"""

from __future__ import annotations

from collections.abc import Callable

from icc_app.labs.schemas import ParsedCoa


REFINERS: dict[str, Callable[[ParsedCoa, list[str]], None]] = {}


def refine(result: ParsedCoa, lines: list[str]) -> ParsedCoa:
    refiner = REFINERS.get(result.parser)
    if refiner:
        refiner(result, lines)
    return result
