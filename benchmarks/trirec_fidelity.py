"""TriRec fidelity: the paper's protocol on Amazon CDs_and_Vinyl, promotions none vs personalized.

    .venv/bin/python benchmarks/trirec_fidelity.py [--users 500] [--llm-users 40] [--llm-user-rows]
    .venv/bin/python benchmarks/trirec_fidelity.py --llm-users 40 --rows llm,surrogate,none   # one row

Protocol (Gong et al. 2026, arXiv 2603.10673, sec. 4): each test user's candidates are
the held-out item + the 9 items SASRec (trained on the training split) ranks highest,
shuffled; the user agent scores them (Stage 1), the platform re-ranks them once
(Stage 2, paper weights); NDCG@5 of the held-out item and DGU over 8 popularity groups
are measured on the re-ranked lists. One round, seeded user sample, the same sample for
every row. Paper (gpt-4o-mini agents) on CDs: NDCG@5 0.4951, DGU 0.160.

Rows: the surrogate user with template item agents on `--users` users; then, on a
smaller seeded sample of `--llm-users`, the same and the surrogate user with SmolLM2
item agents writing every personalized promotion (mode none makes no LLM call: both item
agents show each item's catalog facts, so its row is the template one); with `--llm-user-rows`, SmolLM2 also plays the user (keyed score
replies, `llm_user.score_format=keyed`). Memory rewrites are off: one round cannot see
them.
"""

from __future__ import annotations

import argparse
import time

from recagora.environments.trirec.config import TrirecConfig
from recagora.experiments.runner.config import load_config
from recagora.experiments.runner.runner import start_run

PAPER = {"ndcg@5": 0.4951, "dgu": 0.160}
METRICS = ("ndcg@5", "stage1_ndcg@5", "ndcg@10", "dgu", "mgu", "evaluated_users")


def run_row(
    dataset: str, users: int, user: str, item: str, mode: str, llm: str, runs_dir: str
) -> dict:
    """One single-round episode; its overall metrics and wall time."""
    flags = {
        "dataset": dataset,
        "users": users,
        "rounds": 1,
        "llm": llm,
        "agents": f"user={user},item={item},platform=trirec",
    }
    # One round: memories rewritten after it cannot change this round's metrics.
    overrides = [
        "candidates.source=sasrec",
        f"item.mode={mode}",
        "item.buffer_size=0",
        "llm_user.reflect=false",
        "llm_user.score_format=keyed",  # SmolLM2 completes no list-form score reply
    ]
    config = load_config(TrirecConfig, None, flags, overrides)
    started = time.perf_counter()
    result = start_run(config, runs_dir=runs_dir)
    overall = result.summary["overall"]
    row = {"user agent": user, "item agent": item, "promotions": mode, "users": users}
    row |= {key: overall.get(key, float("nan")) for key in METRICS}
    row |= {"llm_requests": overall.get("llm_requests", 0), "wall_s": time.perf_counter() - started}
    return row | {"run": result.folder.name}


def print_table(rows: list[dict]) -> None:
    """A markdown table (pasted into the README as measured)."""
    keys = list(rows[0])
    print("| " + " | ".join(keys) + " |")
    print("|" + "---|" * len(keys))
    for row in rows:
        cells = [f"{v:.4f}" if isinstance(v, float) else str(v) for v in row.values()]
        print("| " + " | ".join(cells) + " |", flush=True)


def _row_plan(text: str, args: argparse.Namespace) -> tuple[str, str, int, str]:
    """ "user,item,mode" -> (user, item, users, mode); rows with an LLM role take --llm-users."""
    user, item, mode = text.split(",")
    return user, item, args.llm_users if "llm" in (user, item) else args.users, mode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="cds-vinyl")
    parser.add_argument("--users", type=int, default=500, help="Users in the surrogate rows.")
    parser.add_argument(
        "--llm-users", type=int, default=40, help="Users in the SmolLM2 rows (0 = skip)."
    )
    parser.add_argument(
        "--llm-user-rows",
        action="store_true",
        help="Also SmolLM2 as the user agent (keyed scores) on the --llm-users sample.",
    )
    parser.add_argument(
        "--rows",
        nargs="+",
        default=None,
        metavar="USER,ITEM,MODE",
        help="Only these rows, e.g. llm,surrogate,none (LLM rows use --llm-users users).",
    )
    parser.add_argument("--llm", default="llamacpp:smollm2")
    parser.add_argument("--runs-dir", default="bench-out/fidelity")
    args = parser.parse_args()
    rows = []
    # Mode none makes no LLM call (both item agents show the item's facts), so its LLM-item
    # row would equal the surrogate one.
    plan = [("surrogate", "surrogate", args.users, m) for m in ("none", "personalized")]
    if args.llm_users:
        plan += [("surrogate", "surrogate", args.llm_users, m) for m in ("none", "personalized")]
        plan += [("surrogate", "llm", args.llm_users, "personalized")]
    if args.llm_users and args.llm_user_rows:
        plan += [("llm", "surrogate", args.llm_users, "none")]
        plan += [("llm", "llm", args.llm_users, "personalized")]
    if args.rows:
        plan = [_row_plan(text, args) for text in args.rows]
    for user, item, users, mode in dict.fromkeys(plan):  # --users = --llm-users: rows once
        rows.append(run_row(args.dataset, users, user, item, mode, args.llm, args.runs_dir))
        print(rows[-1], flush=True)
    print_table(rows)
    print(f"paper (gpt-4o-mini, CDs_and_Vinyl): NDCG@5 {PAPER['ndcg@5']}, DGU {PAPER['dgu']}")


if __name__ == "__main__":
    from recagora.experiments.scripts import run_script

    run_script(main)
