"""``evaluate_outcomes`` of a DuckDB ``Paths`` read off its sorted arrays.

``sort_paths`` on DuckDB hands the path frame over as sorted arrays; ``evaluate_outcomes``
given those ``Paths`` reads event-name rules (``did`` / ``did_not``: a path with a row whose
label the rule matches) and ``inactive_days`` (a path's last ``t_us`` against
``as_of − D days`` in epoch microseconds) off them. Both must give the hand-computed
flags, and the same rows as the group-by over the same events on DuckDB and on Polars;
every other rule or time takes the group-by.
"""

from __future__ import annotations

import dataclasses
import itertools
import random
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import narwhals as nw
import polars as pl
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from journeylens.analytics import sort_paths
from journeylens.analytics._common import AnalyticsError, Paths
from journeylens.analytics.binding import _outcomes_from_arrays, evaluate_outcomes
from journeylens.model import Outcome

T0 = datetime(2024, 3, 1)
DAY = timedelta(days=1)
US = timedelta(microseconds=1)
#: A row: (customer, time, event name).
Row = tuple[str, datetime, str | None]

OUTCOMES = [
    Outcome(id="bought", name="Bought", did={"event": "purchase"}),
    Outcome(id="browsed", name="Browsed", did={"event": "page_*"}),
    Outcome(id="odd", name="Odd", did={"event": ["a?c", "[!p]ay", "é*"]}),
    Outcome(id="no_ticket", name="No ticket", did_not={"event": ["ticket_*", "refund"]}),
    Outcome(id="churned", name="Churned", inactive_days=14, polarity="negative"),
    Outcome(id="lapsed", name="Lapsed", inactive_days=2, polarity="negative"),
]


def _table(rows: Sequence[Row], time_type: pa.DataType | None = None) -> pa.Table:
    """Events of the rows, ``seq`` in row order."""
    return pa.table(
        {
            "customer_id": pa.array([r[0] for r in rows], pa.string()),
            "event_name": pa.array([r[2] for r in rows], pa.string()),
            "occurred_at": pa.array([r[1] for r in rows], time_type or pa.timestamp("us")),
            "seq": pa.array(range(1, len(rows) + 1), pa.int64()),
            "source": pa.array(["web" if i % 2 else "app" for i in range(len(rows))]),
        }
    )


def _duckdb(rows: Sequence[Row], time_type: pa.DataType | None = None, zone: str = "UTC") -> Any:
    """The rows' events on a fresh DuckDB connection (session time zone ``zone``)."""
    con = duckdb.connect()
    con.execute(f"SET TimeZone = '{zone}'")
    return nw.from_native(con.from_arrow(_table(rows, time_type)))


def _polars(rows: Sequence[Row], time_type: pa.DataType | None = None) -> Any:
    frame = pl.from_arrow(_table(rows, time_type))
    assert isinstance(frame, pl.DataFrame)
    return nw.from_native(frame.lazy())


def _rows(lf: nw.LazyFrame[Any]) -> list[tuple[Any, ...]]:
    return sorted(lf.collect().rows())


def _arrays_paths(lf: nw.LazyFrame[Any]) -> Paths:
    """The DuckDB path frame of ``lf``, which must come with its sorted arrays."""
    p = sort_paths(lf)
    assert p.arrays is not None
    return p


def _from_arrays(
    p: Paths, outcomes: Sequence[Outcome], as_of: datetime | None = None
) -> list[tuple[Any, ...]]:
    """``evaluate_outcomes`` of ``p``, which must be answered from the arrays."""
    assert _outcomes_from_arrays(p, outcomes, "customer", as_of) is not None
    return _rows(evaluate_outcomes(p, outcomes, as_of=as_of))


# -- hand-computed ---------------------------------------------------------------------------

