"""Which lab issued a report, from what the report says about itself.

A COA names its issuer in a few places: the letterhead (page-1 header or footer), a "Laboratory:" line, the
lab director's signature line, the fine print ("may not be reproduced without the written permission of X",
"Analysis by X"), and its own web or e-mail address. The client's brand is often the biggest text on the page
and LIMS templates (TagLeaf, Confident Cannabis) print their own name on every report: neither is the lab.

Candidates from those places are scored; a name that the report's own web address spells (greenleaflabs.com
spells "Green Leaf Lab") or that a second place repeats is surer. A lab in the known-lab registry (labs.py)
gives its canonical name and home state; any other lab is reported as printed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from icc_app.labs.labs import LAB_LICENSE, LICENSE_STATE, identify_lab

STATES = ("AL AK AZ AR CA CO CT DE FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY NC ND "
          "OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY DC").split()
_ADDRESS = re.compile(r"\b[A-Z][A-Za-z .]+,? (" + "|".join(STATES) + r")(?:,)?\s*\d{5}\b")
# A name a lab gives itself: capitalised words ending in Lab(s) / Laboratory / Laboratories / Lab Works /
# Analytics / Scientific / Testing Labs, optionally followed by Inc or LLC.
_SUFFIX = r"(?:[Ll]ab ?[Ww]orks|LAB ?WORKS|[Ll]aboratories|LABORATORIES|[Ll]aboratory|LABORATORY|[Ll]abs|LABS|[Ll]ab|" \
          r"LAB|[Aa]nalytics|ANALYTICS|[Ss]cientific|SCIENTIFIC)"
_LAB_NAME = re.compile(rf"((?:(?:[A-Z0-9][\w&'.-]*|&) ){{0,3}}{_SUFFIX}\b(?:,? (?:Inc|INC|LLC)\b\.?)?)")
_NOT_A_LAB = re.compile(r"\b(?:certificate|analysis|report|compliance|regulatory|results?|client|this|the|page|"
                        r"sample|accredit\w*|director|licensed?|state|approval|written|of|by|from|unless|all|"
                        r"www|https?|com|competent)\b|\d{3,}|\.com\b|[A-Z]{4}-", re.I)
# Fine print that names the issuer: "written permission of X", "approval from X", "Analysis by X".
_FINE_PRINT = re.compile(r"(?:permission|approval|consent) (?:of|from) ([A-Z][\w&'. ,-]{2,50}?)(?:[.;]|$)|"
                         r"(?:analysis|analyzed|tested|generated|performed) by ([A-Z][\w&'. ,-]{2,50}?)(?:[.;]| \d|$)")
_DOMAIN = re.compile(r"(?:www\.|https?://(?:www\.)?|@)([a-z0-9-]{3,40})\.(?:com|us|co|net|org|lab|io)\b", re.I)


@dataclass(frozen=True)
class Issuer:
    """The lab that issued the report."""

    name: str
    state: str | None
    key: str | None  # KnownLab key when the lab is known
    license: str | None
    confidence: float
    evidence: dict | None
    state_confidence: float = 0.0
    state_evidence: dict | None = None


def _squash(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def _candidates(rows) -> list[tuple[str, object, float]]:
    """(printed name, row, weight) from the places a report names its issuer."""
    first = [r for r in rows if r.page == 1]
    header = first[:6] + first[-4:]
    own_lines = [r for r in rows if re.search(r"\blab(?:oratory)?(?: name)?\s*:|lab(?:oratory)? director\s*,",
                                              r.text, re.I)]
    out = []
    for row in header + own_lines:
        for match in _LAB_NAME.finditer(row.text):
            name = match.group(1).strip(" ,.")
            words = name.split()
            if len(words) >= 2 and not _NOT_A_LAB.search(" ".join(words[:-1])):
                out.append((name, row, 1.0))
    for row in rows:
        for match in _FINE_PRINT.finditer(row.text):
            name = (match.group(1) or match.group(2)).strip(" ,.")
            name = re.split(r"\s+(?:and|in|on|at|for|using|with)\s+|, ", name)[0]
            if 1 <= len(name.split()) <= 5 and not re.search(r"\b(?:the|a|an|this|client|us|our)\b", name, re.I):
                out.append((name, row, 1.0))
    return out


def _core(squashed: str) -> str:
    """A lab's name without its kind and legal form: "genesistestinglabs" and "genesistestinglaboratories"
    are one lab, and "greenleaf" is what greenleaflabs.com starts with."""
    core = re.sub(r"(?:testing)?(?:laboratories|laboratory|labworks|labs|lab|analytics|scientific)?(?:inc|llc)?$", "",
                  squashed)
    return core or squashed


def _spelled_by_domain(rows, domains: set[str]) -> list[tuple[str, object, float]]:
    """Capitalised words that spell a web or e-mail domain printed on the report and end like a lab's name
    ("CDX Analytics" for cdxanalytics.com); a client's brand spelling its own domain has no lab suffix."""
    out = []
    for row in rows:
        words = row.text.split()
        for start, word in enumerate(words):
            if not word[:1].isupper():
                continue
            joined = ""
            for end in range(start, min(start + 4, len(words))):
                joined += _squash(words[end])
                name = " ".join(words[start:end + 1]).strip(" ,.;:")
                if joined in domains and len(joined) >= 5 and _LAB_NAME.fullmatch(name):
                    out.append((name, row, 1.0))  # a lab's kind in the name: not a client's brand
                    break
                if not any(d.startswith(joined) for d in domains):
                    break
    return out


