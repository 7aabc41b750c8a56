"""Every command explains itself with an example, and the installed entry point works."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer
from tests.cli.conftest import DATA, Runner

from journeylens.cli.main import app


def all_commands() -> list[tuple[str, ...]]:
    """Every command path of the app, sub-groups included: ("persona", "new"), …"""
    found: list[tuple[str, ...]] = []

    def walk(command: Any, path: tuple[str, ...]) -> None:
        # Typer ships its own copy of click, so groups are recognised by their sub-commands.
        subcommands = getattr(command, "commands", None)
        if subcommands is not None:
            for name, sub in subcommands.items():
                walk(sub, (*path, name))
        else:
            found.append(path)

    walk(typer.main.get_command(app), ())
    return found


def test_maps_area_commands_are_registered() -> None:
    commands = set(all_commands())
    expected = {
        ("templates",),
        ("new",),
        ("validate",),
        ("lint",),
        ("diff",),
        ("export",),
        ("import",),
        ("show",),
        ("schema",),
        ("persona", "new"),
    }
    assert expected <= commands


@pytest.mark.parametrize("path", all_commands(), ids=" ".join)
def test_every_command_help_has_an_example(path: tuple[str, ...], run: Runner) -> None:
    result = run(*path, "--help")
    assert result.exit_code == 0
    assert "Example" in result.stdout, f"journeylens {' '.join(path)} --help has no example"


def test_installed_entry_point_runs(tmp_path: Path) -> None:
    # The console script installed by pip, next to the interpreter running the tests.
    exe = Path(sys.executable).parent / "journeylens"
    env = {**os.environ, "COLUMNS": "100"}
    ok = subprocess.run(
        [str(exe), "validate", str(DATA / "shop.journey.yaml")],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.endswith("all 1 file valid\n")
    bad = subprocess.run(
        [str(exe), "validate", str(DATA / "broken.journey.yaml")],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert bad.returncode == 1
    assert bad.stderr.endswith("1 of 1 file invalid, 5 errors\n")
    usage = subprocess.run(
        [str(exe), "no-such-command"], capture_output=True, text=True, env=env, check=False
    )
    assert usage.returncode == 2
