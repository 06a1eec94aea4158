"""Any year's OpenReview export as a PaperEval corpus (Zheng et al., AAAI'26, arXiv 2508.05129).

Targets come from a submissions table (CSV/JSONL; columns found by name, any case: id
`PID|id|paper_id|forum`, `Title`, `Abstract`, optional `Decision`, `Keyword(s)`). Labels:

- with a reviews table (`PID|paper_id|forum|id` + `Rating|rating|score|recommendation`):
  the mean rating, parsed from "7: Good paper, accept" or a plain number;
- without one: the decision, 1 = accepted, 0 = not accepted (`parse_decision`).

Concurrent work: every other CSV/JSONL of `concurrent_dir` (not `*_submissions` /
`*_reviews`) published in year-1..year, told by the file name (`NIPS16_paper.csv` is
NIPS 2016) or, when the name has no year, by its `Year` column row by row.

Dates: the files carry no per-paper dates, so a paper gets its venue's public date:
`VENUE_DATES` when known, else July 1 of the year (the `load_paper_table` convention).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from recagora.item_space.errors import DatasetError
from recagora.item_space.papers import (
    VENUE_DATES,
    PaperColumns,
    PaperCorpus,
    PaperLoadReport,
    cell_text,
    paper_fields,
    papers_to_catalog,
    parse_leading_number,
    read_table,
)
from recagora.item_space.types import Catalog

SUBMISSION_COLUMNS = {
    "id": ("PID", "id", "paper_id", "forum"),
    "title": ("Title",),
    "abstract": ("Abstract",),
    "decision": ("Decision",),
    "keywords": ("Keyword", "Keywords"),
}
REVIEW_COLUMNS = {"id": ("PID", "paper_id", "forum", "id"), "rating": ("Rating", "score", "recommendation")}  # fmt: skip
CONCURRENT_COLUMNS = {"title": ("Title",), "abstract": ("Abstract",), "year": ("Year",)}
TABLE_SUFFIXES = (".csv", ".jsonl", ".json")
# "ICLR17_submissions.csv" -> ("ICLR", "17"); "NeurIPS2019-papers.jsonl" -> ("NeurIPS", "2019").
_NAME = re.compile(r"^([A-Za-z]+)[_-]?(\d{4}|\d{2})(?=[_.-]|$)")
# Numeric codes of the shared ICLR 2017 / NIPS 2017 files: 1 oral, 2 poster, 0 reject,
# -1 invited to the workshop track (mean ratings 7.2, 6.8, 4.7, 5.4): not accepted.
NUMERIC_DECISIONS = {1: 1.0, 2: 1.0, 0: 0.0, -1: 0.0}
REJECT_WORDS = ("reject", "workshop")  # "Desk Reject", "Invite to Workshop Track"
UNDECIDED_WORDS = ("withdraw",)  # a withdrawn paper has no decision: unlabelled, counted
ACCEPT_WORDS = ("accept", "oral", "poster", "spotlight", "talk", "notable")


@dataclass
class OpenReviewSource:
    """Where an OpenReview export is and what it is (empty / 0 = told by the file name)."""

    submissions: str = field(
        default="",
        metadata={"help": "Submissions CSV/JSONL (PID, Title, Abstract, Decision, Keyword)."},
    )
    reviews: str = field(
        default="",
        metadata={
            "help": "Reviews CSV/JSONL (PID, Rating): label = mean rating; empty = decisions."
        },
    )
    venue: str = field(
        default="", metadata={"help": "Target venue, e.g. ICLR; empty = from the file name."}
    )
    year: int = field(default=0, metadata={"help": "Target year; 0 = from the file name."})
    concurrent_dir: str = field(
        default="",
        metadata={"help": "Folder of concurrent venues' tables; empty = the submissions' folder."},
    )
    date: str = field(
        default="",
        metadata={"help": "ISO date of the target papers; empty = known venue date or July 1."},
    )


def parse_decision(value) -> float | None:
    """1.0 accepted, 0.0 not accepted, None when the cell says neither.

    Numbers: 1, 2 -> 1 (oral, poster); 0, -1 -> 0 (reject, workshop invite). Text, any case:
    "reject" or "workshop" -> 0; "withdrawn" -> None; "accept", "oral", "poster",
    "spotlight", "talk", "notable" -> 1 ("Accept (Poster)", "ICLR 2017 Oral").
    """
    number = parse_leading_number(value)
    text = cell_text(value).lower()
    if number is not None and text.lstrip("-").replace(".", "", 1).isdigit():
        return NUMERIC_DECISIONS.get(int(number))
    for words, label in ((REJECT_WORDS, 0.0), (UNDECIDED_WORDS, None), (ACCEPT_WORDS, 1.0)):
        if any(word in text for word in words):
            return label
    return None


def decision_labels(catalog: Catalog) -> np.ndarray:
    """(N,) float64 accept (1) / reject (0) from each paper's "decision" attribute, NaN if none."""
    parsed = [parse_decision(item.attributes.get("decision")) for item in catalog.items]
    return np.array([np.nan if p is None else p for p in parsed], dtype=np.float64)


