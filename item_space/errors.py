"""Typed errors for bad input at the boundaries.

Every `RecAgoraError` is shown to the user as ONE line (no traceback) and the CLI
exits with code 2. The message names the problem and how to fix it.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class RecAgoraError(Exception):
    """Base of every user-facing error; the CLI prints `str(err)` and exits 2."""

    exit_code = 2


class RunPaused(RecAgoraError):
    """The run cannot go on now but resumes from its checkpoint once the cause is fixed
    (the message says why); the CLI exits 3 unless a subclass says otherwise."""

    exit_code = 3


class DatasetError(RecAgoraError):
    """A dataset is missing, unknown or malformed."""


class DatasetMissingError(DatasetError):
    """A registered dataset whose files are not on this machine (`recagora data fetch` gets them)."""



class IndexError_(RecAgoraError):
    """The item index cannot answer (empty, wrong dimension, unknown filter)."""


class ConfigError(RecAgoraError):
    """A config field does not exist or has the wrong type."""


class ModelError(RecAgoraError):
    """A model, backbone, checkpoint or LLM backend cannot be loaded or reached."""


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """Return ' (did you mean X?)' for the closest choice, or '' when none is close."""
    close = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.5)
    return f" (did you mean {close[0]!r}?)" if close else ""
