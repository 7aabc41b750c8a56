"""Shared output conventions of the ``journeylens`` commands.

* The command's report goes to **stdout**; problems go to **stderr**.
* Exit codes: ``0`` ok, ``1`` the input is invalid (validation errors, error-level lint
  findings), ``2`` the command was used wrongly (unknown option value, missing file,
  refusing to overwrite).
* Located problems are printed one per line as ``file:line:col: path: message`` with plain
  ``typer.echo`` — never through Rich markup, so square brackets in a message
  (``stages[2]``) are printed as written and lines are never wrapped.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from enum import StrEnum
from pathlib import Path
from typing import Any, NoReturn

import typer
from rich.console import Console

EXIT_OK = 0
EXIT_INVALID = 1
EXIT_USAGE = 2


class OutputFormat(StrEnum):
    """How a command prints its report: for people (``text``) or for programs (``json``)."""

    TEXT = "text"
    JSON = "json"


FORMAT_OPTION_HELP = "Print the report as text (for people) or json (for programs)."


def console(*, stderr: bool = False) -> Console:
    """A Rich console for one command run.

    Made per call so test runners that swap ``sys.stdout`` are honoured; the width comes
    from ``COLUMNS`` (else the terminal, else 100) so tables do not wrap in CI logs.
    """
    width = int(os.environ["COLUMNS"]) if os.environ.get("COLUMNS", "").isdigit() else None
    return Console(stderr=stderr, highlight=False, width=width or 100, soft_wrap=False)


def echo_json(data: Any) -> None:
    """Print ``data`` as indented JSON on stdout."""
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False))


def echo_lines(lines: Iterable[object], *, err: bool = False) -> None:
    """Print each item's ``str()`` on its own line, unformatted."""
    for line in lines:
        typer.echo(str(line), err=err)


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    """Print ``error: message`` on stderr and stop with ``code``."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def write_or_echo(text: str, out: Path | None) -> None:
    """Write ``text`` to ``out`` (creating folders), or print it on stdout when ``out`` is None."""
    if out is None:
        typer.echo(text, nl=not text.endswith("\n"))
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    typer.echo(f"wrote {out}", err=True)


def refuse_overwrite(paths: Iterable[Path], force: bool) -> None:
    """Stop with a usage error when any of ``paths`` exists and ``--force`` was not given."""
    if force:
        return
    existing = [str(p) for p in paths if p.exists()]
    if existing:
        fail(f"{', '.join(existing)} already exists (use --force to overwrite)")
