"""Clinical data (FLAME-style): visits from the open demos and the synthetic set, drug names,
the interaction graph, patient-level splits, and the medication-list metrics by hand."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

from recagora.item_space.clinical import build_interaction_graph, load_visits, patient_split
from recagora.item_space.clinical.drugs import ingredient_key, match_ingredient
from recagora.item_space.clinical.splits import check_patient_disjoint
from recagora.item_space.clinical.visits import Visit
from recagora.item_space.errors import DatasetError
from recagora.item_space.metrics.medication import (
    ddi_rate,
    f1,
    jaccard,
    list_length,
    precision,
    recall,
    refusal_rate,
)


@pytest.fixture(scope="module")
def clinical(shared_data):
    folder = shared_data / "clinical"
    if not folder.is_dir():
        pytest.skip(f"clinical data not present in {shared_data}")
    return folder


def test_metrics_on_a_hand_worked_list():
    predicted, truth = {1, 2, 3, 4}, {3, 4, 5}
    assert jaccard(predicted, truth) == pytest.approx(2 / 5)
    assert precision(predicted, truth) == pytest.approx(2 / 4)
    assert recall(predicted, truth) == pytest.approx(2 / 3)
    assert f1(predicted, truth) == pytest.approx(2 * 0.5 * (2 / 3) / (0.5 + 2 / 3))
    # Pairs of {1,2,3,4}: 6; interacting (1,2) and (3,4): DDI rate 2/6.
    edges = {(1, 2), (3, 4)}
    assert ddi_rate(predicted, lambda a, b: (a, b) in edges or (b, a) in edges) == pytest.approx(
        1 / 3
    )
    assert refusal_rate([3, None, 5, None]) == 0.5 and refusal_rate([]) == 0.0
    assert list_length([2, 2, 7]) == 2
    assert (
        jaccard(set(), set()) == 1.0 and precision(set(), {1}) == 0.0 and ddi_rate({1}, None) == 0.0
    )


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Metoprolol Succinate XL", "metoprolol"),
        ("HYDROmorphone (Dilaudid)", "hydromorphone"),
        ("Heparin Flush (10 units/ml)", "heparin"),
        ("Fentanyl Citrate", "fentanyl"),
        ("OxyCODONE (Immediate Release)", "oxycodone"),
        ("Acetaminophen IV", "acetaminophen"),
        ("Paracetamol 500mg tablet", "acetaminophen"),
        ("Levothyroxine Sodium", "levothyroxine"),
        ("Bag", None),
        ("Insulin", None),  # not in the reference: unmatched, never guessed
    ],
)
def test_tricky_drug_names_match_the_reference(name, expected):
    reference = frozenset({"metoprolol", "hydromorphone", "heparin", "fentanyl", "oxycodone",
                           "acetaminophen", "levothyroxine", "potassium chloride"})  # fmt: skip
    assert match_ingredient(ingredient_key(name), reference) == expected


def test_a_salt_that_is_the_ingredient_is_kept():
    reference = frozenset({"potassium chloride", "sodium"})
    assert (
        match_ingredient(ingredient_key("Potassium Chloride Replacement (Oral and IV)"), reference)
        == "potassium chloride"
    )


def test_mimic_iv_demo_visits_and_history(clinical):
    data = load_visits(clinical / "mimic-iv-demo-2.2")
    assert data.report["layout"] == "mimic-iv" and data.report["patients"] == 100
    assert data.report["visits"] == 250 and data.report["drugs"] == 200
    for index, visit in enumerate(data.visits):
        if visit.previous is not None:
            before = data.visits[visit.previous]
            assert (
                before.patient == visit.patient
                and before.time <= visit.time
                and visit.previous < index
            )
    assert data.drug_id("Heparin Flush (10 units/ml)") == data.drug_id("heparin") is not None


def test_the_same_loader_reads_mimic_iii_and_the_synthetic_set(clinical):
    iii = load_visits(clinical / "mimic-iii-demo-1.4")
    assert iii.report["layout"] == "mimic-iii" and iii.report["visits"] > 100
    synthetic = load_visits(clinical / "synthea-dbt-27pt")
    assert synthetic.report["layout"] == "synthea" and synthetic.report["patients"] == 19


def test_a_prescription_table_without_its_columns_is_one_error(clinical, tmp_path):
    folder = tmp_path / "synthea"
    shutil.copytree(clinical / "synthea-dbt-27pt", folder)
    meds = pd.read_csv(folder / "medications.csv").drop(columns=["DESCRIPTION"])
    meds.to_csv(folder / "medications.csv", index=False)
    with pytest.raises(DatasetError, match=r"medications\.csv lacks column\(s\) description"):
        load_visits(folder)


def test_interaction_graph_on_crescenddi(clinical):
    data = load_visits(clinical / "mimic-iv-demo-2.2")
    graph = build_interaction_graph(data.drugs, clinical / "crescenddi" / "positive_controls.csv")
    assert graph.report["reference_drugs"] == 454 and graph.report["edges"] > 0
    warfarin, aspirin = data.drug_id("warfarin"), data.drug_id("aspirin")
    assert graph.interacting(warfarin, aspirin)  # a listed bleeding interaction


def test_self_pairs_are_counted_and_dropped(tmp_path):
    table = tmp_path / "pairs.csv"
    table.write_text("DRUG_1_CONCEPT_NAME,DRUG_2_CONCEPT_NAME,EVENT_CONCEPT_NAME\n"
                     "warfarin,warfarin,x\nwarfarin,aspirin,Haemorrhage\nzzz,aspirin,y\n")  # fmt: skip
    graph = build_interaction_graph(("aspirin", "warfarin sodium"), table)
    assert graph.report["self_pairs_dropped"] == 1 and graph.report["pairs_outside_vocabulary"] == 1
    assert graph.interacting(0, 1) and graph.graph.number_of_edges() == 1


def test_no_patient_on_two_sides(clinical):
    data = load_visits(clinical / "mimic-iv-demo-2.2")
    train, valid, test = patient_split(data.visits, seed=3)
    sides = [{data.visits[i].patient for i in part} for part in (train, valid, test)]
    assert not (sides[0] & sides[1] or sides[0] & sides[2] or sides[1] & sides[2])
    assert len(train) + len(valid) + len(test) == len(data.visits)
    assert patient_split(data.visits, seed=3) == (train, valid, test)


def test_a_split_straddling_a_patient_is_refused():
    visits = [Visit("p1", "a", "1", (), (), (0,), None), Visit("p1", "b", "2", (), (), (0,), 0)]
    with pytest.raises(DatasetError, match="patient p1 has visits in two splits"):
        check_patient_disjoint(visits, [[0], [1], []])
    with pytest.raises(DatasetError, match="1 patient"):
        patient_split(visits)


def test_the_matcher_covers_more_prescriptions_than_plain_names(clinical):
    from recagora.item_space.clinical.drugs import name_coverage
    from recagora.item_space.clinical.interactions import read_pairs

    pairs, _ = read_pairs(clinical / "crescenddi" / "positive_controls.csv")
    reference = frozenset(pairs["a"]) | frozenset(pairs["b"])
    rx = pd.read_csv(
        clinical / "mimic-iv-demo-2.2" / "hosp" / "prescriptions.csv.gz", usecols=["drug"]
    )
    coverage = name_coverage(rx["drug"], reference)
    assert coverage["rows"] == 18_087
    assert coverage["matched"] > coverage["plain"] + 0.1  # measured: 0.371 vs 0.221 of all rows
