"""The README documents every command (the datasette habit: undocumented means unfinished).

The test walks the Typer app, sub-groups included, and fails for each command whose full
name (``journeylens persona new``) does not appear in README.md. It also checks that the
README links only to files that exist and names the two set-up commands CI relies on.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import typer

from journeylens.cli.main import app

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def command_names() -> list[str]:
    """Full names of every command: ``journeylens validate``, ``journeylens persona new``, …"""
    names: list[str] = []

    def walk(command: Any, path: tuple[str, ...]) -> None:
        # Typer ships its own copy of click, so a group is recognised by its sub-commands.
        subcommands = getattr(command, "commands", None)
        if subcommands is None:
            names.append(" ".join(("journeylens", *path)))
            return
        for name, sub in subcommands.items():
            if not getattr(sub, "hidden", False):
                walk(sub, (*path, name))

    walk(typer.main.get_command(app), ())
    return names


def test_walk_finds_nested_commands() -> None:
    names = command_names()
    assert "journeylens validate" in names
    assert "journeylens persona new" in names


def test_every_command_is_in_the_readme() -> None:
    missing = [name for name in command_names() if name not in README]
    assert missing == [], f"commands missing from README.md: {missing}"


def test_readme_starts_with_the_two_setup_commands() -> None:
    # .ci/run calls scripts/test; the README must tell people the same two commands.
    first_bash_block = README.split("```bash\n", 1)[1].split("```", 1)[0]
    assert first_bash_block.split() == ["scripts/demo", "scripts/test"]
    # ... and they come before the tour of the command line.
    assert README.index("scripts/demo") < README.index("journeylens templates")
    assert "exec scripts/test" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_readme_links_point_to_existing_files() -> None:
    links = re.findall(r"\]\(((?!https?://|#)[^)]+)\)", README)
    assert links, "the README links to no docs"
    missing = [link for link in links if not (ROOT / link.split("#")[0]).exists()]
    assert missing == [], f"README links to missing files: {missing}"
