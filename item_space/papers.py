"""Paper corpora as catalogs: each paper is an `Item` of the shared item space.

A paper is (id, title, abstract, date/year, venue, label). It maps onto `Item` as
key = paper id, title, text = abstract, categories = (venue, *keywords) and
attributes {"venue", "year", "date" (ISO "YYYY-MM-DD" or None), "label" (float or
None), "decision"}. Loaders read any CSV/JSONL with a column mapping, and the
ICLR 2017 OpenReview files in `../shared/data/iclr-openreview` (PaperEval,
Zheng et al., AAAI'26, arXiv 2508.05129, evaluates on ICLR with the mean review
rating as the label); `openreview.load_openreview` reads any year's export.

Bad rows are never silently dropped: a paper without abstract or date is kept and
counted; a paper with neither title nor abstract cannot be embedded, so it is left
out and counted. `PaperLoadReport` carries every count and is shown by the CLI.
"""

from __future__ import annotations

import ast
import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from recagora.item_space.datasets.paths import shared_data_dir
from recagora.item_space.errors import DatasetError, DatasetMissingError, did_you_mean
from recagora.item_space.types import Catalog, Item

ICLR_DIR_NAME = "iclr-openreview"
# The files carry no per-paper dates; a paper gets the public date of its venue's
# event: the ICLR 2017 submission deadline and the conference openings of the others.
VENUE_DATES = {
    "ICLR 2017": "2016-11-04",
    "NIPS 2016": "2016-12-05",
    "ICML 2017": "2017-08-06",
    "NIPS 2017": "2017-12-04",
}
# The shared ICLR 2017 export: submissions, reviews, then the concurrent venues' papers.
ICLR_FILES = (
    "ICLR17_submissions.csv",
    "ICLR17_reviews.csv",
    "NIPS16_paper.csv",
    "ICML17_paper.csv",
    "NIPS17_paper.csv",
)
_LEADING_NUMBER = re.compile(r"^\s*(-?\d+(?:\.\d+)?)")


@dataclass(frozen=True)
class PaperColumns:
    """Which column of a table holds which paper field (None: the table has none)."""

    id: str | None = field(
        default="id", metadata={"help": "Paper id column; None numbers rows 0..N-1."}
    )
    title: str = field(default="title", metadata={"help": "Title column."})
    abstract: str | None = field(default="abstract", metadata={"help": "Abstract column."})
    date: str | None = field(
        default=None, metadata={"help": "Date column (anything pandas parses)."}
    )
    year: str | None = field(
        default=None, metadata={"help": "Year column, used when date is absent."}
    )
    venue: str | None = field(default=None, metadata={"help": "Venue column."})
    label: str | None = field(
        default=None, metadata={"help": "Numeric label column (quality, impact)."}
    )
    keywords: str | None = field(default=None, metadata={"help": "Keyword list column."})


@dataclass
class PaperLoadReport:
    """What a loader kept, what it left out, and why (counts of papers)."""

    loaded: int = 0
    missing_abstract: int = 0
    missing_date: int = 0
    missing_label: int = 0
    dropped_no_text: int = 0
    duplicate_titles_renamed: int = 0
    notes: list[str] = field(default_factory=list)

    def merge(self, other: PaperLoadReport) -> PaperLoadReport:
        """Sum of two reports (notes concatenated)."""
        counts = {
            name: getattr(self, name) + getattr(other, name)
            for name in self.__dataclass_fields__
            if name != "notes"
        }
        return PaperLoadReport(**counts, notes=self.notes + other.notes)

    def summary(self) -> str:
        """One line for logs and the CLI."""
        return (
            f"{self.loaded} papers loaded; {self.missing_abstract} without abstract, "
            f"{self.missing_date} without date, {self.missing_label} without label (kept); "
            f"{self.dropped_no_text} without title and abstract (left out); "
            f"{self.duplicate_titles_renamed} duplicate titles renamed"
        )


@dataclass
class PaperCorpus:
    """Papers to evaluate (`targets`) and the concurrent literature for retrieval."""

    targets: Catalog
    concurrent: Catalog
    report: PaperLoadReport
    labels: str = "rating"
    """What a target's label is: "rating" (mean review score) or "decision" (1 accept, 0 reject)."""


def cell_text(value) -> str:
    """A table cell as stripped text ("" for None / NaN)."""
    return (
        ""
        if value is None or (isinstance(value, float) and np.isnan(value))
        else str(value).strip()
    )


def parse_leading_number(value) -> float | None:
    """7.0 from "7: Good paper, accept", 7 or "7"; None when there is no number."""
    match = _LEADING_NUMBER.match(cell_text(value))
    return float(match.group(1)) if match else None


