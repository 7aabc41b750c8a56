"""Shared fixtures of the render tests (helpers live in ``tests/render/_fixtures.py``)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def live_workspace(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The online-course map (with its personas) and a workspace holding 300 simulated,
    ingested customers: the live demo in miniature. Built once per test run."""
    from typer.testing import CliRunner

    from journeylens.cli.main import app
    from journeylens.formats.io import save
    from journeylens.simulate.run import simulate
    from journeylens.simulate.scenario import Scenario, builtin_scenario
    from journeylens.templates import get_template, get_template_personas

    root = tmp_path_factory.mktemp("live")
    journey = get_template("online-course")
    personas = get_template_personas("online-course")
    for persona in personas:
        save(persona, root / f"{persona.id}.persona.yaml")
    map_file = save(journey, root / "online-course.journey.yaml")
    simulate(journey, personas, builtin_scenario(journey.id) or Scenario(), root / "sim", 300)
    ws = root / "ws"
    runner = CliRunner()
    for args in (["init", str(ws)], ["ingest", str(root / "sim"), "--workspace", str(ws)]):
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
    return map_file, ws
