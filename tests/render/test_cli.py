"""``journeylens render`` and ``journeylens report`` on a designed map (no workspace)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from journeylens.cli.main import app
from journeylens.formats.io import save
from journeylens.templates import get_template, get_template_personas


@pytest.fixture
def map_file(tmp_path: Path) -> Path:
    for persona in get_template_personas("online-course"):
        save(persona, tmp_path / f"{persona.id}.persona.yaml")
    return save(get_template("online-course"), tmp_path / "oc.journey.yaml")


@pytest.fixture
def small_map(tmp_path: Path) -> Path:
    """A small map: rasterising it is quick."""
    return save(get_template("aida"), tmp_path / "aida.journey.yaml")


def _run(*args: str | Path) -> tuple[int, str]:
    result = CliRunner().invoke(app, [str(a) for a in args])
    return result.exit_code, result.output


def test_render_svg(map_file: Path, tmp_path: Path) -> None:
    code, _ = _run("render", map_file, "--to", "svg", "-o", tmp_path / "m.svg")
    assert code == 0
    svg = (tmp_path / "m.svg").read_text(encoding="utf-8")
    assert "Maya, the career-switching" in svg  # the map's first persona card


def test_render_png_and_pdf(small_map: Path, tmp_path: Path) -> None:
    assert _run("render", small_map, "-o", tmp_path / "m.png")[0] == 0  # format from suffix
    assert (tmp_path / "m.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert _run("render", small_map, "--to", "pdf", "-o", tmp_path / "m.pdf")[0] == 0
    assert (tmp_path / "m.pdf").read_bytes()[:5] == b"%PDF-"


def test_render_persona_option_picks_the_card(map_file: Path, tmp_path: Path) -> None:
    code, _ = _run("render", map_file, "--persona", "robert", "-o", tmp_path / "r.svg")
    assert code == 0
    svg = (tmp_path / "r.svg").read_text(encoding="utf-8")
    assert "Robert" in svg
    assert "Maya, the career-switching" not in svg


def test_render_errors_are_clear(map_file: Path, tmp_path: Path) -> None:
    code, out = _run("render", map_file, "-o", tmp_path / "m.gif")
    assert code == 2
    assert "pass --to svg|png|pdf" in out
    code, out = _run("render", tmp_path / "missing.journey.yaml", "-o", tmp_path / "m.svg")
    assert code == 2
    assert "no such file" in out
    code, out = _run("render", map_file, "--persona", "nobody", "-o", tmp_path / "m.svg")
    assert code == 2
    assert "found: maya, robert" in out


def test_report_on_the_designed_map(map_file: Path, tmp_path: Path) -> None:
    out_file = tmp_path / "report.html"
    code, _ = _run("report", map_file, "-o", out_file)
    assert code == 0
    html = out_file.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>")
    assert "No data bound yet" in html
    assert "Online course — from first ad to loyal learner" in html


def test_report_rejects_a_bad_date(map_file: Path, tmp_path: Path) -> None:
    code, out = _run(
        "report",
        map_file,
        "--workspace",
        tmp_path,
        "--from",
        "last week",
        "-o",
        tmp_path / "r.html",
    )
    assert code == 2
    assert "--from 'last week': expected a date like 2026-01-31" in out


@pytest.mark.slow
def test_render_and_report_live_from_a_workspace(
    live_workspace: tuple[Path, Path], tmp_path: Path
) -> None:
    """Draw the live map and the report of 300 simulated, ingested customers."""
    map_file, ws = live_workspace
    code, out = _run("render", map_file, "--workspace", ws, "-o", tmp_path / "live.svg")
    assert code == 0, out
    svg = (tmp_path / "live.svg").read_text(encoding="utf-8")
    assert "live map" in svg
    assert "Reached " in svg  # KPI badges from the LiveMap
    code, out = _run("report", map_file, "--workspace", ws, "-o", tmp_path / "live.html")
    assert code == 0, out
    html = (tmp_path / "live.html").read_text(encoding="utf-8")
    for key in ("funnel", "sankey", "transitions", "survey", "forest", "channels"):
        assert f'id="chart-{key}"' in html
    assert "went no further along the map" in html  # a finding in plain words
