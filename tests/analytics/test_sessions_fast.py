"""Sessions read off the path frame (one-event sessions unpaired, quantiles of the union)
against hand-computed values, the reference and the keep_source path, on every engine.

Every expected value is worked out in the comment next to it. Quantiles use linear
interpolation: position (n − 1)·q in the sorted values, 0-based.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from statistics import mean
from typing import Any

import narwhals as nw
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.analytics.conftest import builder, events_table
from tests.analytics.reference import Ev, quantile, sessions_ref

from journeylens.analytics import sessions, sort_paths
from journeylens.analytics.sessions import SessionsResult, Spread

T0 = datetime(2024, 5, 1, 12, 0, 0)
MakeEvents = Callable[[Sequence[Ev]], nw.LazyFrame[Any]]


def log(*rows: tuple[str, float]) -> list[Ev]:
    """rows of (customer, seconds after T0); seq = row order, every event named 'x'."""
    return [Ev(u, T0 + timedelta(seconds=s), i, "x") for i, (u, s) in enumerate(rows, start=1)]


def summary(make_events: MakeEvents, events: list[Ev], timeout: float) -> SessionsResult:
    """sessions() of raw events, checked equal to sessions() of a path frame sorted first
    (on Polars that frame is stored in order: the pairing window skips its sort)."""
    raw = sessions(make_events(events), timeout=timeout)
    assert sessions(sort_paths(make_events(events)), timeout=timeout) == raw
    return raw


def spread(mean_: float | None, median: float | None, p90: float | None) -> Any:
    """A Spread whose numbers compare with a relative tolerance of 1e-12."""
    values: list[Any] = [
        None if v is None else pytest.approx(v, rel=1e-12) for v in (mean_, median, p90)
    ]
    return Spread(*values)


def test_one_event_sessions_only(make_events: MakeEvents) -> None:
    # a: gaps 2000 s, 2000 s (> 1800) → 3 sessions of 1 event; b: 1 event
    events = log(("a", 0), ("a", 2000), ("a", 4000), ("b", 0))
    r = summary(make_events, events, 1800)
    assert (r.customers, r.sessions, r.events) == (2, 4, 4)
    assert r.events_per_session == spread(1.0, 1.0, 1.0)
    assert r.duration_s == spread(0.0, 0.0, 0.0)
    # per customer: a 3, b 1 → mean 2, median 2, p90 = 1 + 0.9·(3 − 1) = 2.8
    assert r.sessions_per_customer == spread(2.0, 2.0, 2.8)


def test_p90_crosses_from_one_event_block_into_multi_event_values(
    make_events: MakeEvents,
) -> None:
    # a: 0 | 7200 | 14400 → three 1-event sessions; b: 0 | 5000, 5030, 5090 → one 1-event
    # session and one of 3 events lasting 90 s
    events = log(("a", 0), ("a", 7200), ("a", 14400), ("b", 0), ("b", 5000), ("b", 5030))
    events += log(("b", 5090))
    r = summary(make_events, events, 1800)
    assert (r.customers, r.sessions, r.events) == (2, 5, 7)
    # events per session sorted: 1 1 1 1 3 → mean 7/5; median at 2 → 1;
    # p90 at 4·0.9 = 3.6, between the last 1 (index 3) and the 3: 1 + 0.6·2 = 2.2
    assert r.events_per_session == spread(1.4, 1.0, 2.2)
    # durations sorted: 0 0 0 0 90 → mean 18; median 0; p90 = 0 + 0.6·90 = 54
    assert r.duration_s == spread(18.0, 0.0, 54.0)
    # per customer: a 3, b 2 → mean 2.5, median 2.5, p90 = 2 + 0.9·1 = 2.9
    assert r.sessions_per_customer == spread(2.5, 2.5, 2.9)


def test_median_between_blocks_ties_at_timeout_and_one_second_past(
    make_events: MakeEvents,
) -> None:
    # c: 0, 1800 (gap = timeout: same session) | 3601 (1801 s: new), 5401 (1800: same)
    #    → two sessions of 2 events, 1800 s each
    # d: 0 | 1801 → two 1-event sessions
    events = log(("c", 0), ("c", 1800), ("c", 3601), ("c", 5401), ("d", 0), ("d", 1801))
    r = summary(make_events, events, 1800)
    assert (r.customers, r.sessions, r.events) == (2, 4, 6)
    # events per session sorted: 1 1 2 2 → mean 1.5; median at 1.5 → 1 + 0.5·(2 − 1)
    # = 1.5 (the one-event block's last value and the first multi-event one); p90 at 2.7
    # → 2 + 0.7·0 = 2
    assert r.events_per_session == spread(1.5, 1.5, 2.0)
    # durations sorted: 0 0 1800 1800 → mean 900; median 0 + 0.5·1800 = 900; p90 1800
    assert r.duration_s == spread(900.0, 900.0, 1800.0)
    # per customer: c 2, d 2
    assert r.sessions_per_customer == spread(2.0, 2.0, 2.0)


def test_zero_second_sessions_of_several_events(make_events: MakeEvents) -> None:
    # z: three events at the same instant → 3 events, 0 s
    # y: 0 | 4000, 4000 → a 1-event session and one of 2 events lasting 0 s
    # x: 0, 1000 → 2 events, 1000 s
    events = log(("z", 0), ("z", 0), ("z", 0), ("y", 0), ("y", 4000), ("y", 4000))
    events += log(("x", 0), ("x", 1000))
    r = summary(make_events, events, 1800)
    assert (r.customers, r.sessions, r.events) == (3, 4, 8)
    # events per session sorted: 1 2 2 3 → mean 2; median at 1.5 → 2;
    # p90 at 2.7 → 2 + 0.7·(3 − 2) = 2.7
    assert r.events_per_session == spread(2.0, 2.0, 2.7)
    # durations sorted: 0 (the 1-event session) 0 0 (the 0-s sessions) 1000 → mean 250;
    # median at 1.5 → 0; p90 at 2.7 → 0 + 0.7·1000 = 700
    assert r.duration_s == spread(250.0, 0.0, 700.0)
    # per customer: z 1, y 2, x 1 → sorted 1 1 2: mean 4/3, median 1, p90 at 1.8 → 1.8
    assert r.sessions_per_customer == spread(4 / 3, 1.0, 1.8)


def test_every_session_has_several_events(make_events: MakeEvents) -> None:
    # a: 0, 10, 20 (3 events, 20 s) | 5000, 5100 (2, 100 s); b: 0, 60 (2, 60 s)
    events = log(("a", 0), ("a", 10), ("a", 20), ("a", 5000), ("a", 5100), ("b", 0))
    events += log(("b", 60))
    r = summary(make_events, events, 1800)
    assert (r.customers, r.sessions, r.events) == (2, 3, 7)
    # events per session sorted: 2 2 3 → mean 7/3; median 2; p90 at 1.8 → 2 + 0.8·1 = 2.8
    assert r.events_per_session == spread(7 / 3, 2.0, 2.8)
    # durations sorted: 20 60 100 → mean 60; median 60; p90 = 60 + 0.8·40 = 92
    assert r.duration_s == spread(60.0, 60.0, 92.0)
    # per customer: a 2, b 1 → mean 1.5, median 1.5, p90 1.9
    assert r.sessions_per_customer == spread(1.5, 1.5, 1.9)


def test_no_events(make_events: MakeEvents) -> None:
    r = summary(make_events, [], 1800)
    assert (r.customers, r.sessions, r.events) == (0, 0, 0)
    empty = Spread(None, None, None)
    assert (r.sessions_per_customer, r.events_per_session, r.duration_s) == (empty,) * 3


# -- against the reference and the keep_source path ---------------------------------------------


@st.composite
def event_logs(draw: st.DrawFn) -> list[Ev]:
    """Logs of 0–24 events over 3 customers, whole or half seconds within 6 s (gaps of
    exactly the 1 s / 2 s timeouts and just past them are common), seq a permutation."""
    n = draw(st.integers(min_value=0, max_value=24))
    units = draw(st.lists(st.sampled_from(["a", "b", "c"]), min_size=n, max_size=n))
    halves = draw(st.lists(st.integers(min_value=0, max_value=12), min_size=n, max_size=n))
    seqs = draw(st.permutations(list(range(1, n + 1))))
    return [
        Ev(u, T0 + timedelta(seconds=h / 2), q, "x")
        for u, h, q in zip(units, halves, seqs, strict=True)
    ]


def approx_spread(values: list[float]) -> Any:
    if not values:
        return Spread(None, None, None)
    return spread(mean(values), quantile(values, 0.5), quantile(values, 0.9))


def check_reference(lf: nw.LazyFrame[Any], events: list[Ev], timeout: float) -> None:
    """Every output of sessions() equals the reference's sessions."""
    ref = sessions_ref(events, timeout) if events else []
    r = sessions(sort_paths(lf), timeout=timeout)
    per_customer: dict[str, int] = {}
    for s in ref:
        per_customer[s[0].unit] = per_customer.get(s[0].unit, 0) + 1
    assert (r.customers, r.sessions, r.events) == (len(per_customer), len(ref), len(events))
    assert r.events_per_session == approx_spread([float(len(s)) for s in ref])
    assert r.duration_s == approx_spread([(s[-1].t - s[0].t).total_seconds() for s in ref])
    assert r.sessions_per_customer == approx_spread([float(k) for k in per_customer.values()])


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(events=event_logs(), timeout=st.sampled_from([1.0, 2.0]))
def test_generated_logs_match_reference_and_keep_source(
    make_events: MakeEvents, events: list[Ev], timeout: float
) -> None:
    lf = make_events(events)
    check_reference(lf, events, timeout)
    # keep_source=True on events without session ids cuts the same sessions by another
    # route (sessionize, then a group-by per session)
    fast = sessions(lf, timeout=timeout)
    slow = sessions(lf, timeout=timeout, keep_source=True)
    assert (fast.customers, fast.sessions, fast.events) == (
        slow.customers,
        slow.sessions,
        slow.events,
    )
    for name in ("sessions_per_customer", "events_per_session", "duration_s"):
        want = getattr(slow, name)
        assert getattr(fast, name) == spread(want.mean, want.median, want.p90)


