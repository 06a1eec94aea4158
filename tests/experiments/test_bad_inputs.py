"""Bad-input corpus: every command refuses bad input with ONE line, exit 2, and no trace.

Each case is a command line (plus, for some, bad files written before it runs). The
contract checked for every case (the one-line error promise of README.md "Commands"):

- exit code 2 (a `RecAgoraError` or a usage error), or the documented code;
- stderr is exactly one non-empty line, starting with ``error:``, printed without
  Rich markup interpretation (square brackets reach the user);
- no ``Traceback`` anywhere;
- nothing new under the test's folder (no empty ``runs/``, no cache, no half run
  folder) and no input file changed: bad input is refused before any work.

Most cases run in-process through `main(argv)` (one interpreter: the corpus takes
seconds, not minutes); `SUBPROCESS_CASES` run the real console script, so the
entry point, the exit status and a fresh interpreter's imports are covered too.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from recagora.experiments.cli.main import main

# A case that needs longer than this did real work (a dataset parse, a model load)
# before refusing: generous, as the machine running the suite may be loaded.
SLOW_CASE_S = 20.0

Setup = Callable[[Path], None]


@dataclass(frozen=True)
class Case:
    """One bad command line. `{in}` in argv is the inputs folder that `setup` fills;
    `{ro}` a folder that refuses writes."""

    id: str
    argv: tuple[str, ...]
    setup: Setup | None = None
    says: str = ""  # a fragment the one-line message must hold
    code: int = 2
    # The parsed-dataset cache may appear: the bound needs the dataset's size, and the
    # cache is what any valid run of the same dataset writes too.
    dataset_cache_ok: bool = False


# ---- inputs: bad files, fake run folders, fake checkpoints ---------------------------


def text_file(name: str, content: str | bytes) -> Setup:
    def write(inputs: Path) -> None:
        path = inputs / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)

    return write


def chain(*steps: Setup) -> Setup:
    def run_all(inputs: Path) -> None:
        for step in steps:
            step(inputs)

    return run_all


BINARY = bytes(range(256)) * 4
GOOD_MANIFEST = {"status": "finished", "seed": 0, "git_commit": "abc", "command_line": "x"}
GOOD_CONFIG = "scenario: trirec\nllm: 'fake:'\nusers: 2\nrounds: 1\n"
GOOD_EVENTS = '{"seq": 0, "kind": "run_started"}\n{"seq": 1, "kind": "run_finished"}\n'
# A bad line with a good one after it: not a torn last line (which a kill leaves and the
# log repairs), but damage in the middle that must be reported.
BROKEN_EVENTS = '{"seq": 0, "kind": "run_started"}\n{oops\n{"seq": 2, "kind": "run_finished"}\n'
LIST_EVENTS = '{"seq": 0, "kind": "run_started"}\n[1, 2]\n{"seq": 2, "kind": "run_finished"}\n'


def run_folder(
    name: str = "trirec-1",
    manifest: str | bytes | None = None,
    config: str | bytes | None = GOOD_CONFIG,
    events: str | bytes | None = GOOD_EVENTS,
    summary: str | bytes | None = None,
) -> Setup:
    """A run folder under inputs/runs/NAME (the runs root given with --runs-dir)."""
    files = {
        "manifest.json": json.dumps(GOOD_MANIFEST) if manifest is None else manifest,
        "config.yaml": config,
        "events.jsonl": events,
        "summary.json": summary,
    }
    return chain(
        *(
            text_file(f"runs/{name}/{file}", body)
            for file, body in files.items()
            if body is not None
        )
    )


def checkpoint(
    policy: str | bytes | None = None,
    weights: bytes = b"\x08\x00\x00\x00\x00\x00\x00\x00{}      ",
    tokenizer: str | bytes | None = '{"model": {}}',
) -> Setup:
    """A run folder from `recagora train` at inputs/ckpt (checkpoint/ inside)."""
    manifest = {
        "method": "sft",
        "step": 1,
        "catalog": "video-games",
        "n_items": 50,
        "fingerprint": "0" * 16,
        "item_kind": "title",
        "config": {"output_dir": "x", "max_steps": 1},
    }
    files = {
        "policy.json": json.dumps(manifest) if policy is None else policy,
        "weights.safetensors": weights,
        "tokenizer.json": tokenizer,
    }
    return chain(
        *(text_file(f"ckpt/checkpoint/{f}", body) for f, body in files.items() if body is not None)
    )


def read_only_dir(inputs: Path) -> None:
    """inputs/ro without write permission (see `_read_only_root`)."""
    (inputs / "ro").mkdir()
    (inputs / "ro").chmod(0o555)


def _read_only_root(inputs: Path) -> str:
    """A folder that refuses new entries: inputs/ro, or, for root (whom permissions do not
    stop), a folder of sysfs, which refuses every mkdir."""
    return "/sys/fs" if os.geteuid() == 0 else str(inputs / "ro")


# ---- the corpus -----------------------------------------------------------------------

RUNS = ("--runs-dir", "{in}/runs")
YAML = ("--config", "{in}/c.yaml")


def _usage_cases() -> list[Case]:
    lines = [
        ("unknown-command", ["nosuch"], "No such command"),
        ("unknown-global-option", ["--nosuch"], "No such option"),
        ("data-unknown-sub", ["data", "nosuch"], "No such command"),
        ("runs-unknown-sub", ["runs", "nosuch"], "No such command"),
        ("llm-unknown-sub", ["llm", "nosuch"], "No such command"),
        ("papereval-unknown-sub", ["papereval", "nosuch"], "No such command"),
        ("run-users-not-int", ["run", "trirec", "--users", "abc"], "--users"),
        ("run-rounds-float", ["run", "trirec", "--rounds", "1.5"], "--rounds"),
        ("run-seed-not-int", ["run", "trirec", "--seed", "x"], "--seed"),
        ("run-unknown-flag", ["run", "trirec", "--userz", "3"], "No such option"),
        ("run-set-without-value", ["run", "trirec", "--set"], "--set"),
        ("evaluate-no-checkpoint", ["evaluate"], "Missing argument"),
        ("evaluate-beams-not-int", ["evaluate", "x", "--num-beams", "abc"], "--num-beams"),
        ("evaluate-samples-not-int", ["evaluate", "x", "--max-samples", "a"], "--max-samples"),
        ("ground-no-args", ["ground"], "Missing argument"),
        ("ground-no-text", ["ground", "ml-100k"], "Missing argument"),
        ("ground-k-not-int", ["ground", "ml-100k", "x", "-k", "abc"], "-k"),
        (
            "ground-min-score-not-float",
            ["ground", "ml-100k", "x", "--min-score", "hi"],
            "min-score",
        ),
        ("replay-no-run", ["replay"], "Missing argument"),
        ("replay-round-not-int", ["replay", "x", "--round", "one"], "--round"),
        ("train-no-method", ["train"], "Missing argument"),
        ("demo-users-not-int", ["demo", "--users", "x"], "--users"),
        ("demo-unknown-flag", ["demo", "--population", "5"], "No such option"),
        ("runs-show-no-run", ["runs", "show"], "Missing argument"),
        ("data-show-no-name", ["data", "show"], "Missing argument"),
        ("llm-bench-requests-not-int", ["llm", "bench", "--requests", "x"], "--requests"),
        ("llm-check-timeout-not-float", ["llm", "check", "--timeout", "x"], "--timeout"),
        ("scorer-references-not-int", ["papereval", "train-scorer", "--references", "x"], "refer"),
        ("version-extra-arg", ["version", "extra"], "unexpected extra argument"),
    ]
    return [Case(f"usage/{i}", tuple(a), says=s) for i, a, s in lines]


def _data_cases() -> list[Case]:
    return [
        Case("data/unknown-name", ("data", "show", "nosuch-dataset"), says="nosuch-dataset"),
        Case("data/close-name", ("data", "show", "ml100k"), says="ml-100k"),
        Case("data/missing-path", ("data", "show", "/nonexistent/ratings.csv")),
        Case("data/empty-folder", ("data", "show", "{in}/empty"), text_file("empty/.keep", "")),
        Case("data/binary-file", ("data", "show", "{in}/x.csv"), text_file("x.csv", BINARY)),
        Case("data/unknown-format", ("data", "show", "ml-100k", "--format", "nosuch"), says="format"),
        Case("data/unknown-protocol", ("data", "show", "ml-100k", "--protocol", "nosuch"), says="protocol"),
        Case("data/max-history-zero", ("data", "show", "ml-100k", "--max-history", "0"), says="max-history"),
        Case("data/max-history-negative", ("data", "show", "ml-100k", "--max-history", "-5"), says="max-history"),
        Case("data/out-is-a-file", ("data", "show", "ml-100k", "--out", "{in}/f"), text_file("f", "x"), says="--out"),
        Case("data/out-under-proc", ("data", "show", "ml-100k", "--out", "/proc/recagora/x"), says="--out"),
        Case("data/out-read-only", ("data", "show", "ml-100k", "--out", "{ro}/x"), read_only_dir, says="--out"),
    ]  # fmt: skip


def _ground_cases() -> list[Case]:
    base = ("ground", "ml-100k", "space adventure")
    return [
        Case("ground/unknown-dataset", ("ground", "nosuch", "space")),
        Case("ground/empty-text", ("ground", "ml-100k", ""), says="empty"),
        Case("ground/blank-text", ("ground", "ml-100k", "   "), says="empty"),
        Case("ground/k-zero", (*base, "-k", "0"), says="-k"),
        Case("ground/k-negative", (*base, "-k", "-3"), says="-k"),
        Case("ground/k-huge", (*base, "-k", "10000000000"), says="-k"),
        Case("ground/unknown-index", (*base, "--index", "nosuch"), says="nosuch"),
        Case("ground/min-score-over-one", (*base, "--min-score", "2"), says="min-score"),
        Case("ground/min-score-under-minus-one", (*base, "--min-score", "-5"), says="min-score"),
        Case("ground/min-score-nan", (*base, "--min-score", "nan"), says="min-score"),
    ]


def _llm_cases() -> list[Case]:
    return [
        Case("llm/unknown-backend", ("llm", "check", "--llm", "nosuch:model"), says="nosuch"),
        Case("llm/no-prefix", ("llm", "check", "--llm", "garbage"), says="prefix"),
        Case("llm/empty-spec", ("llm", "check", "--llm", ""), says="spec"),
        Case("llm/missing-gguf", ("llm", "check", "--llm", "llamacpp:/nonexistent/m.gguf")),
        Case("llm/openai-no-model", ("llm", "check", "--llm", "openai:"), says="model"),
        Case("llm/openai-no-key", ("llm", "check", "--llm", "openai:gpt-4o-mini"), says="OPENAI_API_KEY"),
        Case("llm/vllm-hint-keeps-brackets", ("llm", "check", "--llm", "vllm:org/model"), says="recagora["),
        Case("llm/timeout-zero", ("llm", "check", "--llm", "fake:", "--timeout", "0"), says="timeout"),
        Case("llm/timeout-negative", ("llm", "check", "--llm", "fake:", "--timeout", "-1"), says="timeout"),
        Case("llm/bench-concurrency-zero", ("llm", "bench", "--llm", "fake:", "--concurrency", "0"), says="concurrency"),
        Case("llm/bench-concurrency-words", ("llm", "bench", "--llm", "fake:", "--concurrency", "a,b"), says="concurrency"),
        Case("llm/bench-concurrency-huge", ("llm", "bench", "--llm", "fake:", "--concurrency", "100000000"), says="concurrency"),
        Case("llm/bench-requests-zero", ("llm", "bench", "--llm", "fake:", "--requests", "0"), says="requests"),
        Case("llm/bench-max-tokens-zero", ("llm", "bench", "--llm", "fake:", "--max-tokens", "0"), says="max-tokens"),
    ]  # fmt: skip


def _runs_cases() -> list[Case]:
    show = ("runs", "show", "trirec-1", *RUNS)
    return [
        Case("runs/show-unknown", ("runs", "show", "nosuch", *RUNS), says="nosuch"),
        Case("runs/show-empty-name", ("runs", "show", "", *RUNS)),
        Case("runs/show-folder-without-manifest", ("runs", "show", "{in}/plain"), text_file("plain/x", "1")),
        Case("runs/list-root-is-file", ("runs", "list", "--runs-dir", "{in}/f"), text_file("f", "x"), says="runs"),
        Case("runs/show-root-is-file", ("runs", "show", "x", "--runs-dir", "{in}/f"), text_file("f", "x")),
        Case("runs/show-corrupt-manifest", show, run_folder(manifest="{not json"), says="manifest.json"),
        Case("runs/show-binary-manifest", show, run_folder(manifest=BINARY), says="manifest.json"),
        Case("runs/show-manifest-is-list", show, run_folder(manifest="[1, 2]"), says="manifest.json"),
        Case("runs/show-empty-manifest", show, run_folder(manifest=""), says="manifest.json"),
        Case("runs/show-corrupt-events", show, run_folder(events=BROKEN_EVENTS), says="events.jsonl"),
        Case("runs/show-binary-events", show, run_folder(events=BINARY), says="events.jsonl"),
        Case("runs/show-events-not-objects", show, run_folder(events=LIST_EVENTS), says="events.jsonl"),
        Case("runs/fields-unknown-scenario", ("runs", "fields", "nosuch"), says="nosuch"),
        Case("runs/fields-close-scenario", ("runs", "fields", "trirek"), says="trirec"),
        Case("runs/fields-empty-scenario", ("runs", "fields", "")),
    ]  # fmt: skip


def _papereval_cases() -> list[Case]:
    scorer = ("papereval", "train-scorer")
    return [
        Case("papereval/papers-missing-folder", ("papereval", "papers", "--data", "/nonexistent/x")),
        Case("papereval/papers-empty-folder", ("papereval", "papers", "--data", "{in}/e"), text_file("e/.keep", "")),
        Case("papereval/papers-data-is-file", ("papereval", "papers", "--data", "{in}/f"), text_file("f", "x")),
        Case("papereval/scorer-unknown-loss", (*scorer, "--loss", "nosuch"), says="loss"),
        Case("papereval/scorer-close-loss", (*scorer, "--loss", "listmlee"), says="listmle"),
        Case("papereval/scorer-unknown-backbone", (*scorer, "--backbone", "no/such-model"), says="backbone"),
        Case("papereval/scorer-references-negative", (*scorer, "--references", "-1"), says="references"),
        Case("papereval/scorer-references-huge", (*scorer, "--references", "1000000000"), says="references"),
        Case("papereval/scorer-seed-negative", (*scorer, "--seed", "-1"), says="seed"),
        Case("papereval/scorer-unknown-set", (*scorer, "--set", "epochz=3"), says="epochs"),
        Case("papereval/scorer-set-wrong-type", (*scorer, "--set", "epochs=many"), says="epochs"),
        Case("papereval/scorer-set-negative-epochs", (*scorer, "--set", "epochs=-1"), says="epochs"),
        Case("papereval/scorer-data-missing", (*scorer, "--data", "/nonexistent/x")),
        Case("papereval/scorer-out-is-file", (*scorer, "--out", "{in}/f"), text_file("f", "x"), says="--out"),
        Case("papereval/scorer-out-under-proc", (*scorer, "--out", "/proc/recagora/x"), says="--out"),
    ]  # fmt: skip


def _yaml_cases(prefix: str, argv: tuple[str, ...], section: str, int_key: str) -> list[Case]:
    """Bad --config files for a command taking one (run trirec, train sft)."""
    bad = [
        ("missing-file", None, "does not exist"),
        ("binary", BINARY, "not text"),
        ("malformed", f"{int_key}: [1,\n", "not valid YAML"),
        ("tabs", f"a:\n\t{int_key}: 1\n", "not valid YAML"),
        ("top-level-list", "- 1\n- 2\n", "mapping"),
        ("top-level-scalar", "5\n", "mapping"),
        ("section-is-int", f"{section}: 5\n", "is a section"),
        ("section-is-list", f"{section}: [1, 2]\n", "is a section"),
        ("section-is-string", f"{section}: fast\n", "is a section"),
        ("section-is-null", f"{section}: null\n", "is a section"),
        ("unknown-key", "nosuch_key: 1\n", "unknown config key"),
        ("unknown-nested-key", f"{section}:\n  nosuch_key: 1\n", "unknown config key"),
        ("wrong-type", f"{int_key}: abc\n", "expects int"),
        ("bool-for-int", f"{int_key}: true\n", "expects int"),
        ("list-for-int", f"{int_key}: [1, 2]\n", "expects int"),
        ("map-for-int", f"{int_key}:\n  a: 1\n", "expects int"),
        ("non-text-key", "1: 2\n", "not a name"),
        ("python-tag", "a: !!python/object/apply:os.system ['true']\n", "not valid YAML"),
        ("alias-bomb", _alias_bomb(), "unknown config key"),
        ("directory", "DIR", "does not exist"),
    ]
    cases = []
    for name, content, says in bad:
        setup = None
        if content == "DIR":
            setup = text_file("c.yaml/inner", "x")
        elif content is not None:
            setup = text_file("c.yaml", content)
        cases.append(Case(f"{prefix}/yaml-{name}", (*argv, *YAML), setup, says=says))
    return cases


def _alias_bomb() -> str:
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, 9):
        prev = chr(ord("a") + level - 1)
        lines.append(
            f"{chr(ord('a') + level)}: &{chr(ord('a') + level)} [{', '.join(['*' + prev] * 9)}]"
        )
    return "\n".join(lines) + "\n"


def _run_cases() -> list[Case]:
    trirec = ("run", "trirec", *RUNS)
    sets = [
        ("no-equals", "users", "key=value"),
        ("empty-key", "=5", "key=value"),
        ("unknown", "nosuch=1", "unknown config key"),
        ("close", "userz=3", "users"),
        ("wrong-type", "users=abc", "expects int"),
        ("users-zero", "users=0", "users"),
        ("users-negative", "users=-1", "users"),
        ("rounds-zero", "rounds=0", "rounds"),
        ("seed-negative", "seed=-1", "seed"),
        ("section-scalar", "platform=5", "is a section"),
        ("nested-unknown", "platform.nosuch=1", "unknown config key"),
        ("value-as-section", "users.x=1", "not a section"),
        ("list-for-int", "users=[1,2]", "expects int"),
        ("empty-llm", "llm=", "spec"),
        ("n-candidates-one", "platform.n_candidates=1", "n_candidates"),
        ("n-candidates-huge", "platform.n_candidates=1000", "n_candidates"),
        ("unknown-source", "candidates.source=nosuch", "candidates.source"),
        ("sasrec-epochs-zero", "candidates.sasrec_epochs=0", "sasrec_epochs"),
        ("unknown-item-mode", "item.mode=nosuch", "mode"),
        ("unknown-agent-kind", "agents=user=nosuch", "nosuch"),
        ("population-huge", "population=1000000000", "population"),
    ]
    flags = [
        ("users-zero", ("--users", "0"), "users"),
        ("users-negative", ("--users", "-5"), "users"),
        ("population-zero", ("--population", "0"), "population"),
        ("population-negative", ("--population", "-1"), "population"),
        ("population-huge", ("--population", "1000000000"), "population"),
        ("rounds-zero", ("--rounds", "0"), "rounds"),
        ("rounds-negative", ("--rounds", "-1"), "rounds"),
        ("seed-negative", ("--seed", "-1"), "seed"),
        ("unknown-dataset", ("--dataset", "nosuch"), "nosuch"),
        ("missing-dataset-path", ("--dataset", "/nonexistent/ratings.csv"), ""),
        ("unknown-llm-backend", ("--llm", "nosuch:x"), "nosuch"),
        ("llm-without-prefix", ("--llm", "smollm2"), "prefix"),
        ("unknown-candidates", ("--candidates", "nosuch"), "candidates"),
        ("unknown-role", ("--agents", "nosuch=llm"), "nosuch"),
        ("unknown-role-kind", ("--agents", "user=nosuch"), "nosuch"),
    ]
    return [
        Case("run/no-scenario", ("run", *RUNS), says="scenario"),
        Case("run/unknown-scenario", ("run", "nosuch", *RUNS), says="nosuch"),
        Case("run/close-scenario", ("run", "trirek", *RUNS), says="trirec"),
        *(Case(f"run/set-{n}", (*trirec, "--set", s), says=w) for n, s, w in sets),
        *(Case(f"run/flag-{n}", (*trirec, *f), says=w) for n, f, w in flags),
        *_yaml_cases("run", trirec, "platform", "users"),
        Case("run/runs-dir-is-file", ("run", "trirec", "--runs-dir", "{in}/f"), text_file("f", "x")),
        Case("run/runs-dir-under-proc", ("run", "trirec", "--runs-dir", "/proc/recagora/runs")),
        Case("run/runs-dir-read-only", ("run", "trirec", "--runs-dir", "{ro}/runs"), read_only_dir),
        Case("run/grounded-users-zero", ("run", "grounded", *RUNS, "--set", "users=0"), says="users"),
        Case("run/grounded-unknown-role", ("run", "grounded", *RUNS, "--agents", "reasonr=llm"), says="reasoner"),
        Case("run/grounded-ground-k-zero", ("run", "grounded", *RUNS, "--set", "ground_k=0"), says="ground_k"),
        Case("run/grounded-unknown-split", ("run", "grounded", *RUNS, "--set", "split=nosuch"), says="split"),
        Case("run/grounded-population", ("run", "grounded", *RUNS, "--population", "5"), says="population"),
        Case("run/papereval-top-k-zero", ("run", "papereval", *RUNS, "--set", "top_k=0"), says="top_k"),
        Case("run/papereval-scorer-no-path", ("run", "papereval", *RUNS, "--agents", "evaluator=scorer"), says="scorer_path"),
        Case("run/papereval-scorer-missing-file", ("run", "papereval", *RUNS, "--agents", "evaluator=scorer", "--set", "scorer_path=/nonexistent/s.pt"), says="s.pt"),
        Case("run/papereval-papers-negative", ("run", "papereval", *RUNS, "--set", "papers=-1"), says="papers"),
        Case("run/papereval-data-missing", ("run", "papereval", *RUNS, "--set", "data=/nonexistent/x")),
        Case("run/papereval-users-flag", ("run", "papereval", *RUNS, "--users", "5"), says="users"),
    ]  # fmt: skip


def _resume_cases() -> list[Case]:
    resume = ("run", "--resume", "trirec-1", *RUNS)
    return [
        Case("resume/unknown-run", ("run", "--resume", "nosuch", *RUNS), says="nosuch"),
        Case("resume/with-scenario", ("run", "trirec", "--resume", "x", *RUNS), says="--resume"),
        Case("resume/with-flags", ("run", "--resume", "x", "--users", "3", *RUNS), says="--resume"),
        Case("resume/with-set", ("run", "--resume", "x", "--set", "users=3", *RUNS), says="--resume"),
        Case("resume/corrupt-config", resume, run_folder(config="users: [1,\n"), says="config.yaml"),
        Case("resume/binary-config", resume, run_folder(config=BINARY), says="config.yaml"),
        Case("resume/config-is-list", resume, run_folder(config="- 1\n"), says="config.yaml"),
        Case("resume/config-missing", resume, run_folder(config=None), says="config.yaml"),
        Case("resume/config-unknown-scenario", resume, run_folder(config="scenario: nosuch\n"), says="nosuch"),
        Case("resume/config-bad-value", resume, run_folder(config=GOOD_CONFIG + "platform: 5\n"), says="platform"),
        Case("resume/corrupt-manifest", resume, run_folder(manifest="{oops"), says="manifest.json"),
        Case("resume/corrupt-events-middle", resume, run_folder(events='{"seq": 0, "kind": "run_started"}\n{oops\n{"seq": 2, "kind": "x"}\n'), says="events.jsonl"),
        Case("resume/binary-events", resume, run_folder(events=BINARY), says="events.jsonl"),
        Case("resume/root-is-file", ("run", "--resume", "x", "--runs-dir", "{in}/f"), text_file("f", "x")),
    ]  # fmt: skip


def _replay_cases() -> list[Case]:
    replay = ("replay", "trirec-1", "--no-pause", *RUNS)
    return [
        Case("replay/unknown-run", ("replay", "nosuch", *RUNS), says="nosuch"),
        Case("replay/corrupt-events", replay, run_folder(events=BROKEN_EVENTS), says="events.jsonl"),
        Case("replay/binary-events", replay, run_folder(events=BINARY), says="events.jsonl"),
        Case("replay/events-not-objects", replay, run_folder(events=LIST_EVENTS), says="events.jsonl"),
        Case("replay/events-missing", replay, run_folder(events=None), says="events.jsonl"),
        Case("replay/events-is-a-folder", replay, chain(run_folder(events=None), text_file("runs/trirec-1/events.jsonl/x", "1")), says="events.jsonl"),
        Case("replay/round-zero", (*replay, "--round", "0"), run_folder(), says="--round"),
        Case("replay/round-negative", (*replay, "--round", "-2"), run_folder(), says="--round"),
        Case("replay/root-is-file", ("replay", "x", "--runs-dir", "{in}/f"), text_file("f", "x")),
    ]  # fmt: skip


def _demo_cases() -> list[Case]:
    return [
        Case("demo/users-zero", ("demo", "--users", "0", *RUNS), says="users"),
        Case("demo/users-negative", ("demo", "--users", "-1", *RUNS), says="users"),
        Case("demo/rounds-zero", ("demo", "--rounds", "0", *RUNS), says="rounds"),
        Case("demo/unknown-llm", ("demo", "--llm", "nosuch:x", *RUNS), says="nosuch"),
        Case("demo/runs-dir-is-file", ("demo", "--runs-dir", "{in}/f"), text_file("f", "x")),
        Case("demo/runs-dir-under-proc", ("demo", "--runs-dir", "/proc/recagora/runs")),
    ]


def _train_cases() -> list[Case]:
    sft = ("train", "sft", "--output-dir", "{in}/out")
    flower = ("train", "flower", "--output-dir", "{in}/ckpt")
    sets = [
        ("unknown", "nosuch=1", "unknown config key"),
        ("max-steps-zero", "max_steps=0", "max_steps"),
        ("max-steps-negative", "max_steps=-1", "max_steps"),
        ("batch-size-zero", "batch_size=0", "batch_size"),
        ("micro-batch-zero", "micro_batch_size=0", "micro_batch_size"),
        ("batch-not-multiple", "batch_size=10", "multiple"),
        ("lr-not-number", "learning_rate=abc", "learning_rate"),
        ("section-scalar", "backbone=5", "is a section"),
        ("nested-unknown", "prompt.nosuch=1", "unknown config key"),
        ("unknown-backbone", "backbone.name=nosuch", "nosuch"),
        ("unknown-device", "device=nosuch", "device"),
    ]
    return [
        Case("train/unknown-method", ("train", "nosuch"), says="nosuch"),
        Case("train/close-method", ("train", "sftt"), says="sft"),
        *(Case(f"train/set-{n}", (*sft, "--set", s), says=w) for n, s, w in sets),
        *_yaml_cases("train", sft, "backbone", "max_steps"),
        Case("train/set-batch-size-huge", (*sft, "--set", "batch_size=100000000000"), says="batch_size", dataset_cache_ok=True),
        Case("train/missing-backbone-folder", (*sft, "--backbone", "/nonexistent/model"), says="backbone"),
        Case("train/unknown-dataset", (*sft, "--dataset", "nosuch"), says="nosuch"),
        Case("train/unknown-split", (*sft, "--split", "nosuch"), says="split"),
        Case("train/output-is-file", ("train", "sft", "--output-dir", "{in}/f"), text_file("f", "x"), says="output"),
        Case("train/output-under-proc", ("train", "sft", "--output-dir", "/proc/recagora/x"), says="output"),
        Case("train/output-read-only", ("train", "sft", "--output-dir", "{ro}/x"), read_only_dir, says="output"),
        Case("train/flower-theta-over-one", ("train", "flower", "--output-dir", "{in}/o", "--set", "theta=2"), says="theta"),
        Case("train/flower-unknown-reward", ("train", "flower", "--output-dir", "{in}/o", "--set", "reward=nosuch"), says="reward"),
        Case("train/flower-smoothing-zero", ("train", "flower", "--output-dir", "{in}/o", "--set", "reward_smoothing=0"), says="reward_smoothing"),
        Case("train/flower-into-sft-checkpoint", flower, checkpoint(), says="sft"),
        Case("train/into-corrupt-checkpoint", ("train", "sft", "--output-dir", "{in}/ckpt"), checkpoint(policy="{oops"), says="policy.json"),
        Case("train/scorer-unknown-set", ("train", "papereval-scorer", "--set", "nosuch=1"), says="nosuch"),
        Case("train/scorer-unknown-backbone", ("train", "papereval-scorer", "--backbone", "no/such-model"), says="backbone"),
    ]  # fmt: skip


def _evaluate_cases() -> list[Case]:
    ev = ("evaluate", "{in}/ckpt")
    policy = json.loads(_policy_text())
    return [
        Case("evaluate/missing-folder", ("evaluate", "/nonexistent/run"), says="not a checkpoint"),
        Case("evaluate/empty-folder", ("evaluate", "{in}/e"), text_file("e/.keep", ""), says="not a checkpoint"),
        Case("evaluate/a-file", ("evaluate", "{in}/f"), text_file("f", "x"), says="not a checkpoint"),
        Case("evaluate/corrupt-policy", ev, checkpoint(policy="{oops"), says="policy.json"),
        Case("evaluate/binary-policy", ev, checkpoint(policy=BINARY), says="policy.json"),
        Case("evaluate/policy-is-list", ev, checkpoint(policy="[1]"), says="policy.json"),
        Case("evaluate/policy-missing-keys", ev, checkpoint(policy='{"method": "sft"}'), says="policy.json"),
        Case("evaluate/policy-bad-config", ev, checkpoint(policy=json.dumps({**policy, "config": {"backbone": 5}})), says="backbone"),
        Case("evaluate/policy-unknown-method", ev, checkpoint(policy=json.dumps({**policy, "method": "nosuch"})), says="nosuch"),
        Case("evaluate/corrupt-weights", ev, checkpoint(weights=b"garbage"), says="weights.safetensors"),
        Case("evaluate/empty-weights", ev, checkpoint(weights=b""), says="weights.safetensors"),
        Case("evaluate/missing-weights", ev, checkpoint(weights=None), says="weights.safetensors"),
        Case("evaluate/corrupt-tokenizer", ev, checkpoint(tokenizer="{oops"), says="tokenizer.json"),
        Case("evaluate/num-beams-zero", (*ev, "--num-beams", "0"), checkpoint(), says="--num-beams"),
        Case("evaluate/num-beams-negative", (*ev, "--num-beams", "-1"), checkpoint(), says="--num-beams"),
        Case("evaluate/num-beams-huge", (*ev, "--num-beams", "1000000000"), checkpoint(), says="--num-beams"),
        Case("evaluate/max-samples-negative", (*ev, "--max-samples", "-3"), checkpoint(), says="--max-samples"),
        Case("evaluate/seed-negative", (*ev, "--seed", "-1"), checkpoint(), says="--seed"),
        Case("evaluate/unknown-split", (*ev, "--split", "nosuch"), checkpoint(), says="split"),
        Case("evaluate/unknown-dataset", (*ev, "--dataset", "nosuch"), checkpoint(), says="nosuch"),
        Case("evaluate/out-is-dir", (*ev, "--out", "{in}/d"), chain(checkpoint(), text_file("d/x", "1")), says="--out"),
        Case("evaluate/out-under-proc", (*ev, "--out", "/proc/recagora/r.json"), checkpoint(), says="--out"),
    ]  # fmt: skip


def _policy_text() -> str:
    return json.dumps(
        {"method": "sft", "step": 1, "catalog": "video-games", "n_items": 50,
         "fingerprint": "0" * 16, "item_kind": "title", "config": {"max_steps": 1}}
    )  # fmt: skip


def _markup_cases() -> list[Case]:
    """Rich would eat `[bold]` as a style tag; the user must see what they typed."""
    return [
        Case("markup/scenario-name", ("run", "[bold]nosuch", *RUNS), says="[bold]nosuch"),
        Case("markup/train-method", ("train", "[red]x"), says="[red]x"),
        Case("markup/run-name", ("runs", "show", "[link=x]y", *RUNS), says="[link=x]y"),
        Case("markup/set-key", ("run", "trirec", *RUNS, "--set", "[i]=1"), says="[i]"),
    ]


def _sharding_cases() -> list[Case]:
    trirec = ("run", "trirec", *RUNS)
    surrogate = (*trirec, "--agents", "user=surrogate,item=surrogate")
    unreachable = ("--executor", "ray", "--ray-address", "127.0.0.1:1")
    return [
        Case("run/shards-over-cohort", (*surrogate, "--users", "3", "--shards", "4"), says="exceeds the cohort"),
        Case("run/shards-negative", (*surrogate, "--shards", "-1"), says="execution.shards"),
        Case("run/shards-llm-role", (*trirec, "--shards", "2"), says="LLM role"),
        Case("run/unknown-executor", (*surrogate, "--shards", "2", "--executor", "spark"), says="executor"),
        Case("run/ray-unreachable", (*surrogate, *unreachable), says="cannot start or reach a Ray cluster"),
        Case("run/ray-address-without-ray", (*surrogate, "--ray-address", "127.0.0.1:1"), says="--executor ray"),
        Case("run/workers-with-local", (*surrogate, "--executor", "local", "--workers", "3"), says="--executor ray"),
        Case("run/grounded-shards", ("run", "grounded", *RUNS, "--shards", "2"), says="unsharded"),
        Case("resume/with-shards", ("run", "--resume", "x", "--shards", "2", *RUNS), says="--resume"),
        Case("sweep/bad-seeds", ("sweep", "trirec", "--seeds", "a,b"), says="--seeds"),
        Case("sweep/repeated-seed", ("sweep", "trirec", "--seeds", "1,1"), says="repeats"),
        Case("sweep/arm-without-name", ("sweep", "trirec", "--arm", "=seed=1"), says="--arm"),
        Case("sweep/arm-not-key-value", ("sweep", "trirec", "--arm", "a=foo"), says="KEY=VALUE"),
        Case("sweep/arm-unknown-key", ("sweep", "trirec", "--arm", "a=nosuch=1"), says="nosuch"),
        Case("sweep/unknown-executor", ("sweep", "trirec", "--executor", "spark"), says="unknown executor"),
        Case("sweep/ray-unreachable", ("sweep", "trirec", *unreachable), says="cannot start or reach a Ray cluster"),
        Case("sweep/workers-with-local", ("sweep", "trirec", "--workers", "3"), says="--executor ray"),
    ]  # fmt: skip


CASES: list[Case] = [
    *_markup_cases(),
    *_usage_cases(),
    *_data_cases(),
    *_ground_cases(),
    *_llm_cases(),
    *_runs_cases(),
    *_papereval_cases(),
    *_run_cases(),
    *_resume_cases(),
    *_replay_cases(),
    *_demo_cases(),
    *_train_cases(),
    *_evaluate_cases(),
    *_sharding_cases(),
]
# One per command, run as a real process (entry point, exit status, fresh imports).
SUBPROCESS_CASES = [
    "usage/unknown-command",
    "usage/evaluate-beams-not-int",
    "data/unknown-name",
    "ground/k-zero",
    "llm/vllm-hint-keeps-brackets",
    "runs/show-corrupt-manifest",
    "papereval/scorer-unknown-loss",
    "run/yaml-section-is-int",
    "run/flag-population-huge",
    "run/runs-dir-is-file",
    "resume/corrupt-config",
    "replay/corrupt-events",
    "demo/users-zero",
    "train/yaml-malformed",
    "evaluate/corrupt-weights",
]


# ---- the checks -------------------------------------------------------------------------


@pytest.fixture
def sandbox(tmp_path, monkeypatch):
    """(inputs folder, working folder): cwd, HOME, runs root and caches all inside tmp_path."""
    inputs, work, home = tmp_path / "in", tmp_path / "work", tmp_path / "home"
    for folder in (inputs, work, home):
        folder.mkdir()
    env = {
        "HOME": str(home),
        "RECAGORA_RUNS_DIR": str(work / "runs"),
        "RECAGORA_CACHE_DIR": str(work / "cache"),
        "XDG_CACHE_HOME": str(home / ".cache"),
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.chdir(work)
    return inputs, tmp_path


def test_corpus_is_large_and_ids_unique():
    assert len(CASES) >= 150
    assert len({case.id for case in CASES}) == len(CASES)
    assert set(SUBPROCESS_CASES) <= {case.id for case in CASES}


@pytest.mark.timeout(60)  # a case that hangs is doing heavy work: fail it, not the suite
@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_input_is_one_line_exit_2_and_leaves_nothing(case, sandbox, capfd):
    inputs, root = sandbox
    argv = _prepare(case, inputs)
    before = _snapshot(root)
    started = time.perf_counter()
    try:
        code = main(argv)
    except pytest.skip.Exception:
        raise  # the case needs a dataset this machine lacks (tests/conftest.py)
    except BaseException as error:  # noqa: BLE001 - a traceback is the failure we look for
        pytest.fail(f"{case.id}: {type(error).__name__} escaped main(): {error}")
    seconds = time.perf_counter() - started
    out, err = capfd.readouterr()
    _check(case, code, out, err, before, _snapshot(root))
    assert seconds < SLOW_CASE_S, f"{case.id}: {seconds:.1f} s; refuse before heavy work"


@pytest.mark.parametrize("case_id", SUBPROCESS_CASES)
def test_bad_input_in_a_real_process(case_id, sandbox):
    inputs, root = sandbox
    case = next(c for c in CASES if c.id == case_id)
    argv = _prepare(case, inputs)
    before = _snapshot(root)
    done = subprocess.run(
        [sys.executable, "-m", "recagora.experiments.cli.main", *argv],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "60"},  # a narrow terminal must not wrap the line
    )
    _check(case, done.returncode, done.stdout, done.stderr, before, _snapshot(root))


def test_runs_list_shows_an_unreadable_run_and_still_lists_the_others(sandbox, capfd):
    inputs, _ = sandbox
    run_folder("trirec-1")(inputs)
    run_folder("trirec-2", manifest="{not json")(inputs)
    assert main(["runs", "list", *RUNS[:1], f"{inputs}/runs"]) == 0
    out, err = capfd.readouterr()
    assert "trirec-1" in out and "finished" in out
    assert "trirec-2" in out and "unreadable" in out and err == ""


def _prepare(case: Case, inputs: Path) -> list[str]:
    if case.setup is not None:
        case.setup(inputs)
    read_only = _read_only_root(inputs)
    return [part.replace("{ro}", read_only).replace("{in}", str(inputs)) for part in case.argv]


def _check(case: Case, code: int, out: str, err: str, before: dict, after: dict) -> None:
    lines = err.splitlines()
    assert "Traceback" not in out + err, f"{case.id}: traceback\n{err[-2000:]}"
    assert code == case.code, f"{case.id}: exit {code}, stderr: {err[-500:]}"
    assert len(lines) == 1 and lines[0].startswith("error: "), f"{case.id}: stderr {err!r}"
    assert case.says in lines[0], f"{case.id}: {case.says!r} not in {lines[0]!r}"
    created = sorted(set(after) - set(before))
    if case.dataset_cache_ok:
        created = [p for p in created if not p.startswith("work/cache")]
    changed = sorted(p for p in before if p in after and before[p] != after[p])
    assert not created, f"{case.id}: created {created}"
    assert not changed and set(before) <= set(after), f"{case.id}: changed or removed inputs"


def _snapshot(root: Path) -> dict[str, str]:
    """path -> content hash ('dir' for folders) of everything under root."""
    found = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs:
            found[os.path.relpath(os.path.join(folder, name), root)] = "dir"
        for name in files:
            path = Path(folder) / name
            found[str(path.relative_to(root))] = hashlib.sha1(path.read_bytes()).hexdigest()
    return found
