"""On a small simulated run of the demo story, the planted stories surface as findings:
the planted mobile checkout friction is the top drop-off finding, the video-player outage
the top spike, and both lead the report's findings."""

from __future__ import annotations

from typing import Any

import pytest
from typer.testing import CliRunner

from journeylens.analytics.binding import bind
from journeylens.cli.main import app
from journeylens.engine.frames import cache
from journeylens.engine.workspace import Workspace
from journeylens.formats.io import find_personas, load_map
from journeylens.insights.segments import anomaly_findings, dropoff_findings

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One 6,000-customer demo, its map, personas and bound events."""
    folder = tmp_path_factory.mktemp("demo") / "ws"
    result = CliRunner().invoke(
        app, ["demo", str(folder), "--customers", "6000", "--seed", "11"], env={"COLUMNS": "200"}
    )
    assert result.exit_code == 0, result.output
    ws = Workspace.open(folder)
    con = ws.store.connect(read_only=True)
    journey = load_map(folder / "maps" / "online-course.journey.yaml")
    personas = [p for _, p in find_personas(folder / "maps").values()]
    bound = cache(bind(ws.store.events(con), journey))
    return {
        "folder": folder,
        "journey": journey,
        "personas": personas,
        "bound": bound,
        "customers": con.table("customers"),
    }


def test_planted_friction_is_the_top_dropoff_finding(run: dict[str, Any]) -> None:
    found = dropoff_findings(
        run["bound"], run["journey"], customers=run["customers"], personas=run["personas"]
    )
    top = found[0]
    # Planted: mobile customers drop 3× at checkout from 2 February to 1 March 2026.
    assert top.location == "checkout"
    assert top.group == "mobile customers in February 2026"
    assert top.ratio >= 1.7
    assert top.value > top.baseline_value
    assert top.text.startswith(f"{top.value:.0%} of mobile customers in February 2026 who")


def test_planted_outage_is_the_top_spike(run: dict[str, Any]) -> None:
    top = anomaly_findings(run["bound"], run["journey"])[0]
    # Planted: video_error at lesson-player-app on 6–15 April 2026 (60% vs 1% of visits).
    assert top.location == "lesson-player-app"
    assert "video_error" in top.text
    assert "April 2026" in top.group
    assert top.ratio > 10


def test_report_leads_with_the_planted_stories(run: dict[str, Any]) -> None:
    html = (run["folder"] / "report.html").read_text(encoding="utf-8")
    assert "mobile customers in February 2026 who reached “Checks out”" in html
    assert "Error events (video_error) at “Lesson player in the app” spiked" in html
