"""``journeylens.insights.findings`` on small hand-made event logs (Polars), hand-computed."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import narwhals as nw
import polars as pl
import pytest

from journeylens.analytics.binding import bind
from journeylens.insights.findings import (
    FindingsError,
    PlantedEffect,
    check_planted_effects,
    planted_effects,
    shows,
)
from journeylens.model import JourneyMap

MAP = JourneyMap.model_validate(
    {
        "id": "shop",
        "title": "Shop",
        "stages": [
            {"id": "buy", "name": "Buy", "steps": [
                {"id": s, "name": s.title(), "touchpoints": [
                    {"id": f"{s}-tp", "name": s, "channel": ch, "match": [{"event": s}]}]}
                for s, ch in (("cart", "web"), ("checkout", "web"), ("pay", "web"),
                              ("receipt", "email"))
            ]},
            {"id": "use", "name": "Use", "steps": [
                {"id": "help", "name": "Help", "touchpoints": [
                    {"id": "chat", "name": "Chat", "channel": "live_chat",
                     "match": [{"event": "ticket"}]}]},
            ]},
        ],
    }
)  # fmt: skip
T0 = datetime(2026, 2, 10, 12)


def _bound(rows: list[tuple[str, str, int, dict[str, Any]]]) -> nw.LazyFrame[Any]:
    """Events (customer, event, minutes after T0, properties) bound to MAP."""
    ev = pl.DataFrame(
        {
            "customer_id": [r[0] for r in rows],
            "event_name": [r[1] for r in rows],
            "occurred_at": [T0 + timedelta(minutes=r[2]) for r in rows],
            "seq": list(range(len(rows))),
            "channel": ["web"] * len(rows),
            "properties": [json.dumps(r[3]) for r in rows],
        }
    )
    return bind(ev, MAP)


def _effect(kind: str, declared: dict[str, Any], realised: dict[str, Any]) -> PlantedEffect:
    return PlantedEffect("e1", kind, "", declared, realised)


def test_friction_drop_off_for_the_affected_device_vs_the_others() -> None:
    mobile, desktop = {"device_type": "mobile"}, {"device_type": "desktop"}
    bound = _bound(
        [
            ("m1", "checkout", 0, mobile),  # drops
            ("m2", "checkout", 0, mobile),  # drops
            ("m3", "checkout", 0, mobile), ("m3", "pay", 5, {}),  # goes on
            ("d1", "checkout", 0, desktop), ("d1", "pay", 5, {}),
            ("d2", "checkout", 0, desktop), ("d2", "receipt", 5, {}),  # skipped pay: goes on
            ("d3", "checkout", 0, desktop), ("d3", "ticket", 5, {}),  # a ticket is no progress
            # outside the effect's days: not counted
            ("m4", "checkout", 60 * 24 * 30, mobile),
        ]
    )  # fmt: skip
    effect = _effect(
        "friction",
        {"where": {"step": "checkout"}, "who": {"device_type": ["mobile"]},
         "when": {"start": "2026-02-02", "end": "2026-03-01"}},
        {"drop_rate_affected": 0.36, "drop_rate_other": 0.12},
    )  # fmt: skip
    check = check_planted_effects(bound, MAP, [effect]).checks[0]
    assert (check.n_group, check.n_baseline) == (3, 3)
    assert check.measured_group == pytest.approx(2 / 3)
    assert check.measured_baseline == pytest.approx(1 / 3)
    assert check.measured_ratio == pytest.approx(2.0)
    assert check.planted_ratio == pytest.approx(3.0)
    assert check.shows  # log 2 = 0.69 ≥ ½ log 3 = 0.55
    assert "67% for mobile vs 33% for the others (×2.0; planted ×3.0)" in check.text


def test_channel_lift_counts_only_touches_before_the_first_visit() -> None:
    news = {"campaign_name": "newsletter"}
    rows = [
        ("a", "mail", 0, news), ("a", "cart", 10, {}), ("a", "checkout", 20, {}),
        ("b", "mail", 0, news), ("b", "cart", 10, {}), ("b", "checkout", 20, {}),
        ("c", "cart", 0, {}), ("c", "mail", 5, news),  # touched after the visit: unexposed
        ("d", "cart", 0, {}), ("d", "checkout", 9, {}),
    ]  # fmt: skip
    ev = _bound(rows).with_columns(
        nw.when(nw.col("event_name") == "mail")
        .then(nw.lit("email"))
        .otherwise(nw.col("channel"))
        .alias("channel")
    )
    effect = _effect(
        "channel_lift",
        {"where": {"step": "cart"}, "channel": "email", "campaign": "newsletter"},
        {"pass_rate_exposed": 0.9, "pass_rate_unexposed": 0.6},
    )
    check = check_planted_effects(ev, MAP, [effect]).checks[0]
    # exposed a, b: both go on; unexposed c (drops), d (goes on).
    assert (check.n_group, check.n_baseline) == (2, 2)
    assert (check.measured_group, check.measured_baseline) == (1.0, 0.5)
    assert check.measured_ratio == pytest.approx(2.0)
    assert check.shows


def test_incident_error_rate_per_visit_inside_and_outside_the_days() -> None:
    day = 60 * 24
    rows = [
        ("a", "cart", 0, {}), ("a", "video_error", 1, {}),
        ("b", "cart", 2, {}), ("b", "video_error", 3, {}),
        ("c", "cart", 4, {}),
        ("a", "cart", 5 * day, {}), ("b", "cart", 5 * day, {}), ("c", "cart", 5 * day, {}),
        ("d", "cart", 6 * day, {}), ("d", "video_error", 6 * day + 1, {}),
    ]  # fmt: skip
    effect = _effect(
        "incident",
        {"where": {"touchpoint": "cart-tp"}, "event": "video_error",
         "when": {"start": "2026-02-10", "end": "2026-02-11"}},
        {"error_rate_in_window": 0.6, "error_rate_outside": 0.01},
    )  # fmt: skip
    check = check_planted_effects(_bound(rows), MAP, [effect]).checks[0]
    assert (check.n_group, check.n_baseline) == (3, 4)
    assert check.measured_group == pytest.approx(2 / 3)
    assert check.measured_baseline == pytest.approx(1 / 4)
    assert check.planted_ratio == pytest.approx(60.0)
    assert not check.shows  # ×2.7 measured is far from a planted ×60


def test_seasonality_compares_a_weekend_day_with_a_weekday() -> None:
    # T0 is Tuesday 2026-02-10. Arrivals: 4 on Tuesday, 1 on Saturday, 1 on Sunday.
    day = 60 * 24
    rows = [(f"t{i}", "cart", i, {}) for i in range(4)]
    rows += [("sa", "cart", 4 * day, {}), ("su", "cart", 5 * day, {}), ("su", "pay", 9 * day, {})]
    weekly = [0.16, 0.16, 0.16, 0.16, 0.16, 0.08, 0.12]
    effect = _effect("seasonality", {}, {"arrival_share_by_weekday": weekly})
    check = check_planted_effects(_bound(rows), MAP, [effect]).checks[0]
    # weekend days: mean 1 arrival of 6; weekdays: mean 4 / 5 = 0.8 of 6.
    assert check.measured_group == pytest.approx(1 / 6)
    assert check.measured_baseline == pytest.approx(0.8 / 6)
    assert check.measured_ratio == pytest.approx(1.25)
    assert check.planted_ratio == pytest.approx(0.10 / 0.16)
    assert not check.shows  # more arrivals at the weekend: the opposite of the planted dip


def test_campaign_spike_arrivals_per_day_inside_and_outside() -> None:
    day = 60 * 24
    # Days 2026-02-10 … 2026-02-19 (10 days); campaign 2026-02-12 … 2026-02-13 (2 days).
    rows = [("first", "cart", 0, {}), ("last", "cart", 9 * day, {})]
    rows += [(f"in{i}", "cart", 2 * day + i, {}) for i in range(6)]
    effect = _effect(
        "campaign_spike",
        {"when": {"start": "2026-02-12", "end": "2026-02-13"}},
        {"arrivals_per_day_in": 30, "arrivals_per_day_outside": 10, "arrival_ratio": 3.0},
    )
    check = check_planted_effects(_bound(rows), MAP, [effect]).checks[0]
    assert (check.n_group, check.n_baseline) == (6, 2)
    assert check.measured_group == pytest.approx(3.0)  # 6 arrivals / 2 days
    assert check.measured_baseline == pytest.approx(0.25)  # 2 arrivals / 8 days
    assert check.measured_ratio == pytest.approx(12.0)
    assert check.shows


def test_channel_preference_by_generation_uses_the_touchpoints_channel() -> None:
    rows = [
        ("young", "ticket", 0, {}), ("young", "cart", 1, {}),
        ("old", "cart", 0, {}), ("old", "cart", 1, {}), ("old", "ticket", 2, {}),
        ("old", "checkout", 3, {}),
        ("anon", "ticket", 0, {}),  # no generation: left out
    ]  # fmt: skip
    customers = pl.DataFrame(
        {"customer_id": ["young", "old"], "generation": ["gen_z", "baby_boomer"]}
    )
    effect = _effect(
        "channel_preference",
        {"who": {"generations": ["gen_z"]}, "channels": {"live_chat": 3}},
        {"touch_share_on_channels_who": 0.3, "touch_share_on_channels_others": 0.1},
    )
    check = check_planted_effects(_bound(rows), MAP, [effect], customers=customers).checks[0]
    assert (check.n_group, check.n_baseline) == (2, 4)
    assert (check.measured_group, check.measured_baseline) == (0.5, 0.25)
    assert check.measured_ratio == pytest.approx(2.0)
    assert check.planted_ratio == pytest.approx(3.0)
    assert check.shows


def test_shows_needs_the_same_direction_and_half_the_log_size() -> None:
    assert shows(3.0, 3.0)
    assert shows(1.8, 3.0)
    assert not shows(1.6, 3.0)
    assert not shows(0.5, 2.0)
    assert not shows(None, 2.0)


def test_ground_truth_without_effects_is_a_clear_error() -> None:
    with pytest.raises(FindingsError, match="expected an `effects` list"):
        planted_effects({"schema": "journeylens/ground-truth/v1"})
    with pytest.raises(FindingsError, match=r"effects\[1\]: expected an object with an `id`"):
        planted_effects({"effects": [{"id": "a"}, {"kind": "pain"}]})
