"""Shared simulator outputs: simulated once per test session, small enough to be quick."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from journeylens.formats.io import find_personas, load_map
from journeylens.model import JourneyMap, Persona
from journeylens.simulate.run import SimulationResult, simulate
from journeylens.simulate.scenario import Behaviour, Scenario, load_scenario

DATA = Path(__file__).parent / "data"
START = date(2026, 1, 5)  # a Monday
DAYS = 112  # 16 full weeks


def mini_map() -> tuple[JourneyMap, list[Persona]]:
    """The test map and its two personas."""
    found = find_personas(DATA)
    return load_map(DATA / "course.journey.yaml"), [found[k][1] for k in sorted(found)]


@pytest.fixture(scope="session")
def effects_run(tmp_path_factory: pytest.TempPathFactory) -> SimulationResult:
    """8,000 customers under the every-effect scenario, clean files."""
    journey, personas = mini_map()
    scenario = load_scenario(DATA / "effects.scenario.yaml")
    out = tmp_path_factory.mktemp("effects")
    return simulate(journey, personas, scenario, out, 8000, start=START, days=DAYS, seed=7)


@pytest.fixture(scope="session")
def dirty_run(tmp_path_factory: pytest.TempPathFactory) -> SimulationResult:
    """1,500 customers in three chunks with 3% bad records (surveys frequent enough that
    every kind of bad record, out-of-range scores included, is injected)."""
    journey, personas = mini_map()
    out = tmp_path_factory.mktemp("dirty")
    scenario = Scenario(behaviour=Behaviour(survey_rate=0.2))
    return simulate(
        journey, personas, scenario, out, 1500, start=START, days=DAYS, seed=3, dirty=0.03,
        chunk_size=500,
    )  # fmt: skip
