"""The outcome comparison's feature counts on DuckDB from the units' distinct combinations.

``distinct_units`` with values not listed (what ``compare_outcome`` asks for) reads the
events once into each unit's distinct combinations of the key columns and counts them in
numpy; when they would not fit in ``max_bytes`` (``max_bytes=0`` here) it counts them by one
SQL ``GROUPING SETS`` group-by instead. Both must give the hand-counted figures, the plain
group-by of Polars, and a brute-force count of random events; ``compare_outcome`` must give
the same comparison on DuckDB and Polars.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any
from unittest import mock

import duckdb
import narwhals as nw
import polars as pl
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from journeylens.analytics import bind, sort_paths
from journeylens.analytics.outcomes import OutcomeComparison, compare_outcome
from journeylens.engine import frames
from journeylens.engine.frames import distinct_units
from journeylens.model import JourneyMap

outcomes_module = sys.modules["journeylens.analytics.outcomes"]

Make = Callable[[Mapping[str, Sequence[Any]]], nw.LazyFrame[Any]]
#: Columns of rows by name.
Rows = dict[str, list[Any]]
Counts = list[dict[tuple[str, ...], tuple[int, int]]]


def duckdb_maker() -> Make:
    """Frames on one DuckDB connection (frames of two connections cannot be joined)."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")

    def make(columns: Mapping[str, Sequence[Any]]) -> nw.LazyFrame[Any]:
        return nw.from_native(con.from_arrow(table(columns)))

    return make


def polars_make(columns: Mapping[str, Sequence[Any]]) -> nw.LazyFrame[Any]:
    """A Polars lazy frame of the columns."""
    return polars_lazy(table(columns))


def polars_lazy(arrow: pa.Table) -> nw.LazyFrame[Any]:
    """A Polars lazy frame of an Arrow table."""
    frame = pl.from_arrow(arrow)
    assert isinstance(frame, pl.DataFrame)
    return nw.from_native(frame.lazy())


#: Columns of booleans; every other column is text.
FLAG_COLUMNS = ("flag", "converted", "won")


def table(columns: Mapping[str, Sequence[Any]]) -> pa.Table:
    """An Arrow table of the columns."""
    return pa.table(
        {
            name: pa.array(list(values), pa.bool_() if name in FLAG_COLUMNS else pa.string())
            for name, values in columns.items()
        }
    )


#: (engine, max_bytes): DuckDB's numpy count, DuckDB's SQL count, Polars' group-by.
PATHS = [("duckdb", None), ("duckdb", 0), ("polars", None)]
PATH_IDS = ["duckdb-numpy", "duckdb-grouping-sets", "polars"]


def counted(
    engine: str,
    max_bytes: int | None,
    events: Mapping[str, Sequence[Any]],
    keys: Sequence[Sequence[str]],
    values: Mapping[str, Sequence[str]] | None = None,
    flags: Mapping[str, Sequence[Any]] | None = None,
) -> Counts:
    """``distinct_units`` of the rows on one engine and DuckDB path."""
    make = duckdb_maker() if engine == "duckdb" else polars_make
    # DuckDB's default must count in numpy: its SQL count is made to fail meanwhile.
    sql_count = mock.patch.object(
        frames,
        "_distinct_units_grouping_sets",
        side_effect=AssertionError("counted in SQL"),
    )
    with sql_count if engine == "duckdb" and max_bytes is None else contextlib.nullcontext():
        return distinct_units(
            make(events),
            "u",
            keys,
            values,
            flags=None if flags is None else make(flags),
            max_bytes=frames.MAX_UNIT_SET_BYTES if max_bytes is None else max_bytes,
        )


