"""Paper corpus loaders: real ICLR 2017 files and CSV/JSONL tables with bad rows."""

from __future__ import annotations

import json

import numpy as np
import pytest

from recagora.item_space.errors import DatasetError
from recagora.item_space.papers import (
    PaperColumns,
    iclr_mean_ratings,
    load_iclr_openreview,
    load_paper_table,
    paper_days,
    paper_labels,
    parse_leading_number,
    shared_data_dir,
)

ICLR_DIR = shared_data_dir() / "iclr-openreview"
needs_iclr = pytest.mark.skipif(
    not ICLR_DIR.exists(), reason="shared iclr-openreview data not present"
)


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("7: Good paper, accept", 7.0),
        ("3", 3.0),
        (6, 6.0),
        ("  4.5: ok", 4.5),
        ("n/a", None),
        (None, None),
    ],
)
def test_parse_leading_number(cell, expected):
    assert parse_leading_number(cell) == expected


def test_mean_rating_parses_text_ratings(tmp_path):
    reviews = tmp_path / "reviews.csv"
    reviews.write_text(
        'PID,Title,Review,Rating,Conf\nA,t,r,"7: Good paper, accept",4\nA,t,r,"4: Ok",3\nB,t,r,9,5\n'
    )
    assert iclr_mean_ratings(reviews) == {"A": 5.5, "B": 9.0}


@needs_iclr
def test_iclr_openreview_counts_and_labels():
    corpus = load_iclr_openreview()
    # 490 submissions; one (SJUdkecgx) has neither title nor abstract: left out and reported.
    assert len(corpus.targets) == 489
    assert corpus.report.dropped_no_text == 1
    assert "SJUdkecgx" in corpus.report.notes[0]
    assert len(corpus.concurrent) == 434 + 569 + 679
    labels = paper_labels(corpus.targets)
    assert not np.isnan(labels).any() and labels.min() >= 1.0 and labels.max() <= 10.0
    first = corpus.targets[0]
    assert first.key == "HJWHIKqgl" and first.attributes["venue"] == "ICLR 2017"
    assert "Unsupervised Learning" in first.categories
    assert np.isfinite(paper_days(corpus.concurrent)).all()


def test_table_with_missing_abstract_date_and_text_is_counted(tmp_path):
    table = tmp_path / "papers.csv"
    table.write_text(
        "pid,name,summary,when,score\n"
        "p1,Deep nets,We study nets.,2020-05-01,0.5\n"
        "p2,No abstract here,,2021,0.7\n"
        "p3,No date,Some text,,\n"
        "p4,,,2020-01-01,0.1\n"
        "p5,Deep nets,Again the same title,2020-06-01,0.2\n"
    )
    columns = PaperColumns(id="pid", title="name", abstract="summary", date="when", label="score")
    catalog, report = load_paper_table(table, columns, venue="TestConf")
    assert [item.key for item in catalog.items] == ["p1", "p2", "p3", "p5"]
    assert (report.loaded, report.missing_abstract, report.missing_date, report.missing_label) == (
        4,
        1,
        1,
        1,
    )
    assert report.dropped_no_text == 1 and report.duplicate_titles_renamed == 1
    assert catalog[3].title == "Deep nets [p5]"
    assert catalog[1].attributes["date"] == "2021-01-01"
    assert np.isnan(paper_days(catalog)[2]) and np.isnan(paper_labels(catalog)[2])
    assert "1 without abstract" in report.summary()


def test_jsonl_table(tmp_path):
    table = tmp_path / "papers.jsonl"
    rows = [{"id": "a", "title": "T1", "abstract": "A1", "year": 2019, "venue": "V", "label": 3}]
    table.write_text("\n".join(json.dumps(r) for r in rows))
    catalog, _ = load_paper_table(table, PaperColumns(year="year", venue="venue", label="label"))
    assert catalog[0].attributes == {"venue": "V", "date": "2019-07-01", "year": 2019, "label": 3.0}


def test_unknown_column_names_the_fix(tmp_path):
    table = tmp_path / "papers.csv"
    table.write_text("id,titel,abstract\n1,x,y\n")
    with pytest.raises(DatasetError, match="did you mean 'titel'"):
        load_paper_table(table)


def test_empty_corpus_is_an_error(tmp_path):
    table = tmp_path / "papers.csv"
    table.write_text("id,title,abstract\n1,,\n")
    with pytest.raises(DatasetError, match="no paper with a title or abstract"):
        load_paper_table(table)


def test_missing_file_is_an_error(tmp_path):
    with pytest.raises(DatasetError, match="does not exist"):
        load_paper_table(tmp_path / "nope.csv")
