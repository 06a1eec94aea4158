"""Repeat counting of `benchmarks/grounded_turns.py` on a hand-written event log."""

import importlib.util
import json
import sys
from pathlib import Path

SCRIPT = Path(__file__).parents[2] / "benchmarks" / "grounded_turns.py"


def _load():
    spec = importlib.util.spec_from_file_location("grounded_turns", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _turn(user, round_, query, action="search"):
    return {"kind": "grounded_turn", "user": user, "round": round_, "query": query,
            "action": action, "reply_failed": query == "(vector query)", "target_rank": 7}  # fmt: skip


def test_repeats_count_only_text_queries_equal_to_the_users_previous_one(tmp_path):
    events = [
        _turn("a", 0, "Halo 3"), _turn("b", 0, "Zelda"), {"kind": "round_end", "round": 0},
        _turn("b", 1, "zelda "), _turn("a", 1, "Halo 3"), {"kind": "round_end", "round": 1},
        _turn("a", 2, "(vector query)"), _turn("b", 2, "Halo 3"),
        _turn("a", 3, "(vector query)"), _turn("b", 3, "Halo 3", "answer"),
    ]  # fmt: skip
    path = tmp_path / "events.jsonl"
    path.write_text("".join(json.dumps(e) + "\n" for e in events))
    module = _load()
    turns = module.turns_by_user(path)
    assert [e["round"] for e in turns["b"]] == [0, 1, 2, 3]
    # later turns: a1 (repeat), a2, a3 (vector: never), b1 (case only), b2, b3 (repeat)
    assert module.repeat_counts(turns) == (6, 2, 3)
