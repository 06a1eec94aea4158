"""`recagora llm check|bench --llm SPEC`: reach a backend, time it (thin over agents.llm).

Both exit 1 with one line on stderr when no request succeeded, and 2 when the backend
refuses the API key (`LLMAuthError`). They see every failure themselves, so the layer's
per-batch failure limit is off here (max_failure_rate=1.0).
"""

from __future__ import annotations

import typer

app = typer.Typer(
    help="Check and benchmark an LLM backend chosen by a spec string.", no_args_is_help=True
)

LLM_HELP = "Backend spec: llamacpp:smollm2 (embedded default), llamacpp:smollm2x3 (3 servers), llamacpp:<file.gguf>, openai:<model>, openai:<model>@<url>,<url> (a fleet), vllm:<hf-model>[xN], fake:."
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
        open_llm(llm, base_url=base_url, timeout_s=timeout_s, max_failure_rate=1.0) as client,
    ):
        report = check_backend(client)
        failures = client.ledger_summary()["failures"]
    result = report.result
    console.print(
        f"backend   {report.spec}  (model {report.model}, structured mode {report.structured_mode})"
    )
    if not result.ok:
        _nothing_succeeded(failures, result.failure.message)
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
    _check_bench_sizes(requests, max_tokens)
    with open_llm(
        llm, base_url=base_url, concurrency=max(parsed), use_cache=False, max_failure_rate=1.0
    ) as client:
        rows = asyncio.run(measure_throughput(client, parsed, requests, max_tokens))
        failures = client.ledger_summary()["failures"]
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
    if all(row.failures == row.requests for row in rows):
        _nothing_succeeded(failures)


def _nothing_succeeded(failures: dict[str, int], example: str = "") -> None:
    """One line on stderr (no markup: messages may hold brackets), then exit 1."""
    counts = ", ".join(f"{kind}: {n}" for kind, n in failures.items())
    detail = f" ({example[:200]})" if example else ""
    typer.echo(f"error: no request succeeded: {counts}{detail}", err=True)
    raise typer.Exit(1)


# Upper bounds: past these a bench measures the machine's memory, not the backend.
MAX_CONCURRENCY = 1024
MAX_REQUESTS = 100_000


def _parse_levels(text: str) -> tuple[int, ...]:
    from recagora.item_space.errors import ConfigError

    try:
        levels = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        levels = ()
    if not levels or min(levels) < 1 or max(levels) > MAX_CONCURRENCY:
        raise ConfigError(
            f"--concurrency {text!r} must be integers from 1 to {MAX_CONCURRENCY} separated by "
            "commas, e.g. 1,4,8"
        )
    return levels


def _check_bench_sizes(requests: int, max_tokens: int) -> None:
    from recagora.item_space.errors import ConfigError

    if not 1 <= requests <= MAX_REQUESTS:
        raise ConfigError(f"--requests {requests} must be from 1 to {MAX_REQUESTS}")
    if max_tokens < 1:
        raise ConfigError(f"--max-tokens {max_tokens} must be at least 1")
