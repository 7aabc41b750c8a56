"""``journeylens export --to mermaid|csv`` and ``journeylens import --from mermaid|csv``."""

from __future__ import annotations

from pathlib import Path

from tests.cli.conftest import Runner

from journeylens.formats.io import load_map

# The shop sample as Mermaid: emotion −2 … +2 becomes Mermaid's 1 … 5 score (e + 3), the
# persona ids become actors.
SHOP_MERMAID = """journey
  title Online shop
  section Discover
    See an ad: 4: ana
  section Buy
    Check out: 1.5: ana
"""


def test_export_mermaid_to_stdout(work: Path, run: Runner) -> None:
    result = run("export", "shop.journey.yaml", "--to", "mermaid")
    assert result.exit_code == 0
    assert result.stdout == SHOP_MERMAID


def test_mermaid_round_trip_through_files(work: Path, run: Runner) -> None:
    assert run("export", "shop.journey.yaml", "--to", "mermaid", "-o", "shop.mmd").exit_code == 0
    assert (work / "shop.mmd").read_text(encoding="utf-8") == SHOP_MERMAID
    result = run("import", "shop.mmd", "--from", "mermaid", "-o", "back.journey.yaml")
    assert result.exit_code == 0
    assert result.stdout == "wrote back.journey.yaml (map 'online-shop', 2 stages)\n"
    back = load_map(work / "back.journey.yaml")
    assert [s.name for s in back.stages] == ["Discover", "Buy"]
    assert [(st.name, st.emotion.score if st.emotion else None) for _, st in back.iter_steps()] == [
        ("See an ad", 1.0),
        ("Check out", -1.5),
    ]


def test_import_reports_located_errors(work: Path, run: Runner) -> None:
    (work / "bad.mmd").write_text(
        "journey\n  title X\n  section A\n    Do a thing: 9: Me\n", encoding="utf-8"
    )
    result = run("import", "bad.mmd", "--from", "mermaid", "-o", "bad.journey.yaml")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0].startswith("bad.mmd:4:")
    assert "(got '9')" in result.stderr
    assert result.stderr.splitlines()[-1] == "1 error"
    assert not (work / "bad.journey.yaml").exists()


def test_import_refuses_to_overwrite(work: Path, run: Runner) -> None:
    (work / "shop.mmd").write_text(SHOP_MERMAID, encoding="utf-8")
    result = run("import", "shop.mmd", "--from", "mermaid", "-o", "shop.journey.yaml")
    assert result.exit_code == 2
    assert result.stderr == "error: shop.journey.yaml already exists (use --force to overwrite)\n"


def test_import_of_a_missing_file_is_a_usage_error(work: Path, run: Runner) -> None:
    result = run("import", "nowhere.mmd", "--from", "mermaid", "-o", "x.journey.yaml")
    assert result.exit_code == 2
    assert result.stderr == "error: nowhere.mmd: cannot read (No such file or directory)\n"


def test_import_requires_an_output(work: Path, run: Runner) -> None:
    result = run("import", "shop.mmd", "--from", "mermaid")
    assert result.exit_code == 2
    assert "Missing option '--output'" in result.stderr


def test_export_csv_grid_has_a_column_per_step(work: Path, run: Runner) -> None:
    result = run("export", "shop.journey.yaml", "--to", "csv")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0] == "stage,discover,buy"
    assert "step,see-ad,checkout" in lines
    assert "emotion,1,-1.5" in lines
    assert "moment_of_truth,,First payment decides trust" in lines


def test_csv_round_trip_loses_nothing(work: Path, run: Runner) -> None:
    assert run("export", "shop.journey.yaml", "--to", "csv", "-o", "shop.csv").exit_code == 0
    result = run("import", "shop.csv", "--from", "csv", "-o", "back.journey.yaml")
    assert result.exit_code == 0
    assert result.stdout == "wrote back.journey.yaml (map 'shop', 2 stages)\n"
    same = run("diff", "shop.journey.yaml", "back.journey.yaml", "--exit-code")
    assert same.exit_code == 0
    assert same.stdout == "no differences\n"


def test_csv_import_error_names_the_cell(work: Path, run: Runner) -> None:
    assert run("export", "shop.journey.yaml", "--to", "csv", "-o", "shop.csv").exit_code == 0
    grid = (work / "shop.csv").read_text(encoding="utf-8")
    (work / "bad.csv").write_text(grid.replace("emotion,1,-1.5", "emotion,1,-7"), encoding="utf-8")
    result = run("import", "bad.csv", "--from", "csv", "-o", "bad.journey.yaml")
    assert result.exit_code == 1
    first = result.stderr.splitlines()[0]
    assert first.startswith("bad.csv:12:3: stages[1].steps[0].emotion.score: ")
    assert first.endswith("(got -7.0) (cell C12)")
