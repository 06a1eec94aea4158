"""Drug names to ingredients, and the match of a hospital's drug names to an interaction set.

MIMIC prescriptions name products ("Metoprolol Succinate XL", "HYDROmorphone (Dilaudid)",
"Heparin Flush (10 units/ml)"); interaction references such as CRESCENDDI name RxNorm
ingredients ("metoprolol", "hydromorphone", "heparin"). `ingredient_key` reduces a product
name to a comparable key (case, brackets, strengths, dose forms, routes and release
modifiers removed), and `match_ingredient` maps the key onto a reference vocabulary:

1. the key itself;
2. the key without salt or ester words ("fentanyl citrate" -> "fentanyl"), only when the
   remainder is a reference name (so "potassium chloride" stays itself);
3. a regional synonym (paracetamol/acetaminophen, salbutamol/albuterol, ...);
4. the longest reference name that is a whole-word part of the key ("insulin glargine" ->
   "insulin" when only "insulin" is listed).

Plain lower-case equality matches about a third of the MIMIC-IV demo's rows (the shared
data README: 37%); `benchmarks`-free figures for this matcher are in the loader's report.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# Dose forms, routes, packaging and release words: never part of an ingredient's name.
FORM_WORDS = frozenset(
    [
        "tablet",
        "tablets",
        "tab",
        "tabs",
        "capsule",
        "capsules",
        "cap",
        "caps",
        "solution",
        "soln",
        "suspension",
        "susp",
        "syrup",
        "elixir",
        "injection",
        "inj",
        "injectable",
        "infusion",
        "flush",
        "bag",
        "vial",
        "vials",
        "ampule",
        "amp",
        "syringe",
        "neb",
        "nebulizer",
        "inhaler",
        "inh",
        "spray",
        "cream",
        "ointment",
        "oint",
        "gel",
        "patch",
        "drops",
        "drop",
        "lotion",
        "powder",
        "suppository",
        "supp",
        "enema",
        "premix",
        "premixed",
        "mini",
        "plus",
        "oral",
        "po",
        "iv",
        "im",
        "sc",
        "subq",
        "sq",
        "topical",
        "ophthalmic",
        "otic",
        "nasal",
        "rectal",
        "vaginal",
        "sublingual",
        "sl",
        "transdermal",
        "chewable",
        "dr",
        "ec",
        "er",
        "xl",
        "sr",
        "cr",
        "la",
        "hcl",
        "xr",
        "odt",
        "liquid",
        "concentrate",
        "conc",
        "pf",
        "preservative",
        "free",
        "replacement",
        "critical",
        "care",
        "oncology",
        "protocol",
        "immediate",
        "release",
        "extended",
        "delayed",
        "sustained",
        "standard",
        "dose",
        "high",
        "low",
        "pediatric",
        "adult",
        "desensitization",
        "sliding",
        "scale",
    ]
)
# Salt and ester words dropped when the rest is a reference ingredient.
SALT_WORDS = frozenset(
    [
        "citrate",
        "tartrate",
        "succinate",
        "hydrochloride",
        "hydrobromide",
        "sulfate",
        "sulphate",
        "sodium",
        "potassium",
        "calcium",
        "magnesium",
        "phosphate",
        "acetate",
        "maleate",
        "mesylate",
        "besylate",
        "fumarate",
        "bitartrate",
        "gluconate",
        "lactate",
        "chloride",
        "bromide",
        "decanoate",
        "propionate",
        "valerate",
        "dipropionate",
        "furoate",
        "monohydrate",
        "trihydrate",
        "dihydrate",
        "hyclate",
        "pamoate",
    ]
)
# Regional or common synonyms -> the RxNorm ingredient name.
SYNONYMS = {
    "paracetamol": "acetaminophen",
    "salbutamol": "albuterol",
    "adrenaline": "epinephrine",
    "noradrenaline": "norepinephrine",
    "frusemide": "furosemide",
    "glyceryl trinitrate": "nitroglycerin",
    "lignocaine": "lidocaine",
    "pethidine": "meperidine",
    "ciclosporin": "cyclosporine",
    "co-trimoxazole": "sulfamethoxazole",
    "bactrim": "sulfamethoxazole",
    "coumadin": "warfarin",
    "lasix": "furosemide",
    "tylenol": "acetaminophen",
}
_NUMBER = re.compile(r"^[\d.,/%]+[a-z%]*$")  # 0.9%, 10mg, 25mcg/0.5ml, 5%
_UNITS = frozenset(["mg", "mcg", "g", "ml", "l", "units", "unit", "u", "meq", "mmol", "%", "iu"])


def ingredient_key(name: str) -> str:
    """'Metoprolol Succinate XL' -> 'metoprolol succinate'; '' when nothing drug-like is left."""
    text = re.sub(r"\([^)]*\)|\[[^]]*\]", " ", str(name).lower())
    text = re.sub(r"[^a-z0-9%./\- ]", " ", text)
    words = [w.strip("-./") for w in text.split()]
    kept = [
        w for w in words
        if w and w not in FORM_WORDS and w not in _UNITS and not _NUMBER.match(w)
    ]  # fmt: skip
    return " ".join(kept)


def match_ingredient(key: str, reference: frozenset[str]) -> str | None:
    """The reference ingredient a key names (steps 1-4 of the module docstring), or None."""
    if not key:
        return None
    if key in reference:
        return key
    bare = " ".join(w for w in key.split() if w not in SALT_WORDS)
    if bare and bare in reference:
        return bare
    for candidate in (key, bare):
        if SYNONYMS.get(candidate) in reference:
            return SYNONYMS[candidate]
    words = key.split()
    for size in range(len(words) - 1, 0, -1):  # longest whole-word part first
        for start in range(len(words) - size + 1):
            part = " ".join(words[start : start + size])
            if part in reference and part not in SALT_WORDS:
                return part
            if SYNONYMS.get(part) in reference:
                return SYNONYMS[part]
    return None


def plain_match(name: str, reference: Iterable[str]) -> bool:
    """The baseline the matcher is reported against: lower-cased, trimmed equality."""
    return str(name).strip().lower() in set(reference)


def name_coverage(names: Iterable[str], reference: frozenset[str]) -> dict[str, float]:
    """Share of prescription rows whose drug is in `reference`: plain equality vs this matcher."""
    rows = [str(n) for n in names]
    if not rows:
        return {"rows": 0, "plain": 0.0, "matched": 0.0}
    keys: dict[str, str | None] = {}
    for name in set(rows):
        keys[name] = match_ingredient(ingredient_key(name), reference)
    lowered = {r.strip().lower() for r in reference}
    plain = sum(r.strip().lower() in lowered for r in rows) / len(rows)
    matched = sum(keys[r] is not None for r in rows) / len(rows)
    return {"rows": len(rows), "plain": round(plain, 4), "matched": round(matched, 4)}