def venue_year_from_name(path: Path) -> tuple[str | None, int | None]:
    """("ICLR", 2017) from "ICLR17_submissions.csv"; (None, None) when the name tells nothing."""
    match = _NAME.match(path.stem)
    if not match:
        return None, None
    year = int(match.group(2))
    return match.group(1), year + 2000 if year < 100 else year


def find_columns(
    frame: pd.DataFrame, wanted: dict, required: tuple, path: Path, hint: str = ""
) -> dict:
    """{field: column or None}, matching names in any case; one-line error for a missing one."""
    by_lower = {str(c).lower(): str(c) for c in frame.columns}
    found = {
        name: next((by_lower[c.lower()] for c in names if c.lower() in by_lower), None)
        for name, names in wanted.items()
    }
    missing = [name for name in required if found[name] is None]
    if missing:
        expected = {name: list(wanted[name]) for name in missing}
        raise DatasetError(
            f"{path.name}: no column for {missing} (expected one of {expected}, any case); "
            f"its columns are {[str(c) for c in frame.columns]}{hint}"
        )
    return found


def mean_ratings(reviews: str | Path) -> dict[str, float]:
    """Mean review rating per paper id ("7: Good paper" -> 7); reviews without a number are skipped."""
    path = Path(reviews)
    frame = read_table(path)
    columns = find_columns(frame, REVIEW_COLUMNS, ("id", "rating"), path)
    scores = frame[columns["rating"]].map(parse_leading_number)
    frame = frame.assign(score=pd.to_numeric(scores)).dropna(subset=["score"])
    grouped = frame.groupby(frame[columns["id"]].astype(str))["score"].mean()
    return {pid: float(score) for pid, score in grouped.items()}


def venue_date(venue: str, year: int) -> str:
    """The venue's public date (`VENUE_DATES`), else July 1 of `year`."""
    return VENUE_DATES.get(f"{venue} {year}", f"{year}-07-01")


def _identity(source: OpenReviewSource, path: Path) -> tuple[str, int]:
    name_venue, name_year = venue_year_from_name(path)
    venue, year = source.venue or name_venue, source.year or name_year
    if not venue or not year:
        raise DatasetError(
            f"cannot tell the venue and year of {path.name!r} from its name; set venue= and year= "
            "(e.g. --set corpus.venue=ICLR --set corpus.year=2018)"
        )
    return venue, year


def _target_rows(frame: pd.DataFrame, columns: dict, venue: str, date: str, year: int, ratings):
    """Normalised target rows; label = mean rating (ratings given) or the parsed decision."""
    mapping = PaperColumns(
        id=columns["id"], title=columns["title"], abstract=columns["abstract"],
        keywords=columns["keywords"],
    )  # fmt: skip
    rows = []
    for i, row in enumerate(frame.to_dict("records")):
        fields = paper_fields(row, mapping, venue, i)
        decision = cell_text(row.get(columns["decision"])) if columns["decision"] else ""
        label = ratings.get(fields["key"]) if ratings is not None else parse_decision(decision)
        fields.update(date=date, year=year, label=label, extra_decision=decision)
        rows.append(fields)
    return rows


def _undecided_note(rows: list[dict], name: str) -> list[str]:
    values = sorted({r["extra_decision"] for r in rows if r["label"] is None})
    if not values:
        return []
    count = sum(r["label"] is None for r in rows)
    return [f"{name}: {count} papers without an accept/reject decision (kept, unlabelled): {values[:8]}"]  # fmt: skip


