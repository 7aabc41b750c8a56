"""The analyze commands of part B on a small CSV file: JSON shapes, CSV, tables, errors."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from tests.analytics_b.maps import shop_map
from typer.testing import CliRunner

from journeylens.cli.main import app
from journeylens.formats.io import save

ROWS = [
    # customer, event, time, score, score_type, properties, channel
    ("c1", "page_view", "2024-06-03T00:00:00", "", "", "", "web"),
    ("c1", "checkout", "2024-06-03T01:00:00", "", "", "", "web"),
    ("c1", "purchase", "2024-06-03T02:00:00", "", "", "", "email"),
    ("c2", "page_view", "2024-06-03T00:00:00", "", "", "", "web"),
    ("c2", "nps_response", "2024-06-03T03:00:00", "9", "nps", '{"touchpoint": "checkout"}', "email"),
]  # fmt: skip


@pytest.fixture
def files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    monkeypatch.setenv("COLUMNS", "200")
    events = tmp_path / "events.csv"
    with events.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(
            [
                "customer_id",
                "event_name",
                "occurred_at",
                "score",
                "score_type",
                "properties",
                "channel",
            ]
        )
        w.writerows(ROWS)
    jm = tmp_path / "shop.journey.yaml"
    save(shop_map(), jm)
    return events, jm


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["analyze", *args])
    return result.exit_code, result.stdout, result.stderr


def test_map_json(files: tuple[Path, Path]) -> None:
    events, jm = files
    code, out, err = _run("map", str(jm), "--events", str(events), "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    assert (data["schema"], data["units"], data["events"]) == ("journeylens/livemap/v1", 2, 5)
    look = data["stages"][0]["figures"]
    assert (look["reached"], look["conversion"]) == (2, 0.5)
    pay = data["stages"][1]["steps"][0]
    assert pay["figures"]["nps"] == {
        "n": 1,
        "value": None,
        "low": None,
        "high": None,
        "flag": "too few answers",
    }
    assert data["outcome_rates"] == {"converted": 0.5}


def test_map_window(files: tuple[Path, Path]) -> None:
    events, jm = files
    code, out, _ = _run(
        "map", str(jm), "--events", str(events), "--since", "2024-06-03T01:00", "--format", "json"
    )
    assert code == 0
    assert json.loads(out)["events"] == 3
    code, _, err = _run("map", str(jm), "--events", str(events), "--since", "yesterday")
    assert code == 2
    assert "--since 'yesterday': expected an ISO 8601" in err


def test_conformance_survey_compare_channels(files: tuple[Path, Path]) -> None:
    events, jm = files
    code, out, err = _run("conformance", str(events), "--map", str(jm), "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    assert (data["fitness"], data["unbound_events"], data["paths"]) == (1.0, 1, 2)
    code, out, err = _run(
        "survey", str(events), "--by", "stage", "--map", str(jm), "--format", "json"
    )
    assert code == 0, err
    (row,) = json.loads(out)["rows"]
    assert (row["group"], row["score_type"], row["n"], row["flag"]) == (
        "buy",
        "nps",
        1,
        "too few answers",
    )
    code, out, err = _run(
        "compare", str(events), "--map", str(jm), "--outcome", "converted", "--format", "csv",
        "--features", "event",
    )  # fmt: skip
    assert code == 0, err
    lines = out.strip().splitlines()
    assert lines[0].startswith('"kind","feature","a","b","c","d"')
    assert len(lines) == 1 + 4  # four distinct events, all too rare with 2 units
    code, out, err = _run("channels", str(events))
    assert code == 0, err
    assert "web" in out
    assert "email" in out


def test_errors_are_clear(files: tuple[Path, Path]) -> None:
    events, jm = files
    code, _, err = _run("compare", str(events), "--map", str(jm), "--outcome", "churned")
    assert code == 2
    assert "map 'shop' has no outcome 'churned'; its outcomes are: converted" in err
    code, _, err = _run("survey", str(events), "--by", "persona")
    assert code == 1
    assert "'persona' column" in err


def test_moments(files: tuple[Path, Path]) -> None:
    events, jm = files
    code, out, err = _run(
        "moments", str(events), "--map", str(jm), "--outcome", "converted", "--format", "json",
        "--min-support", "1",
    )  # fmt: skip
    assert code == 0, err
    data = json.loads(out)
    assert (data["outcome"], data["level"], data["min_support"]) == ("converted", "step", 1)
    # c2's NPS 9 about checkout is a good experience at step pay; nobody had a bad one there.
    pay = next(m for m in data["moments"] if m["location"] == "pay" and m["signal"] == "survey")
    assert (pay["n_good"], pay["n_bad"], pay["flag"]) == (1, 0, "one-sided")
    code, out, err = _run("moments", str(events), "--map", str(jm), "--outcome", "converted")
    assert code == 0, err
    assert "moments of truth for converted by step" in out