HAND: list[Row] = [
    # a: browses, buys; last event exactly 14 days before the latest event of all (e).
    ("a", T0, "page_view"), ("a", T0 + DAY, "purchase"),
    # b: one event 1 µs later than a's last: 14 days minus 1 µs before the end.
    ("b", T0 + DAY + US, "abc"),
    # c: a ticket, nothing the did rules match; its glob-like names are literal text.
    ("c", T0 + 2 * DAY, "ticket_open"), ("c", T0 + 2 * DAY, "page*"),
    # d: unicode names; "[!p]ay" matches "day" not "pay"; "é*" matches "été".
    ("d", T0 + 10 * DAY, "pay"), ("d", T0 + 10 * DAY, "day"), ("d", T0 + 11 * DAY, "été"),
    # e: the latest event of all; a refund.
    ("e", T0 + 15 * DAY, "refund"), ("e", T0 + 3 * DAY, "page_view"),
]  # fmt: skip

#: (unit, bought, browsed, odd, no_ticket, churned, lapsed) by hand; the end is T0 + 15 days.
HAND_EXPECTED = [
    ("a", True, True, False, True, True, True),
    ("b", False, False, True, True, False, True),
    # c: "page*" does not start with "page_"; its last event is after the 14-day cutoff
    ("c", False, False, False, False, False, True),
    ("d", False, False, True, True, False, True),
    ("e", False, True, False, False, False, False),
]


def test_hand_computed_from_the_arrays() -> None:
    assert _from_arrays(_arrays_paths(_duckdb(HAND)), OUTCOMES) == HAND_EXPECTED


def test_hand_computed_on_every_path() -> None:
    lf = _duckdb(HAND)
    p = _arrays_paths(lf)
    assert _rows(evaluate_outcomes(lf, OUTCOMES)) == HAND_EXPECTED  # SQL group-by
    assert _rows(evaluate_outcomes(dataclasses.replace(p, arrays=None), OUTCOMES)) == (
        HAND_EXPECTED
    )
    assert _rows(evaluate_outcomes(_polars(HAND), OUTCOMES)) == HAND_EXPECTED
    polars_paths = sort_paths(_polars(HAND))  # no arrays, no events: its frame is read
    assert _rows(evaluate_outcomes(polars_paths, OUTCOMES)) == HAND_EXPECTED
    with pytest.raises(AnalyticsError, match="session_id"):  # as the events would
        evaluate_outcomes(polars_paths, OUTCOMES, unit="session")


def test_inactive_days_exactly_at_the_cutoff() -> None:
    """Inactive for exactly D days counts; one microsecond less does not (given as_of)."""
    as_of = T0 + 20 * DAY
    rows: list[Row] = [
        ("exact", as_of - 14 * DAY, "x"),
        ("short", as_of - 14 * DAY + US, "x"),
        ("long", as_of - 14 * DAY - US, "x"),
        ("after", as_of + DAY, "x"),  # after as_of: never inactive
    ]
    churn = [OUTCOMES[4]]
    expected = [("after", False), ("exact", True), ("long", True), ("short", False)]
    assert _from_arrays(_arrays_paths(_duckdb(rows)), churn, as_of) == expected
    assert _rows(evaluate_outcomes(_duckdb(rows), churn, as_of=as_of)) == expected


def test_result_schema_and_a_unit_with_one_event() -> None:
    lf = _duckdb([("solo", T0, "purchase")])
    got = evaluate_outcomes(_arrays_paths(lf), OUTCOMES)
    schema = got.collect_schema()
    assert schema == evaluate_outcomes(lf, OUTCOMES).collect_schema()
    assert list(schema) == ["unit_id", *[o.id for o in OUTCOMES]]
    # its last event is the end of the data: not inactive
    assert _rows(got) == [("solo", True, False, False, True, False, False)]


def test_no_outcomes_gives_the_units() -> None:
    p = _arrays_paths(_duckdb(HAND))
    assert _from_arrays(p, []) == [(u,) for u in "abcde"]


def test_empty_input() -> None:
    p = sort_paths(_duckdb([]))
    got = evaluate_outcomes(p, OUTCOMES)
    assert _rows(got) == []
    assert list(got.collect_schema()) == ["unit_id", *[o.id for o in OUTCOMES]]


