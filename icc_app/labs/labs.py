"""Known testing labs, recognised by what their reports print (name, web address, license format).

Used to name the lab and its state (parsers/issuer.py reads labs that are not listed here from the report).
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class KnownLab:
    key: str
    name: str
    state: str
    signature: str  # regex searched in the report text
    lims: bool = False  # a LIMS / report template used by many labs, not a lab: never the issuer by itself


LABS = [
    KnownLab("acs", "ACS Laboratory", "FL", r"acslabcannabis|ACS Laboratory"),
    KnownLab("anresco", "Anresco Laboratories", "CA", r"anresco"),
    KnownLab("cannalysis", "Cannalysis", "CA", r"cannalysis"),
    KnownLab("cannasafe", "CannaSafe", "CA", r"cannasafe"),
    KnownLab("caligreen", "Caligreen Laboratories", "CA", r"caligreen"),
    KnownLab("havard", "Havard Industries", "OK", r"havard"),
    KnownLab("cblabs", "CB Labs", "CA", r"cblabs|CB Labs"),
    KnownLab("calaglabs", "California Ag Labs", "CA", r"california ag labs|calaglabs"),
    KnownLab("infinite", "Infinite Chemical Analysis Labs", "CA", r"infinite chemical|infinitecal|\bICAL ID\b"),
    KnownLab("okctl", "Oklahoma Compliance Testing Lab, LLC (OKCTL)", "OK", r"OKCTL|oklahoma compliance testing"),
    KnownLab("purelabs", "Pure Labs", "OK", r"pure labs|purelabs"),
    KnownLab("greenscientific", "Green Scientific Labs", "FL", r"green scientific|greenscientificlabs"),
    KnownLab("kca", "KCA Laboratories", "KY", r"KCA Lab|kcalabs"),
    KnownLab("mtl", "Method Testing Labs", "FL", r"method ?testing ?labs"),
    KnownLab("sclabs", "SC Laboratories California LLC (SC Labs)", "CA", r"sclabs|SC Laboratories"),
    KnownLab("veda", "Veda Scientific", "CA", r"veda ?scientific"),
    KnownLab("steephill_ma", "Steep Hill Massachusetts", "MA", r"ma\.steephill|steep hill massachusetts"),
    KnownLab("steephill", "Steep Hill", "CA", r"steep ?hill"),
    KnownLab("kaycha", "Kaycha Labs", "FL", r"kaycha"),
    KnownLab("mcr", "MCR Labs", "MA", r"mcr ?labs"),
    KnownLab("gtl", "Green Tree Laboratories", "CO", r"green ?tree"),
    KnownLab("sonoma", "Sonoma Lab Works", "CA", r"sonoma ?lab ?works"),
    KnownLab("tagleaf", "TagLeaf (LIMS)", "CA", r"tagleaf", lims=True),
    KnownLab("confident_cannabis", "Confident Cannabis (LIMS)", "", r"confident ?cannabis", lims=True),
    KnownLab("confidence", "Confidence Analytics", "WA", r"confidence analytics"),
    KnownLab("cdx", "CDX Analytics", "MA", r"cdx ?analytics"),
    KnownLab("greenleaf", "Green Leaf Lab", "OR", r"green ?leaf ?lab"),
]
# Testing-lab license numbers as state regulators format them: California (C8-#######-LIC), Florida certified
# marijuana testing labs (CMTL-####), Massachusetts independent labs (IL######), Oklahoma (LAAA-...).
LAB_LICENSE = re.compile(r"\b(C8-\d{7}-LIC|CMTL-\d{4}|IL\d{6}|LAAA-[A-Z0-9]{4}-[A-Z0-9]{4})\b")

# The state a lab license number belongs to (the license a lab prints is its own).
LICENSE_STATE = [(re.compile(r"^C8-"), "CA"), (re.compile(r"^CMTL-"), "FL"), (re.compile(r"^IL\d"), "MA"),
                 (re.compile(r"^LAAA-"), "OK")]
_COMPILED = [(lab, re.compile(lab.signature, re.I)) for lab in LABS]


def identify_lab(text: str, *, skip_lims: bool = False) -> KnownLab | None:
    """The lab whose signature appears first in the report (the issuer's header comes before client names)."""
    best: tuple[int, KnownLab] | None = None
    for lab, pattern in _COMPILED:
        if skip_lims and lab.lims:
            continue
        match = pattern.search(text)
        if match and (best is None or match.start() < best[0]):
            best = (match.start(), lab)
    return best[1] if best else None
