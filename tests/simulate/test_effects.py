"""Each kind of planted effect is recovered by a plain computation on the raw files.

The computations here read the source files with the standard library (readers.py) and
stitch customers with the ground-truth identity table; they never look at the simulator's
internals. Each measured size must be within tolerance of the size the scenario declares.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from tests.simulate.conftest import DAYS, START
from tests.simulate.readers import Output

from journeylens.simulate.run import SimulationResult

END = datetime(START.year, START.month, START.day, tzinfo=UTC) + timedelta(days=DAYS)


def _day(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture(scope="module")
def out(effects_run: SimulationResult) -> Output:
    return Output(effects_run.out)


@pytest.fixture(scope="module")
def events(out: Output) -> list[tuple[str, datetime, str, dict[str, Any]]]:
    return out.events()


def _by_customer(events: list[tuple[str, datetime, str, dict[str, Any]]]) -> dict[str, list[Any]]:
    grouped: dict[str, list[Any]] = defaultdict(list)
    for e in events:
        grouped[e[0]].append(e)
    return grouped


def _declared(out: Output, effect_id: str) -> dict[str, Any]:
    return next(e for e in out.truth()["effects"] if e["id"] == effect_id)


def test_friction_multiplies_drop_off_at_checkout_for_mobile_in_window(
    out: Output, events: list[Any]
) -> None:
    paid = {c for c, _, src, r in events if src == "orders" and r["paid_at"]}
    lo, hi = _day("2026-01-05"), _day("2026-02-23")
    affected, other = [0, 0], [0, 0]  # [visits, drops]
    for c, t, src, r in events:
        if src != "web" or r.get("event") != "checkout_started":
            continue
        if t > _day("2026-04-01"):
            continue  # too close to the end of the window to have paid yet
        mobile = r["context"]["device"]["type"] == "mobile"
        group = affected if (mobile and lo <= t < hi) else other
        group[0] += 1
        group[1] += c not in paid
    ratio = (affected[1] / affected[0]) / (other[1] / other[0])
    declared = _declared(out, "mobile-checkout")["declared"]["drop_factor"]
    assert affected[0] > 300
    assert ratio == pytest.approx(declared, rel=0.25)


def _churn(events: list[Any]) -> tuple[dict[str, bool], set[str]]:
    """Churned (no activity in the last 60 days) for customers who finished the journey
    more than 60 days before the end; finishing = the social mention of the last step.
    The NPS survey comes three days after the journey, so finishing counts as early only
    when it is four days before that cutoff."""
    cutoff = END - timedelta(days=60)
    finished = {c: t for c, t, src, _ in events if src == "social"}
    last: dict[str, datetime] = {}
    for c, t, _, _ in events:
        last[c] = max(last.get(c, t), t)
    early = {c for c, t in finished.items() if t < cutoff - timedelta(days=4)}
    return {c: last[c] < cutoff for c in early}, early


def test_pain_point_multiplies_churn(out: Output, events: list[Any]) -> None:
    churned, early = _churn(events)
    helped = {c for c, _, src, _ in events if src == "support"}
    rate_a = sum(churned[c] for c in early & helped) / len(early & helped)
    rate_b = sum(churned[c] for c in early - helped) / len(early - helped)
    assert len(early & helped) > 150
    assert rate_a / rate_b == pytest.approx(
        _declared(out, "help-churn")["declared"]["churn_factor"], rel=0.25
    )


def test_moment_of_truth_bad_first_lesson_multiplies_churn(out: Output, events: list[Any]) -> None:
    churned, early = _churn(events)
    bad, good = set(), set()
    for c, _, src, r in events:
        if src == "surveys" and r["touchpoint"] == "lesson-one":
            score, kind = int(r["score"]), r["survey_type"]
            if (kind == "csat" and score <= 2) or (kind == "ces" and score <= 3):
                bad.add(c)
            else:
                good.add(c)
    assert not bad & good
    # A video error at the lesson (the incident) also makes the answer bad: leave those
    # customers out, they are a different effect (and random with respect to this one).
    errored = {c for c, _, src, r in events if src == "app" and r["event_name"] == "video_error"}
    bad, good = bad - errored, good - errored
    rate_bad = sum(churned[c] for c in early & bad) / len(early & bad)
    rate_good = sum(churned[c] for c in early & good) / len(early & good)
    assert len(early & bad) > 100
    declared = _declared(out, "first-lesson")["declared"]["churn_factor"]
    assert rate_bad / rate_good == pytest.approx(declared, rel=0.25)


def test_channel_lift_multiplies_passing_the_gate(out: Output, events: list[Any]) -> None:
    exposed = {
        c for c, _, src, r in events if src == "campaigns" and r["campaign_name"] == "newsletter"
    }
    browsed = {
        c for c, _, src, r in events
        if (src == "web" and r.get("type") == "page" and r["properties"]["path"].startswith("/courses/"))
        or (src == "app" and r["event_name"] == "view_item_list")
    }  # fmt: skip
    signed = {c for c, _, src, r in events if src == "web" and r.get("event") == "sign_up"}
    pass_a = len(browsed & exposed & signed) / len(browsed & exposed)
    pass_b = len((browsed - exposed) & signed) / len(browsed - exposed)
    assert pass_a / pass_b == pytest.approx(
        _declared(out, "newsletter")["declared"]["lift"], rel=0.1
    )


def test_generational_channel_preference(out: Output, events: list[Any]) -> None:
    ids = out.identities()
    generation = {ids[("user_id", r["customer_id"])]: r["generation"] for r in out.rows("crm")}
    email, total = defaultdict(int), defaultdict(int)
    for c, _, src, r in events:
        if src == "campaigns" and r["campaign_name"] == "always-on" and c in generation:
            g = "boomer" if generation[c] == "baby_boomer" else "young"
            total[g] += 1
            email[g] += r["channel"] == "email"
    # Boomers prefer email (persona: x3) but the effect makes ads x6: email share 3 / 9.
    assert email["boomer"] / total["boomer"] == pytest.approx(3 / 9, abs=0.04)
    # Young customers prefer neither channel: email share 1 / 2.
    assert email["young"] / total["young"] == pytest.approx(1 / 2, abs=0.04)


def test_incident_spikes_error_events_in_its_days(out: Output, events: list[Any]) -> None:
    lo, hi = _day("2026-02-02"), _day("2026-02-09")
    visits, errors = [0, 0], [0, 0]  # [inside, outside]
    for _, t, src, r in events:
        if src != "app":
            continue
        inside = 0 if lo <= t < hi else 1
        if r["event_name"] == "lesson_started":
            visits[inside] += 1
        elif r["event_name"] == "video_error":
            errors[inside] += 1
    assert visits[0] > 100
    assert errors[0] / visits[0] == pytest.approx(0.6, abs=0.08)
    assert errors[1] / visits[1] == pytest.approx(0.01, abs=0.01)


def _arrivals(events: list[Any]) -> list[datetime]:
    """Each customer's first record, ignoring campaign touches that precede the visit."""
    first: dict[str, datetime] = {}
    for c, t, src, r in events:
        if src == "campaigns" and r["campaign_name"] in ("newsletter", "spring-sale"):
            continue
        if c not in first or t < first[c]:
            first[c] = t
    return list(first.values())