@pytest.mark.parametrize(("engine", "max_bytes"), PATHS, ids=PATH_IDS)
def test_hand_counted_with_flags_nulls_and_unicode(engine: str, max_bytes: int | None) -> None:
    events: Rows = {
        "u": ["a", "a", "a", "b", "b", "c", "d", "e"],
        "x": ["ü", "ü", "q", None, "ü", "q", "q", "ü"],
        "y": ["1", "2", "1", "1", None, "1", "2", "1"],
    }
    # e is not in the flag frame: it counts nowhere. c has no flag value: not flagged.
    flags: Rows = {"u": ["a", "b", "c", "d"], "flag": [True, False, None, True]}
    by_x, by_xy, by_yx, by_y = counted(
        engine, max_bytes, events, [("x",), ("x", "y"), ("y", "x"), ("y",)], flags=flags
    )
    # ü: a (flagged), b; q: a, c, d (a and d flagged).
    assert by_x == {("ü",): (2, 1), ("q",): (3, 2)}
    # (ü, 1): a; (ü, 2): a; (q, 1): a, c; (q, 2): d. b's rows each hold a null.
    assert by_xy == {("ü", "1"): (1, 1), ("ü", "2"): (1, 1), ("q", "1"): (2, 1), ("q", "2"): (1, 1)}
    # The same pairs read in the key's own column order.
    assert by_yx == {(y, x): n for (x, y), n in by_xy.items()}
    # 1: a, b (b's (null, 1) row), c; 2: a, d.
    assert by_y == {("1",): (3, 1), ("2",): (2, 2)}


@pytest.mark.parametrize(("engine", "max_bytes"), PATHS, ids=PATH_IDS)
def test_listed_values_of_one_column_found_values_of_another(
    engine: str, max_bytes: int | None
) -> None:
    events: Rows = {"u": ["a", "a", "b", "c"], "x": ["p", "q", "q", "r"], "y": ["1", "1", "2", "2"]}
    # x's values are listed (r is not: it counts for no key reading x), y's are found.
    by_x, by_xy, by_y = counted(
        engine, max_bytes, events, [("x",), ("x", "y"), ("y",)], {"x": ["p", "q"]}
    )
    assert by_x == {("p",): (1, 0), ("q",): (2, 0)}
    assert by_xy == {("p", "1"): (1, 0), ("q", "1"): (1, 0), ("q", "2"): (1, 0)}
    assert by_y == {("1",): (1, 0), ("2",): (2, 0)}  # c's r does not hide its y


@pytest.mark.parametrize(("engine", "max_bytes"), PATHS, ids=PATH_IDS)
def test_empty_and_all_null(engine: str, max_bytes: int | None) -> None:
    no_rows: Rows = {"u": [], "x": []}
    assert counted(engine, max_bytes, no_rows, [("x",)]) == [{}]
    nulls: Rows = {"u": ["a", "b"], "x": [None, None]}
    assert counted(engine, max_bytes, nulls, [("x",)], flags={"u": ["a"], "flag": [True]}) == [{}]
    single: Rows = {"u": ["a"], "x": ["only"]}
    assert counted(engine, max_bytes, single, [("x",)]) == [{("only",): (1, 0)}]


def brute_force(
    rows: list[tuple[str, str | None, str | None]],
    flags: dict[str, bool] | None,
    keys: Sequence[Sequence[str]],
) -> Counts:
    """Distinct units per value by Python sets (the definition)."""
    out: Counts = []
    for key in keys:
        units: dict[tuple[str, ...], set[str]] = {}
        for u, x, y in rows:
            value = tuple({"x": x, "y": y}[c] for c in key)
            if any(v is None for v in value) or (flags is not None and u not in flags):
                continue
            units.setdefault(value, set()).add(u)  # type: ignore[arg-type]
        out.append(
            {
                v: (len(us), sum(1 for u in us if flags is not None and flags[u]))
                for v, us in units.items()
            }
        )
    return out


LABELS = st.sampled_from(["a", "b", "é", "日本", "a b", "", None])


@settings(max_examples=25, deadline=None)
@given(
    rows=st.lists(
        st.tuples(st.sampled_from([f"u{i}" for i in range(8)]), LABELS, LABELS), max_size=40
    ),
    flagged=st.dictionaries(st.sampled_from([f"u{i}" for i in range(10)]), st.booleans()),
    with_flags=st.booleans(),
)
def test_random_events_match_brute_force_on_every_path(
    rows: list[tuple[str, str | None, str | None]], flagged: dict[str, bool], with_flags: bool
) -> None:
    keys = [("x",), ("y",), ("x", "y")]
    events: Rows = {"u": [r[0] for r in rows], "x": [r[1] for r in rows], "y": [r[2] for r in rows]}
    flags: Rows | None = (
        {"u": list(flagged), "flag": list(flagged.values())} if with_flags else None
    )
    expected = brute_force(rows, flagged if with_flags else None, keys)
    for engine, max_bytes in PATHS:
        assert counted(engine, max_bytes, events, keys, flags=flags) == expected, engine


