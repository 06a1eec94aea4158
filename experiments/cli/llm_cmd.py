"""`recagora llm check|bench --llm SPEC`: reach a backend, time it (thin over agents.llm)."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="Check and benchmark an LLM backend chosen by a spec string.", no_args_is_help=True
)

LLM_HELP = "Backend spec: llamacpp:smollm2 (embedded default), llamacpp:<file.gguf>, openai:<model>, vllm:<hf-model>, fake:."
BASE_URL_HELP = "openai: server URL (default: $OPENAI_BASE_URL, else api.openai.com)."


@app.command()
def check(
    llm: str = typer.Option("llamacpp:smollm2", "--llm", help=LLM_HELP),
    base_url: str | None = typer.Option(None, "--base-url", help=BASE_URL_HELP),
    timeout_s: float = typer.Option(120.0, "--timeout", help="Seconds one attempt may take."),
) -> None:
    """Start or reach the backend, make one tiny structured call, print model, latency and tokens/s."""
    from rich.console import Console

    from recagora.agents.llm import open_llm
    from recagora.agents.llm.diagnostics import check_backend

    console = Console()
    with (
        console.status(f"starting {llm} ..."),
        open_llm(llm, base_url=base_url, timeout_s=timeout_s) as client,
    ):
        report = check_backend(client)
    result = report.result
    console.print(
        f"backend   {report.spec}  (model {report.model}, structured mode {report.structured_mode})"
    )
    if not result.ok:
        console.print(f"[red]FAILED[/] {result.failure.kind}: {result.failure.message}")
        raise typer.Exit(1)
    console.print(f"reply     {result.value!r}")
    console.print(
        f"latency   {result.latency_s:.2f} s  tokens {result.prompt_tokens} in / "
        f"{result.completion_tokens} out  speed {report.tokens_per_s:.1f} tokens/s"
    )


@app.command()
def bench(
    llm: str = typer.Option("llamacpp:smollm2", "--llm", help=LLM_HELP),
    base_url: str | None = typer.Option(None, "--base-url", help=BASE_URL_HELP),
    levels: str = typer.Option(
        "1,4,8", "--concurrency", help="Comma-separated concurrency levels."
    ),
    requests: int = typer.Option(8, "--requests", help="Requests per concurrency level."),
    max_tokens: int = typer.Option(
        32, "--max-tokens", help="Completion tokens per request (upper bound)."
    ),
) -> None:
    """Throughput (requests/s, completion tokens/s, p50 latency) at several concurrency levels."""
    import asyncio

    from rich.console import Console
    from rich.table import Table

    from recagora.agents.llm import open_llm
    from recagora.agents.llm.diagnostics import measure_throughput

    parsed = _parse_levels(levels)
    with open_llm(llm, base_url=base_url, concurrency=max(parsed), use_cache=False) as client:
        rows = asyncio.run(measure_throughput(client, parsed, requests, max_tokens))
    table = Table(title=f"throughput of {llm}")
    for column in ("in flight", "requests", "failed", "wall s", "req/s", "tokens/s", "p50 s"):
        table.add_column(column, justify="right")
    for row in rows:
        table.add_row(
            str(row.concurrency),
            str(row.requests),
            str(row.failures),
            f"{row.wall_s:.2f}",
            f"{row.requests_per_s:.2f}",
            f"{row.tokens_per_s:.1f}",
            f"{row.latency_p50_s:.2f}",
        )
    Console().print(table)


def _parse_levels(text: str) -> tuple[int, ...]:
    from recagora.item_space.errors import ConfigError

    try:
        levels = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        levels = ()
    if not levels or min(levels) < 1:
        raise ConfigError(
            f"--concurrency {text!r} must be positive integers separated by commas, e.g. 1,4,8"
        )
    return levels