def _parse_date(date_value, year_value) -> tuple[str | None, int | None]:
    """(ISO date, year) from a date cell or, failing that, a year cell (-> July 1)."""
    text = cell_text(date_value)
    if text:
        stamp = pd.to_datetime(text, errors="coerce")
        if not pd.isna(stamp):
            return stamp.date().isoformat(), int(stamp.year)
    year = parse_leading_number(year_value)
    if year is None:
        return None, None
    return dt.date(int(year), 7, 1).isoformat(), int(year)


def _keywords(value) -> tuple[str, ...]:
    text = cell_text(value)
    if not text:
        return ()
    if text.startswith("["):
        try:
            return tuple(str(k).strip() for k in ast.literal_eval(text) if str(k).strip())
        except (ValueError, SyntaxError):
            pass
    return tuple(k.strip() for k in re.split(r"[;,]", text) if k.strip())


def _cell(row: dict, column: str | None):
    return row.get(column) if column else None


def paper_fields(row: dict, columns: PaperColumns, default_venue: str, position: int) -> dict:
    """Normalised fields of one table row (no validation yet)."""
    date, year = _parse_date(_cell(row, columns.date), _cell(row, columns.year))
    venue = cell_text(_cell(row, columns.venue)) or default_venue
    return {
        "key": cell_text(_cell(row, columns.id)) or f"{venue or 'paper'}-{position}",
        "title": cell_text(_cell(row, columns.title)),
        "abstract": cell_text(_cell(row, columns.abstract)),
        "venue": venue,
        "date": date,
        "year": year,
        "label": parse_leading_number(_cell(row, columns.label)) if columns.label else None,
        "keywords": _keywords(_cell(row, columns.keywords)),
    }


def _unique_title(title: str, key: str, seen: set[str]) -> tuple[str, bool]:
    if title not in seen:
        return title, False
    return f"{title} [{key}]", True


def papers_to_catalog(rows: list[dict], name: str) -> tuple[Catalog, PaperLoadReport]:
    """Build a catalog from normalised paper fields (see `paper_fields`), counting defects."""
    report, items, seen = PaperLoadReport(), [], set()
    for fields in rows:
        if not fields["title"] and not fields["abstract"]:
            report.dropped_no_text += 1
            report.notes.append(f"{name}: paper {fields['key']!r} has neither title nor abstract")
            continue
        title = fields["title"] or fields["abstract"][:80]
        title, renamed = _unique_title(title, fields["key"], seen)
        seen.add(title)
        report.duplicate_titles_renamed += int(renamed)
        report.missing_abstract += int(not fields["abstract"])
        report.missing_date += int(fields["date"] is None)
        report.missing_label += int(fields["label"] is None)
        items.append(_paper_item(len(items), fields, title))
    report.loaded = len(items)
    return Catalog(name=name, items=items), report


def _paper_item(position: int, fields: dict, title: str) -> Item:
    categories = ((fields["venue"],) if fields["venue"] else ()) + fields["keywords"]
    attributes = {k: fields[k] for k in ("venue", "date", "year", "label")}
    attributes.update(
        {k.removeprefix("extra_"): v for k, v in fields.items() if k.startswith("extra_")}
    )
    return Item(
        id=position,
        key=fields["key"],
        title=title,
        text=fields["abstract"],
        categories=categories,
        attributes=attributes,
    )


def read_table(path: Path) -> pd.DataFrame:
    """A CSV (every cell a string) or JSON/JSONL file as a frame; one-line error when missing."""
    if not path.exists():
        raise DatasetError(
            f"paper file {str(path)!r} does not exist; pass the path of a CSV or JSONL file"
        )
    if path.suffix.lower() in {".jsonl", ".json"}:
        return pd.read_json(path, lines=path.suffix.lower() == ".jsonl", dtype=False)
    return pd.read_csv(path, dtype=str, keep_default_na=True)


def _check_columns(frame: pd.DataFrame, columns: PaperColumns, path: Path) -> None:
    for field_name, column in vars(columns).items():
        if column is not None and column not in frame.columns:
            hint = did_you_mean(column, [str(c) for c in frame.columns])
            raise DatasetError(
                f"{path.name}: no column {column!r} for the paper {field_name}{hint}; "
                f"set PaperColumns({field_name}=...) to one of {list(frame.columns)}"
            )


def load_paper_table(
    path: str | Path,
    columns: PaperColumns = PaperColumns(),
    venue: str = "",
    name: str | None = None,
) -> tuple[Catalog, PaperLoadReport]:
    """Read a CSV/JSONL paper table with a column mapping into a catalog.

    Raises:
        DatasetError: missing file, unknown column, or no usable paper at all.
    """
    path = Path(path)
    frame = read_table(path)
    _check_columns(frame, columns, path)
    rows = [paper_fields(row, columns, venue, i) for i, row in enumerate(frame.to_dict("records"))]
    catalog, report = papers_to_catalog(rows, name or path.stem)
    if len(catalog) == 0:
        raise DatasetError(
            f"{path.name}: no paper with a title or abstract; check the column mapping"
        )
    return catalog, report


