"""``journeylens templates`` and ``journeylens new``."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.conftest import Runner

from journeylens.formats.io import load_map, load_persona


def test_templates_table_lists_every_template(work: Path, run: Runner) -> None:
    result = run("templates")
    assert result.exit_code == 0
    for name in ("three-phase", "five-stage", "b2b-seven-phase", "aida", "service-blueprint"):
        assert f"│ {name} " in result.stdout
    assert "│ online-course      │      5 │        2 │" in result.stdout
    assert result.stdout.endswith(
        "Create a map from one: journeylens new my.journey.yaml --template NAME\n"
    )


def test_templates_json(work: Path, run: Runner) -> None:
    result = run("templates", "--format", "json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    names = [t["name"] for t in data]
    assert names == [
        "three-phase",
        "five-stage",
        "digital-five-stage",
        "b2b-seven-phase",
        "aida",
        "service-blueprint",
        "online-course",
    ]
    aida = data[names.index("aida")]
    assert aida["stages"] == ["Awareness", "Interest", "Decision", "Action"]
    assert set(aida) == {"name", "title", "description", "stages", "personas"}


def test_new_writes_map_and_personas(work: Path, run: Runner) -> None:
    result = run(
        "new", "course.journey.yaml", "--template", "online-course", "--title", "Course signup"
    )
    assert result.exit_code == 0
    assert result.stdout == (
        "created course.journey.yaml\n"
        "created maya.persona.yaml\n"
        "created robert.persona.yaml\n"
        "Next: journeylens show course.journey.yaml\n"
    )
    journey = load_map(work / "course.journey.yaml")
    assert journey.title == "Course signup"
    assert journey.personas == ["maya"]
    assert load_persona(work / "robert.persona.yaml").demographics.generation == "baby_boomer"
    # The new files validate together, persona references included.
    check = run("validate", "course.journey.yaml", "maya.persona.yaml", "robert.persona.yaml")
    assert check.exit_code == 0
    assert check.stdout.endswith("all 3 files valid\n")


def test_new_with_id(work: Path, run: Runner) -> None:
    result = run("new", "x.journey.yaml", "-t", "aida", "--id", "launch")
    assert result.exit_code == 0
    assert load_map(work / "x.journey.yaml").id == "launch"


def test_new_refuses_to_overwrite_without_force(work: Path, run: Runner) -> None:
    assert run("new", "a.journey.yaml", "-t", "aida").exit_code == 0
    again = run("new", "a.journey.yaml", "-t", "aida")
    assert again.exit_code == 2
    assert again.stderr.startswith("error: refusing to overwrite existing file(s): a.journey.yaml")
    assert again.stderr.endswith("(use --force to overwrite)\n")
    forced = run("new", "a.journey.yaml", "-t", "aida", "--force", "--title", "Second")
    assert forced.exit_code == 0
    assert load_map(work / "a.journey.yaml").title == "Second"


def test_new_unknown_template_lists_the_names(work: Path, run: Runner) -> None:
    result = run("new", "a.journey.yaml", "-t", "nope")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: unknown template 'nope' (expected one of: three-phase")
    assert not (work / "a.journey.yaml").exists()


def test_new_with_a_bad_id_is_a_usage_error(work: Path, run: Runner) -> None:
    result = run("new", "a.journey.yaml", "-t", "aida", "--id", "Bad Id")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: invalid option value (--id: ")
    assert not (work / "a.journey.yaml").exists()


def test_new_requires_a_template(work: Path, run: Runner) -> None:
    result = run("new", "a.journey.yaml")
    assert result.exit_code == 2
    assert "Missing option '--template'" in result.stderr
