"""Scenario tests import their role doubles from this folder (hashing_space: tests/conftest.py)."""

from __future__ import annotations

import sys
from pathlib import Path

# pytest runs with --import-mode=importlib (no sys.path entry per test folder); the
# scenario tests import their role doubles from this folder by name.
sys.path.insert(0, str(Path(__file__).parent))
