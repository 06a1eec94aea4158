"""The drug-drug interaction graph over a visit vocabulary, from a reference set (CRESCENDDI).

CRESCENDDI (Kontsioti et al., Sci Data 2022) lists clinically relevant adverse interactions
as pairs of RxNorm ingredient names (positive controls). Each vocabulary drug is matched to
a reference name (`drugs.match_ingredient`); two vocabulary drugs interact when their
reference names form a listed pair. The graph is a networkx Graph on drug ids, each edge
carrying the events it is listed for.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import networkx as nx
import pandas as pd

from recagora.item_space.clinical.drugs import match_ingredient
from recagora.item_space.errors import DatasetError

PAIR_COLUMNS = ("DRUG_1_CONCEPT_NAME", "DRUG_2_CONCEPT_NAME")


@dataclass(frozen=True)
class InteractionGraph:
    """`graph` on drug ids; `matched[i]` is drug i's reference name (None: not in the set)."""

    graph: nx.Graph
    matched: tuple[str | None, ...]
    report: dict

    def interacting(self, a: int, b: int) -> bool:
        return self.graph.has_edge(a, b)


def read_pairs(path: str | Path) -> tuple[pd.DataFrame, dict]:
    """Lower-cased (drug_1, drug_2, event) rows; self-pairs are dirty data: counted and dropped."""
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"interaction table not found: {path}")
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = [c for c in PAIR_COLUMNS if c not in frame.columns]
    if missing:
        raise DatasetError(
            f"{path.name} lacks column(s) {', '.join(missing)} (a CRESCENDDI table has {', '.join(PAIR_COLUMNS)})"
        )
    pairs = pd.DataFrame({
        "a": frame[PAIR_COLUMNS[0]].str.strip().str.lower(),
        "b": frame[PAIR_COLUMNS[1]].str.strip().str.lower(),
        "event": frame.get("EVENT_CONCEPT_NAME", pd.Series([""] * len(frame))),
    })  # fmt: skip
    empty = (pairs["a"] == "") | (pairs["b"] == "")
    self_pairs = pairs["a"] == pairs["b"]
    report = {"rows": int(len(pairs)), "self_pairs_dropped": int((self_pairs & ~empty).sum()),
              "empty_names_dropped": int(empty.sum())}  # fmt: skip
    return pairs[~empty & ~self_pairs], report


def build_interaction_graph(drugs: tuple[str, ...], pairs_path: str | Path) -> InteractionGraph:
    """Match `drugs` (ingredient keys) to the reference names and link the listed pairs."""
    pairs, report = read_pairs(pairs_path)
    reference = frozenset(pairs["a"]) | frozenset(pairs["b"])
    matched = tuple(match_ingredient(name, reference) for name in drugs)
    ids: dict[str, list[int]] = {}
    for i, name in enumerate(matched):
        if name is not None:
            ids.setdefault(name, []).append(i)
    graph = nx.Graph()
    graph.add_nodes_from(range(len(drugs)))
    unknown = 0
    for a, b, event in pairs.itertuples(index=False):
        if a not in ids or b not in ids:
            unknown += 1  # a pair naming a drug no visit received: not an error
            continue
        for i in ids[a]:
            for j in ids[b]:
                if i != j:
                    events = graph.edges[i, j]["events"] if graph.has_edge(i, j) else set()
                    graph.add_edge(i, j, events=events | {event})
    report |= {
        "reference_drugs": len(reference),
        "vocabulary_matched": sum(m is not None for m in matched),
        "vocabulary": len(drugs),
        "pairs_outside_vocabulary": unknown,
        "edges": graph.number_of_edges(),
    }
    return InteractionGraph(graph, matched, report)
