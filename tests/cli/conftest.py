"""Fixtures of the CLI tests: a runner and a folder holding copies of the sample files."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from journeylens.cli.main import app

DATA = Path(__file__).parent / "data"


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A temporary working folder with copies of ``tests/cli/data``; it is the current dir."""
    for item in DATA.iterdir():
        shutil.copy(item, tmp_path / item.name)
    monkeypatch.chdir(tmp_path)
    # A fixed width keeps Rich tables and trees identical on every terminal.
    monkeypatch.setenv("COLUMNS", "100")
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    return tmp_path


@pytest.fixture
def run() -> Runner:
    """Invoke ``journeylens`` in-process: ``run("validate", "x.journey.yaml")``."""
    return Runner()


class Runner:
    """Calls the Typer app with CliRunner; stdout and stderr are kept apart."""

    def __init__(self) -> None:
        self._runner = CliRunner()

    def __call__(self, *args: str, input: str | None = None) -> Result:
        return self._runner.invoke(app, list(args), input=input, catch_exceptions=False)
