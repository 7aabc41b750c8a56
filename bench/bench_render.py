"""Render benchmark: the journey map SVG, PNG / PDF export and the HTML report.

Times, best of ``--repeat`` runs each:

* ``svg designed`` / ``svg live``: :func:`journeylens.render.svg.layout_map` of the
  online-course template (22 steps), without and with made-up live figures;
* ``svg 12×20``: a synthetic map of 12 stages and 20 steps with long texts in every lane;
* ``png`` / ``pdf``: cairosvg export of the designed online-course SVG;
* ``report``: :func:`journeylens.render.report.render_report_html` with all seven charts.

Prints seconds and output sizes.

    .venv/bin/python bench/bench_render.py --repeat 3
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the tests' sample figures and maps

from tests.render._fixtures import sample_figures  # noqa: E402
from tests.render.test_report import _charts_data  # noqa: E402
from tests.render.test_svg import _map  # noqa: E402

from journeylens.render.export import render_pdf, render_png  # noqa: E402
from journeylens.render.report import render_report_html  # noqa: E402
from journeylens.render.svg import layout_map  # noqa: E402
from journeylens.templates import get_template, get_template_personas  # noqa: E402


def _best(repeat: int, fn: Callable[[], Any]) -> tuple[float, Any]:
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def main() -> None:
    """Run the benchmark and print one line per measurement."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    journey = get_template("online-course")
    personas = get_template_personas("online-course")[:1]
    figures = sample_figures(journey)
    big = _map(12, [2] * 8 + [1] * 4)
    rows: list[tuple[str, float, str]] = []
    t, designed = _best(args.repeat, lambda: layout_map(journey, personas))
    rows.append(("svg designed", t, f"{len(designed.svg):,} B, {len(designed.text_boxes)} texts"))
    t, live = _best(args.repeat, lambda: layout_map(journey, personas, figures))
    rows.append(("svg live", t, f"{len(live.svg):,} B"))
    t, wide = _best(args.repeat, lambda: layout_map(big, figures=sample_figures(big)))
    rows.append(("svg 12×20", t, f"{wide.width:.0f} × {wide.height:.0f} px"))
    t, png = _best(1, lambda: render_png(designed.svg))
    rows.append(("png", t, f"{len(png):,} B"))
    t, pdf = _best(1, lambda: render_pdf(designed.svg))
    rows.append(("pdf", t, f"{len(pdf):,} B"))
    t, html = _best(1, lambda: render_report_html(journey, personas, figures, _charts_data()))
    rows.append(("report (7 charts)", t, f"{len(html):,} B"))
    for name, seconds, note in rows:
        print(f"{name:<18} {seconds:8.3f} s   {note}")


if __name__ == "__main__":
    main()
