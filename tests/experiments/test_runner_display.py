"""The live panel and the end-of-run table show the scenario's metric list, in its order."""

from __future__ import annotations

from rich.console import Console

from recagora.environments.registry import get_scenario
from recagora.experiments.runner.display import LiveDisplay, summary_table


def _rows(table) -> list[str]:
    return list(table.columns[0].cells)


def test_the_summary_table_follows_the_given_list_and_closes_with_rounds_done():
    overall = {"dgu": 0.1, "exits": 3.0, "ndcg@10": 0.5, "rounds_done": 2.0}
    shown = get_scenario("trirec").shown_metrics
    assert _rows(summary_table({"overall": overall}, "t", shown)) == [
        "ndcg@10",
        "dgu",
        "rounds_done",
    ]
    # Without a list: every metric as it comes (a scenario that lists none loses nothing).
    assert _rows(summary_table({"overall": overall}, "t")) == [
        "dgu",
        "exits",
        "ndcg@10",
        "rounds_done",
    ]


def test_the_live_panel_shows_the_latest_round_of_the_listed_metrics():
    shown = get_scenario("grounded").shown_metrics
    display = LiveDisplay(3, "grounded", console=Console(file=None), enabled=False, metrics=shown)
    display.on_round(0, {"ungrounded_rate": 0.25, "target_rank_median": 40.0, "unlisted": 1.0})
    table = display._render().renderables[1]
    assert _rows(table) == ["target_rank_median", "ungrounded_rate"]
    assert list(table.columns[1].cells) == ["40", "0.2500"]
