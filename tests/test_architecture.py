"""The layers of ARCHITECTURE.md hold: import-linter's contracts in pyproject.toml are kept.

Imports point downward only (cli → web → insights → store, render, simulate → analytics
→ events, engine → templates → formats → model). This test runs ``lint-imports`` exactly as
``scripts/test`` does, so a broken contract fails the suite with import-linter's own
explanation of which import chain breaks it.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "journeylens"


def _config() -> dict[str, object]:
    with (ROOT / "pyproject.toml").open("rb") as f:
        config = tomllib.load(f)["tool"]["importlinter"]
    assert isinstance(config, dict)
    return config


def _contracts() -> list[dict[str, object]]:
    contracts = _config()["contracts"]
    assert isinstance(contracts, list)
    return contracts


@pytest.mark.slow
def test_import_contracts_are_kept() -> None:
    exe = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run(
        [str(exe), "--no-logo", "--config", str(ROOT / "pyproject.toml")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    report = result.stdout + result.stderr
    assert result.returncode == 0, report
    for contract in _contracts():
        assert f"{contract['name']} KEPT" in report, report
    assert f"Contracts: {len(_contracts())} kept, 0 broken." in report


def test_every_subpackage_sits_in_a_layer() -> None:
    """A new top-level package cannot escape the layer contract by being left out of it."""
    layered = next(c for c in _contracts() if c["type"] == "layers")
    layers = layered["layers"]
    assert isinstance(layers, list)
    named = {
        module.strip().removeprefix("journeylens.")
        for layer in layers
        for module in str(layer).replace(":", "|").split("|")
    }
    packages = {p.parent.name for p in PACKAGE.glob("*/__init__.py")}
    assert packages - named == set(), (
        f"packages missing from the layers contract: {packages - named}"
    )


def test_cli_is_the_top_layer() -> None:
    layered = next(c for c in _contracts() if c["type"] == "layers")
    layers = layered["layers"]
    assert isinstance(layers, list)
    assert "journeylens.cli" in str(layers[0])
    assert str(layers[-1]) == "journeylens.model"