def test_weekly_seasonality_of_arrivals(events: list[Any]) -> None:
    per_day = [0] * 7
    for t in _arrivals(events):
        per_day[t.weekday()] += 1
    weekday = sum(per_day[:5]) / 5
    weekend = sum(per_day[5:]) / 2
    assert weekend / weekday == pytest.approx(0.5, abs=0.06)


def test_campaign_spike_multiplies_arrivals(out: Output, events: list[Any]) -> None:
    lo, hi = _day("2026-02-23"), _day("2026-03-09")
    inside = sum(lo <= t < hi for t in _arrivals(events))
    outside = len(_arrivals(events)) - inside
    ratio = (inside / 14) / (outside / (DAYS - 14))
    assert ratio == pytest.approx(_declared(out, "spring")["declared"]["factor"], rel=0.12)


def test_ground_truth_reports_realised_sizes_near_declared(out: Output) -> None:
    realised = {e["id"]: e["realised"] for e in out.truth()["effects"]}
    assert realised["mobile-checkout"]["drop_ratio"] == pytest.approx(3, rel=0.25)
    assert realised["help-churn"]["churn_ratio"] == pytest.approx(2, rel=0.2)
    assert realised["first-lesson"]["churn_ratio"] == pytest.approx(3, rel=0.2)
    assert realised["newsletter"]["pass_ratio"] == pytest.approx(1.5, rel=0.1)
    assert realised["spring"]["arrival_ratio"] == pytest.approx(3, rel=0.12)
    shares = realised["weekends"]["arrival_share_by_weekday"]
    assert sum(shares) == pytest.approx(1.0)


def test_returning_visits_follow_the_weekly_cycle_too(events: list[Any]) -> None:
    """A web / app visit more than 30 minutes after the customer's previous one starts a
    returning session; those fall on weekends half as often, like first visits (without
    the weekly shaping of later visits this ratio is ≈ 0.97)."""
    per_day = [0] * 7
    previous: dict[str, datetime] = {}
    for c, t, src, _ in events:
        if src not in ("web", "app"):
            continue
        if c in previous and t - previous[c] > timedelta(minutes=30):
            per_day[t.weekday()] += 1
        previous[c] = t
    weekday = sum(per_day[:5]) / 5
    weekend = sum(per_day[5:]) / 2
    assert sum(per_day) > 5000
    assert weekend / weekday == pytest.approx(0.5, abs=0.08)


def test_ground_truth_churn_is_what_the_60_day_rule_measures(
    out: Output, events: list[Any]
) -> None:
    """Over every customer with a record: quiet in the last 60 days = churned (the map's
    ``inactive_days: 60`` outcome); customers with a support ticket hit the pain point."""
    cutoff = END - timedelta(days=60)
    last: dict[str, datetime] = {}
    for c, t, _, _ in events:
        last[c] = max(last.get(c, t), t)
    helped = {c for c, _, src, _ in events if src == "support"}
    quiet = {c for c, t in last.items() if t < cutoff}
    rate_helped = len(quiet & helped) / len(helped)
    rate_other = len(quiet - helped) / (len(last) - len(helped))
    realised = _declared(out, "help-churn")["realised"]
    assert realised["customers_exposed"] == len(helped)
    assert realised["measured_churn_rate_exposed"] == pytest.approx(rate_helped, abs=0.01)
    assert realised["measured_churn_rate_other"] == pytest.approx(rate_other, abs=0.01)
    outcomes = out.truth()["outcomes"]
    assert outcomes["customers_with_records"] == len(last)
    assert outcomes["inactive_60d_at_end"] == pytest.approx(len(quiet), rel=0.01)
