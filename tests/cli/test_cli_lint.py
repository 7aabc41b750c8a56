"""``journeylens lint``: the checklist findings, severities and the exit code."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from tests.cli.conftest import Runner


def test_error_finding_exits_one(work: Path, run: Runner) -> None:
    result = run("lint", "thin.journey.yaml")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    # No `personas:` key in the file: the finding points at the document's start.
    assert lines[0] == (
        "thin.journey.yaml:1:1: personas: error [persona-set] no persona set: "
        "name the persona this map is for (personas: [<persona id>])"
    )
    # Line 7 is `      - id: s`; the step's mapping starts at column 9.
    assert (
        "thin.journey.yaml:7:9: stages[0].steps[0]: warning [step-has-emotion] "
        "step 's' has no emotion" in lines
    )
    assert lines[-1].startswith("1 error, ")


def test_warnings_alone_exit_zero(work: Path, run: Runner) -> None:
    result = run("lint", "shop.journey.yaml")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[-1].startswith("0 errors, ")
    # The two-stage sample has a beginning and an end but no middle.
    assert "stages: warning [begin-middle-end] the journey has 2 stages" in result.stdout


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
        "line": 1,
        "column": 1,
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


# Positions counted by hand: line numbers on the left, columns are 1-based.
POSITIONED = """\
id: placed
title: Placed
personas: [ana, bob]
stages:
  - id: first
    name: First
    goal: Start
    steps:
      - id: a
        name: A
        emotion: {score: 1}
      - id: b
        name: B
  - id: second
    name: Second
    steps:
      - id: c
        name: C
        emotion: {score: 0}
"""
#  1 id: placed
#  3 personas: [ana, bob]    -> the list value starts at column 11
#  5   - id: first           -> stages[0] at 5:5
#  9       - id: a
# 12       - id: b           -> stages[0].steps[1] at 12:9
# 14   - id: second          -> stages[1] at 14:5


def test_findings_carry_line_and_column(work: Path, run: Runner) -> None:
    (work / "placed.journey.yaml").write_text(POSITIONED, encoding="utf-8")
    result = run("lint", "placed.journey.yaml")
    lines = result.stdout.splitlines()
    assert (
        "placed.journey.yaml:3:11: personas: warning [one-point-of-view] the map is for 2 "
        "personas ('ana', 'bob'): keep one point of view per map and make one map per persona"
    ) in lines
    assert (
        "placed.journey.yaml:12:9: stages[0].steps[1]: warning [step-has-emotion] "
        "step 'b' has no emotion"
    ) in lines
    assert (
        "placed.journey.yaml:14:5: stages[1]: warning [stage-has-goal] stage 'second' has no goal"
        in lines
    )
    # A finding about the whole map points at the start of the file.
    assert (
        "placed.journey.yaml:1:1: warning [pain-points-exist] the map documents no pain points"
        in lines
    )


def test_json_findings_carry_line_and_column(work: Path, run: Runner) -> None:
    (work / "placed.journey.yaml").write_text(POSITIONED, encoding="utf-8")
    report = json.loads(run("lint", "placed.journey.yaml", "--format", "json").stdout)
    emotion = [f for f in report["findings"] if f["rule"] == "step-has-emotion"]
    assert [(f["path"], f["line"], f["column"]) for f in emotion] == [("stages[0].steps[1]", 12, 9)]


def test_lint_parses_the_map_once(work: Path, run: Runner, monkeypatch: pytest.MonkeyPatch) -> None:
    from journeylens.formats import io

    alone = work / "alone"  # no persona files beside it: only the map is read
    alone.mkdir()
    (alone / "placed.journey.yaml").write_text(POSITIONED, encoding="utf-8")
    parses: list[str] = []
    readers = {"_parse": io._parse, "fast_yaml": io.fast_yaml, "_fast_json": io._fast_json}
    for name, real in readers.items():

        def counted(text: str, *args: Any, _name: str = name, _real: Any = real) -> Any:
            parses.append(_name)
            return _real(text, *args)

        monkeypatch.setattr(io, name, counted)
    result = run("lint", "alone/placed.journey.yaml")
    assert result.exit_code == 1  # personas ana and bob have no files beside the map
    assert "alone/placed.journey.yaml:12:9: stages[0].steps[1]:" in result.stdout
    assert result.stdout.splitlines()[-1].startswith("2 errors, ")
    assert parses == ["_parse"]