def load_targets(source: OpenReviewSource) -> tuple[Catalog, PaperLoadReport, str]:
    """(target catalog, report, label kind) of one submissions table."""
    path = Path(source.submissions)
    frame = read_table(path)
    venue, year = _identity(source, path)
    required = ("id", "title", "abstract") + (() if source.reviews else ("decision",))
    hint = "" if source.reviews else "; without a reviews file the labels are the decisions"
    columns = find_columns(frame, SUBMISSION_COLUMNS, required, path, hint)
    ratings = mean_ratings(source.reviews) if source.reviews else None
    date = source.date or venue_date(venue, year)
    rows = _target_rows(frame, columns, f"{venue} {year}", date, year, ratings)
    catalog, report = papers_to_catalog(rows, f"{venue.lower()}{year}")
    if ratings is None:
        report.notes.extend(_undecided_note(rows, path.name))
    return catalog, report, "rating" if ratings is not None else "decision"


def concurrent_tables(directory: Path, year: int, skip: set[Path]) -> list[tuple[Path, str, int | None]]:  # fmt: skip
    """(path, venue, year or None) of the folder's tables from year-1..year, oldest first.

    A file whose name has no year is kept (year None): its rows are filtered by `Year`.
    """
    tables = []
    for path in sorted(directory.iterdir()):
        stem = path.stem.lower()
        if path.suffix.lower() not in TABLE_SUFFIXES or path.resolve() in skip:
            continue
        if stem.endswith(("_submissions", "_reviews")):
            continue  # other OpenReview exports: submissions under review, not published work
        venue, file_year = venue_year_from_name(path)
        if file_year is None or year - 1 <= file_year <= year:
            tables.append((path, venue or path.stem, file_year))
    return sorted(tables, key=lambda t: (t[2] or 0, venue_date(t[1], t[2] or 0), t[0].name))


def _concurrent_rows(path: Path, venue: str, file_year: int | None, year: int) -> list[dict]:
    frame = read_table(path)
    columns = find_columns(frame, CONCURRENT_COLUMNS, ("title", "abstract"), path)
    if file_year is None and columns["year"] is None:
        raise DatasetError(
            f"{path.name}: neither its name (e.g. NIPS16_paper.csv) nor a Year column says its "
            "year; rename it or move it out of the concurrent folder"
        )
    mapping = PaperColumns(id=None, title=columns["title"], abstract=columns["abstract"], year=columns["year"])  # fmt: skip
    rows = []
    for i, row in enumerate(frame.to_dict("records")):
        fields = paper_fields(row, mapping, "", i)
        paper_year = file_year or fields["year"]
        if paper_year is None or not year - 1 <= paper_year <= year:
            continue
        name = f"{venue} {paper_year}"
        fields.update(
            venue=name, year=paper_year, key=f"{name.replace(' ', '')}-{i}",
            date=venue_date(venue, paper_year),
        )  # fmt: skip
        rows.append(fields)
    return rows


def load_concurrent(source: OpenReviewSource, year: int, name: str) -> tuple[Catalog, PaperLoadReport]:  # fmt: skip
    """Published papers of year-1..year from `source.concurrent_dir` (PaperEval's retrieval corpus)."""
    submissions = Path(source.submissions)
    directory = Path(source.concurrent_dir) if source.concurrent_dir else submissions.parent
    if not directory.is_dir():
        raise DatasetError(f"concurrent folder {str(directory)!r} does not exist")
    skip = {submissions.resolve()} | ({Path(source.reviews).resolve()} if source.reviews else set())
    rows = [
        row
        for path, venue, file_year in concurrent_tables(directory, year, skip)
        for row in _concurrent_rows(path, venue, file_year, year)
    ]
    catalog, report = papers_to_catalog(rows, name)
    report.missing_label = 0  # published papers of other venues carry no rating by design
    if not rows:
        report.notes.append(
            f"no concurrent paper of {year - 1}-{year} in {str(directory)!r}: retrieval finds nothing"
        )
    return catalog, report


def load_openreview(source: OpenReviewSource) -> PaperCorpus:
    """Targets of one OpenReview export (rating or decision labels) + concurrent work by year.

    Raises:
        DatasetError: a missing file or column, an unknown venue/year, no usable paper.
    """
    if not source.submissions:
        raise DatasetError("no submissions file given; set submissions= (a CSV/JSONL export)")
    targets, report, kind = load_targets(source)
    if len(targets) == 0:
        raise DatasetError(f"{Path(source.submissions).name}: no paper with a title or abstract")
    year = int(targets[0].attributes["year"])
    concurrent, concurrent_report = load_concurrent(source, year, f"{targets.name}-concurrent")
    return PaperCorpus(targets, concurrent, report.merge(concurrent_report), labels=kind)
