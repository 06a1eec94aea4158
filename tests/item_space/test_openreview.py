"""Any-year OpenReview loader: a decisions-only view of the real ICLR 2017 export, renamed
columns, concurrent venues chosen by year, one-line errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

from recagora.item_space.errors import DatasetError
from recagora.item_space.openreview import (
    OpenReviewSource,
    decision_labels,
    load_openreview,
    parse_decision,
    venue_year_from_name,
)
from recagora.item_space.papers import (
    ICLR_FILES,
    load_iclr_openreview,
    paper_labels,
    shared_data_dir,
)

ICLR_DIR = shared_data_dir() / "iclr-openreview"
needs_iclr = pytest.mark.skipif(
    not ICLR_DIR.exists(), reason="shared iclr-openreview data not present"
)


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("2", 1.0), ("1", 1.0), ("0", 0.0), ("-1", 0.0), ("3", None),
        ("Accept (Poster)", 1.0), ("ICLR 2017 Oral", 1.0), ("Accept: notable-top-5%", 1.0),
        ("Oral/Poster", 1.0), ("Reject", 0.0), ("Desk Reject", 0.0),
        ("ICLR 2017 Invite to Workshop Track", 0.0), ("Withdrawn", None), ("", None), (None, None),
    ],
)  # fmt: skip
def test_parse_decision(cell, expected):
    assert parse_decision(cell) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("ICLR17_submissions.csv", ("ICLR", 2017)),
        ("NeurIPS2019-papers.jsonl", ("NeurIPS", 2019)),
        ("papers.csv", (None, None)),
    ],
)
def test_venue_and_year_from_the_file_name(tmp_path, name, expected):
    assert venue_year_from_name(tmp_path / name) == expected


def _decisions_only_view(tmp_path):
    """The real ICLR 2017 export without its reviews file (links, nothing copied), plus a
    NIPS 2014 table (out of the year range) and a yearless table with a Year column."""
    folder = tmp_path / "iclr-decisions"
    folder.mkdir()
    for name in (n for n in ICLR_FILES if n != "ICLR17_reviews.csv"):
        (folder / name).symlink_to(ICLR_DIR / name)
    (folder / "NIPS14_paper.csv").write_text("Year,Title,Abstract\n2014,Old,Old work.\n")
    (folder / "workshop_papers.csv").write_text(
        "Year,Title,Abstract\n2015,Too old,a\n2016,Kept one,b\n2017,Kept two,c\n"
    )
    return folder


@needs_iclr
def test_decisions_only_view_of_real_iclr_2017(tmp_path):
    folder = _decisions_only_view(tmp_path)
    corpus = load_openreview(OpenReviewSource(submissions=str(folder / "ICLR17_submissions.csv")))
    rated = load_iclr_openreview()
    assert corpus.labels == "decision" and rated.labels == "rating"
    assert [i.key for i in corpus.targets.items] == [i.key for i in rated.targets.items]
    accepted = paper_labels(corpus.targets)
    # ICLR 2017: 15 orals + 183 posters accepted; 244 rejected + 47 workshop invites (SJUdkecgx,
    # a rejected paper without text, is left out).
    assert (accepted == 1).sum() == 198 and (accepted == 0).sum() == 291
    ratings = paper_labels(rated.targets)
    assert ratings[accepted == 1].mean() > ratings[accepted == 0].mean() + 1.5
    np.testing.assert_array_equal(decision_labels(rated.targets), accepted)
    venues = [i.attributes["venue"] for i in corpus.concurrent.items]
    assert len(corpus.concurrent) == 1682 + 2 and "NIPS 2014" not in venues
    assert {i.title for i in corpus.concurrent.items if i.attributes["venue"].startswith("workshop")} == {"Kept one", "Kept two"}  # fmt: skip


def _write_jsonl(path, rows):
    path.write_text("\n".join(json.dumps(r) for r in rows))


def test_another_year_with_renamed_columns_and_text_ratings(tmp_path):
    _write_jsonl(
        tmp_path / "iclr2018_submissions.jsonl",
        [
            {"id": "a", "title": "A", "abstract": "x", "decision": "Accept (Oral)", "keywords": "rl; nlp"},  # fmt: skip
            {"id": "b", "title": "B", "abstract": "y", "decision": "Reject", "keywords": ""},
            {"id": "c", "title": "C", "abstract": "z", "decision": "Withdrawn", "keywords": ""},
        ],
    )
    _write_jsonl(
        tmp_path / "iclr2018_reviews.jsonl",
        [{"paper_id": "a", "RATING": "8: Top 50% of accepted papers"}, {"paper_id": "a", "RATING": "6"},
         {"paper_id": "b", "RATING": "3: Clear rejection"}],
    )  # fmt: skip
    (tmp_path / "ICML17_paper.csv").write_text("Year,Title,Abstract\n2017,I,i\n")
    (tmp_path / "ICML18_paper.csv").write_text("Year,Title,Abstract\n2018,J,j\n")
    (tmp_path / "ICML19_paper.csv").write_text("Year,Title,Abstract\n2019,K,k\n")
    source = OpenReviewSource(
        submissions=str(tmp_path / "iclr2018_submissions.jsonl"),
        reviews=str(tmp_path / "iclr2018_reviews.jsonl"),
    )
    corpus = load_openreview(source)
    first = corpus.targets[0]
    assert first.attributes == {"venue": "iclr 2018", "date": "2018-07-01", "year": 2018, "label": 7.0, "decision": "Accept (Oral)"}  # fmt: skip
    assert first.categories == ("iclr 2018", "rl", "nlp")
    assert np.isnan(paper_labels(corpus.targets)[2]) and corpus.report.missing_label == 1
    assert [i.title for i in corpus.concurrent.items] == ["I", "J"]
    source.reviews = ""
    decided = load_openreview(source)
    assert paper_labels(decided.targets)[:2].tolist() == [1.0, 0.0]
    assert any("1 papers without an accept/reject decision" in n and "'Withdrawn'" in n for n in decided.report.notes)  # fmt: skip
    assert decided.targets.name == "iclr2018"


def test_missing_decision_column_without_reviews_names_what_is_expected(tmp_path):
    table = tmp_path / "ICLR19_submissions.csv"
    table.write_text("PID,Title,Abstract\n1,t,a\n")
    with pytest.raises(DatasetError, match=r"no column for \['decision'\].*without a reviews file"):
        load_openreview(OpenReviewSource(submissions=str(table)))
    with pytest.raises(DatasetError, match="does not exist"):
        load_openreview(OpenReviewSource(submissions=str(tmp_path / "ICLR18_submissions.csv")))


def test_a_file_name_without_year_needs_venue_and_year(tmp_path):
    table = tmp_path / "export.csv"
    table.write_text("PID,Title,Abstract,Decision\n1,t,a,Accept\n")
    with pytest.raises(DatasetError, match="set venue= and year="):
        load_openreview(OpenReviewSource(submissions=str(table)))
    corpus = load_openreview(OpenReviewSource(submissions=str(table), venue="ICLR", year=2020))
    assert corpus.targets[0].attributes["venue"] == "ICLR 2020"
    assert len(corpus.concurrent) == 0 and "retrieval finds nothing" in corpus.report.notes[-1]


def test_a_yearless_concurrent_table_needs_a_year_column(tmp_path):
    (tmp_path / "ICLR17_submissions.csv").write_text("PID,Title,Abstract,Decision\n1,t,a,2\n")
    (tmp_path / "papers.csv").write_text("Title,Abstract\nx,y\n")
    with pytest.raises(DatasetError, match="papers.csv: neither its name"):
        load_openreview(OpenReviewSource(submissions=str(tmp_path / "ICLR17_submissions.csv")))
