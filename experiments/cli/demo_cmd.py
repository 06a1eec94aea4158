"""`recagora demo`: the main job on embedded defaults (TriRec on MovieLens-100K, SmolLM2 via llama.cpp).

Sized to finish in a few minutes on a 2-core laptop CPU (the first run also fits the
learned user on MovieLens-100K, cached for every later run). The agent mix is the one
whose results mean something with a 135M model: the learned user (fitted on the training
split, measured by `recagora fidelity`, which also reads the promotions) and LLM item
agents writing the self-promotions (SmolLM2 writes passable ads but scores candidates poorly).
"""

from __future__ import annotations

from pathlib import Path

import typer

from recagora.experiments.cli.report_cmd import print_report_link

DEMO_AGENTS = "user=learned,item=llm,platform=trirec"
STRONGER_LLM_HINT = (
    "Point it at a stronger LLM: `recagora run trirec --llm openai:gpt-4o-mini` (OPENAI_API_KEY set) "
    "or `--llm vllm:Qwen/Qwen2.5-7B-Instruct` on a GPU; `--agents user=llm,item=llm` lets the LLM play the users too."
)


def demo(
    llm: str = typer.Option(
        "llamacpp:smollm2", "--llm", help="LLM spec (default: the embedded SmolLM2-135M)."
    ),
    users: int = typer.Option(4, "--users", help="Users in the cohort (demo size: 4)."),
    rounds: int = typer.Option(2, "--rounds", help="Rounds (demo size: 2)."),
    runs_dir: Path | None = typer.Option(
        None, "--runs-dir", help="Where the run folder goes (default ./runs)."
    ),
    quiet: bool = typer.Option(False, "--quiet", help="No live display; print only the summary."),
) -> None:
    """Run the TriRec multi-stakeholder simulation on embedded defaults and print its summary."""
    from rich.console import Console

    from recagora.environments.trirec.config import TrirecConfig
    from recagora.experiments.runner.config import load_config
    from recagora.experiments.runner.display import LiveDisplay, summary_table
    from recagora.experiments.runner.runner import start_run

    console = Console()
    flags = {"llm": llm, "users": users, "rounds": rounds, "agents": DEMO_AGENTS}
    config = load_config(TrirecConfig, None, flags)
    console.print(
        f"[bold]RecAgora demo[/]: TriRec on {config.dataset}, {users} users x {rounds} rounds, "
        f"agents {config.agents}, LLM {config.llm}, candidates {config.candidates.source}"
    )
    with LiveDisplay(rounds, "trirec demo", console=console, enabled=not quiet) as display:
        result = start_run(
            config, runs_dir=runs_dir, argv=["recagora", "demo"], on_round=display.on_round
        )
    console.print(summary_table(result.summary, f"{result.folder.name} ({result.status})"))
    console.print(f"run folder: {result.folder.path}")
    print_report_link(result.folder, console, build=True)
    console.print(f"step through it: recagora replay {result.folder.name}")
    if result.status == "paused":
        console.print(f"[bold yellow]paused:[/] {result.message}")
    console.print(STRONGER_LLM_HINT)
