"""``journeylens lint``: the checklist findings, severities and the exit code."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.conftest import Runner


def test_error_finding_exits_one(work: Path, run: Runner) -> None:
    result = run("lint", "thin.journey.yaml")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0] == (
        "thin.journey.yaml: personas: error [persona-set] no persona set: "
        "name the persona this map is for (personas: [<persona id>])"
    )
    assert (
        "thin.journey.yaml: stages[0].steps[0]: warning [step-has-emotion] step 's' has no emotion"
        in lines
    )
    assert lines[-1].startswith("1 error, ")


def test_warnings_alone_exit_zero(work: Path, run: Runner) -> None:
    result = run("lint", "shop.journey.yaml")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[-1].startswith("0 errors, ")
    # The two-stage sample has a beginning and an end but no middle.
    assert (
        "shop.journey.yaml: stages: warning [begin-middle-end] the journey has 2 stages"
        in result.stdout
    )


def test_json_findings(work: Path, run: Runner) -> None:
    result = run("lint", "thin.journey.yaml", "--format", "json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["file"] == "thin.journey.yaml"
    assert report["errors"] == 1
    assert report["findings"][0] == {
        "rule": "persona-set",
        "severity": "error",
        "path": "personas",
        "message": "no persona set: name the persona this map is for (personas: [<persona id>])",
    }
    assert report["warnings"] == sum(f["severity"] == "warning" for f in report["findings"])


def test_invalid_map_is_reported_not_linted(work: Path, run: Runner) -> None:
    result = run("lint", "broken.journey.yaml")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines()[-1] == "5 errors"


def test_broken_persona_beside_the_map_is_reported(work: Path, run: Runner) -> None:
    (work / "ana.persona.yaml").write_text("id: ana\n", encoding="utf-8")
    result = run("lint", "shop.journey.yaml")
    assert result.exit_code == 1
    assert result.stderr.startswith("ana.persona.yaml:1:1: name: ")
