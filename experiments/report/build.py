"""`recagora report`: one HTML file per run folder, and a comparison page for several."""

from __future__ import annotations

import hashlib
from pathlib import Path

from recagora.experiments.report.compare import compare_page
from recagora.experiments.report.html import write_html
from recagora.experiments.report.page import build_page
from recagora.experiments.report.rundata import RunData, load_run
from recagora.experiments.runner.folder import RunFolder

REPORT_NAME = "report.html"


def report_run(
    folder: RunFolder, output: Path | None = None, max_entities: int = 500, seed: int = 0
) -> tuple[RunData, Path]:
    """Write `folder`'s report (default `<run folder>/report.html`); returns (data, path)."""
    data = load_run(folder)
    page = build_page(data, max_entities=max_entities, seed=seed)
    path = write_html(page, f"{data.scenario} run {data.name}", output or folder.path / REPORT_NAME)
    return data, path


def report_runs(
    folders: list[RunFolder], output: Path | None = None, max_entities: int = 500, seed: int = 0
) -> list[Path]:
    """One report per run (in its folder), plus, for several, a comparison page at
    `output` (default: beside the runs, named after their folders). Returns the paths,
    the comparison last."""
    if len(folders) == 1:
        return [report_run(folders[0], output, max_entities, seed)[1]]
    done = [report_run(f, None, max_entities, seed) for f in folders]
    runs, paths = [d for d, _ in done], [p for _, p in done]
    target = output or _comparison_path(folders)
    title = f"comparison of {len(runs)} runs"
    return [*paths, write_html(compare_page(runs, paths), title, target)]


def _comparison_path(folders: list[RunFolder]) -> Path:
    digest = hashlib.sha1("\n".join(sorted(f.name for f in folders)).encode()).hexdigest()[:7]
    return folders[0].path.parent / f"compare-{len(folders)}-runs-{digest}.html"
