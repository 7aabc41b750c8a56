"""The CLI starts without loading the data stack: ``journeylens --version`` and ``--help``
must not pay for DuckDB, Arrow, narwhals, Polars, pydantic or the analytics layer (they
cost about a second of imports; each command imports what it needs when it runs)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

# Top-level packages (and journeylens layers) that loading the command line must not import.
HEAVY = (
    "duckdb",
    "narwhals",
    "pyarrow",
    "polars",
    "pydantic",
    "numpy",
    "ruamel",
    "journeylens.analytics",
    "journeylens.engine",
    "journeylens.model",
    "journeylens.formats",
    "journeylens.render",
    "journeylens.simulate",
    "journeylens.insights",
    "journeylens.store",
    "journeylens.web",
)

PROBE = """
import json, sys
{setup}
print(json.dumps(sorted(sys.modules)))
"""


def loaded_after(setup: str) -> set[str]:
    """The modules a fresh interpreter holds after running ``setup``."""
    out = subprocess.run(
        [sys.executable, "-c", PROBE.format(setup=setup)],
        capture_output=True,
        text=True,
        check=True,
    )
    return set(json.loads(out.stdout.splitlines()[-1]))


def heavy_in(modules: set[str]) -> list[str]:
    """The HEAVY names (package or layer) present in ``modules``."""
    return sorted(h for h in HEAVY if any(m == h or m.startswith(h + ".") for m in modules))


def test_probe_sees_a_heavy_import() -> None:
    # The check itself must be able to fail: importing the analyze library is caught.
    assert {"journeylens.analytics", "narwhals"} <= set(
        heavy_in(loaded_after("import journeylens.analytics"))
    )


@pytest.mark.parametrize(
    "setup",
    [
        "import journeylens.cli.main",
        # Building the click command tree (what --help and --version do) imports no more.
        "import typer, journeylens.cli.main as m; typer.main.get_command(m.app)",
    ],
)
def test_loading_the_cli_imports_no_data_stack(setup: str) -> None:
    assert heavy_in(loaded_after(setup)) == []
