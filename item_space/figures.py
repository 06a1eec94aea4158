"""Writing matplotlib figures as PNG files that a kill never leaves half-written."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def save_figure(figure, path: Path) -> Path:
    """Lay out `figure`, write it to `path` as PNG atomically (temp file + rename), close it."""
    import matplotlib.pyplot as plt

    path = Path(path)
    try:
        figure.tight_layout()
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(
            dir=path.parent, suffix=".png.tmp", delete=False
        ) as handle:
            temporary = Path(handle.name)
        try:
            figure.savefig(temporary, format="png")
            temporary.chmod(0o644)  # NamedTemporaryFile creates 0600 files
            os.replace(temporary, path)
        finally:
            temporary.unlink(missing_ok=True)
    finally:
        plt.close(figure)
    return path
