"""``journeylens persona new``: a valid persona file to fill in."""

from __future__ import annotations

from pathlib import Path

from tests.cli.conftest import Runner

from journeylens.formats.io import load_persona


def test_creates_a_persona_named_after_the_file(work: Path, run: Runner) -> None:
    result = run("persona", "new", "career-changer.persona.yaml", "--generation", "gen_z")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[0] == (
        "created career-changer.persona.yaml (persona 'career-changer')"
    )
    assert (work / "career-changer.persona.yaml").read_text(encoding="utf-8") == (
        "schema: journeylens/persona/v1\n"
        "id: career-changer\n"
        "name: Career Changer\n"
        "demographics:\n"
        "  generation: gen_z\n"
    )
    persona = load_persona(work / "career-changer.persona.yaml")
    assert persona.demographics.generation == "gen_z"


def test_name_and_id_options(work: Path, run: Runner) -> None:
    result = run("persona", "new", "p.persona.json", "--name", "Bo", "--id", "bo")
    assert result.exit_code == 0
    assert load_persona(work / "p.persona.json").model_dump(exclude_defaults=True) == {
        "id": "bo",
        "name": "Bo",
    }


def test_refuses_to_overwrite(work: Path, run: Runner) -> None:
    result = run("persona", "new", "ana.persona.yaml")
    assert result.exit_code == 2
    assert result.stderr == "error: ana.persona.yaml already exists (use --force to overwrite)\n"
    forced = run("persona", "new", "ana.persona.yaml", "--force", "--name", "Ana B")
    assert forced.exit_code == 0
    assert load_persona(work / "ana.persona.yaml").name == "Ana B"


def test_invalid_id_is_a_usage_error(work: Path, run: Runner) -> None:
    result = run("persona", "new", "Ana Smith.persona.yaml")
    assert result.exit_code == 2
    assert result.stderr == (
        "error: 'Ana Smith' is not a valid persona id "
        "(lower-case letters, digits, '-' and '_'); pass one with --id\n"
    )
    assert not (work / "Ana Smith.persona.yaml").exists()


def test_unknown_generation_is_a_usage_error(work: Path, run: Runner) -> None:
    result = run("persona", "new", "x.persona.yaml", "--generation", "boomer")
    assert result.exit_code == 2
    assert "'boomer' is not one of" in result.stderr
