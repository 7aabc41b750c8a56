"""``journeylens schema`` and ``journeylens export --to json|yaml``."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.conftest import Runner

from journeylens.formats.io import dumps_json, dumps_yaml, load_map
from journeylens.formats.schema import generate_schemas


def test_schema_writes_both_schemas(work: Path, run: Runner) -> None:
    result = run("schema", "-o", "out")
    assert result.exit_code == 0
    assert result.stdout == (
        f"wrote {Path('out', 'journeymap.v1.json')}\nwrote {Path('out', 'persona.v1.json')}\n"
    )
    written = json.loads((work / "out" / "journeymap.v1.json").read_text(encoding="utf-8"))
    assert written == generate_schemas()["journeymap.v1.json"]


def test_export_json_to_stdout_is_the_canonical_json(work: Path, run: Runner) -> None:
    result = run("export", "shop.journey.yaml", "--to", "json")
    assert result.exit_code == 0
    assert result.stdout == dumps_json(load_map(work / "shop.journey.yaml"))
    assert json.loads(result.stdout)["stages"][1]["steps"][0]["emotion"] == {
        "score": -1.5,
        "label": "anxious",
    }


def test_export_yaml_to_file_round_trips(work: Path, run: Runner) -> None:
    result = run("export", "shop.journey.yaml", "--to", "yaml", "-o", "copy/shop.journey.yaml")
    assert result.exit_code == 0
    assert result.stdout == ""
    assert result.stderr == f"wrote {Path('copy', 'shop.journey.yaml')}\n"
    original = load_map(work / "shop.journey.yaml")
    assert load_map(work / "copy" / "shop.journey.yaml") == original
    assert (work / "copy" / "shop.journey.yaml").read_text(encoding="utf-8") == dumps_yaml(original)


def test_export_of_an_invalid_map_lists_its_errors(work: Path, run: Runner) -> None:
    result = run("export", "broken.journey.yaml", "--to", "json")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines()[0].startswith("broken.journey.yaml:2:5: id: ")


def test_unknown_export_format_is_a_usage_error(work: Path, run: Runner) -> None:
    result = run("export", "shop.journey.yaml", "--to", "pdf")
    assert result.exit_code == 2
    assert "'pdf' is not one of" in result.stderr
