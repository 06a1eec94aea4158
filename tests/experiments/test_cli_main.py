"""The CLI dispatcher: exit codes and one-line errors."""

import pytest

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


def _crashing_app(**_):
    raise RuntimeError("boom in a command")


def test_a_bug_is_one_line_naming_the_saved_traceback(monkeypatch, capsys, tmp_path):
    import recagora.experiments.cli.main as cli

    monkeypatch.setenv("RECAGORA_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("RECAGORA_TRACEBACK", raising=False)
    monkeypatch.setattr(cli, "app", _crashing_app)
    assert cli.main(["data", "list"]) == 1
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert "internal error (RuntimeError: boom in a command)" in err
    (saved,) = (tmp_path / "crashes").iterdir()
    assert saved.name in err
    text = saved.read_text()
    assert "Traceback" in text and "boom in a command" in text and "_crashing_app" in text


def test_a_bug_where_the_traceback_cannot_be_saved_is_still_one_line(monkeypatch, capsys, tmp_path):
    import recagora.experiments.cli.main as cli

    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("RECAGORA_CACHE_DIR", str(blocker))  # crashes/ cannot be made under a file
    monkeypatch.delenv("RECAGORA_TRACEBACK", raising=False)
    monkeypatch.setattr(cli, "app", _crashing_app)
    assert cli.main(["data", "list"]) == 1
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert "internal error (RuntimeError: boom in a command)" in err and "could not be saved" in err


def test_recagora_traceback_1_lets_a_bug_raise(monkeypatch):
    import recagora.experiments.cli.main as cli

    monkeypatch.setenv("RECAGORA_TRACEBACK", "1")
    monkeypatch.setattr(cli, "app", _crashing_app)
    with pytest.raises(RuntimeError, match="boom"):
        cli.main(["data", "list"])
