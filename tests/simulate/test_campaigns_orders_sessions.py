"""Background campaign traffic, refunds on their order's row, and GA4 session ids."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from tests.simulate.conftest import DATA, DAYS, START, mini_map
from tests.simulate.readers import Output, parse_time

from journeylens.formats.io import load_map
from journeylens.simulate.run import SimulationResult, simulate
from journeylens.simulate.scenario import parse_scenario

REFUND_STAGE = """
  - id: aftercare
    name: Aftercare
    steps:
      - id: refund
        name: Asks for a refund
        touchpoints:
          - id: refund-issued
            name: Refund
            channel: web
            match:
              - {event: order_refunded, source: sales}
"""


def test_ga4_session_id_is_the_start_of_a_30_minute_session(
    effects_run: SimulationResult,
) -> None:
    by_device: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for r in Output(effects_run.out).rows("app"):
        params = {p["key"]: p["value"] for p in r["event_params"]}
        by_device[r["user_pseudo_id"]].append(
            (r["event_timestamp"], params["ga_session_id"]["int_value"])
        )
    sessions = 0
    for rows in by_device.values():
        rows.sort()
        start = None
        previous = None
        for ts, sid in rows:
            if previous is None or ts - previous > 1800 * 1_000_000:
                start = ts // 1_000_000  # a new session starts with this event
                sessions += 1
            assert sid == start
            previous = ts
    assert sessions > 2000


def test_background_newsletter_and_display_ads(effects_run: SimulationResult) -> None:
    out = Output(effects_run.out)
    crm = {r["customer_id"] for r in out.rows("crm")}
    digest = [r for r in out.rows("campaigns") if r["campaign_name"] == "weekly-digest"]
    display = [r for r in out.rows("campaigns") if r["campaign_name"] == "brand-display"]
    sends = [r for r in digest if r["interaction"] == "send"]
    opens = [r for r in digest if r["interaction"] == "open"]
    assert {r["channel"] for r in digest} == {"email"}
    assert all(r["customer_id"] in crm and r["email"] for r in digest)  # known people only
    assert len(opens) / len(sends) == pytest.approx(0.25, abs=0.03)
    # Weekly: consecutive sends to one customer are exactly seven days apart.
    times: dict[str, list[datetime]] = defaultdict(list)
    for r in sends:
        times[r["customer_id"]].append(parse_time(r["occurred_at"]))
    gaps = {
        b - a for ts in times.values() for a, b in zip(sorted(ts), sorted(ts)[1:], strict=False)
    }
    assert gaps == {timedelta(days=7)}
    assert {r["channel"] for r in display} == {"ads"}
    assert {r["interaction"] for r in display} == {"impression"}
    anonymous = sum(1 for r in display if r["anonymous_id"] and not r["customer_id"])
    assert anonymous > 0.3 * len(display)  # mostly browsers not yet known
    assert len(display) / 8000 == pytest.approx(1.5, rel=0.05)  # Poisson(1.5) per customer


@pytest.fixture(scope="module")
def refund_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    text = (DATA / "course.journey.yaml").read_text(encoding="utf-8") + REFUND_STAGE
    root = tmp_path_factory.mktemp("refund")
    (root / "map").mkdir()
    (root / "map" / "refund.journey.yaml").write_text(text, encoding="utf-8")
    journey = load_map(root / "map" / "refund.journey.yaml")
    _, personas = mini_map()
    scenario = parse_scenario("behaviour: {drop: 0.03, loop: 0, backtrack: 0, skip: 0}")
    simulate(journey, personas, scenario, root / "out", 1500, start=START, days=DAYS, seed=2)
    return root / "out"


def test_a_refund_is_written_on_the_order_it_refunds(refund_out: Path) -> None:
    rows = list(Output(refund_out).rows("orders"))
    refunded = [r for r in rows if r["refunded_at"]]
    assert len(refunded) > 200
    ids = [r["order_id"] for r in rows]
    assert len(ids) == len(set(ids))  # no second row for a refund
    for r in refunded:
        assert r["status"] == "refunded"
        assert r["paid_at"]  # the original purchase: placed, paid, later refunded
        assert parse_time(r["created_at"]) < parse_time(r["paid_at"])
        assert parse_time(r["paid_at"]) < parse_time(r["refunded_at"])
    end = datetime(START.year, START.month, START.day, tzinfo=UTC) + timedelta(days=DAYS)
    assert all(parse_time(r["refunded_at"]) < end for r in refunded)
