"""What a grounded (MGFRec) run's reasoner did turn by turn, counted from its events.jsonl.

For every user the `grounded_turn` events of consecutive rounds are paired: a later turn
is a turn after the user's first one; it REPEATS when its text query equals the query of
the user's previous turn exactly (vector queries, which stand in for replies that named
nothing groundable, never count as repeats). Also counts answers before the last round,
failed replies (the surrogate's vector query stood in) and the median held-out rank per
round. Run on the run folder(s) `examples/grounded_loop.py` prints:

    .venv/bin/python benchmarks/grounded_turns.py runs/grounded-...
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from pathlib import Path

import numpy as np

from recagora.experiments.runner.events import read_events

VECTOR_QUERY = "(vector query)"


def turns_by_user(events_path: Path) -> dict[str, list[dict]]:
    """user -> its grounded_turn events, in round order."""
    turns: dict[str, list[dict]] = defaultdict(list)
    for event in read_events(events_path):
        if event.get("kind") == "grounded_turn":
            turns[event["user"]].append(event)
    return {user: sorted(rows, key=lambda e: e["round"]) for user, rows in turns.items()}


def repeat_counts(turns: dict[str, list[dict]]) -> tuple[int, int, int]:
    """(later turns, exact repeats of the previous query, case/space-insensitive repeats)."""
    later = exact = loose = 0
    for rows in turns.values():
        for before, now in zip(rows, rows[1:], strict=False):
            later += 1
            if VECTOR_QUERY in (before["query"], now["query"]):
                continue
            exact += now["query"] == before["query"]
            loose += _norm(now["query"]) == _norm(before["query"])
    return later, exact, loose


def _norm(text: str) -> str:
    return " ".join(text.lower().split())


def describe(folder: Path) -> None:
    turns = turns_by_user(folder / "events.jsonl")
    flat = [e for rows in turns.values() for e in rows]
    rounds = sorted({e["round"] for e in flat})
    later, exact, loose = repeat_counts(turns)
    early = sum(e["action"] == "answer" and e["round"] < rounds[-1] for e in flat)
    print(f"{folder.name}: {len(turns)} users, {len(flat)} turns over rounds {rounds}")
    print(f"  later turns {later}: same query as the user's previous turn {exact} exactly, "
          f"{loose} ignoring case and spaces")  # fmt: skip
    print(f"  answers before the last round {early}; failed replies (vector query stood in) "
          f"{sum(e['reply_failed'] for e in flat)} of {len(flat)}")  # fmt: skip
    medians = [np.median([e["target_rank"] for e in flat if e["round"] == r]) for r in rounds]
    print("  median held-out rank per round: " + ", ".join(f"{m:.0f}" for m in medians))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path, help="Grounded run folders.")
    for folder in parser.parse_args().runs:
        describe(folder)


if __name__ == "__main__":
    from recagora.experiments.scripts import run_script

    run_script(main)
