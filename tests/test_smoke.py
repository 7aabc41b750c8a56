"""The package imports and the command line answers."""

from typer.testing import CliRunner

from journeylens import __version__
from journeylens.cli.main import app


def test_version_command_prints_package_version() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"journeylens {__version__}"
