"""``journeylens analyze survey --by persona``, ``analyze channels`` and ``--persona`` of
``analyze compare`` / ``moments`` on a workspace: the personas are the workspace's
``*.persona.yaml`` segment rules on the customers' attributes, no column prepared.

The workspace holds a 1,500-customer simulated run of the online-course story (personas
maya: generation millennial or gen Z; robert: baby boomer or gen X). Each figure is checked
against a plain SQL count over the store's events and customers tables.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import pytest
from typer.testing import CliRunner

from journeylens.cli.ingest import manifest_specs
from journeylens.cli.main import app
from journeylens.engine.workspace import Workspace
from journeylens.events.runner import ingest
from journeylens.events.stitch import stitch
from journeylens.formats.io import find_personas, load_map
from journeylens.simulate.run import simulate
from journeylens.simulate.scenario import builtin_scenario
from journeylens.templates import create_from_template

pytestmark = pytest.mark.slow

GENERATIONS = {"maya": ("millennial", "gen_z"), "robert": ("baby_boomer", "gen_x")}


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("personas")
    ws = Workspace.init(root / "ws")
    create_from_template("online-course", ws.maps_dir)
    journey = load_map(ws.maps_dir / "online-course.journey.yaml")
    found = find_personas(ws.maps_dir)
    scenario = builtin_scenario(journey.id)
    assert scenario is not None
    simulate(journey, [found[k][1] for k in sorted(found)], scenario, root / "raw", 1500, seed=3)
    con = ws.store.connect()
    ingest(con, manifest_specs(root / "raw"))
    con.execute("BEGIN TRANSACTION")
    stitch(con, max_users_per_identity=ws.max_users_per_identity)
    con.execute("COMMIT")
    con.close()
    return ws.root


def _json(*args: str) -> Any:
    result = CliRunner().invoke(app, [*args, "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _sql(ws: Path, query: str) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(ws / "events.duckdb"), read_only=True)
    try:
        return con.execute(query).fetchall()
    finally:
        con.close()


def _in(persona: str) -> str:
    return "(" + ", ".join(f"'{g}'" for g in GENERATIONS[persona]) + ")"


def test_survey_by_persona_on_the_workspace(workspace: Path) -> None:
    data = _json("analyze", "survey", "--by", "persona", "--workspace", str(workspace))
    got = {(r["group"], r["score_type"]): r for r in data["rows"]}
    assert {g for g, _ in got} == {"maya", "robert"}
    for persona in GENERATIONS:
        ((n, promoters, detractors),) = _sql(
            workspace,
            "SELECT count(*), count(*) FILTER (score >= 9), count(*) FILTER (score <= 6) "
            "FROM events e JOIN customers c USING (customer_id) "
            f"WHERE score_type = 'nps' AND score IS NOT NULL AND c.generation IN {_in(persona)}",
        )
        row = got[(persona, "nps")]
        assert n > 10
        assert row["n"] == n
        assert row["value"] == pytest.approx(100 * (promoters - detractors) / n)


def test_channels_per_persona_on_the_workspace(workspace: Path) -> None:
    data = _json("analyze", "channels", "--workspace", str(workspace))
    rows = {(r["persona"], r["channel"]): r for r in data["rows"]}
    expected = _sql(
        workspace,
        "SELECT c.generation IN ('millennial', 'gen_z') AS maya, e.channel, count(*), "
        "count(DISTINCT e.customer_id) FROM events e JOIN customers c USING (customer_id) "
        "WHERE c.generation IN ('millennial', 'gen_z', 'baby_boomer', 'gen_x') "
        "GROUP BY ALL",
    )
    assert len(rows) == len(expected)
    for is_maya, channel, events, units in expected:
        row = rows[("maya" if is_maya else "robert", channel)]
        assert (row["events"], row["units"]) == (events, units)


def test_compare_and_moments_for_one_persona(workspace: Path) -> None:
    ((robert_customers,),) = _sql(
        workspace,
        "SELECT count(DISTINCT customer_id) FROM events JOIN customers USING (customer_id) "
        f"WHERE generation IN {_in('robert')}",
    )
    data = _json(
        "analyze", "compare", "--outcome", "converted", "--persona", "robert",
        "--workspace", str(workspace),
    )  # fmt: skip
    assert data["units"] == robert_customers
    everyone = _json("analyze", "compare", "--outcome", "converted", "--workspace", str(workspace))
    assert everyone["units"] > robert_customers
    moments = _json(
        "analyze", "moments", "--outcome", "converted", "--persona", "robert",
        "--workspace", str(workspace),
    )  # fmt: skip
    assert moments["outcome"] == "converted"
    # Each moment's units are robert's customers only.
    assert all(m["n_good"] + m["n_bad"] <= robert_customers for m in moments["moments"])


def test_persona_errors_are_located(workspace: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        ["analyze", "compare", "--outcome", "converted", "--persona", "nobody",
         "--workspace", str(workspace)],
    )  # fmt: skip
    assert result.exit_code == 2
    assert "--persona nobody: no such persona (the workspace has: maya, robert)" in result.stderr
    csv = tmp_path / "e.csv"
    csv.write_text(
        "customer_id,event_name,occurred_at,score,score_type\na,nps_response,2024-01-01,9,nps\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(app, ["analyze", "survey", str(csv), "--by", "persona"])
    assert result.exit_code != 0
    assert "'persona' column" in result.stderr
