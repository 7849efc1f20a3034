"""The canonical lab-test dictionary: stable keys for the many ways labs print an analyte's name.

Matching is on a normalized form (lower case, Greek letters and punctuation folded), so "Δ9-THC", "d9-THC",
"Delta 9 THC" and "∆9THC" all map to `d9_thc`. Categories group analytes into panels.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True)
class Analyte:
    key: str
    name: str
    category: str  # cannabinoid | terpene
    aliases: tuple[str, ...]


CANNABINOIDS = [
    Analyte("thca", "THCA", "cannabinoid", ("thca", "thca-a", "thc-a", "thc a", "thca a", "d9-thca", "delta-9 thca", "Δ9-thca", "tetrahydrocannabinolic acid", "Δ9-tetrahydrocannabinolic acid")),
    Analyte("d9_thc", "Δ9-THC", "cannabinoid", ("d9-thc", "delta-9 thc", "delta 9 thc", "delta9-thc", "Δ9-thc", "∆9thc",
                                                "Δ9thc", "d9thc", "thc", "delta-9-thc", "Δ-9 thc", "Δ9-tetrahydrocannabinol", "d9-tetrahydrocannabinol", "tetrahydrocannabinol",
                                                "d9 thc", "Δ9 thc", "∆9-thc", "delta-9-tetrahydrocannabinol", "9-thc")),
    Analyte("d8_thc", "Δ8-THC", "cannabinoid", ("d8-thc", "delta-8 thc", "delta 8 thc", "Δ8-thc", "∆8thc", "Δ8thc", "d8thc",
                                                "delta-8-thc", "d8 thc", "Δ8 thc", "∆8-thc", "8-thc",
                                                "Δ8-tetrahydrocannabinol", "d8-tetrahydrocannabinol")),
    Analyte("cbda", "CBDA", "cannabinoid", ("cbda", "cbd-a", "cbd a", "cannabidiolic acid")),
    Analyte("cbd", "CBD", "cannabinoid", ("cbd", "cannabidiol")),
    Analyte("cbga", "CBGA", "cannabinoid", ("cbga", "cbg-a", "cbg a", "cannabigerolic acid")),
    Analyte("cbg", "CBG", "cannabinoid", ("cbg", "cannabigerol")),
    Analyte("cbn", "CBN", "cannabinoid", ("cbn", "cannabinol")),
    Analyte("cbna", "CBNA", "cannabinoid", ("cbna", "cbn-a", "cannabinolic acid")),
    Analyte("cbc", "CBC", "cannabinoid", ("cbc", "cannabichromene")),
    Analyte("cbca", "CBCA", "cannabinoid", ("cbca", "cbc-a", "cannabichromenic acid")),
    Analyte("cbdv", "CBDV", "cannabinoid", ("cbdv", "cannabidivarin")),
    Analyte("cbdva", "CBDVA", "cannabinoid", ("cbdva", "cbdv-a", "cannabidivarinic acid")),
    Analyte("thcv", "THCV", "cannabinoid", ("thcv", "tetrahydrocannabivarin")),
    Analyte("thcva", "THCVA", "cannabinoid", ("thcva", "thcv-a", "tetrahydrocannabivarinic acid")),
    Analyte("cbl", "CBL", "cannabinoid", ("cbl", "cannabicyclol")),
    Analyte("cbla", "CBLA", "cannabinoid", ("cbla", "cbl-a")),
    Analyte("cbt", "CBT", "cannabinoid", ("cbt", "cannabicitran")),
    Analyte("d10_thc", "Δ10-THC", "cannabinoid", ("d10-thc", "delta-10 thc", "delta 10 thc", "Δ10-thc", "d10thc")),
    Analyte("cbcv", "CBCV", "cannabinoid", ("cbcv",)),
    Analyte("exo_thc", "exo-THC", "cannabinoid", ("exo-thc",)),
]

TERPENES = [
    Analyte("myrcene", "β-Myrcene", "terpene", ("beta-myrcene", "β-myrcene", "myrcene", "b-myrcene", "β myrcene")),
    Analyte("limonene", "Limonene", "terpene", ("limonene", "d-limonene", "(r)-(+)-limonene", "r-limonene")),
    Analyte("caryophyllene", "β-Caryophyllene", "terpene", ("beta-caryophyllene", "β-caryophyllene", "caryophyllene",
                                                           "trans-caryophyllene", "e-caryophyllene", "b-caryophyllene",
                                                           "β caryophyllene", "(-)-β-caryophyllene", "beta caryophyllene")),
    Analyte("caryophyllene_oxide", "Caryophyllene oxide", "terpene", ("caryophyllene oxide", "caryophyllene-oxide")),
    Analyte("humulene", "α-Humulene", "terpene", ("alpha-humulene", "α-humulene", "humulene", "a-humulene", "α humulene")),
    Analyte("linalool", "Linalool", "terpene", ("linalool", "(±)-linalool")),
    Analyte("alpha_pinene", "α-Pinene", "terpene", ("alpha-pinene", "α-pinene", "a-pinene", "(1r)-(+)-α-pinene", "α pinene")),
    Analyte("beta_pinene", "β-Pinene", "terpene", ("beta-pinene", "β-pinene", "b-pinene", "(-)-β-pinene", "β pinene")),
    Analyte("terpinolene", "Terpinolene", "terpene", ("terpinolene",)),
    Analyte("ocimene", "Ocimene", "terpene", ("ocimene", "beta-ocimene", "β-ocimene", "trans-ocimene", "cis-ocimene", "ocimenes")),
    Analyte("bisabolol", "α-Bisabolol", "terpene", ("alpha-bisabolol", "α-bisabolol", "bisabolol", "a-bisabolol",
                                                    "α bisabolol", "(-)-α-bisabolol")),
    Analyte("nerolidol", "Nerolidol", "terpene", ("nerolidol", "trans-nerolidol", "e-nerolidol", "cis-nerolidol")),
    Analyte("farnesene", "Farnesene", "terpene", ("farnesene", "trans-beta-farnesene", "β-farnesene", "beta-farnesene")),
    Analyte("fenchol", "Fenchol", "terpene", ("fenchol", "endo-fenchyl alcohol", "fenchyl alcohol", "(±)-fenchyl alcohol")),
    Analyte("terpineol", "α-Terpineol", "terpene", ("terpineol", "alpha-terpineol", "α-terpineol", "a-terpineol")),
    Analyte("borneol", "Borneol", "terpene", ("borneol", "(-)-borneol")),
    Analyte("camphene", "Camphene", "terpene", ("camphene",)),
    Analyte("guaiol", "Guaiol", "terpene", ("guaiol",)),
    Analyte("eucalyptol", "Eucalyptol", "terpene", ("eucalyptol", "1,8-cineole")),
    Analyte("geraniol", "Geraniol", "terpene", ("geraniol",)),
    Analyte("valencene", "Valencene", "terpene", ("valencene",)),
    Analyte("terpinene_alpha", "α-Terpinene", "terpene", ("alpha-terpinene", "α-terpinene", "a-terpinene")),
    Analyte("terpinene_gamma", "γ-Terpinene", "terpene", ("gamma-terpinene", "γ-terpinene", "g-terpinene")),
    Analyte("phellandrene", "α-Phellandrene", "terpene", ("alpha-phellandrene", "α-phellandrene")),
    Analyte("carene", "3-Carene", "terpene", ("3-carene", "delta-3-carene", "δ-3-carene", "carene")),
    Analyte("cymene", "p-Cymene", "terpene", ("p-cymene", "cymene")),
    Analyte("isopulegol", "Isopulegol", "terpene", ("isopulegol",)),
    Analyte("sabinene", "Sabinene", "terpene", ("sabinene", "sabinene hydrate")),
    Analyte("camphor", "Camphor", "terpene", ("camphor",)),
    Analyte("pulegone", "Pulegone", "terpene", ("pulegone",)),
    Analyte("nerol", "Nerol", "terpene", ("nerol",)),
    Analyte("cedrol", "Cedrol", "terpene", ("cedrol",)),
    Analyte("geranyl_acetate", "Geranyl acetate", "terpene", ("geranyl acetate",)),
    Analyte("menthol", "Menthol", "terpene", ("menthol",)),
    Analyte("isoborneol", "Isoborneol", "terpene", ("isoborneol",)),
    Analyte("fenchone", "Fenchone", "terpene", ("fenchone",)),
]

ALL_ANALYTES = CANNABINOIDS + TERPENES
BY_KEY = {a.key: a for a in ALL_ANALYTES}

_FOLD = str.maketrans({"δ": "d", "Δ": "d", "∆": "d", "β": "b", "α": "a", "γ": "g", "–": "-", "—": "-", "‐": "-"})


@lru_cache(maxsize=16384)
def normalize(name: str) -> str:
    """Fold case, Greek letters and separators: 'Δ9-THC' -> 'd9thc', 'beta-Myrcene' -> 'bmyrcene'."""
    text = unicodedata.normalize("NFKC", name).translate(_FOLD).lower()
    text = text.replace("delta", "d").replace("alpha", "a").replace("beta", "b").replace("gamma", "g")
    return re.sub(r"[^a-z0-9]", "", text)


ALIASES: dict[str, Analyte] = {}
for _analyte in ALL_ANALYTES:
    for _alias in (_analyte.key, _analyte.name, *_analyte.aliases):
        ALIASES.setdefault(normalize(_alias), _analyte)


def lookup(printed_name: str) -> Analyte | None:
    return ALIASES.get(normalize(printed_name))
