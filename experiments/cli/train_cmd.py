"""`recagora train METHOD` and `recagora evaluate CHECKPOINT` (thin over recagora.training)."""

from __future__ import annotations

from pathlib import Path

import typer

from recagora.experiments.cli.checks import (
    check_local_model,
    check_output_dir,
    check_output_file,
)
from recagora.item_space.errors import ConfigError, did_you_mean


def _split(dataset: str, split: str):
    from recagora.item_space.datasets import load_dataset

    loaded = load_dataset(dataset)
    return loaded, loaded.split(split)


def train(
    method: str = typer.Argument(
        ...,
        help="Training method: sft, flower, grpo, blade, bon, ugr, puma, seller, mindrec, flame-cls (medication classifier), flame-list (its list editor), or papereval-scorer (ICLR 2017 paper scorer).",
    ),
    dataset: str = typer.Option(
        "video-games", "--dataset", help="Registered dataset name or path."
    ),
    backbone: str = typer.Option(
        None, "--backbone", help="tiny-gpt, smollm2 or a local HF model folder."
    ),
    config: Path = typer.Option(None, "--config", help="YAML file of config fields."),
    set_: list[str] = typer.Option(
        [], "--set", help="Override a field: key=value (dots for nested)."
    ),
    output_dir: Path = typer.Option(
        None, "--output-dir", help="Run folder (default: runs/train/METHOD)."
    ),
    split: str = typer.Option(
        "auto", "--split", help="Split protocol: auto | given | loo | global_time."
    ),
) -> None:
    """Train a generative recommender; the run folder gets the checkpoint, metrics.csv and curves.png."""
    if method == "papereval-scorer":
        _train_paper_scorer(backbone, set_, output_dir)
        return
    if method == "flame-cls":
        _train_flame_cls(config, set_, output_dir)
        return
    if method == "flame-list":
        _train_flame_list(config, set_, output_dir)
        return
    from recagora.training.registry import SOFT_TOKEN_METHODS

    if method in SOFT_TOKEN_METHODS:  # puma, seller: soft tokens on a frozen LM (issue 16)
        _train_soft_tokens(method, dataset, config, set_, output_dir)
        return
    from recagora.training.registry import make_trainer, trainer_config, trainer_extras

    out = check_output_dir(output_dir or Path("runs/train") / method, "--output-dir")
    overrides = [*set_, f"output_dir={out}"]
    if backbone:
        overrides.append(f"backbone.name={backbone}")
    # Everything the command line says is checked before the dataset is parsed.
    settings = trainer_config(method, config, overrides)
    _check_backbone(settings.backbone.name)
    _check_resumable(out, method, settings)
    _check_protocol(split)
    loaded, samples = _split(dataset, split)
    _check_batch(settings.batch_size, len(samples.train))
    extras = trainer_extras(method, settings, loaded.catalog, samples)  # e.g. Flower's scorer
    trainer = make_trainer(method, loaded.catalog, samples.train, config, overrides, **extras)
    start = _checkpoint_step(out) if settings.resume else 0
    run_dir = trainer.train()
    if start >= settings.max_steps:  # say so: a resumed run at its horizon trains nothing
        typer.echo(
            f"nothing trained: {run_dir} is already at step {start} (max_steps {settings.max_steps}); "
            "raise max_steps to continue"
        )
        return
    typer.echo(f"trained {method} from step {start} to {trainer.step}: {run_dir}")


def _check_protocol(split: str) -> None:
    from recagora.item_space.datasets.dataset import PROTOCOLS

    if split not in PROTOCOLS:
        raise ConfigError(
            f"--split {split!r} is unknown{did_you_mean(split, PROTOCOLS)}; use one of {', '.join(PROTOCOLS)}"
        )


def _check_backbone(name: str) -> None:
    from recagora.training.backbones import BUILTIN_BACKBONES

    check_local_model(name, BUILTIN_BACKBONES, "backbone")


def _check_resumable(out: Path, method: str, settings) -> None:
    """An existing checkpoint in `out` must be readable and of the same method."""
    from recagora.training.checkpoints import CHECKPOINT_DIR, check_method, verify_checkpoint

    if settings.resume and (out / CHECKPOINT_DIR).is_dir():
        check_method(verify_checkpoint(out), method)


def _checkpoint_step(out: Path) -> int:
    from recagora.training.checkpoints import CHECKPOINT_DIR, read_manifest

    return int(read_manifest(out)["step"]) if (out / CHECKPOINT_DIR).is_dir() else 0


def _check_batch(batch_size: int, n_train: int) -> None:
    if batch_size > n_train:
        raise ConfigError(
            f"batch_size {batch_size} exceeds the {n_train} training samples; lower batch_size"
        )


def _train_soft_tokens(
    method: str, dataset: str, config: Path | None, overrides: list[str], output_dir
):
    """`recagora train puma|seller` (issue 16): own config and runner, a report.json in the run folder."""
    from recagora.item_space.datasets import load_dataset
    from recagora.training.configs import load_config
    from recagora.training.registry import soft_token_method

    config_class, run = soft_token_method(method)
    out = check_output_dir(output_dir or Path("runs/train") / method, "--output-dir")
    settings = load_config(config_class, config, None, [*overrides, f"output_dir={out}"])
    run(settings, load_dataset(dataset))
    typer.echo(f"trained {method}: {out / 'report.json'}")


