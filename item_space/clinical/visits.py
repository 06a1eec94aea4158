"""Hospital visits with diagnoses, procedures and a medication list, from MIMIC-style tables.

Three layouts are read, detected from the folder:
- `mimic-iv`: `hosp/{admissions,diagnoses_icd,procedures_icd,prescriptions}.csv[.gz]` (the
  open MIMIC-IV demo and the credentialed full MIMIC-IV share it);
- `mimic-iii`: `{ADMISSIONS,DIAGNOSES_ICD,PROCEDURES_ICD,PRESCRIPTIONS}.csv[.gz]` (demo and
  full MIMIC-III; header case is ignored);
- `synthea`: Synthea's CSV export (`encounters`, `conditions`, `procedures`, `medications`),
  synthetic, for schema tests.

A visit's drugs are the ingredient keys (`drugs.ingredient_key`) of its MAIN prescriptions
(FLAME keeps DRUG_TYPE = MAIN; BASE rows are IV fluids), restricted to the `max_drugs` most
prescribed ingredients (FLAME: ~200 -> 151 drugs); each visit points at the same patient's
previous visit, FLAME's history. Data derived from MIMIC stays under ODbL: keep the
source's LICENSE and notice with anything you publish from it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import pandas as pd

from recagora.item_space.clinical.drugs import ingredient_key
from recagora.item_space.errors import DatasetError

LAYOUTS = ("mimic-iv", "mimic-iii", "synthea")


@dataclass(frozen=True)
class Visit:
    """One admission: codes, the drug ids given (sorted), and the patient's previous visit."""

    patient: str
    visit: str
    time: str
    diagnoses: tuple[str, ...]
    procedures: tuple[str, ...]
    drugs: tuple[int, ...]
    previous: int | None  # index into ClinicalData.visits, None for a first visit


@dataclass
class ClinicalData:
    """Visits in (patient, time) order, the drug vocabulary and a load report."""

    name: str
    visits: list[Visit]
    drugs: tuple[str, ...]  # vocabulary: ingredient keys, drug id = position
    report: dict = field(default_factory=dict)

    def drug_id(self, name: str) -> int | None:
        """The id of a drug named by ingredient key or product name (None outside the vocabulary)."""
        return self._index.get(ingredient_key(name))

    @cached_property
    def _index(self) -> dict[str, int]:
        return {name: i for i, name in enumerate(self.drugs)}


@dataclass(frozen=True)
class _Tables:
    """The four tables reduced to: admissions(patient, visit, time), codes(visit, code), drugs(visit, drug)."""

    admissions: pd.DataFrame
    diagnoses: pd.DataFrame
    procedures: pd.DataFrame
    prescriptions: pd.DataFrame


def detect_layout(path: Path) -> str:
    path = Path(path)
    if (path / "hosp").is_dir():
        return "mimic-iv"
    names = {p.name.lower().split(".")[0] for p in path.glob("*.csv*")} if path.is_dir() else set()
    if {"admissions", "prescriptions"} <= names:
        return "mimic-iii"
    if {"encounters", "medications"} <= names:
        return "synthea"
    raise DatasetError(
        f"cannot tell the clinical layout of {path}: expected hosp/ (MIMIC-IV), "
        "ADMISSIONS.csv + PRESCRIPTIONS.csv (MIMIC-III) or encounters.csv + medications.csv (Synthea)"
    )


def load_visits(path: str | Path, *, max_drugs: int = 200, name: str | None = None) -> ClinicalData:
    """Visits of a clinical folder in any of LAYOUTS (DatasetError on a missing table or column)."""
    path = Path(path)
    if not path.is_dir():
        raise DatasetError(f"clinical data folder not found: {path}")
    if max_drugs < 1:
        raise DatasetError(f"max_drugs must be >= 1, got {max_drugs}")
    layout = detect_layout(path)
    tables = {"mimic-iv": _mimic_iv, "mimic-iii": _mimic_iii, "synthea": _synthea}[layout](path)
    return _assemble(tables, layout, max_drugs, name or path.name)