@pytest.mark.parametrize("zone", ["UTC", "Europe/Berlin"])
def test_zoned_times(zone: str) -> None:
    """A time with a zone: the instant compared, ``as_of`` (default: the latest event, as
    the engine hands it back in its session zone — day arithmetic on the wall clock, so the
    cutoff crosses the summer-time change in Berlin) or given with a zone."""
    utc = pa.timestamp("us", tz="UTC")
    end = datetime(2024, 4, 2, 12, tzinfo=UTC)
    shift = timedelta(hours=1)
    rows: list[Row] = [
        ("end", end, "x"),
        ("exact", end - 14 * DAY, "x"),
        ("hour_early", end - 14 * DAY - shift, "x"),
        ("hour_late", end - 14 * DAY + shift, "x"),
        ("past", end - 14 * DAY + shift + US, "x"),
    ]
    churn = [OUTCOMES[4]]
    for as_of in (None, end, end.astimezone(ZoneInfo("Europe/Berlin"))):
        lf = _duckdb(rows, utc, zone)
        expected = _rows(evaluate_outcomes(lf, churn, as_of=as_of))
        assert _from_arrays(_arrays_paths(lf), churn, as_of) == expected
    # By hand, as_of the latest event: in Berlin (summer time since 31 March) 14 days
    # before 2 April 14:00 is 19 March 14:00 winter time, one hour later in UTC.
    berlin = zone == "Europe/Berlin"
    by_hand = [
        ("end", False),
        ("exact", True),
        ("hour_early", True),
        ("hour_late", berlin),
        ("past", False),
    ]
    assert _from_arrays(_arrays_paths(_duckdb(rows, utc, zone)), churn) == by_hand


@pytest.mark.parametrize("unit", ["s", "ms", "us"])
def test_coarser_times(unit: str) -> None:
    rows: list[Row] = [("a", T0, "x"), ("b", T0 + 14 * DAY, "purchase"), ("c", T0 + DAY, "x")]
    lf = _duckdb(rows, pa.timestamp(unit))
    expected = [("a", False, True), ("b", True, False), ("c", False, False)]
    assert _from_arrays(_arrays_paths(lf), [OUTCOMES[0], OUTCOMES[4]]) == expected


def test_what_the_arrays_do_not_hold_takes_the_group_by() -> None:
    """Rules on another column, a naive as_of against zoned times, nanosecond times with an
    inactivity rule, another unit: answered by the group-by of the same events."""
    p = _arrays_paths(_duckdb(HAND))
    by_source = [Outcome(id="web", name="Web", did={"event": "page_*", "source": "web"})]
    assert _outcomes_from_arrays(p, by_source, "customer", None) is None
    assert _rows(evaluate_outcomes(p, by_source)) == _rows(
        evaluate_outcomes(_polars(HAND), by_source)
    )
    zoned = _arrays_paths(_duckdb(HAND, pa.timestamp("us", tz="UTC")))
    assert _outcomes_from_arrays(zoned, OUTCOMES, "customer", T0 + 20 * DAY) is None
    nanos = _arrays_paths(_duckdb(HAND, pa.timestamp("ns")))
    assert _outcomes_from_arrays(nanos, OUTCOMES, "customer", None) is None
    assert _rows(evaluate_outcomes(nanos, OUTCOMES)) == HAND_EXPECTED
    # nanosecond times with name rules only: read off the arrays
    assert _from_arrays(nanos, OUTCOMES[:4]) == [r[:5] for r in HAND_EXPECTED]
    assert _outcomes_from_arrays(p, OUTCOMES, "session", None) is None


def test_unlabelled_events_are_not_in_the_paths() -> None:
    """Events without a name are left out of the path frame, and so of its outcomes."""
    rows = [*HAND, ("a", T0 + 30 * DAY, None), ("z", T0, None)]
    p = _arrays_paths(_duckdb(rows))
    expected = _rows(evaluate_outcomes(_polars(HAND), OUTCOMES))
    assert _from_arrays(p, OUTCOMES) == expected
    assert _rows(evaluate_outcomes(dataclasses.replace(p, arrays=None), OUTCOMES)) == expected


# -- against the group-by --------------------------------------------------------------------

NAMES = ["page_view", "page_", "purchase", "abc", "axc", "ay", "pay", "day", "été", "ticket_x"]
NAMES += ["refund", "ünï", "a*c"]


