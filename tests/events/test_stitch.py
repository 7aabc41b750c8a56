"""Identity stitching on hand-made graphs: expected components, ids and the over-merge guard."""

from __future__ import annotations

from pathlib import Path

import duckdb
from tests.events.conftest import FIXTURES, run

from journeylens.events.runner import SourceSpec
from journeylens.events.stitch import identity_stats, stitch

HEADER = "interaction_id,occurred_at,channel,campaign_id,campaign_name,interaction,customer_id,email,anonymous_id,cost\n"


def _campaign_rows(tmp_path: Path, rows: list[tuple[str, str, str]]) -> SourceSpec:
    """A campaigns file whose rows carry (customer_id, email, anonymous_id)."""
    body = "".join(
        f"I{i},2024-01-01T00:00:00Z,ads,K,K,click,{u},{e},{a},0\n"
        for i, (u, e, a) in enumerate(rows)
    )
    path = tmp_path / "c.csv"
    path.write_text(HEADER + body, encoding="utf-8")
    return SourceSpec((str(path),), "campaigns")


def components(con: duckdb.DuckDBPyConnection) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for t, v, c in con.execute("SELECT * FROM identities").fetchall():
        out.setdefault(c, set()).add(f"{t}:{v}")
    return out


def test_chain_and_islands(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    # a1 - C2 (event), a1 - a2? no: a2 - e@x (anonymous event with e-mail), C1 - e@x (event)
    # so {C1, C2?}: C2 - a1 only.  Components: {C1, e@x, a2}, {C2, a1}, {a3}
    spec = _campaign_rows(
        tmp_path,
        [("C2", "", "a1"), ("", "e@x", "a2"), ("C1", "e@x", ""), ("", "", "a3"), ("C2", "", "")],
    )
    run(con, spec, after=stitch)
    comp = components(con)
    assert comp["C1"] == {"user:C1", "email:e@x", "anonymous:a2"}
    assert comp["C2"] == {"user:C2", "anonymous:a1"}
    (anon,) = [c for c in comp if c.startswith("anon-")]
    assert comp[anon] == {"anonymous:a3"}
    # each event gets the customer of its anchor identity
    got = con.execute("SELECT event_id, customer_id FROM events ORDER BY seq").fetchall()
    assert got == [
        ("ads:I0", "C2"),
        ("ads:I1", "C1"),
        ("ads:I2", "C1"),
        ("ads:I3", anon),
        ("ads:I4", "C2"),
    ]
    # deterministic: a second pass gives the same ids
    stitch(con)
    assert components(con) == comp


def test_long_chain_converges(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    # a0-a1 via e-mails: anonymous rows (a_i, e_i) and (a_{i+1}, e_i) form a path of 40 nodes
    rows = []
    for i in range(20):
        rows.append(("", f"e{i}", f"a{i}"))
        rows.append(("", f"e{i}", f"a{i + 1}"))
    rows.append(("C9", "e19", ""))
    run(con, _campaign_rows(tmp_path, rows))
    res = stitch(con)
    assert res.customers == 1
    assert res.identified_customers == 1
    assert len(components(con)["C9"]) == 1 + 20 + 21
    assert res.iterations <= 8  # pointer jumping: rounds grow with log(path length)


def test_two_users_sharing_a_device_merge_below_the_limit(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    run(con, _campaign_rows(tmp_path, [("C1", "", "shared"), ("C2", "", "shared")]))
    stitch(con, max_users_per_identity=2)
    assert components(con)["C1"] == {"user:C1", "user:C2", "anonymous:shared"}


def test_over_merge_guard_refuses_and_reports(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    rows = [(f"C{i}", "", "kiosk") for i in range(6)] + [("C0", "", "own")]
    run(con, _campaign_rows(tmp_path, rows))
    res = stitch(con, max_users_per_identity=5)
    comp = components(con)
    assert comp["C0"] == {"user:C0", "anonymous:own"}
    assert all(comp[f"C{i}"] == {f"user:C{i}"} for i in range(1, 6))
    assert res.refused_edges == 6
    assert con.execute(
        "SELECT DISTINCT b_type, b_value, reason, linked_users FROM identity_edges_refused"
    ).fetchall() == [("anonymous", "kiosk", "shared_identity", 6)]
    stats = identity_stats(con)
    assert [(r.identity_type, r.identity_value, r.linked) for r in stats.refused] == [
        ("anonymous", "kiosk", 6)
    ]
    # the refused identity is its own anonymous customer; its events keep that customer
    (kiosk_customer,) = [c for c, ids in comp.items() if ids == {"anonymous:kiosk"}]
    assert kiosk_customer.startswith("anon-")
    # a test account used on many browsers is refused too
    stitch(con, max_users_per_identity=100, max_identities_per_user=1)
    assert con.execute(
        "SELECT DISTINCT a_value, reason FROM identity_edges_refused ORDER BY ALL"
    ).fetchall() == [("C0", "busy_user")]


def test_fixture_sources_stitch_across_channels(con: duckdb.DuckDBPyConnection) -> None:
    specs = [
        SourceSpec((str(FIXTURES / "crm.csv"),), "crm"),
        SourceSpec((str(FIXTURES / "segment.jsonl"),), "segment"),
        SourceSpec((str(FIXTURES / "ga4.jsonl"),), "ga4"),
        SourceSpec((str(FIXTURES / "support.csv"),), "support"),
        SourceSpec((str(FIXTURES / "social.jsonl"),), "social"),
    ]
    run(con, *specs, after=stitch)
    comp = components(con)
    assert comp["C0000001"] == {
        "user:C0000001", "anonymous:a0", "anonymous:a1", "device:d1",
        "email:ann@example.com", "anonymous:social:@ann",
    }  # fmt: skip
    # the guest ticket of bob@example.com belongs to C0000002 through the CRM e-mail
    assert comp["C0000002"] == {
        "user:C0000002",
        "email:bob@example.com",
        "anonymous:p1",
        "device:p1",
    }
    assert con.execute(
        "SELECT customer_id FROM events WHERE event_id = 'support:K2:opened'"
    ).fetchall() == [("C0000002",)]
    stats = identity_stats(con, top=1)
    assert (stats.customers, stats.identified) == (3, 2)
    assert stats.largest[0].customer_id == "C0000001"
    assert stats.largest[0].identities == 6
    assert stats.anonymous_only_share == 1 / 3
    assert con.execute(
        "SELECT customer_id, identified, email, plan FROM customers ORDER BY customer_id LIMIT 2"
    ).fetchall() == [
        ("C0000001", True, "ann@example.com", "gold"),
        ("C0000002", True, "bob@example.com", "basic"),
    ]