def test_compare_outcome_same_on_duckdb_and_polars() -> None:
    # 60 units: u00-u29 converted. 'help': u00-u19 and u30-u39 (a=20, c=10, b=10, d=20);
    # channel 'app' for u00-u04 only (too rare); 'ünï' on u30-u59 (a=0, c=30).
    units, names, channels = [], [], []
    for i in range(60):
        for name in ["visit"] + ["help"] * (i < 20 or 30 <= i < 40) + ["ünï"] * (i >= 30):
            units.append(f"u{i:02}")
            names.append(name)
            channels.append("app" if i < 5 else "web")
    events: Rows = {"unit_id": units, "event_name": names, "channel": channels}
    outcomes: Rows = {
        "unit_id": [f"u{i:02}" for i in range(60)],
        "converted": [i < 30 for i in range(60)],
    }
    make = duckdb_maker()
    duck = compare_outcome(make(events), make(outcomes), "converted", features=["event", "channel"])
    polars = compare_outcome(
        polars_make(events), polars_make(outcomes), "converted", features=["event", "channel"]
    )
    assert duck.to_dict() == polars.to_dict()
    h = duck.get("event", "help")
    assert h is not None
    assert (h.a, h.b, h.c, h.d) == (20, 10, 10, 20)
    u = duck.get("event", "ünï")
    assert u is not None
    assert (u.a, u.b, u.c, u.d) == (0, 30, 30, 0)
    app = duck.get("channel", "app")
    assert app is not None
    assert (app.a, app.c, app.flag) == (5, 0, "too rare")


# -- compare_outcome off the path frame's sorted arrays ------------------------------------

MAP = JourneyMap.model_validate(
    {
        "id": "m",
        "title": "M",
        "stages": [
            {
                "id": "find",
                "name": "Find",
                "steps": [
                    {
                        "id": "look",
                        "name": "Look",
                        "touchpoints": [
                            {
                                "id": "site",
                                "name": "Site",
                                "channel": "web",
                                "match": [{"event": "view*"}],
                            },
                            {
                                "id": "app",
                                "name": "App",
                                "channel": "app",
                                "match": [{"event": "open"}],
                            },
                        ],
                    }
                ],
            },
            {
                "id": "get",
                "name": "Get",
                "steps": [
                    {
                        "id": "pay",
                        "name": "Pay",
                        "touchpoints": [
                            {
                                "id": "till",
                                "name": "Till",
                                "channel": "web",
                                "match": [{"event": "buy"}],
                            }
                        ],
                    }
                ],
            },
        ],
    }
)
KINDS = ["touchpoint", "step", "stage", "event", "channel"]
T0 = datetime(2024, 5, 1)


def event_rows(rows: Sequence[tuple[str, int, str | None, str]]) -> Rows:
    """Canonical events of (customer, seconds after T0, event name, channel) rows."""
    return {
        "customer_id": [r[0] for r in rows],
        "occurred_at": [T0 + timedelta(seconds=r[1]) for r in rows],
        "seq": list(range(1, len(rows) + 1)),
        "event_name": [r[2] for r in rows],
        "channel": [r[3] for r in rows],
    }


def path_comparisons(
    rows: Sequence[tuple[str, int, str | None, str]], outcome: dict[str, bool]
) -> tuple[OutcomeComparison, OutcomeComparison]:
    """``compare_outcome`` of the same Paths on DuckDB (off its arrays, the SQL count made
    to fail meanwhile) and on Polars (off its path frame)."""
    events = pa.table(
        event_rows(rows),
        pa.schema(
            [
                ("customer_id", pa.string()),
                ("occurred_at", pa.timestamp("us")),
                ("seq", pa.int64()),
                ("event_name", pa.string()),
                ("channel", pa.string()),
            ]
        ),
    )
    flags = table({"unit_id": list(outcome), "won": list(outcome.values())})
    out = []
    for engine in ("duckdb", "polars"):
        ev: nw.LazyFrame[Any]
        outs: nw.LazyFrame[Any]
        if engine == "duckdb":
            con = duckdb.connect()
            con.execute("SET TimeZone = 'UTC'")
            ev = nw.from_native(con.from_arrow(events))
            outs = nw.from_native(con.from_arrow(flags))
        else:
            ev, outs = polars_lazy(events), polars_lazy(flags)
        p = sort_paths(bind(ev, MAP), journey_map=MAP, columns=["channel"])
        guard: contextlib.AbstractContextManager[Any] = contextlib.nullcontext()
        if engine == "duckdb":
            assert p.arrays is not None
            guard = mock.patch.object(
                outcomes_module, "_feature_counts", side_effect=AssertionError("read the events")
            )
        with guard:
            out.append(compare_outcome(p, outs, "won", features=KINDS, min_support=2))
    return out[0], out[1]


