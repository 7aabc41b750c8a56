"""Simulator output ingests with no mapping file, exactly as its ground truth says.

* every injected bad record is quarantined at its file and line with the right reason, every
  injected duplicate is counted as a duplicate, every other record is stored;
* stitching recovers the simulator's true customers: precision of "same customer" pairs, and
  recall over the pairs of identities the simulator flags `linkable` (see ``_pairs``) are
  both ≥ 0.99.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from journeylens import templates
from journeylens.cli.main import app
from journeylens.engine.workspace import Workspace
from journeylens.simulate import run as simulate_run
from journeylens.simulate import scenario as scenario_mod


def _simulate(out: Path, customers: int, dirty: float) -> None:
    simulate_run.simulate(
        templates.get_template("online-course"),
        templates.get_template_personas("online-course"),
        scenario_mod.builtin_scenario("online-course"),
        out,
        customers=customers,
        dirty=dirty,
        seed=7,
    )


def _ingest_with_cli(ws: Path, out: Path) -> dict[str, dict[str, int]]:
    runner = CliRunner()
    assert runner.invoke(app, ["init", str(ws)]).exit_code == 0
    res = runner.invoke(app, ["ingest", str(out), "--workspace", str(ws), "--output", "json"])
    assert res.exit_code == 0, res.output
    report = json.loads(res.stdout)
    return {s["source"]: s for s in report["sources"]}


def test_dirty_simulation_matches_ground_truth(tmp_path: Path) -> None:
    out = tmp_path / "sim"
    _simulate(out, customers=1500, dirty=0.02)
    sources = _ingest_with_cli(tmp_path / "ws", out)
    with (out / "ground_truth" / "dirty.csv").open(encoding="utf-8") as fh:
        truth = list(csv.DictReader(fh))
    assert len(truth) > 100  # the run really is dirty
    expected = {(t["file"], int(t["line"]), t["kind"]) for t in truth if t["kind"] != "duplicate"}
    con = Workspace.open(tmp_path / "ws").store.connect(read_only=True)
    got = {
        (Path(f).relative_to(out).as_posix(), line, reason)
        for f, line, reason in con.execute("SELECT file, line, reason FROM quarantine").fetchall()
    }
    assert got == expected
    # every kind of bad record the simulator plants shows up
    assert {k for _, _, k in expected} >= {"bad_timestamp", "missing_identity", "broken_json",
                                          "bad_encoding", "missing_field"}  # fmt: skip
    assert (
        sum(s["rows_duplicate"] for s in sources.values())
        == Counter(t["kind"] for t in truth)["duplicate"]
    )
    # every other record is stored: data lines minus the dirty ones
    lines = 0
    for f in out.rglob("part-*"):
        n = f.read_bytes().count(b"\n")
        lines += n - 1 if f.suffix == ".csv" else n
    stored = sum(s["rows_stored"] for s in sources.values())
    assert stored == lines - len(truth)
    for s in sources.values():
        assert s["rows_read"] == s["rows_stored"] + s["rows_quarantined"] + s["rows_duplicate"]
    con.close()


def _pairs(con: duckdb.DuckDBPyConnection) -> tuple[int, int, int, int, int]:
    """Pair counts of "same customer" over the ground truth (temp table ``truth``).

    Returns (true-positive pairs, predicted pairs, linkable true pairs found, linkable true
    pairs, all true pairs). Predicted: two identities of the truth that stitching put in
    one customer. Linkable: both identities are flagged ``linkable`` by the simulator (some
    record ties each one to the customer's user id) — the pairs any stitcher can find; a
    linkable identity missing from the store counts as a miss. Identities a person never
    revealed together (an app install that never logged in) are outside recall.
    """
    row = con.execute(
        """
        WITH j AS (
            SELECT DISTINCT t.t, t.v, t.true_customer, t.linkable, i.customer_id
            FROM truth AS t JOIN identities AS i ON i.identity_type = t.t AND i.identity_value = t.v
        ),
        pairs AS (SELECT n * (n - 1) // 2 AS p FROM (SELECT count(*) AS n FROM j GROUP BY true_customer, customer_id)),
        predicted AS (SELECT n * (n - 1) // 2 AS p FROM (SELECT count(*) AS n FROM j GROUP BY customer_id)),
        found AS (SELECT n * (n - 1) // 2 AS p FROM (SELECT count(*) AS n FROM j WHERE linkable GROUP BY true_customer, customer_id)),
        linkable AS (SELECT n * (n - 1) // 2 AS p FROM (SELECT count(*) AS n FROM (SELECT DISTINCT t, v, true_customer FROM truth WHERE linkable) GROUP BY true_customer)),
        everything AS (SELECT n * (n - 1) // 2 AS p FROM (SELECT count(*) AS n FROM (SELECT DISTINCT t, v, true_customer FROM truth) GROUP BY true_customer))
        SELECT (SELECT sum(p) FROM pairs), (SELECT sum(p) FROM predicted), (SELECT sum(p) FROM found),
               (SELECT sum(p) FROM linkable), (SELECT sum(p) FROM everything)
        """
    ).fetchall()[0]
    tp, predicted, found, linkable, true_all = (int(x) for x in row)
    return tp, predicted, found, linkable, true_all


@pytest.mark.slow
def test_stitching_recovers_true_customers_50k(tmp_path: Path) -> None:
    out = tmp_path / "sim"
    _simulate(out, customers=50_000, dirty=0.02)
    _ingest_with_cli(tmp_path / "ws", out)
    con = Workspace.open(tmp_path / "ws").store.connect(read_only=True)
    con.execute(
        """
        CREATE TEMP TABLE truth AS
        SELECT CASE identity_type WHEN 'user_id' THEN 'user' WHEN 'anonymous_id' THEN 'anonymous'
                    WHEN 'device_id' THEN 'device' WHEN 'social_handle' THEN 'anonymous'
                    ELSE identity_type END AS t,
               CASE identity_type WHEN 'social_handle' THEN 'social:' || identity_value
                    WHEN 'email' THEN lower(identity_value) ELSE identity_value END AS v,
               true_customer, linkable = 'true' AS linkable
        FROM read_csv($f, all_varchar = true)
        """,
        {"f": str(out / "ground_truth" / "identities.csv")},
    )
    tp, predicted, found, linkable, true_all = _pairs(con)
    con.close()
    precision = tp / predicted
    recall_linkable = found / linkable
    print(
        f"\nstitching, 50k customers: precision {precision:.4f}, recall of linkable pairs "
        f"{recall_linkable:.4f}, recall of all true pairs {tp / true_all:.4f}"
    )
    assert precision >= 0.99
    assert recall_linkable >= 0.99
