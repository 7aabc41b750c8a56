"""``journeylens simulate`` on a map file and on the built-in template."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from journeylens.cli.main import app

DATA = Path(__file__).parent / "data"


def test_simulate_command_writes_sources_and_prints_a_summary(tmp_path: Path) -> None:
    out = tmp_path / "sim"
    result = CliRunner().invoke(
        app,
        ["simulate", "--map", str(DATA / "course.journey.yaml"), "--customers", "300",
         "--out", str(out), "--seed", "5", "--start", "2026-01-05", "--days", "40", "--dirty", "0.01"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "web" in result.output
    assert "bad records" in result.output
    truth = json.loads((out / "ground_truth.json").read_text())
    assert truth["parameters"]["customers"] == 300
    assert truth["parameters"]["personas"] == ["career-switcher", "retiree"]
    assert (out / "web" / "part-00000.jsonl").stat().st_size > 0


def test_simulate_online_course_template_with_its_default_story(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["simulate", "--map", "online-course", "--customers", "2000", "--out", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    truth = json.loads((tmp_path / "ground_truth.json").read_text())
    assert truth["parameters"]["map"] == "online-course"
    assert len(truth["effects"]) == 9
    friction = next(e for e in truth["effects"] if e["kind"] == "friction")
    assert friction["realised"]["drop_ratio"] > 1.5


def test_bad_scenario_exits_1_with_located_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.scenario.yaml"
    bad.write_text(
        "effects:\n  - kind: pain\n    id: p\n    where: {step: checkout}\n    churn_factor: 0\n"
    )
    result = CliRunner().invoke(
        app, ["simulate", "--map", "online-course", "--customers", "10", "--out", str(tmp_path / "o"),
              "--scenario", str(bad)],
    )  # fmt: skip
    assert result.exit_code == 1
    assert f"{bad}:5:" in result.output
    assert "effects[0].churn_factor" in result.output


def test_unknown_map_is_a_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["simulate", "--map", "no-such-map", "--customers", "10", "--out", str(tmp_path)]
    )
    assert result.exit_code == 2
    assert "unknown template 'no-such-map'" in result.output


def test_json_summary(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        ["simulate", "--map", str(DATA / "course.journey.yaml"), "--customers", "100",
         "--out", str(tmp_path), "--days", "30", "--format", "json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["customers"] == 100
    assert summary["events"] == sum(v for k, v in summary["rows"].items() if k != "crm")
    assert summary["dirty"] == {}