def _read(path: Path, stem: str, columns: dict[str, str]) -> pd.DataFrame:
    """Table `stem` (.csv or .csv.gz, any header case) with `columns` renamed {source: ours}."""
    found = [p for p in path.glob("*.csv*") if p.name.lower().split(".")[0] == stem.lower()]
    if not found:
        raise DatasetError(f"{stem}.csv not found in {path}")
    frame = pd.read_csv(found[0], dtype=str, keep_default_na=False)
    frame.columns = [c.lower() for c in frame.columns]
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DatasetError(
            f"{found[0].name} lacks column(s) {', '.join(missing)} (has: {', '.join(frame.columns[:12])})"
        )
    return frame[list(columns)].rename(columns=columns)


def _mimic(path: Path, dx: str, px: str) -> _Tables:
    admissions = _read(
        path, "admissions", {"subject_id": "patient", "hadm_id": "visit", "admittime": "time"}
    )
    diagnoses = _read(path, "diagnoses_icd", {"hadm_id": "visit", dx: "code"})
    procedures = _read(path, "procedures_icd", {"hadm_id": "visit", px: "code"})
    prescriptions = _read(
        path, "prescriptions", {"hadm_id": "visit", "drug": "drug", "drug_type": "drug_type"}
    )
    prescriptions = prescriptions[prescriptions["drug_type"].str.upper() == "MAIN"]
    return _Tables(admissions, diagnoses, procedures, prescriptions[["visit", "drug"]])


def _mimic_iv(path: Path) -> _Tables:
    return _mimic(path / "hosp", "icd_code", "icd_code")


def _mimic_iii(path: Path) -> _Tables:
    return _mimic(path, "icd9_code", "icd9_code")


def _synthea(path: Path) -> _Tables:
    admissions = _read(path, "encounters", {"patient": "patient", "id": "visit", "start": "time"})
    diagnoses = _read(path, "conditions", {"encounter": "visit", "code": "code"})
    procedures = _read(path, "procedures", {"encounter": "visit", "code": "code"})
    prescriptions = _read(path, "medications", {"encounter": "visit", "description": "drug"})
    return _Tables(admissions, diagnoses, procedures, prescriptions)


def _assemble(tables: _Tables, layout: str, max_drugs: int, name: str) -> ClinicalData:
    prescriptions = tables.prescriptions.assign(
        key=tables.prescriptions["drug"].map(ingredient_key)
    )
    prescriptions = prescriptions[prescriptions["key"] != ""]
    per_visit = prescriptions.groupby("visit")["key"].agg(lambda keys: sorted(set(keys)))
    counts = Counter(key for keys in per_visit for key in keys)
    vocabulary = tuple(sorted(key for key, _ in counts.most_common(max_drugs)))
    index = {key: i for i, key in enumerate(vocabulary)}
    codes = {
        "diagnoses": tables.diagnoses.groupby("visit")["code"].agg(lambda c: tuple(sorted(set(c)))),
        "procedures": tables.procedures.groupby("visit")["code"].agg(
            lambda c: tuple(sorted(set(c)))
        ),
    }
    admissions = tables.admissions.drop_duplicates("visit").sort_values(
        ["patient", "time", "visit"]
    )
    visits: list[Visit] = []
    last: dict[str, int] = {}
    dropped = 0
    for row in admissions.itertuples(index=False):
        keys = per_visit.get(row.visit, [])
        drugs = tuple(sorted(index[k] for k in keys if k in index))
        dropped += len(keys) - len(drugs)
        if not drugs:
            continue  # a visit with no medication list cannot be a target
        visits.append(
            Visit(
                str(row.patient), str(row.visit), str(row.time),
                codes["diagnoses"].get(row.visit, ()), codes["procedures"].get(row.visit, ()),
                drugs, last.get(str(row.patient)),
            )
        )  # fmt: skip
        last[str(row.patient)] = len(visits) - 1
    report = {
        "layout": layout,
        "patients": len({v.patient for v in visits}),
        "visits": len(visits),
        "visits_with_history": sum(v.previous is not None for v in visits),
        "drugs": len(vocabulary),
        "prescription_rows": int(len(tables.prescriptions)),
        "drug_mentions_outside_vocabulary": int(dropped),
        "mean_list_length": round(sum(len(v.drugs) for v in visits) / max(len(visits), 1), 2),
    }
    return ClinicalData(name, visits, vocabulary, report)
