"""The README's worked example of ``journeylens analyze`` on the demo data stays runnable.

The README shows each analytics command the issue names (funnel, transitions, step matrix,
sessions, paths, outcome comparison, survey, planned vs actual, the LiveMap) with its output
on a 20,000-customer demo. This test reads those ``console`` blocks, checks that every one
of those commands is there, and runs each shown command line verbatim on a small demo
workspace ``demo/`` (made by the same steps as ``journeylens demo``, without the report):
exit code 0 and the same table columns, or the same JSON keys, as the README shows.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from journeylens.cli.main import app

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
HEADING = "#### Worked example on the demo data"

# The commands issue 5 asks a worked example of, with the option each example must show.
REQUIRED = {
    "funnel": "--steps",
    "transitions": "",
    "step-matrix": "",
    "sessions": "",
    "paths": "",
    "compare": "--outcome",
    "survey": "",
    "conformance": "--map",
    "map": "--format json",
}


def worked_example() -> str:
    """The README's worked-example part: from its heading to the next heading or area."""
    start = README.index(HEADING)
    end = re.search(r"\n(?:#{1,4} |<!-- area:)", README[start + len(HEADING) :])
    assert end is not None
    return README[start : start + len(HEADING) + end.start()]


def examples() -> list[tuple[str, list[str]]]:
    """(command line, output lines as shown) for every ``$ journeylens analyze`` line."""
    found: list[tuple[str, list[str]]] = []
    for block in re.findall(r"```console\n(.*?)```", worked_example(), re.S):
        for chunk in re.split(r"^(?=\$ )", block, flags=re.M):
            if chunk.startswith("$ journeylens analyze "):
                command, *output = chunk.rstrip("\n").split("\n")
                found.append((command.removeprefix("$ "), output))
    return found


EXAMPLES = examples()


def subcommand(command: str) -> str:
    """``funnel`` for ``journeylens analyze funnel …``."""
    return shlex.split(command)[2]


def columns(output: list[str]) -> list[str]:
    """The column names of the first Rich table in ``output`` (its ``┃ a ┃ b ┃`` line)."""
    header = next(line for line in output if line.startswith("┃"))
    return [name.strip() for name in header.strip("┃").split("┃")]


def keys(value: Any) -> set[str]:
    """Every key of every object in a JSON value."""
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in keys(v)}
    return set()


@pytest.fixture(scope="module")
def demo_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding a small ``demo/`` workspace: the demo's map, personas and simulated
    sources (200 customers), ingested and stitched as ``journeylens demo`` does."""
    from journeylens.cli.ingest import manifest_specs
    from journeylens.engine.workspace import Workspace
    from journeylens.events.runner import ingest
    from journeylens.events.stitch import stitch
    from journeylens.formats.io import find_personas, load_map
    from journeylens.simulate.run import simulate
    from journeylens.simulate.scenario import Scenario, builtin_scenario
    from journeylens.templates import create_from_template

    root = tmp_path_factory.mktemp("readme")
    ws = Workspace.init(root / "demo")
    create_from_template("online-course", ws.maps_dir)
    journey = load_map(ws.maps_dir / "online-course.journey.yaml")
    found = find_personas(ws.maps_dir)
    personas = [found[k][1] for k in sorted(found)]
    raw = root / "demo" / "raw"
    scenario = builtin_scenario(journey.id) or Scenario()
    simulate(journey, personas, scenario, raw, 200, seed=42, dirty=0.005)
    con = ws.store.connect()
    try:
        ingest(con, manifest_specs(raw))
        con.execute("BEGIN TRANSACTION")
        stitch(con, max_users_per_identity=ws.max_users_per_identity)
        con.execute("COMMIT")
    finally:
        con.close()
    return root


def test_every_named_command_has_a_worked_example() -> None:
    shown = {subcommand(command): command for command, _ in EXAMPLES}
    assert sorted(shown) == sorted(REQUIRED)
    for name, option in REQUIRED.items():
        assert option in shown[name], (name, option)
    # Each example shows its output, not only the command line.
    for command, output in EXAMPLES:
        assert any(line.strip() for line in output), command


def test_the_worked_example_says_where_its_data_comes_from() -> None:
    text = worked_example()
    assert "scripts/demo demo --force --customers 20000" in text
    assert "`demo/`" in text


@pytest.mark.parametrize(("command", "output"), EXAMPLES, ids=[subcommand(c) for c, _ in EXAMPLES])
def test_the_shown_command_runs_and_gives_the_shown_columns(
    command: str, output: list[str], demo_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The README runs the commands from the folder that holds demo/: so does the test.
    monkeypatch.chdir(demo_root)
    args = shlex.split(command)
    assert args[:2] == ["journeylens", "analyze"]
    result = CliRunner().invoke(app, args[1:], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    if output[0].startswith("{"):
        # A JSON excerpt: every key it shows is a key of the real answer.
        shown = set(re.findall(r'"(\w+)":', "\n".join(output)))
        assert shown
        assert shown <= keys(json.loads(result.stdout)), shown - keys(json.loads(result.stdout))
    else:
        assert columns(result.stdout.splitlines()) == columns(output)
