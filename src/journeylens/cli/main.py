"""Entry point of the ``journeylens`` command.

Each area registers its commands from its own module (``maps``, ``simulate``, ``ingest``,
``analyze``, …) so the areas stay independent; this module only assembles them.
"""

from __future__ import annotations

import typer

from journeylens import __version__
from journeylens.cli import analyze, demo, ingest, maps, render, serve, simulate

app = typer.Typer(
    name="journeylens",
    help=(
        "Customer journey maps as code, bound to the events your company records.\n\n"
        "Example: journeylens new shop.journey.yaml --template five-stage"
    ),
    no_args_is_help=True,
    rich_markup_mode="markdown",
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"journeylens {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version and exit."
    ),
) -> None:
    """journeylens: design journey maps, ingest events, measure the journey."""


for _module in (maps, simulate, ingest, analyze, render, demo, serve):
    _module.register(app)


def main() -> None:
    """Run the command line."""
    app()


if __name__ == "__main__":
    main()