def iclr_mean_ratings(reviews_csv: str | Path) -> dict[str, float]:
    """Mean review rating per paper id from ICLR17_reviews.csv ("7: Good paper" -> 7)."""
    from recagora.item_space.openreview import mean_ratings  # openreview builds on this module

    return mean_ratings(reviews_csv)


def load_iclr_openreview(directory: str | Path | None = None) -> PaperCorpus:
    """ICLR 2017 submissions (label = mean review rating) + NIPS'16/'17, ICML'17 papers.

    A thin call of `openreview.load_openreview` on the shared files; another year's
    export loads with `load_openreview(OpenReviewSource(submissions=..., reviews=...))`.

    Args:
        directory: the `iclr-openreview` folder; default `shared_data_dir()/iclr-openreview`.

    Returns:
        `PaperCorpus`: targets (490 ICLR 2017 submissions minus those without any text),
        concurrent (1,682 accepted papers) and the merged load report.
    """
    from recagora.item_space.openreview import OpenReviewSource, load_openreview

    directory = Path(directory) if directory else shared_data_dir() / ICLR_DIR_NAME
    missing = [n for n in ICLR_FILES if not (directory / n).exists()]
    if missing:
        # Missing, not malformed: tests skip on it. No fetch recipe: any OpenReview export
        # of any year loads through `openreview.load_openreview` (see its docstring).
        raise DatasetMissingError(
            f"ICLR OpenReview files {missing} not found in {str(directory)!r}; "
            "set RECAGORA_SHARED_DATA or pass the folder that holds them"
        )
    return load_openreview(
        OpenReviewSource(
            submissions=str(directory / ICLR_FILES[0]), reviews=str(directory / ICLR_FILES[1])
        )
    )


def paper_labels(catalog: Catalog) -> np.ndarray:
    """(N,) float64 labels, NaN where a paper has none."""
    return np.array(
        [_none_to_nan(item.attributes.get("label")) for item in catalog.items], dtype=np.float64
    )


def paper_days(catalog: Catalog) -> np.ndarray:
    """(N,) float64 dates as days since 1970-01-01, NaN where a paper has no date."""
    return np.array(
        [_iso_to_days(item.attributes.get("date")) for item in catalog.items], dtype=np.float64
    )


def paper_text(item: Item, abstract_chars: int | None = None) -> str:
    """Title and abstract (cut at `abstract_chars` when given): what PaperEval's scorer sees."""
    abstract = item.text[:abstract_chars] if abstract_chars else item.text
    return f"Title: {item.title}\nAbstract: {abstract or '(no abstract)'}"


def _none_to_nan(value) -> float:
    return float("nan") if value is None else float(value)


def _iso_to_days(value) -> float:
    if not value:
        return float("nan")
    return float((dt.date.fromisoformat(value) - dt.date(1970, 1, 1)).days)


def concurrent_work(
    query_vectors: np.ndarray,
    query_days: np.ndarray,
    corpus_vectors: np.ndarray,
    corpus_days: np.ndarray,
    gamma: float,
    k: int,
    exclude: list[int | None] | None = None,
) -> list[list[int]]:
    """PaperEval's domain-aware retrieval (Zheng et al., AAAI'26, section 3.2).

    Corpus papers whose cosine similarity with the query exceeds `gamma` are the
    related work; of those, the `k` closest in date are the concurrent work. Papers
    without a date come after dated ones; ties (and undated papers) go by similarity.

    Args:
        query_vectors: (Q, d) unit vectors (a keyphrase or the target paper).
        query_days: (Q,) days since epoch, NaN when unknown.
        corpus_vectors: (N, d) unit vectors; corpus_days: (N,) days, NaN when unknown.
        gamma: cosine threshold; k: papers kept per query.
        exclude: per query, a corpus id to leave out (the target itself) or None.

    Returns:
        Q lists of at most k corpus ids, closest in date first (empty when nothing passes gamma).
    """
    similarity = np.asarray(query_vectors, np.float32) @ np.asarray(corpus_vectors, np.float32).T
    chosen = []
    for row, sims in enumerate(similarity):
        candidates = np.flatnonzero(sims > gamma)
        if exclude is not None and exclude[row] is not None:
            candidates = candidates[candidates != exclude[row]]
        gap = np.abs(corpus_days[candidates] - query_days[row])
        gap = np.where(np.isnan(gap), np.inf, gap)
        order = np.lexsort((-sims[candidates], gap))  # primary key: date gap; then similarity
        chosen.append([int(c) for c in candidates[order][:k]])
    return chosen