def _train_flame_cls(config_path: Path | None, overrides: list[str], output_dir: Path | None):
    """`recagora train flame-cls`: FLAME's point-wise drug classifier on the clinical demo data."""
    from recagora.training.configs import load_config
    from recagora.training.flame_cls import FlameClsConfig, train_flame_cls

    out = check_output_dir(output_dir or Path("runs/train/flame-cls"), "--output-dir")
    settings = load_config(FlameClsConfig, config_path, None, [*overrides, f"output_dir={out}"])
    report = train_flame_cls(settings)
    test = report["test"]
    typer.echo(
        f"flame-cls: test Jaccard {test['jaccard']}, F1 {test['f1']}, DDI rate {test['ddi_rate']} "
        f"(epoch {report['epoch']}, threshold {report['threshold']} chosen on validation); {out / 'report.json'}"
    )


def _train_flame_list(config_path: Path | None, overrides: list[str], output_dir: Path | None):
    """`recagora train flame-list`: FLAME's list editor on a flame-cls run (--set classifier=RUN)."""
    from recagora.training.configs import load_config
    from recagora.training.flame_list import FlameListConfig, train_flame_list

    out = check_output_dir(output_dir or Path("runs/train/flame-list"), "--output-dir")
    settings = load_config(FlameListConfig, config_path, None, [*overrides, f"output_dir={out}"])
    report = train_flame_list(settings)
    final = report.get("grpo", report["sft"])
    typer.echo(
        f"flame-list ({settings.reward}): test Jaccard {final['jaccard']} vs classifier "
        f"{report['classifier']['jaccard']}, DDI rate {final['ddi_rate']}, refusal rate "
        f"{final['refusal_rate']}; {out / 'report.json'}"
    )


def _train_paper_scorer(backbone: str | None, overrides: list[str], output_dir: Path | None):
    """`recagora train papereval-scorer` is `recagora papereval train-scorer` with defaults."""
    from recagora.experiments.cli.papereval_cmd import train_scorer

    train_scorer(
        loss="listmle",
        backbone=backbone or "minilm",
        references=0,
        seed=0,
        overrides=overrides,
        data=None,
        out=output_dir,
    )


def evaluate(
    checkpoint: Path = typer.Argument(
        ..., help="Run folder (or its checkpoint/) from `recagora train`."
    ),
    dataset: str = typer.Option(
        "video-games", "--dataset", help="Registered dataset name or path."
    ),
    split: str = typer.Option(
        "auto", "--split", help="Split protocol: auto | given | loo | global_time."
    ),
    max_samples: int = typer.Option(
        0, "--max-samples", help="Seeded subset of test samples (0 = all)."
    ),
    seed: int = typer.Option(0, "--seed", help="Seed of the subset."),
    num_beams: int = typer.Option(10, "--num-beams", help="Beams = items ranked per sample."),
    length_penalty: float = typer.Option(
        0.0,
        "--length-penalty",
        help="Rank the found items by total log-prob / tokens ** this (0 = total log-prob, 1 = per-token mean).",
    ),
    out: Path = typer.Option(
        None, "--out", help="Report JSON (default: CHECKPOINT/eval_test.json)."
    ),
) -> None:
    """HR/NDCG@1,3,5,10, DGU/MGU, entropy, TTR, distinct and invalid counts on the test split."""
    import json

    from recagora.training.checkpoints import verify_checkpoint
    from recagora.training.evaluation import evaluate_checkpoint, pick_samples, write_report

    manifest = verify_checkpoint(checkpoint)  # a bad checkpoint fails before the dataset loads
    _check_evaluate_options(manifest, max_samples, seed, num_beams)
    _check_protocol(split)
    report_path = check_output_file(out or Path(checkpoint) / "eval_test.json", "--out")
    loaded, samples = _split(dataset, split)
    test = pick_samples(samples.test, max_samples, seed)
    from rich.progress import Progress

    with Progress(transient=True) as progress:  # beam search on CPU: minutes per 100 samples
        task = progress.add_task("ranking test samples", total=len(test))
        report = evaluate_checkpoint(
            checkpoint,
            loaded.catalog,
            test,
            samples.train,
            num_beams,
            on_batch=lambda done: progress.advance(task, done),
            length_penalty=length_penalty,
        )
    path = write_report(report, report_path)
    typer.echo(json.dumps(report, indent=2))
    typer.echo(f"report: {path}")


def _check_evaluate_options(manifest: dict, max_samples: int, seed: int, num_beams: int) -> None:
    """Bounds checked against the checkpoint's manifest, before anything loads.

    Beam search keeps (samples x beams) hypotheses over the whole vocabulary, so more
    beams than the catalog has items is refused rather than allocated.
    """
    from recagora.training.policy import policy_config
    from recagora.training.registry import TRAINERS

    policy_config(manifest)  # a config that no longer loads is refused here, not after the data
    if manifest["method"] not in TRAINERS:
        raise ConfigError(
            f"checkpoint {manifest['folder']!r} is of unknown method {manifest['method']!r}; "
            f"known: {', '.join(TRAINERS)}"
        )
    n_items = int(manifest["n_items"])
    if not 1 <= num_beams <= n_items:
        raise ConfigError(
            f"--num-beams {num_beams} must be in 1..{n_items} (the checkpoint's catalog size)"
        )
    if max_samples < 0:
        raise ConfigError(f"--max-samples {max_samples} must be >= 0 (0 = every test sample)")
    if seed < 0:
        raise ConfigError(f"--seed {seed} must be >= 0")