def identify_issuer(rows, text: str) -> Issuer | None:
    """The issuing lab, its license and state, with a confidence and the row that names it."""
    domains = {_squash(m.group(1)) for m in _DOMAIN.finditer(text)}
    scored: dict[str, list] = {}
    for name, row, weight in _candidates(rows) + _spelled_by_domain(rows, domains):
        squashed = _squash(name)
        if len(squashed) < 4:
            continue
        lab = identify_lab(name)
        if lab is not None and lab.lims:
            continue
        key = lab.key if lab else _core(squashed)
        entry = scored.setdefault(key, [0.0, name, row, lab])  # the first place it is named speaks for it
        entry[0] += weight
    for entry in scored.values():
        core = _core(_squash(entry[1]))
        if len(core) >= 3 and any(core and (d.startswith(core) or core.startswith(d)) for d in domains):
            entry[0] += 1.5  # the report's own address spells it
    best = max(scored.values(), key=lambda e: (e[3] is not None, e[0]), default=None)
    known = None
    if best is not None and best[3] is not None:
        known = (best[3], best[2])
    elif best is None or best[0] < 1.5:
        lab = identify_lab(text, skip_lims=True)
        if lab:
            known = (lab, next((r for r in rows if re.search(lab.signature, r.text, re.I)), None))
    license_match = LAB_LICENSE.search(text) or LAB_LICENSE.search(re.sub(r"[ \t]+", "", text))
    lab_license = license_match.group(1) if license_match else None
    if known:
        lab, row = known
        name, key = lab.name, lab.key
        confidence = 0.95 if best is not None and best[3] is lab else 0.85
    elif best is not None:
        score, printed, row, _ = best
        name, key = _tidy(printed), None
        confidence = 0.9 if score >= 2 else 0.75
    else:
        return None
    evidence = {"page": row.page, "text": row.text[:200]} if row is not None else None
    state, state_confidence, state_evidence = _state(rows, row, lab_license, known[0].state if known else None)
    return Issuer(name, state, key, lab_license, confidence, evidence, state_confidence, state_evidence)


def _tidy(printed: str) -> str:
    return printed if not printed.isupper() else " ".join(w.capitalize() if w.isalpha() else w for w in printed.split())


def _state(rows, lab_row, lab_license: str | None, known_state: str | None):
    """The lab's state: its license number's format, else the address printed with its name, else the
    registry's."""
    if lab_license:
        for pattern, state in LICENSE_STATE:
            if pattern.search(lab_license):
                row = next((r for r in rows if lab_license in r.text), None)
                return state, 0.95, ({"page": row.page, "text": row.text[:200]} if row else None)
    if lab_row is not None and lab_row in rows:
        index = rows.index(lab_row)
        for row in rows[index:index + 7]:
            match = _ADDRESS.search(row.text)
            if match and row.page == lab_row.page:
                confidence = 0.9 if known_state in (None, "", match.group(1)) else 0.8
                return match.group(1), confidence, {"page": row.page, "text": row.text[:200]}
    if known_state:
        return known_state, 0.8, None
    return None, 0.0, None
