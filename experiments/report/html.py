"""Write a page (page.py's sections) as ONE self-contained HTML file.

The data goes in as JSON, and Vega, Vega-Lite and vega-embed as one inlined ES-module
bundle made by `vl_convert.javascript_bundle` (the same bundle Altair inlines with
`save(..., inline=True)`), so the file opens from disk with no server and no network.
"""

from __future__ import annotations

import json
import math
import os
from datetime import UTC, datetime
from functools import lru_cache
from importlib.metadata import version
from pathlib import Path
from typing import Any

import jinja2

from recagora.item_space.embedding import cache_dir
from recagora.item_space.errors import RecAgoraError

TEMPLATES = Path(__file__).parent / "templates"
# Exposes vega-embed to the page's own module script (module scripts run in order).
BUNDLE_SNIPPET = "window.vegaEmbed = vegaEmbed;"


class ReportError(RecAgoraError):
    """A report cannot be written (output path unwritable, charting bundle unavailable)."""


@lru_cache(maxsize=1)
def vega_bundle() -> str:
    """Vega + Vega-Lite + vega-embed minified (~0.9 MB). Bundling takes seconds, so the
    bundle is kept in RecAgora's cache folder, keyed by the vl-convert version."""
    import vl_convert

    cached = cache_dir() / f"vega-bundle-vl-convert-{version('vl-convert-python')}.js"
    if cached.is_file():
        return cached.read_text(encoding="utf-8")
    bundle = vl_convert.javascript_bundle(BUNDLE_SNIPPET)
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        temporary = cached.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(bundle, encoding="utf-8")
        temporary.replace(cached)
    except OSError:
        pass  # an unwritable cache only costs the next report the bundling time
    return bundle


def render_html(page: dict[str, Any], title: str) -> str:
    """The whole HTML document of `page`."""
    import vl_convert

    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True, keep_trailing_newline=True
    )
    return environment.get_template("report.html.jinja").render(
        title=title,
        generated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        version=version("recagora"),
        vega_lite_version=vl_convert.get_vegalite_versions()[-1],
        data_json=_script_safe_json(page),
        vega_bundle=vega_bundle(),
    )


def write_html(page: dict[str, Any], title: str, path: Path) -> Path:
    """Render and write atomically (temp file + rename); returns the absolute path."""
    path = Path(path).absolute()
    temporary = path.with_suffix(path.suffix + ".tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary.write_text(render_html(page, title), encoding="utf-8")
        temporary.replace(path)
    except OSError as error:
        raise ReportError(
            f"cannot write the report to {str(path)!r}: {error.strerror or error} (pick --output)"
        ) from None
    return path


def _script_safe_json(page: dict[str, Any]) -> str:
    """JSON that cannot close its <script> element early (`</` and `<!--` escaped)."""
    text = json.dumps(_finite(page), default=str, separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _finite(value: Any) -> Any:
    """NaN and infinities -> None (JSON has neither), recursively."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value
