"""The path frame of bound events: carrying only the touchpoint index through the sort
(``sort_paths(..., journey_map=…)``) gives the same frame as carrying every bound column;
prefix globs bind like their regular expression.

Hand-computed on a small log, and compared on hypothesis-generated logs (ties, unbound
events, single-event paths) on DuckDB and Polars.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import narwhals as nw
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.analytics.conftest import Make, builder

from journeylens.analytics import AnalyticsError, bind, sort_paths
from journeylens.analytics.binding import STAGE_ID, STEP_ID
from journeylens.engine.frames import engine_of
from journeylens.model import JourneyMap

T0 = datetime(2024, 3, 1)

MAP = JourneyMap.model_validate(
    {
        "id": "shop",
        "title": "Shop",
        "stages": [
            {
                "id": "look",
                "name": "Look",
                "steps": [
                    {
                        "id": "browse",
                        "name": "Browse",
                        "touchpoints": [
                            {
                                "id": "site",
                                "name": "Site",
                                "channel": "web",
                                "match": [{"event": ["view", "prod_*"]}],
                            }
                        ],
                    }
                ],
            },
            {
                "id": "buy",
                "name": "Buy",
                "steps": [
                    {
                        "id": "pay",
                        "name": "Pay",
                        "touchpoints": [
                            {"id": "card", "name": "Card", "channel": "web", "match": [{"event": "pay"}]},
                            {"id": "cash", "name": "Cash", "channel": "web", "match": [{"event": "cash"}]},
                        ],
                    },
                    {
                        "id": "confirm",
                        "name": "Confirm",
                        "touchpoints": [
                            {"id": "mail", "name": "Mail", "channel": "email", "match": [{"event": "ok"}]}
                        ],
                    },
                ],
            },
        ],
    }
)  # fmt: skip


def _events(make: Make, rows: list[tuple[str, int, int, str]]) -> nw.LazyFrame[Any]:
    """Events from rows of (customer, minute, seq, event name)."""
    return make(
        {
            "customer_id": [r[0] for r in rows],
            "event_name": [r[3] for r in rows],
            "occurred_at": [T0 + timedelta(minutes=r[1]) for r in rows],
            "seq": [r[2] for r in rows],
        }
    )


COLUMNS = (
    "unit_id", "pos", "label", "touchpoint_id", "step_id", "stage_id", "stage_index",
    "step_index", "touchpoint_index", "prev_stage_id", "prev_step_id", "next_label", "gap_s",
)  # fmt: skip


def _rows(p: Any) -> list[tuple[Any, ...]]:
    return sorted(p.frame.select(*COLUMNS).collect().rows(), key=lambda r: (r[0], r[1]))


HAND = [
    ("a", 0, 1, "view"), ("a", 1, 2, "other"), ("a", 2, 3, "cash"), ("a", 3, 4, "prod_x\ny"),
    ("b", 0, 6, "ok"), ("b", 0, 5, "pay"),
]  # fmt: skip


def test_slim_sort_hand_computed(make: Make) -> None:
    p = sort_paths(bind(_events(make, HAND), MAP), previous=(STAGE_ID, STEP_ID), journey_map=MAP)
    assert _rows(p) == [
        ("a", 1, "view", "site", "browse", "look", 1, 1, 0, None, None, "other", 60.0),
        ("a", 2, "other", None, None, None, None, None, None, "look", "browse", "cash", 60.0),
        ("a", 3, "cash", "cash", "pay", "buy", 2, 2, 2, "look", "browse", "prod_x\ny", 60.0),
        # a prefix glob matches across a line break, as its regex (?s:prod_.*) does
        ("a", 4, "prod_x\ny", "site", "browse", "look", 1, 1, 0, "buy", "pay", None, None),
        # a tie at minute 0 decided by seq: pay (5) before ok (6)
        ("b", 1, "pay", "card", "pay", "buy", 2, 2, 1, None, None, "ok", 0.0),
        ("b", 2, "ok", "mail", "confirm", "buy", 2, 3, 3, "buy", "pay", None, None),
    ]


def test_flows_read_off_the_ordered_path_frame(make: Make) -> None:
    """Flows renumber the stored path frame by stage / step (without sorting it again where
    its rows are stored in order: Polars only): a: look, buy, look; b: buy, buy."""
    from journeylens.analytics import flows

    p = sort_paths(bind(_events(make, HAND), MAP), previous=(STAGE_ID, STEP_ID), journey_map=MAP)
    assert p.ordered == (engine_of(p.frame) == "polars")
    stages = [(x.source, x.target, x.value, x.units) for x in flows(p).links]
    assert stages == [("buy", "look", 1, 1), ("look", "buy", 1, 1)]
    steps = [(x.source, x.target, x.value) for x in flows(p, level="step").links]
    assert steps == [("browse", "pay", 1), ("pay", "browse", 1), ("pay", "confirm", 1)]
    assert [(n.id, n.visits, n.units) for n in flows(p).nodes] == [("look", 2, 1), ("buy", 2, 2)]


def test_slim_sort_keeps_the_columns_and_their_order(make: Make) -> None:
    bound = bind(_events(make, HAND), MAP)
    carried = sort_paths(bound, previous=(STAGE_ID, STEP_ID))
    slim = sort_paths(bound, previous=(STAGE_ID, STEP_ID), journey_map=MAP)
    # the same columns in the same order, plus the previous bound touchpoint index
    schema = dict(carried.frame.collect_schema())
    assert dict(slim.frame.collect_schema()) == {
        **schema,
        "prev_touchpoint_index": schema["touchpoint_index"],
    }
    assert list(slim.frame.collect_schema()) == [*schema, "prev_touchpoint_index"]
    assert slim.journey_map is MAP
    assert carried.journey_map is None
    prev = sorted(slim.frame.select("unit_id", "pos", "prev_touchpoint_index").collect().rows())
    assert prev == [
        ("a", 1, None),
        ("a", 2, 0),
        ("a", 3, 0),
        ("a", 4, 2),
        ("b", 1, None),
        ("b", 2, 1),
    ]


def test_slim_sort_by_a_bound_label(make: Make) -> None:
    """A bound column used as the label is carried (its next value is read in the sort)."""
    bound = bind(_events(make, HAND), MAP)
    slim = sort_paths(bound, label=STAGE_ID, previous=(STAGE_ID, STEP_ID), journey_map=MAP)
    rows = sorted(slim.frame.select("unit_id", "pos", "label", "next_label").collect().rows())
    assert rows == [
        ("a", 1, "look", "buy"),
        ("a", 2, "buy", "look"),
        ("a", 3, "look", None),
        ("b", 1, "buy", "buy"),
        ("b", 2, "buy", None),
    ]


row = st.tuples(
    st.sampled_from(["u1", "u2", "ü3"]),
    st.integers(0, 5),
    st.sampled_from(["view", "prod_a", "pay", "cash", "ok", "other", "xprod_"]),
)


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(rows=st.lists(row, min_size=1, max_size=14))
def test_slim_sort_equals_carrying_every_bound_column(
    make: Make, rows: list[tuple[str, int, str]]
) -> None:
    bound = bind(_events(make, [(u, m, i, e) for i, (u, m, e) in enumerate(rows)]), MAP)
    carried = sort_paths(bound, previous=(STAGE_ID, STEP_ID))
    slim = sort_paths(bound, previous=(STAGE_ID, STEP_ID), journey_map=MAP)
    assert _rows(slim) == _rows(carried)


def test_partitioned_window_on_many_chunks_equals_polars() -> None:
    """DuckDB's path frame (one partitioned window, two threads) over 60k events — many
    vectors, row groups and hash partitions — equals Polars' (sorted, then windows over the
    stored order), and so do the sessions read off them."""
    import duckdb
    import polars as pl

    from journeylens.analytics import sessions

    n = 60_000
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET threads = 2")
    # ~300 customers, minute-resolution times (many ties, broken by seq), some unbound
    con.execute(
        """CREATE TABLE ev AS SELECT
            'c' || (hash(i, 1) % 300)::VARCHAR AS customer_id,
            TIMESTAMP '2024-01-01' + to_minutes(CAST(hash(i, 2) % 5000 AS BIGINT)) AS occurred_at,
            i AS seq,
            ['view', 'prod_a', 'pay', 'cash', 'ok', 'other'][CAST(1 + hash(i, 3) % 6 AS BIGINT)] AS event_name
        FROM range($n) t(i)""",
        {"n": n},
    )
    duck = nw.from_native(con.table("ev"))
    polars = nw.from_native(pl.from_arrow(con.table("ev").to_arrow_table()).lazy())  # type: ignore[union-attr]
    d = sort_paths(bind(duck, MAP), previous=(STAGE_ID, STEP_ID), journey_map=MAP)
    p = sort_paths(bind(polars, MAP), previous=(STAGE_ID, STEP_ID), journey_map=MAP)
    assert not d.ordered
    assert p.ordered
    assert _rows(d) == _rows(p)
    assert len(_rows(d)) == n
    assert sessions(d, timeout="45m").to_dict() == sessions(p, timeout="45m").to_dict()


def test_keeping_only_some_columns_gives_the_same_path_frame(make: Make) -> None:
    """``columns=`` keeps the path frame's own columns and the asked ones: the same rows as
    carrying everything; an unknown column is an error naming the columns there are."""
    bound = bind(_events(make, HAND), MAP)
    full = sort_paths(bound, previous=(STAGE_ID, STEP_ID), journey_map=MAP)
    slim = sort_paths(bound, previous=(STAGE_ID, STEP_ID), journey_map=MAP, columns=[])
    assert _rows(slim) == _rows(full)
    assert "event_name" in slim.frame.collect_schema().names()  # the label is always kept
    with pytest.raises(AnalyticsError, match=r"no column.*nope.*the columns are"):
        sort_paths(bound, journey_map=MAP, columns=["nope"])


@pytest.mark.slow
def test_slim_sort_and_flows_on_spark(request: pytest.FixtureRequest) -> None:
    """Spark: the slim sort equals carrying every bound column (Spark keeps no row order,
    so its path frame is never marked ordered and flows sort again)."""
    import pyarrow as pa

    from journeylens.analytics import flows

    build = builder("spark", request)

    def make_spark(columns: Mapping[str, Sequence[Any]]) -> nw.LazyFrame[Any]:
        return build(pa.table({k: list(v) for k, v in columns.items()}))

    bound = bind(_events(make_spark, HAND), MAP)
    slim = sort_paths(bound, previous=(STAGE_ID, STEP_ID), journey_map=MAP)
    assert not slim.ordered
    assert _rows(slim) == _rows(sort_paths(bound, previous=(STAGE_ID, STEP_ID)))
    links = [(x.source, x.target, x.value) for x in flows(slim).links]
    assert links == [("buy", "look", 1), ("look", "buy", 1)]


def test_index_lookups_native(make: Make) -> None:
    """Constant-time lookups by index (DuckDB list_extract, Polars replace_strict): null for
    a null or out-of-range index; values are data, never SQL (a quote is kept)."""
    from journeylens.engine.frames import with_index_lookups

    lf = make({"i": [0, 2, None, 1, 5], "k": [1, 2, 3, 4, 5]})
    out = with_index_lookups(
        lf,
        "i",
        {"x": (["a", "o'b", "c"], nw.String), "n": ([10, 20, 30], nw.Int64), "e": ([], nw.String)},
    )
    rows = sorted(out.select("k", "x", "n", "e").collect().rows())
    assert rows == [
        (1, "a", 10, None),
        (2, "c", 30, None),
        (3, None, None, None),
        (4, "o'b", 20, None),
        (5, None, None, None),
    ]
