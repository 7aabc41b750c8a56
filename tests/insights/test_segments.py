"""``journeylens.insights.segments`` on small hand-made event logs (Polars), hand-computed."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from typing import Any

import narwhals as nw
import polars as pl

from journeylens.analytics.binding import bind
from journeylens.insights.segments import (
    Finding,
    anomaly_findings,
    day_span,
    dropoff_findings,
    robust_z,
    top_findings,
)
from journeylens.model import JourneyMap

MAP = JourneyMap.model_validate(
    {
        "id": "shop",
        "title": "Shop",
        "stages": [
            {"id": "buy", "name": "Buy", "steps": [
                {"id": s, "name": s.title(), "touchpoints": [
                    {"id": f"{s}-tp", "name": s.title(), "channel": "web", "match": [{"event": s}]}]}
                for s in ("cart", "checkout", "pay", "receipt")
            ]},
        ],
    }
)  # fmt: skip
T0 = datetime(2026, 2, 10, 12)


def _bound(rows: list[tuple[str, str, float, dict[str, Any]]]) -> nw.LazyFrame[Any]:
    """Events (customer, event, hours after T0, properties) bound to MAP."""
    ev = pl.DataFrame(
        {
            "customer_id": [r[0] for r in rows],
            "event_name": [r[1] for r in rows],
            "occurred_at": [T0 + timedelta(hours=r[2]) for r in rows],
            "seq": list(range(len(rows))),
            "channel": ["web"] * len(rows),
            "properties": [json.dumps(r[3]) for r in rows],
        }
    )
    return bind(ev, MAP)


def _checkout_log() -> nw.LazyFrame[Any]:
    """40 mobile customers reach checkout, 20 pay (50% drop); 60 desktop, 54 pay (10%).

    One late event 30 days on ends the data, so every checkout lies well before the last
    14 days (arrivals that recent are left out)."""
    rows: list[tuple[str, str, float, dict[str, Any]]] = []
    for i in range(40):
        rows.append((f"m{i}", "checkout", i, {"device_type": "mobile"}))
        if i < 20:
            rows.append((f"m{i}", "pay", i + 0.5, {"device_type": "mobile"}))
    for i in range(60):
        rows.append((f"d{i}", "checkout", i, {"device_type": "desktop"}))
        if i < 54:
            rows.append((f"d{i}", "pay", i + 0.5, {"device_type": "desktop"}))
    rows.append(("late", "receipt", 30 * 24, {}))
    return _bound(rows)


def test_mobile_checkout_drop_is_found_with_its_numbers_and_sentence() -> None:
    found = dropoff_findings(_checkout_log(), MAP)
    # All checkouts fall in February: mobile in February is the same 40 customers as
    # mobile, so only the coarser cell is reported. Pay has no next step reached by anyone
    # (100% drop for both devices): no difference there.
    assert len(found) == 1
    f = found[0]
    assert (f.kind, f.location, f.group) == ("drop_off", "checkout", "mobile customers")
    assert (f.value, f.baseline_value, f.n, f.n_baseline) == (0.5, 0.1, 40, 60)
    assert abs(f.ratio - 5.0) < 1e-9
    assert abs(f.impact - 16.0) < 1e-9  # 40 × (0.5 − 0.1) customers beyond the others' rate
    assert f.q_value is not None
    assert f.q_value < 0.05
    assert f.text == (
        "50% of mobile customers who reached “Checkout” (Buy) went no further, "
        "5.0× the rate of the others (10%; N = 40 vs 60)."
    )
    assert f.to_dict()["location"] == "checkout"


def test_a_small_difference_is_not_a_finding() -> None:
    # Desktop drop raised to 40% (24 of 60 drop): 50% vs 40% is 1.25×, under min_ratio 1.5.
    rows: list[tuple[str, str, float, dict[str, Any]]] = []
    for i in range(40):
        rows.append((f"m{i}", "checkout", i, {"device_type": "mobile"}))
        if i < 20:
            rows.append((f"m{i}", "pay", i + 0.5, {}))
    for i in range(60):
        rows.append((f"d{i}", "checkout", i, {"device_type": "desktop"}))
        if i < 36:
            rows.append((f"d{i}", "pay", i + 0.5, {}))
    rows.append(("late", "receipt", 30 * 24, {}))
    assert dropoff_findings(_bound(rows), MAP) == ()


def test_recent_arrivals_are_left_out() -> None:
    # The same log ending only 5 days after the checkouts: every arrival is within the
    # last 14 days, so nothing can be said yet.
    rows = list(_checkout_log().collect().to_native().iter_rows(named=True))
    ev = [
        (r["customer_id"], r["event_name"], 0.0 if r["customer_id"] != "late" else 5 * 24, {})
        for r in rows
    ]
    assert dropoff_findings(_bound(ev), MAP) == ()


def test_error_spike_is_found_and_phrased() -> None:
    # 20 days of 100 cart views and 1 error a day; on day 14 and 15 (24–25 February) 20
    # errors a day. Rates per 1,000 events: 1/101 → 9.90 normally, 20/120 → 166.7 inside.
    rows: list[tuple[str, str, float, dict[str, Any]]] = []
    for day in range(20):
        errors = 20 if day in (14, 15) else 1
        rows += [(f"c{day}-{i}", "cart", day * 24 + 1, {}) for i in range(100)]
        rows += [
            (f"c{day}-{i}", "video_error", day * 24 + 2, {"touchpoint": "cart-tp"})
            for i in range(errors)
        ]
    found = anomaly_findings(_bound(rows), MAP)
    assert len(found) == 1
    f = found[0]
    assert (f.kind, f.location, f.group, f.n, f.n_baseline) == (
        "anomaly", "cart-tp", "24–25 February 2026", 240, 1818,
    )  # fmt: skip
    # Inside: 40 errors in 240 events; outside: 18 in 18 × 101 = 1,818.
    assert abs(f.value - 1000 * 40 / 240) < 1e-9
    assert abs(f.baseline_value - 1000 * 18 / 1818) < 1e-9
    assert abs(f.ratio - (40 / 240) / (18 / 1818)) < 1e-9  # 16.83
    assert f.text == (
        "Error events (video_error) at “Cart” spiked 17× their usual rate on 24–25 February "
        "2026: 40 in 2 days (166.7 per 1,000 events vs 9.9 on the other days)."
    )


def test_no_spike_in_a_steady_series() -> None:
    rows: list[tuple[str, str, float, dict[str, Any]]] = []
    for day in range(20):
        rows += [(f"c{day}-{i}", "cart", day * 24 + 1, {}) for i in range(100)]
        rows.append((f"c{day}-0", "payment_failed", day * 24 + 2, {"touchpoint": "cart-tp"}))
    assert anomaly_findings(_bound(rows), MAP) == ()


def test_robust_z_falls_back_when_the_mad_is_zero() -> None:
    # median 1, MAD 0 → mean absolute deviation 9/5 = 1.8, scale 1.2533 × 1.8 = 2.25594.
    zs = robust_z([1, 1, 1, 1, 10])
    assert zs[:4] == [0.0, 0.0, 0.0, 0.0]
    assert abs(zs[4] - 9 / (1.2533 * 1.8)) < 1e-9
    assert robust_z([2, 2, 2]) == [0.0, 0.0, 0.0]


def test_day_span_across_years() -> None:
    assert day_span(date(2025, 12, 30), date(2026, 1, 2)) == "30 December 2025 – 2 January 2026"


def _f(kind: str, location: str, score: float) -> Finding:
    return Finding(kind, location, "", "", "", "", 0, 0, 1, 0, 0, None, 0, score, "")


def test_top_findings_lead_with_each_kind_and_skip_repeats() -> None:
    got = top_findings(
        [_f("drop_off", "a", 5), _f("drop_off", "a", 4), _f("drop_off", "b", 3),
         _f("anomaly", "x", 1), _f("moment", "y", 2)],
        limit=4,
    )  # fmt: skip
    assert [(f.kind, f.location) for f in got] == [
        ("drop_off", "a"), ("moment", "y"), ("anomaly", "x"), ("drop_off", "b"),
    ]  # fmt: skip


def test_impact_counts_lost_conversions_when_the_map_has_one() -> None:
    # Same checkouts; half of the payers (even i) get a receipt, the conversion. Going on
    # from checkout: 37 of 74 convert (0.5), dropping: 0 of 26 → worth 0.5, so the 16
    # extra mobile drop-outs cost 8 conversions.
    jm = JourneyMap.model_validate(
        {
            **MAP.model_dump(mode="json", exclude_none=True),
            "outcomes": [{"id": "converted", "name": "Converted", "did": {"event": "receipt"}}],
        }
    )
    rows: list[tuple[str, str, float, dict[str, Any]]] = []
    for prefix, device, n, paying in (("m", "mobile", 40, 20), ("d", "desktop", 60, 54)):
        for i in range(n):
            rows.append((f"{prefix}{i}", "checkout", i, {"device_type": device}))
            if i < paying:
                rows.append((f"{prefix}{i}", "pay", i + 0.5, {}))
                if i % 2 == 0:
                    rows.append((f"{prefix}{i}", "receipt", i + 0.7, {}))
    rows.append(("late", "receipt", 30 * 24, {}))
    ev = _bound(rows)
    (f,) = dropoff_findings(ev, jm)
    assert (f.location, f.n, f.n_baseline) == ("checkout", 40, 60)
    assert abs(f.impact - 8.0) < 1e-9
    assert f.text.endswith("About 8 fewer “Converted” than at the others' rate.")