def _check_same(rows: Sequence[Row], as_of: datetime | None) -> None:
    """The arrays' outcomes = the DuckDB group-by = the Polars group-by of the same events."""
    lf = _duckdb(rows)
    expected = _rows(evaluate_outcomes(_polars(rows), OUTCOMES, as_of=as_of))
    assert _rows(evaluate_outcomes(lf, OUTCOMES, as_of=as_of)) == expected
    assert _from_arrays(_arrays_paths(lf), OUTCOMES, as_of) == expected


row = st.tuples(
    st.sampled_from(["u1", "u2", "ü3", "u4"]),
    # few distinct times, whole days apart or a microsecond: ties and exact cutoffs
    st.builds(lambda d, u: T0 + d * DAY + u * US, st.integers(0, 20), st.integers(-1, 1)),
    st.sampled_from(NAMES),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(row, max_size=16),
    as_of=st.none() | st.sampled_from([T0 + 16 * DAY, T0 + 16 * DAY - US, T0 + 30 * DAY]),
)
def test_equals_the_group_by_on_generated_events(rows: list[Row], as_of: datetime | None) -> None:
    _check_same(rows, as_of)


def test_equals_the_group_by_on_a_larger_random_log() -> None:
    rnd = random.Random(7)
    rows: list[Row] = [
        (f"u{rnd.randrange(300)}", T0 + rnd.randrange(40) * DAY, rnd.choice(NAMES))
        for _ in range(5000)
    ]
    for as_of in (None, T0 + 45 * DAY):
        _check_same(rows, as_of)


TEXTS = ["page_view", "page_", "page", "abc", "a/c", "a.c", "a\nc", "abc\n", "été", "[x]", "x"]
TEXTS += ["a*c", "a?c", "ay", "day", "Day", "a]c", "a-c", "b\\c", "ünïcode", "a", ""]
PATTERNS: list[str | list[str]] = ["page_*", "a?c", "[!p]ay", "é*", "a*c", "[a-c]?c", "*"]
PATTERNS += ["?", "a[*]c", "a[?]c", "[x]", "a\\c", "b\\c", "*c", "a.c", "x"]
PATTERNS += [["abc", "a?c", "d*"]]


@pytest.mark.parametrize("names", PATTERNS, ids=str)
def test_label_matching_is_the_engines(names: str | list[str]) -> None:
    """The label texts a name rule matches (Python) = the events the rule matches on
    DuckDB and on Polars (the compiled expression)."""
    from journeylens.analytics.binding import _matched_codes, _names_expr

    texts = pa.table({"event_name": TEXTS, "i": range(len(TEXTS))})
    for lf in (nw.from_native(duckdb.connect().from_arrow(texts)), _polars_of(texts)):
        got = lf.filter(_names_expr("event_name", names)).select("i").collect()["i"]
        assert _matched_codes(TEXTS, names) == sorted(got.to_list())


def _polars_of(arrow: pa.Table) -> Any:
    frame = pl.from_arrow(arrow)
    assert isinstance(frame, pl.DataFrame)
    return nw.from_native(frame.lazy())


@pytest.mark.parametrize("block", [1, 3, 7, 64])
def test_paths_with_over_blocks(monkeypatch: pytest.MonkeyPatch, block: int) -> None:
    """Any matching row per path, blocks of rows cutting paths anywhere (a path over many
    blocks, a block over many paths) = a plain loop over each path's rows."""
    import numpy as np

    from journeylens.analytics import _arrays
    from journeylens.analytics.binding import _paths_with

    monkeypatch.setattr(_arrays, "BLOCK", block)
    rnd = random.Random(block)
    lengths = [rnd.choice([1, 1, 2, 5, 30]) for _ in range(60)]
    starts = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    code = np.array([rnd.choice([-1, 0, 1, 2, 2, 2]) for _ in range(int(starts[-1]))], np.int32)
    lookup = np.array([False, True, False, False])  # code 1 (and not NONE, the last entry)
    expected = [bool((code[lo:hi] == 1).any()) for lo, hi in itertools.pairwise(starts.tolist())]
    assert _paths_with(code, lookup, starts).tolist() == expected
    assert 0 < sum(expected) < len(expected)
