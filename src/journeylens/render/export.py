"""PNG and PDF export of an SVG, offline, with cairosvg (the ``pdf`` extra).

cairosvg draws with the system's Cairo library and fonts; nothing is fetched from a
network. When it is missing the error says which extra to install.
"""

from __future__ import annotations

import importlib
from types import ModuleType

INSTALL_HINT = "PNG/PDF export needs cairosvg: pip install 'journeylens[pdf]'"


class ExportUnavailableError(RuntimeError):
    """The optional dependency for PNG/PDF export is not installed."""


def _cairosvg() -> ModuleType:
    try:
        return importlib.import_module("cairosvg")
    except (ImportError, OSError) as exc:  # OSError: the package is there but libcairo is not
        raise ExportUnavailableError(f"{INSTALL_HINT} ({exc})") from exc


def render_png(svg: str, *, scale: float = 1.0) -> bytes:
    """Rasterise ``svg`` to PNG bytes; ``scale`` 2 gives a sharper picture for slides."""
    data: bytes = _cairosvg().svg2png(bytestring=svg.encode("utf-8"), scale=scale)
    return data


def render_pdf(svg: str) -> bytes:
    """Convert ``svg`` to a one-page vector PDF (text stays text; prints sharp)."""
    data: bytes = _cairosvg().svg2pdf(bytestring=svg.encode("utf-8"))
    return data
