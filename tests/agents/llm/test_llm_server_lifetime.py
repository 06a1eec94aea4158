"""A server we start dies with us: on Ctrl-C without a `with` block, and when we are SIGKILLed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = [pytest.mark.llm, pytest.mark.slow]

SCRIPT = """
import signal, sys, time
# A shell's background job starts with SIGINT ignored, and Python keeps it that way:
# restore Ctrl-C's KeyboardInterrupt, as in a terminal (CI may run us in the background).
signal.signal(signal.SIGINT, signal.default_int_handler)
from recagora.agents.llm import open_llm
llm = open_llm("llamacpp:smollm2", use_cache=False)   # no `with`: the finalizer must stop it
print(llm.backend.server.pid, flush=True)
time.sleep(120)
"""


def _gone(pid: int, within_s: float = 60.0) -> bool:
    """True once `pid` has exited (a zombie awaiting its reaper counts as exited)."""
    deadline = time.monotonic() + within_s
    while True:
        status = Path(f"/proc/{pid}/status")
        try:
            if "\nState:\tZ" in status.read_text():
                return True
        except FileNotFoundError:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.1)


def _start_owner() -> tuple[subprocess.Popen, int]:
    owner = subprocess.Popen([sys.executable, "-c", SCRIPT], stdout=subprocess.PIPE, text=True)
    server_pid = int(owner.stdout.readline())
    assert not _gone(server_pid, within_s=0.5)
    return owner, server_pid


@pytest.mark.parametrize("signal_to_owner", [signal.SIGINT, signal.SIGKILL])
def test_the_server_stops_when_its_owner_is_interrupted_or_killed(signal_to_owner):
    owner, server_pid = _start_owner()
    try:
        os.kill(owner.pid, signal_to_owner)
        owner.wait(timeout=120)  # a liveness bound, generous for a loaded 2-core machine
        assert _gone(server_pid), f"server {server_pid} outlived its owner ({signal_to_owner.name})"
    finally:
        owner.kill()
        if not _gone(server_pid, within_s=0):
            os.kill(server_pid, signal.SIGKILL)
