"""Known testing labs, recognised by what their reports print (name, web address, license format).

Used to name the lab and its state, and to pick a lab-specific parser when one exists.
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
STATES = ("AL AK AZ AR CA CO CT DE FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY NC ND "
          "OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY DC").split()
_ADDRESS = re.compile(r"\b[A-Z][A-Za-z .]+,? (" + "|".join(STATES) + r")(?:,)?\s*\d{5}\b")
# A name a lab gives itself: words ending in Lab(s) / Laboratory / Laboratories / Lab Works / Analytics /
# Scientific / Testing Labs, optionally followed by Inc or LLC.
_LAB_NAME = re.compile(r"((?:[A-Z0-9][\w&'.-]*\s){0,3}?(?:[A-Z0-9][\w&'.-]*\s)?(?:Lab|Labs|Laboratory|Laboratories|"
                       r"Lab ?Works|Analytics|Scientific|Testing Labs?)\b(?:,? (?:Inc|LLC)\b\.?)?)", re.I)
_NOT_A_LAB = re.compile(r"\b(?:certificate|analysis|report|compliance|regulatory|results?|client|this|the|"
                        r"page|sample|accredit\w*|director|licensed?|state|approval|written|of|by|from)\b", re.I)

_COMPILED = [(lab, re.compile(lab.signature, re.I)) for lab in LABS]


@dataclass(frozen=True)
class Issuer:
    """The lab that issued the report, read from what the report says about itself."""

    name: str
    state: str | None
    key: str | None  # KnownLab key when the lab is known
    license: str | None
    confidence: float
    evidence: dict | None
    state_confidence: float = 0.0
    state_evidence: dict | None = None


def identify_issuer(rows, text: str) -> Issuer | None:
    """The issuing lab: a lab name printed in the page-1 header or footer, on a "Laboratory:" line or beside
    the lab director's signature; a known lab's name, address or web domain anywhere; never a client's brand
    or the LIMS template that printed the report. The state comes from the lab's own license number, else the
    address printed with its name, else what is known about the lab."""
    first = [r for r in rows if r.page == 1]
    header = first[:6] + first[-4:]
    own_lines = [r for r in rows if re.search(r"\blab(?:oratory)?\s*:|laboratory director\s*,|lab director\s*,", r.text, re.I)]
    named: list[tuple[str, object]] = []
    for row in header + own_lines:
        for match in _LAB_NAME.finditer(row.text):
            name = match.group(1).strip(" ,.")
            words = name.split()
            if len(words) < 2 or _NOT_A_LAB.search(" ".join(words[:-1])):
                continue
            named.append((name, row))
    known = None
    for name, row in named:
        lab = identify_lab(name)
        if lab and not lab.lims:
            known = (lab, row)
            break
    if known is None:
        lab = identify_lab(text, skip_lims=True)
        if lab:
            row = next((r for r in rows if re.search(lab.signature, r.text, re.I)), None)
            known = (lab, row)
    license_match = LAB_LICENSE.search(text) or LAB_LICENSE.search(re.sub(r"[ \t]+", "", text))
    lab_license = license_match.group(1) if license_match else None
    if known:
        lab, row = known
        name, key, confidence = lab.name, lab.key, 0.95 if named else 0.85
    elif named:
        printed, row = named[0]
        name, key, confidence = _tidy(printed), None, 0.75
    else:
        return None
    evidence = {"page": row.page, "text": row.text[:200]} if row is not None else None
    state, state_confidence, state_evidence = _state(rows, row, lab_license, known[0].state if known else None)
    return Issuer(name, state, key, lab_license, confidence, evidence, state_confidence, state_evidence)


def _tidy(printed: str) -> str:
    return printed if not printed.isupper() else " ".join(w.capitalize() if w.isalpha() else w for w in printed.split())


def _state(rows, lab_row, lab_license: str | None, known_state: str | None):
    if lab_license:
        for pattern, state in LICENSE_STATE:
            if pattern.search(lab_license):
                row = next((r for r in rows if lab_license in r.text), None)
                return state, 0.95, ({"page": row.page, "text": row.text[:200]} if row else None)
    if lab_row is not None:
        index = rows.index(lab_row)
        for row in rows[index:index + 7]:
            match = _ADDRESS.search(row.text)
            if match and row.page == lab_row.page:
                confidence = 0.9 if known_state in (None, "", match.group(1)) else 0.8
                return match.group(1), confidence, {"page": row.page, "text": row.text[:200]}
    if known_state:
        return known_state, 0.8, None
    return None, 0.0, None


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
