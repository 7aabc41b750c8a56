"""The command line keeps its own copies of a few library choices (enums it can build
without importing the model or the engines, so ``journeylens --help`` stays fast, see
test_cli_startup.py). Each copy must list exactly what the library accepts."""

from __future__ import annotations

from typing import get_args

from journeylens.analytics._common import Unit
from journeylens.cli._options import EngineChoice, UnitChoice
from journeylens.cli.maps import GenerationChoice
from journeylens.engine.frames import ENGINES
from journeylens.model import Generation


def test_generation_choices_are_the_models_generations() -> None:
    assert [c.value for c in GenerationChoice] == [g.value for g in Generation]


def test_engine_choices_are_the_engines() -> None:
    assert tuple(c.value for c in EngineChoice) == ENGINES


def test_unit_choices_are_the_analytics_units() -> None:
    assert tuple(c.value for c in UnitChoice) == get_args(Unit)
