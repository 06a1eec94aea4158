"""Run a script's `main()` (benchmarks, examples) with the CLI's error contract.

A `RecAgoraError` (a dataset that is not on this machine, a bad option) prints ONE line on
stderr and exits with its code (2 for bad input), as `recagora` itself does; anything
else is a bug and keeps its traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from recagora.item_space.errors import RecAgoraError


def run_script(main: Callable[[], Any]) -> None:
    try:
        main()
    except RecAgoraError as error:
        print(f"error: {error}", file=sys.stderr)
        raise SystemExit(error.exit_code) from None
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        raise SystemExit(130) from None
