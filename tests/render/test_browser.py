"""The live map and the report in headless Chromium, with the network cut off.

Checks what a reader sees: the page is not blank, every chart image loaded, nothing was
fetched from outside the file, and no two text boxes overlap — measured from the browser's
own layout (``getBoundingClientRect`` of every SVG ``<text>`` and every leaf HTML text
element), not from our layout model.

Uses the system Chromium (``/usr/bin/chromium``; scripts/_setup.sh installs it in CI),
never a browser downloaded by Playwright. A missing Chromium fails the test: it is not a
reason to skip.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageStat
from tests.chromium import launched
from tests.render._fixtures import sample_figures

from journeylens.render.report import render_report_html
from journeylens.render.svg import render_map_svg
from journeylens.templates import get_template, get_template_personas

pytestmark = pytest.mark.slow

# Text boxes of every SVG <text> and of every HTML element holding text directly.
_BOXES_JS = """
() => {
  const out = [];
  const push = (el, kind) => {
    if (!el.checkVisibility()) return;  // e.g. the tables inside closed <details>
    const r = el.getBoundingClientRect();
    if (r.width > 0 && r.height > 0)
      out.push({kind, text: el.textContent.trim().slice(0, 60),
                x: r.left + window.scrollX, y: r.top + window.scrollY, w: r.width, h: r.height});
  };
  document.querySelectorAll('svg text').forEach(el => push(el, 'svg'));
  document.querySelectorAll('body *').forEach(el => {
    if (el.closest('svg') || el.children.length) return;
    if (!el.textContent.trim()) return;
    push(el, 'html');
  });
  return out;
}
"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with launched() as b:  # the system Chromium; missing, it fails the test
        yield b


def _open(browser: Any, path: Path) -> tuple[Any, list[str]]:
    """Open ``path`` with every other request aborted; return the page and what was blocked."""
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    blocked: list[str] = []
    target = path.resolve().as_uri()

    def route(r: Any) -> None:
        url = r.request.url
        if url == target or url.startswith("data:"):
            r.continue_()
        else:
            blocked.append(url)
            r.abort()

    page.route("**/*", route)
    page.goto(target)
    page.wait_for_load_state("load")
    return page, blocked


def _not_blank(page: Any) -> None:
    shot = Image.open(io.BytesIO(page.screenshot())).convert("L")  # the first screenful
    assert ImageStat.Stat(shot).stddev[0] > 20, "the screenshot is blank"


def _overlaps(boxes: list[dict[str, Any]], tolerance: float = 0.5) -> list[tuple[str, str]]:
    found = []
    ordered = sorted(boxes, key=lambda b: b["y"])
    for i, a in enumerate(ordered):
        for b in ordered[i + 1 :]:
            if b["y"] >= a["y"] + a["h"] - tolerance:
                break  # sorted by top: nothing further down can overlap a
            dx = min(a["x"] + a["w"], b["x"] + b["w"]) - max(a["x"], b["x"])
            dy = min(a["y"] + a["h"], b["y"] + b["h"]) - max(a["y"], b["y"])
            if dx > tolerance and dy > tolerance:
                found.append((a["text"], b["text"]))
    return found


def test_live_map_svg_in_chromium(browser: Any, tmp_path: Path) -> None:
    journey = get_template("online-course")
    svg = render_map_svg(
        journey, get_template_personas("online-course")[:1], sample_figures(journey)
    )
    path = tmp_path / "map.svg"
    path.write_text(svg, encoding="utf-8")
    page, blocked = _open(browser, path)
    assert blocked == []
    _not_blank(page)
    boxes = page.evaluate(_BOXES_JS)
    assert len(boxes) > 500  # the whole map is laid out, not an error page
    assert _overlaps(boxes) == []
    page.close()


def test_report_in_chromium_offline(browser: Any, tmp_path: Path) -> None:
    from tests.render.test_report import ALL_CHARTS, _charts_data

    journey = get_template("online-course")
    html = render_report_html(
        journey,
        get_template_personas("online-course")[:1],
        sample_figures(journey),
        _charts_data(),
        ["38% of mobile customers drop between shipping and payment, 3× the desktop rate"],
    )
    path = tmp_path / "report.html"
    path.write_text(html, encoding="utf-8")
    page, blocked = _open(browser, path)
    assert blocked == []
    _not_blank(page)
    # Every chart image decoded and has a size: the report shows every chart offline.
    sizes = page.evaluate(
        "() => [...document.querySelectorAll('figure img')]"
        ".map(i => [i.closest('figure').id, i.complete && i.naturalWidth > 0])"
    )
    assert sizes == [[f"chart-{key}", True] for key in ALL_CHARTS]
    boxes = page.evaluate(_BOXES_JS)
    assert any(b["kind"] == "svg" for b in boxes)
    assert _overlaps(boxes) == []
    # The tables behind the charts, opened, do not overlap anything either.
    page.evaluate("() => document.querySelectorAll('details').forEach(d => { d.open = true; })")
    opened = page.evaluate(_BOXES_JS)
    assert len(opened) > len(boxes)
    assert _overlaps(opened) == []
    page.close()


def test_live_demo_report_in_chromium_offline(
    browser: Any, live_workspace: tuple[Path, Path], tmp_path: Path
) -> None:
    """The report of a real (simulated, ingested) workspace, written by the command."""
    from typer.testing import CliRunner

    from journeylens.cli.main import app

    map_file, ws = live_workspace
    path = tmp_path / "live.html"
    result = CliRunner().invoke(
        app, ["report", str(map_file), "--workspace", str(ws), "-o", str(path)]
    )
    assert result.exit_code == 0, result.output
    page, blocked = _open(browser, path)
    assert blocked == []
    _not_blank(page)
    loaded = page.evaluate(
        "() => [...document.querySelectorAll('figure img')]"
        ".map(i => i.complete && i.naturalWidth > 0)"
    )
    assert len(loaded) >= 6
    assert all(loaded)
    boxes = page.evaluate(_BOXES_JS)
    assert sum(b["kind"] == "svg" for b in boxes) > 500  # the live map is on the page
    assert _overlaps(boxes) == []
    page.close()
