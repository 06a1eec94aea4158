"""The CLI dispatcher: exit codes and one-line errors."""

from recagora.experiments.cli.main import main
from recagora.item_space.errors import DatasetError, did_you_mean


def test_version_prints_and_exits_zero(capsys):
    assert main(["version"]) == 0
    assert capsys.readouterr().out.strip().startswith("0.")


def test_unknown_command_is_a_usage_error():
    assert main(["no-such-command"]) == 2


def test_did_you_mean_suggests_close_names():
    assert did_you_mean("ml100k", ["ml-100k", "video-games"]) == " (did you mean 'ml-100k'?)"
    assert did_you_mean("zzz", ["ml-100k"]) == ""


def test_recagora_errors_are_exit_code_two():
    assert DatasetError("x").exit_code == 2