#: One log with every case at once: 1-event sessions, ties at the 2 s timeout, 0-s
#: sessions of several events, and quantile positions among the multi-event sessions.
MIXED = log(
    ("a", 0), ("a", 2), ("a", 4.5), ("a", 4.5), ("a", 9),
    ("b", 0), ("b", 0), ("b", 0),
    ("c", 1), ("c", 3.5), ("c", 5.5), ("c", 6), ("c", 8.5),
)  # fmt: skip


@pytest.mark.slow
def test_spark_matches_reference(request: pytest.FixtureRequest) -> None:
    make = builder("spark", request)
    check_reference(make(events_table(MIXED)), MIXED, 2.0)


def test_mixed_log_in_process_engines(make_events: MakeEvents) -> None:
    check_reference(make_events(MIXED), MIXED, 2.0)
    # a: 0, 2 (2 s = timeout) | 4.5, 4.5 (2.5 s gap; 0 s) | 9 → n 2, 2, 1; d 2, 0, 0
    # b: 0, 0, 0 → n 3, d 0
    # c: 1 | 3.5, 5.5, 6 | 8.5 → n 1, 3, 1; d 0, 2.5, 0
    r = sessions(make_events(MIXED), timeout=2.0)
    assert (r.customers, r.sessions, r.events) == (3, 7, 13)
    # events per session sorted: 1 1 1 2 2 3 3 → median 2; p90 at 5.4 → 3
    assert r.events_per_session == spread(13 / 7, 2.0, 3.0)
    # durations sorted: 0 0 0 0 0 2 2.5 → mean 4.5/7; median 0; p90 at 5.4 → 2 + 0.4·0.5
    assert r.duration_s == spread(4.5 / 7, 0.0, 2.2)