def test_arrays_hand_counted() -> None:
    rows = [
        ("a", 0, "view_home", "web"),
        ("a", 5, "buy", "web"),
        ("b", 0, "open", "app"),
        ("b", 0, "buy", "app"),  # a tie in time: seq decides, counts are unaffected
        ("c", 3, "open", "app"),
        ("c", 9, "zzz", "web"),  # unbound: an event and a channel, no touchpoint
        ("d", 1, "view_é", "web"),  # d has no outcome row: not counted
    ]
    # e has an outcome row and no event: "without" every feature.
    duck, polars = path_comparisons(rows, {"a": True, "b": True, "c": False, "e": False})
    assert duck.to_dict() == polars.to_dict()
    assert (duck.units, duck.positive) == (4, 2)

    def cells(kind: str, value: str) -> tuple[int, int, int, int]:
        f = duck.get(kind, value)
        assert f is not None
        return (f.a, f.b, f.c, f.d)

    # till: a and b (both positive); app: b (+) and c (-); site: a; look: a, b, c.
    assert cells("touchpoint", "till") == (2, 0, 0, 2)
    assert cells("touchpoint", "app") == (1, 1, 1, 1)
    assert cells("touchpoint", "site") == (1, 1, 0, 2)
    assert cells("step", "look") == (2, 0, 1, 1)
    assert cells("stage", "get") == (2, 0, 0, 2)
    assert cells("event", "zzz") == (0, 2, 1, 1)
    assert cells("channel", "web") == (1, 1, 1, 1)
    assert cells("channel", "app") == (1, 1, 1, 1)
    assert duck.get("event", "view_é") is None  # only d, which is not counted


@settings(max_examples=15, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from(["u1", "u2", "u3", "ü4", "u5"]),
            st.integers(0, 3),
            st.sampled_from(["view_a", "view_日本", "open", "buy", "other", None]),
            st.sampled_from(["web", "app", "é"]),
        ),
        max_size=30,
    ),
    outcome=st.dictionaries(st.sampled_from(["u1", "u2", "u3", "ü4", "u6"]), st.booleans()),
)
def test_arrays_match_the_path_frame(
    rows: list[tuple[str, int, str | None, str]], outcome: dict[str, bool]
) -> None:
    duck, polars = path_comparisons(rows, outcome)
    assert duck.to_dict() == polars.to_dict()


@pytest.mark.parametrize(
    ("names", "units_of_first"), [(70, 1), (600, 2)], ids=["two-words", "sorted-pairs"]
)
def test_arrays_many_event_names(names: int, units_of_first: int) -> None:
    # More than 64 names: several 64-bit words per unit; more than 512: sorted pairs.
    rows = [(f"u{i % 7}", i, f"e{i % names:04d}", "web") for i in range(2 * names)]
    duck, polars = path_comparisons(rows, {f"u{i}": i % 2 == 0 for i in range(7)})
    assert duck.to_dict() == polars.to_dict()
    first = duck.get("event", "e0000")
    assert first is not None
    # e0000 is on rows 0 and `names`: units u0 and u(names % 7) — u0 twice for 70 (70 = 7·10),
    # u0 and u5 for 600 (600 = 7·85 + 5).
    assert first.a + first.c == units_of_first


def test_arrays_sorted_pairs_for_every_kind() -> None:
    # No 64-bit word pass at all: every kind, the three read off the touchpoint index
    # together, by the sorted (unit, value) pairs — the same figures.
    rows = [
        (
            f"u{i % 5}",
            i,
            ["view_a", "open", "buy", "zzz", None][i % 5 * i % 5],
            ["web", "app"][i % 2],
        )
        for i in range(40)
    ]
    with mock.patch.object(outcomes_module, "_MAX_WORD_PASSES", 0):
        duck, polars = path_comparisons(rows, {f"u{i}": i < 3 for i in range(6)})
    assert duck.to_dict() == polars.to_dict()
    assert duck.get("stage", "find") is not None
