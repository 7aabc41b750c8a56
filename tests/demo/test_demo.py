"""``journeylens demo`` end to end on 2,000 customers: exit 0, a self-contained report with
the map, a summary naming every planted effect, and a consistent ingest log."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from journeylens.cli.demo import _prepare
from journeylens.cli.main import app
from journeylens.engine.store import EventStore

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """One demo run shared by the tests of this module (it is the expensive part)."""
    folder = tmp_path_factory.mktemp("demo") / "ws"
    result = CliRunner().invoke(
        app,
        ["demo", str(folder), "--customers", "2000", "--seed", "7"],
        env={"COLUMNS": "200"},
    )
    assert result.exit_code == 0, result.output
    return folder, result.output


def test_every_phase_is_reported_with_its_time(demo: tuple[Path, str]) -> None:
    _, output = demo
    for phase in ("workspace", "simulate", "ingest", "stitch", "analyse", "report"):
        assert re.search(rf"✓ {phase}\s+\d+\.\d s", output), phase


def test_workspace_holds_the_map_personas_and_raw_sources(demo: tuple[Path, str]) -> None:
    folder, _ = demo
    assert (folder / "journeylens.toml").is_file()
    names = sorted(p.name for p in (folder / "maps").iterdir())
    assert names == ["maya.persona.yaml", "online-course.journey.yaml", "robert.persona.yaml"]
    manifest = json.loads((folder / "raw" / "manifest.json").read_text())
    assert len(manifest["sources"]) == 9


def test_report_is_self_contained_and_holds_the_map(demo: tuple[Path, str]) -> None:
    folder, output = demo
    html = (folder / "report.html").read_text(encoding="utf-8")
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", html)
    assert "<svg" in html
    assert "Online course — from first ad to loyal learner" in html
    assert "data:image/svg+xml;base64," in html  # the charts are inline
    svg = (folder / "map.svg").read_text(encoding="utf-8")
    assert "<svg" in svg
    assert (folder / "report.html").resolve().as_uri() in output
    truth = json.loads((folder / "raw" / "ground_truth.json").read_text())
    # The planted effects that show are the report's first findings.
    assert any("planted ×" in html and e["id"] in html for e in truth["effects"])


def test_summary_names_every_planted_effect(demo: tuple[Path, str]) -> None:
    folder, output = demo
    truth = json.loads((folder / "raw" / "ground_truth.json").read_text())
    ids = [e["id"] for e in truth["effects"]]
    assert len(ids) == 9
    for effect_id in ids:
        assert effect_id in output, effect_id
    assert re.search(r"Planted problems: \d of 9 show in the data", output)
    assert "planted ×" in output


def test_events_are_stored_and_the_ingest_log_adds_up(demo: tuple[Path, str]) -> None:
    folder, output = demo
    with EventStore(folder / "events.duckdb").connect(read_only=True) as con:
        events = con.execute("SELECT count(*) FROM events").fetchall()[0][0]
        customers = con.execute("SELECT count(*) FROM customers").fetchall()[0][0]
        log = con.execute(
            "SELECT source, rows_read, rows_stored, rows_quarantined, rows_duplicate "
            "FROM ingest_log WHERE status = 'ok'"
        ).fetchall()
    assert events > 10_000
    assert customers >= 2000  # anonymous visitors who never sign up stay apart
    assert len(log) == 9
    for source, read, stored, quarantined, duplicate in log:
        assert read == stored + quarantined + duplicate, source
    quarantined_total = sum(row[3] for row in log)
    assert quarantined_total > 0  # --dirty 0.005 by default: the quarantine is exercised
    assert re.search(rf"quarantined records.*\b{quarantined_total:,}\b", output)
    assert re.search(rf"events stored\D*{events:,}", output)


def test_a_non_empty_folder_is_refused_without_force(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    result = CliRunner().invoke(app, ["demo", str(tmp_path), "--customers", "100"])
    assert result.exit_code == 2
    assert "not empty" in result.output
    assert "--force" in result.output
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_force_removes_only_what_a_demo_creates(tmp_path: Path) -> None:
    (tmp_path / "raw" / "web").mkdir(parents=True)
    (tmp_path / "raw" / "web" / "part-00000.jsonl").write_text("{}")
    (tmp_path / "maps").mkdir()
    for name in ("online-course.journey.yaml", "maya.persona.yaml", "mine.journey.yaml"):
        (tmp_path / "maps" / name).write_text("x")
    for name in ("report.html", "map.svg", "journeylens.toml", "notes.txt"):
        (tmp_path / name).write_text("x")
    _prepare(tmp_path, force=True)
    left = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*"))
    assert left == ["maps", "maps/mine.journey.yaml", "notes.txt"]
