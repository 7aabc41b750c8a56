"""``journeylens validate``: every problem of every file, located, and the right exit code."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.conftest import Runner


def test_valid_map_and_persona_exit_zero(work: Path, run: Runner) -> None:
    result = run("validate", "shop.journey.yaml", "ana.persona.yaml")
    assert result.exit_code == 0
    assert result.stdout == (
        "ok shop.journey.yaml (map 'shop': 2 stages, 2 steps)\n"
        "ok ana.persona.yaml (persona 'ana')\n"
        "all 2 files valid\n"
    )
    assert result.stderr == ""


def located(line: str) -> tuple[str, str]:
    """Split ``file:line:col: path: message`` into (``file:line:col: path``, message)."""
    where, path, message = line.split(": ", 2)
    return f"{where}: {path}", message


def test_every_error_is_listed_with_line_and_column(work: Path, run: Runner) -> None:
    result = run("validate", "broken.journey.yaml")
    assert result.exit_code == 1
    assert result.stdout == ""
    *issues, summary = result.stderr.splitlines()
    # Locations are the CLI's contract; the wording of each message belongs to the model,
    # so only the part that names the bad value is pinned here.
    assert [located(line)[0] for line in issues] == [
        "broken.journey.yaml:2:5: id",
        "broken.journey.yaml:13:18: stages[0].steps[0].emotion.score",
        "broken.journey.yaml:17:22: stages[0].steps[0].touchpoints[0].channel",
        "broken.journey.yaml:18:9: stages[1].id",
        "broken.journey.yaml:20:13: stages[1].colour",
    ]
    messages = [located(line)[1] for line in issues]
    assert messages[0].endswith("(got 'Broken Map')")
    assert messages[1].endswith("(got 7)")
    assert messages[2].endswith("(got 'fax')")
    assert messages[3] == "duplicate stage id 'one' (first used at stages[0])"
    assert messages[4].startswith("unknown field")
    assert summary == "1 of 1 file invalid, 5 errors"


def test_valid_and_invalid_files_together(work: Path, run: Runner) -> None:
    result = run("validate", "shop.journey.yaml", "broken.journey.yaml")
    assert result.exit_code == 1
    assert result.stdout == "ok shop.journey.yaml (map 'shop': 2 stages, 2 steps)\n"
    assert result.stderr.endswith("1 of 2 files invalid, 5 errors\n")


def test_persona_reference_must_resolve_beside_the_map(work: Path, run: Runner) -> None:
    (work / "ana.persona.yaml").unlink()
    result = run("validate", "shop.journey.yaml")
    assert result.exit_code == 1
    assert result.stderr == (
        "shop.journey.yaml:5:5: personas[0]: persona 'ana' not found "
        "(expected a ana.persona.yaml beside the map)\n"
        "1 of 1 file invalid, 1 error\n"
    )


def test_broken_persona_file_beside_the_map_is_reported_once(work: Path, run: Runner) -> None:
    (work / "ana.persona.yaml").write_text(
        "schema: journeylens/persona/v1\nid: ana\nname: Ana\nshare: 2\n", encoding="utf-8"
    )
    result = run("validate", "shop.journey.yaml", "ana.persona.yaml")
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    share_errors = [line for line in lines if line.startswith("ana.persona.yaml:4:8: share: ")]
    assert len(share_errors) == 1
    assert share_errors[0].endswith("(got 2)")
    # With the persona unloadable, the map's reference to it does not resolve either.
    assert lines[-1] == "2 of 2 files invalid, 2 errors"


def test_missing_file_is_an_error_not_a_crash(work: Path, run: Runner) -> None:
    result = run("validate", "nowhere.journey.yaml")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == "nowhere.journey.yaml: (document): file not found"


def test_json_report(work: Path, run: Runner) -> None:
    result = run("validate", "shop.journey.yaml", "broken.journey.yaml", "--format", "json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["valid"] is False
    assert [(f["file"], f["kind"], f["valid"]) for f in report["files"]] == [
        ("shop.journey.yaml", "map", True),
        ("broken.journey.yaml", "map", False),
    ]
    first = report["files"][1]["issues"][0]
    assert {k: first[k] for k in ("file", "line", "column", "path")} == {
        "file": "broken.journey.yaml",
        "line": 2,
        "column": 5,
        "path": "id",
    }
    assert first["message"].endswith("(got 'Broken Map')")
    assert len(report["files"][1]["issues"]) == 5


def test_no_files_is_a_usage_error(work: Path, run: Runner) -> None:
    result = run("validate")
    assert result.exit_code == 2
    assert "Missing argument 'FILE'" in result.stderr


def test_a_folder_stands_for_its_map_and_persona_files(work: Path, run: Runner) -> None:
    (work / "maps").mkdir()
    for name in ("shop.journey.yaml", "ana.persona.yaml"):
        (work / "maps" / name).write_text((work / name).read_text(encoding="utf-8"))
    (work / "maps" / "notes.txt").write_text("not a map\n", encoding="utf-8")
    result = run("validate", "maps")
    assert result.exit_code == 0
    assert result.stdout == (
        f"ok {Path('maps', 'ana.persona.yaml')} (persona 'ana')\n"
        f"ok {Path('maps', 'shop.journey.yaml')} (map 'shop': 2 stages, 2 steps)\n"
        "all 2 files valid\n"
    )


def test_a_folder_without_maps_is_a_usage_error(work: Path, run: Runner) -> None:
    (work / "empty").mkdir()
    result = run("validate", "empty")
    assert result.exit_code == 2
    assert (
        result.stderr == "error: empty: no *.journey.yaml or *.persona.yaml files in this folder\n"
    )
