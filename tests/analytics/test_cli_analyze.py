"""The ``journeylens analyze`` commands: the JSON shapes scripts rely on, and usage errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from journeylens.cli.main import app

EVENTS = """customer,what,ts,session_id
a,view,2024-01-01 00:00:00,s1
a,cart,2024-01-01 00:01:00,s1
a,buy,2024-01-01 00:03:00,s1
b,view,2024-01-01 00:00:00,s2
b,exit,2024-01-01 00:05:00,s2
c,cart,2024-01-01 00:00:00,s3
"""
ROLES = ["--customer-col", "customer", "--event-col", "what", "--time-col", "ts"]

MAP = """schema: journeylens/journeymap/v1
id: shop
title: Shop
stages:
  - id: look
    name: Look
    steps:
      - id: browse
        name: Browse
        touchpoints:
          - {id: site, name: Site, channel: web, match: [{event: view}]}
  - id: buy
    name: Buy
    steps:
      - id: pay
        name: Pay
        touchpoints:
          - {id: checkout, name: Checkout, channel: web, match: [{event: [cart, buy]}]}
"""


@pytest.fixture
def events_csv(tmp_path: Path) -> Path:
    path = tmp_path / "events.csv"
    path.write_text(EVENTS, encoding="utf-8")
    return path


def run_json(*args: str) -> dict[str, object]:
    result = CliRunner().invoke(app, [*args, "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert isinstance(data, dict)
    return data


def test_funnel_json_shape(events_csv: Path) -> None:
    data = run_json(
        "analyze", "funnel", str(events_csv), *ROLES, "--steps", "view,cart,buy", "--window", "2m"
    )
    assert data == {
        "unit": "customer",
        "total_units": 3,
        "steps": [
            {
                "step": "view",
                "reached": 2,
                "conversion_from_start": 1.0,
                "step_conversion": 2 / 3,
                "share_of_all": 2 / 3,
                "median_time_to_convert_s": 0.0,
            },
            {
                "step": "cart",
                "reached": 1,
                "conversion_from_start": 0.5,
                "step_conversion": 0.5,
                "share_of_all": 1 / 3,
                "median_time_to_convert_s": 60.0,
            },
            # a's buy is 180 s after its view: outside the 2-minute window
            {
                "step": "buy",
                "reached": 0,
                "conversion_from_start": 0.0,
                "step_conversion": 0.0,
                "share_of_all": 0.0,
                "median_time_to_convert_s": None,
            },
        ],
    }


def test_transitions_json_shape(events_csv: Path) -> None:
    data = run_json("analyze", "transitions", str(events_csv), *ROLES, "--markers")
    assert data["unit"] == "customer"
    rows = data["transitions"]
    assert isinstance(rows, list)
    assert set(rows[0]) == {"from", "to", "count", "unique_paths", "probability", "median_time_s"}
    got = {(r["from"], r["to"]): (r["count"], r["probability"]) for r in rows}
    assert got[("path_start", "view")] == (2, 2 / 3)  # c starts with cart
    assert got[("view", "cart")] == (1, 0.5)


def test_step_matrix_json_shape(events_csv: Path) -> None:
    data = run_json(
        "analyze", "step-matrix", str(events_csv), *ROLES, "--max-steps", "2", "--unit", "session"
    )
    assert data["unit"] == "session"
    assert data["max_steps"] == 2
    rows = data["rows"]
    assert isinstance(rows, list)
    assert rows[-1] == {"event": "path_end", "shares": [0.0, 1 / 3]}
    assert {r["event"]: r["shares"] for r in rows}["view"] == [2 / 3, 0.0]


def test_sessions_paths_flows(events_csv: Path, tmp_path: Path) -> None:
    s = run_json("analyze", "sessions", str(events_csv), *ROLES, "--timeout", "90s")
    # a: gaps 60 s, 120 s → 2 sessions; b: 300 s → 2; c: 1 → 5 sessions
    assert (s["customers"], s["sessions"]) == (3, 5)
    p = run_json("analyze", "paths", str(events_csv), *ROLES, "--top", "1")
    assert p["total_paths"] == 3
    assert len(p["paths"]) == 1  # type: ignore[arg-type]
    map_file = tmp_path / "shop.journey.yaml"
    map_file.write_text(MAP, encoding="utf-8")
    f = run_json("analyze", "flows", str(events_csv), *ROLES, "--map", str(map_file))
    assert f["links"] == [{"source": "look", "target": "buy", "value": 1, "units": 1}]


def test_csv_and_table_output(events_csv: Path) -> None:
    csv_out = CliRunner().invoke(
        app,
        ["analyze", "step-matrix", str(events_csv), *ROLES, "--max-steps", "1", "--format", "csv"],
    )
    assert csv_out.exit_code == 0
    assert csv_out.stdout.splitlines()[0] == '"event","step_1"'
    table = CliRunner().invoke(app, ["analyze", "transitions", str(events_csv), *ROLES])
    assert table.exit_code == 0
    assert "view" in table.stdout


def test_usage_errors(events_csv: Path) -> None:
    bad_col = CliRunner().invoke(app, ["analyze", "funnel", str(events_csv), "--steps", "a"])
    assert bad_col.exit_code == 2
    assert "no customer_id column" in bad_col.stderr
    no_steps = CliRunner().invoke(app, ["analyze", "funnel", str(events_csv), *ROLES])
    assert no_steps.exit_code == 2
    assert "--steps" in no_steps.stderr
    no_map = CliRunner().invoke(app, ["analyze", "flows", str(events_csv), *ROLES])
    assert no_map.exit_code == 2
    assert "--map" in no_map.stderr


def test_session_unit_without_session_column(tmp_path: Path) -> None:
    path = tmp_path / "no_sessions.csv"
    lines = [",".join(line.split(",")[:3]) for line in EVENTS.splitlines()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    data = run_json("analyze", "funnel", str(path), *ROLES, "--steps", "view", "--unit", "session")
    # 30-minute sessions: a (gaps 60 s, 120 s), b (gap 300 s), c → one session each
    assert data["unit"] == "session"
    assert data["total_units"] == 3
