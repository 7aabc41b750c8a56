"""Shared vocabulary of the analytics: units, the sorted path frame, result helpers.

**Sort once, reuse the order.** :func:`sort_paths` sorts the events of each unit by
``(occurred_at, seq)`` a single time. On DuckDB (up to :data:`ARRAYS_MAX_ROWS` events) the
sorted rows come back as numpy arrays in path order (:class:`Paths` ``.arrays``, see
:mod:`journeylens.analytics._arrays`), which the order-dependent analytics read with linear
passes. Otherwise — and as ``Paths.frame`` everywhere — it is the path frame: per event its
1-based position ``pos``, the next event's label ``next_label``, the gap to it ``gap_s``
and the gap since the previous event ``prev_gap_s``, all window functions over ONE
partition and order, which the engine evaluates with a single sort (the last event of a
path is the one whose ``next_label`` is null, so no path-length window is needed), cached
in the engine (:func:`journeylens.engine.frames.cache`), so the analytics are plain
filters, joins and group-bys over it: no analytic sorts again. Pass a :class:`Paths` to
several analytics to share the work; passing raw events builds one on the fly.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal

import narwhals as nw
import numpy as np
import pyarrow as pa

from journeylens.engine.frames import (
    CUSTOMER,
    EVENT,
    SEQ,
    SESSION,
    TIME,
    TIME_US,
    cache,
    engine_of,
    ordered_window,
    to_lazy,
    with_epoch_us,
    with_index_lookups,
)
from journeylens.model import JourneyMap

if TYPE_CHECKING:
    from journeylens.analytics._arrays import PathArrays

#: The unit a path belongs to: a stitched customer (default) or one session.
Unit = Literal["customer", "session"]
UNIT_COLUMNS: dict[str, str] = {"customer": CUSTOMER, "session": SESSION}

#: Column names of the path frame.
UNIT_ID, POS, LABEL, NEXT_LABEL, GAP_S = (
    "unit_id",
    "pos",
    "label",
    "next_label",
    "gap_s",
)
#: Seconds since the previous event of the path (null on the first event).
PREV_GAP_S = "prev_gap_s"
#: Prefix of the columns ``sort_paths(previous=…)`` adds (``stage_id`` → ``prev_stage_id``).
PREV_PREFIX = "prev_"
#: Column of a path frame sorted with ``journey_map=`` and ``previous`` bound columns: the
#: ``touchpoint_index`` of the last bound event before this one (null when none).
PREV_TOUCHPOINT_INDEX = "prev_touchpoint_index"
#: Synthetic markers of transitions and the step matrix.
PATH_START, PATH_END = "path_start", "path_end"


class AnalyticsError(ValueError):
    """An analytic cannot run on this input (names the column or parameter at fault)."""


def as_events(source: Any) -> nw.LazyFrame[Any]:
    """Any event source (see :func:`~journeylens.engine.frames.to_lazy`) as a lazy frame."""
    if isinstance(source, nw.LazyFrame):
        return source
    return to_lazy(source)


def with_unit(lf: nw.LazyFrame[Any], unit: Unit) -> nw.LazyFrame[Any]:
    """Add ``unit_id``: the customer id or the session id; events without one are dropped.

    Events with no unit cannot belong to a path, so they are left out of every analytic.
    """
    if unit not in UNIT_COLUMNS:
        raise AnalyticsError(f"unit must be 'customer' or 'session', got {unit!r}")
    column = UNIT_COLUMNS[unit]
    names = lf.collect_schema().names()
    if column not in names:
        hint = " (compute sessions with journeylens.analytics.sessions.sessionize)"
        raise AnalyticsError(
            f"unit '{unit}' needs a column '{column}'"
            + (hint if unit == "session" else "")
            + f"; the columns are: {', '.join(names)}"
        )
    if UNIT_ID in names and column != UNIT_ID:
        lf = lf.drop(UNIT_ID)
    return lf.with_columns(nw.col(column).cast(nw.String).alias(UNIT_ID)).filter(
        ~nw.col(UNIT_ID).is_null()
    )


@dataclass(frozen=True, eq=False)
class Paths:
    """Events sorted once per unit: the shared input of the path analytics.

    ``frame`` has ``unit_id``, ``label`` (the column the analytics count: an event name, a
    touchpoint, a step or a stage), ``occurred_at``, ``seq``, ``t_us`` (epoch µs), ``pos`` (1-based position in
    the path), ``next_label`` and ``gap_s`` (seconds to the next event; both
    null on the last event), ``prev_gap_s`` (seconds since the previous event) plus every
    original column.

    ``source`` is that frame, or a function that builds it: a path frame sorted into
    ``arrays`` is made a frame only when an analytic reads ``frame`` (most read the arrays).
    """

    source: nw.LazyFrame[Any] | Callable[[], nw.LazyFrame[Any]]
    unit: Unit
    label: str
    #: The frame's rows are stored in ``(unit_id, pos)`` order and read back in it (a
    #: collected Polars frame): order-dependent work on its filtered rows needs no sort
    #: (``ordered_window(..., presorted=True)``). False on DuckDB and Spark.
    ordered: bool = False
    #: The map whose bound columns the frame looks up from ``touchpoint_index`` (and
    #: ``prev_touchpoint_index``): set by ``sort_paths(..., journey_map=…)``, else None.
    journey_map: JourneyMap | None = None
    #: The same rows as sorted numpy arrays (:class:`~journeylens.analytics._arrays.PathArrays`)
    #: when the engine handed them over (DuckDB, frames that fit in memory): the
    #: order-dependent analytics then read these instead of the frame. None elsewhere.
    arrays: PathArrays | None = None
    #: With ``arrays``: the events they were sorted from (one row per event, the frame's
    #: unit and kept columns): what an analytic that reads the arrays builds its own small
    #: frames next to (on the same engine and connection). None without arrays.
    events: nw.LazyFrame[Any] | None = None

    @cached_property
    def frame(self) -> nw.LazyFrame[Any]:
        """The path frame (built from ``source`` on first use, then kept)."""
        return self.source if isinstance(self.source, nw.LazyFrame) else self.source()


def sort_paths(
    events: Any,
    *,
    unit: Unit = "customer",
    label: str = EVENT,
    keep_unlabelled: bool = False,
    materialise: bool = True,
    previous: Sequence[str] = (),
    journey_map: JourneyMap | None = None,
    presorted: bool = False,
    columns: Sequence[str] | None = None,
) -> Paths:
    """Sort the events of each unit by ``(occurred_at, seq)`` once and number them.

    ``label`` names the column whose value is "the event" for the analytics (default
    ``event_name``; after binding, ``touchpoint_id``, ``step_id`` or ``stage_id``). Events
    with a null label are left out unless ``keep_unlabelled``. Ties in ``occurred_at`` keep
    ``seq`` order, so the order is deterministic on every engine.

    On DuckDB — a stored (``materialise``) frame, not ``presorted``, a text label,
    timestamp times, ``previous`` only bound columns of ``journey_map``, up to
    :data:`ARRAYS_MAX_ROWS` events and about :data:`ARRAYS_MAX_BYTES` in memory — the sort
    hands its rows over as numpy arrays (``Paths.arrays``; the frame is built from them
    when first read); otherwise the engine numbers the rows with one window.

    ``previous`` names columns whose last non-null value *before* each event (in the same
    path) is added as ``prev_<column>`` by the same sort — planned vs actual passes
    ``("stage_id", "step_id")`` to read the collapsed stage and step sequences off the path
    frame (see :func:`~journeylens.analytics.conformance.conformance`).

    ``journey_map``: the map ``events`` were bound to (:func:`~journeylens.analytics.binding.bind`).
    Then the sort carries only the small ``touchpoint_index`` instead of the bound text
    columns, which are looked up again from it on reading (also ``prev_stage_id`` /
    ``prev_step_id``): the same frame for less sorting work.

    ``presorted``: the rows of ``events`` already come in ``(unit, occurred_at, seq)``
    order — the frame of an ordered :class:`Paths` of the same unit, only filtered or
    projected (``Paths.ordered``) — so the numbering needs no sort (Polars).

    ``columns``: the other columns of ``events`` the frame keeps (None: all of them;
    ignored when ``events`` is a :class:`Paths` already, which is returned as it is).
    The ones the path frame is made of are always kept — the unit's column, the label,
    ``occurred_at``, ``seq``, the ``previous`` columns and, with ``journey_map``, the
    bound columns. Every kept column is moved by the sort, so naming only the columns the
    analytics will read makes the one sort cheaper (wide text columns such as
    ``properties`` cost the most); with the arrays, the named text columns travel as codes
    (dictionary arrays in ``Paths.arrays.payload``).

    >>> import polars as pl
    >>> from datetime import datetime
    >>> ev = pl.DataFrame({"customer_id": ["c", "c"], "event_name": ["a", "b"],
    ...                    "occurred_at": [datetime(2024, 1, 1)] * 2, "seq": [2, 1]})
    >>> p = sort_paths(ev)
    >>> p.frame.sort(POS).select(LABEL, POS, NEXT_LABEL).collect().rows()
    [('b', 1, 'a'), ('a', 2, None)]
    """
    if isinstance(events, Paths):
        return events
    lf = with_unit(as_events(events), unit)
    if columns is not None:
        lf = lf.select(_kept_columns(lf, unit, label, previous, journey_map, columns))
    schema = lf.collect_schema()
    names = schema.names()
    if label not in names:
        raise AnalyticsError(
            f"no column '{label}' to label events; the columns are: {', '.join(names)}"
        )
    if SEQ not in names:
        raise AnalyticsError(f"no column '{SEQ}' (ingestion order) to break time ties")
    missing = [c for c in previous if c not in names]
    if missing:
        raise AnalyticsError(
            f"no column(s) {', '.join(missing)} to carry forward; the columns are: {', '.join(names)}"
        )
    # What comes back after the sort instead of being carried through it: the label when
    # it is a text column already and the customer id of a customer unit (aliases), the
    # epoch time (from occurred_at), and with journey_map the binding (lookups).
    text_label = schema[label] == nw.String and label != LABEL
    alias_customer = (
        unit == "customer" and schema[CUSTOMER] == nw.String and label != CUSTOMER != UNIT_ID
    )
    base = [*names, *([] if LABEL in names else [LABEL]), *([] if TIME_US in names else [TIME_US])]
    outputs = [POS, NEXT_LABEL, *[PREV_PREFIX + c for c in previous], GAP_S, PREV_GAP_S]
    order = [c for c in base if c not in (*outputs, PREV_TOUCHPOINT_INDEX)] + outputs
    if PREV_TOUCHPOINT_INDEX in names:  # a stale one, of an earlier sort
        lf = lf.drop(PREV_TOUCHPOINT_INDEX)
    derived: dict[str, nw.Expr] = {}
    if text_label:
        derived[LABEL] = nw.col(label)
    else:
        lf = lf.with_columns(nw.col(label).cast(nw.String).alias(LABEL))
    if alias_customer:
        derived[CUSTOMER] = nw.col(UNIT_ID)
    last_before = {PREV_PREFIX + c: c for c in previous}
    looked_up: JourneyMap | None = None
    tables: dict[str, dict[str, tuple[Sequence[Any], Any]]] = {}
    if journey_map is not None:
        tables, last_before = _bound_lookups(names, label, previous, journey_map)
        looked_up = journey_map if tables else None
        if PREV_TOUCHPOINT_INDEX in last_before:
            order.append(PREV_TOUCHPOINT_INDEX)
    dropped = [*derived, *[c for t in tables.values() for c in t]]
    lf = lf.drop(*[c for c in dropped if c in lf.collect_schema().names()])
    label_col = label if text_label else LABEL
    if not keep_unlabelled:
        lf = lf.filter(~nw.col(label_col).is_null())

    def finish(lf: nw.LazyFrame[Any]) -> nw.LazyFrame[Any]:
        """The numbered rows with what comes back after the sort (see above)."""
        lf = with_epoch_us(lf)  # t_us, unless the events carried it already
        if derived:
            lf = lf.with_columns(*[e.alias(n) for n, e in derived.items()])
        for index, lookups in tables.items():
            lf = with_index_lookups(lf, index, lookups)
        return lf.select(order)

    arrays: PathArrays | None = None
    source: nw.LazyFrame[Any] | Callable[[], nw.LazyFrame[Any]]
    if materialise and not presorted and set(last_before) <= {PREV_TOUCHPOINT_INDEX}:
        arrays = _sorted_arrays(lf, label_col, coded=columns or ())
    if arrays is not None:
        rows_of_arrays = _arrays_frame(lf, label_col, arrays, PREV_TOUCHPOINT_INDEX in last_before)
        source = lambda: finish(rows_of_arrays())  # noqa: E731 (built on first read)
    else:
        source = finish(
            _window_frame(lf, label_col, last_before, presorted=presorted, materialise=materialise)
        )
    # Only a collected Polars frame is stored in (unit, pos) order; DuckDB's partitioned
    # window groups rows by partition without sorting them, Spark keeps no order.
    ordered = materialise and engine_of(lf) == "polars"
    return Paths(
        source=source,
        unit=unit,
        label=label,
        ordered=ordered,
        journey_map=looked_up,
        arrays=arrays,
        events=lf if arrays is not None else None,
    )


#: Up to this many events a DuckDB path frame is sorted once into numpy arrays
#: (:mod:`journeylens.analytics._arrays`; about 80 bytes per event in memory); beyond, the
#: partitioned window keeps the frame in the engine, which spills to disk (100M events).
#: Also the bound that keeps the arrays' int32 row and unit numbers exact (< 2^31).
ARRAYS_MAX_ROWS = 30_000_000
#: And up to about this many bytes held in memory: the ~80 bytes per event plus the text
#: of the kept text columns that do not travel as codes (``sort_paths(columns=None)``
#: keeps every column, e.g. the JSON ``properties``): a wider frame stays in the engine.
ARRAYS_MAX_BYTES = 3_000_000_000
#: The bytes held per event besides the kept texts (arrays, derived arrays, Arrow).
_BYTES_PER_EVENT = 80


def _sorted_arrays(
    lf: nw.LazyFrame[Any], label_col: str, *, coded: Sequence[str] = ()
) -> PathArrays | None:
    """The rows of ``lf`` sorted once by (unit, ``occurred_at``, ``seq``) as
    :class:`PathArrays` (:func:`~journeylens.engine.sorted.sort_to_arrays`: a sort by integer
    keys). The text columns among ``coded`` (the columns a caller asked the frame to keep,
    read as features) travel as codes and are kept as dictionary arrays. None when this
    does not apply — not DuckDB, a label that is not text, times that are not timestamps
    (or null), more than :data:`ARRAYS_MAX_ROWS` rows or about :data:`ARRAYS_MAX_BYTES` in
    memory, an engine error (e.g. Python replacement scans switched off) — and the caller
    numbers the rows with the engine's window instead."""
    from journeylens.analytics._arrays import PathArrays
    from journeylens.analytics.binding import TOUCHPOINT_INDEX
    from journeylens.engine.sorted import epoch_us, rows_and_text_bytes, sort_to_arrays

    if engine_of(lf) != "duckdb":
        return None
    schema = lf.collect_schema()
    time_type = schema[TIME]
    if schema[label_col] != nw.String or not isinstance(time_type, nw.Datetime):
        return None
    names = schema.names()
    ints = [TOUCHPOINT_INDEX] if schema.get(TOUCHPOINT_INDEX) == nw.Int64 else []
    codes = [c for c in coded if c in names and schema[c] == nw.String]
    texts = [
        c for c in names if schema[c] == nw.String and c not in (UNIT_ID, label_col, *ints, *codes)
    ]
    rows, text_bytes = rows_and_text_bytes(lf, texts)
    if rows > ARRAYS_MAX_ROWS or rows * _BYTES_PER_EVENT + text_bytes > ARRAYS_MAX_BYTES:
        return None
    # A microsecond timestamp travels through the sort as its epoch µs (the frame's
    # timestamp column is then a view of those integers); another time type as it is.
    as_epoch = isinstance(time_type, nw.Datetime) and time_type.time_unit == "us"
    payload = [c for c in names if c not in (UNIT_ID, label_col, *ints)]
    if as_epoch:
        payload.remove(TIME)
    s = sort_to_arrays(
        lf,
        UNIT_ID,
        [TIME, SEQ],
        label=label_col,
        ints=ints,
        payload=payload,
        codes=codes,
        epoch=TIME if as_epoch else None,
    )
    if s is None:  # the engine could not hand its rows over: its window needs less
        return None
    t_us = s.t_us if as_epoch else epoch_us(s.payload[TIME])
    if t_us is None:
        return None
    kept = dict(s.payload)
    if as_epoch:
        assert isinstance(time_type, nw.Datetime)
        arrow_type = pa.timestamp("us", tz=time_type.time_zone)
        kept[TIME] = pa.Array.from_buffers(arrow_type, len(t_us), [None, pa.py_buffer(t_us)])
    return PathArrays(
        starts=s.starts,
        unit_ids=s.units,
        t_us=t_us,
        label=s.label,
        labels=s.label_values,
        touchpoint_index=s.ints.get(TOUCHPOINT_INDEX),
        payload=kept,
    )


def _arrays_frame(
    lf: nw.LazyFrame[Any], label_col: str, a: PathArrays, with_previous: bool
) -> Callable[[], nw.LazyFrame[Any]]:
    """A function building the path frame of ``lf`` from its sorted arrays: its columns
    plus ``pos``, ``next_label``, ``gap_s``, ``prev_gap_s``, ``t_us`` and, ``with_previous``,
    ``prev_touchpoint_index`` — the window's outputs, read off the arrays by shifting them —
    stored in the engine."""
    from journeylens.analytics._arrays import NONE
    from journeylens.analytics.binding import TOUCHPOINT_INDEX
    from journeylens.engine.sorted import arrow_relation, dictionary, masked

    names = lf.collect_schema().names()

    def build() -> nw.LazyFrame[Any]:
        label_values = pa.array(a.labels, pa.string())
        columns: dict[str, Any] = {}
        for c in names:
            if c == UNIT_ID:
                columns[c] = dictionary(a.unit_of_row.astype(np.int32), a.unit_ids)
            elif c == label_col:
                columns[c] = dictionary(a.label, label_values)
            elif c == TOUCHPOINT_INDEX and a.touchpoint_index is not None:
                tp = a.touchpoint_index
                columns[c] = masked(tp.astype(np.int64), tp == NONE)
            else:
                columns[c] = a.payload[c]
        columns[POS] = a.pos
        columns[NEXT_LABEL] = dictionary(a.next_label, label_values)
        prev = a.prev_touchpoint_index
        if with_previous and prev is not None:
            columns[PREV_TOUCHPOINT_INDEX] = masked(prev.astype(np.int64), prev == NONE)
        columns[GAP_S] = masked(a.gap_s, a.is_last)
        before = np.empty(a.rows, dtype=np.float64)
        before[1:] = a.gap_s[:-1]
        columns[PREV_GAP_S] = masked(before, a.is_first)
        columns.setdefault(TIME_US, a.t_us)
        # Stored in the engine (a TEMP table): the analytics that read the frame query it
        # many times, and DuckDB reads its own columns faster than Arrow's dictionaries.
        return cache(arrow_relation(lf, pa.table(columns)))

    return build


def _window_frame(
    lf: nw.LazyFrame[Any],
    label_col: str,
    last_before: dict[str, str],
    *,
    presorted: bool,
    materialise: bool,
) -> nw.LazyFrame[Any]:
    """The path frame's window outputs on the engine: one partitioned window (one sort)
    numbers the rows and reads each one's neighbours; stored when ``materialise``."""
    # One window pass: position, next label and both neighbours' times share one sort.
    lf = ordered_window(
        lf,
        UNIT_ID,
        [TIME, SEQ],
        row_number=POS,
        lead={NEXT_LABEL: label_col, "_next_t": TIME},
        lag={"_prev_t": TIME},
        last_before=last_before,
        presorted=presorted,
    )
    lf = with_epoch_us(with_epoch_us(lf, "_next_t", "_next_us"), "_prev_t", "_prev_us")
    lf = with_epoch_us(lf, TIME, "_t_us")
    lf = lf.with_columns(
        ((nw.col("_next_us") - nw.col("_t_us")).cast(nw.Float64) / 1e6).alias(GAP_S),
        ((nw.col("_t_us") - nw.col("_prev_us")).cast(nw.Float64) / 1e6).alias(PREV_GAP_S),
    ).drop("_next_t", "_prev_t", "_next_us", "_prev_us", "_t_us")
    return cache(lf) if materialise else lf


def _kept_columns(
    lf: nw.LazyFrame[Any],
    unit: Unit,
    label: str,
    previous: Sequence[str],
    journey_map: JourneyMap | None,
    columns: Sequence[str],
) -> list[str]:
    """The columns :func:`sort_paths` keeps for ``columns=…``: the path frame's own ones
    and the asked ones (unknown names are an error naming the columns there are)."""
    names = lf.collect_schema().names()
    unknown = [c for c in columns if c not in names]
    if unknown:
        raise AnalyticsError(
            f"no column(s) {', '.join(unknown)} to keep; the columns are: {', '.join(names)}"
        )
    own = [UNIT_ID, UNIT_COLUMNS[unit], CUSTOMER, label, TIME, SEQ, TIME_US, *previous]
    if journey_map is not None:
        from journeylens.analytics.binding import TOUCHPOINT_INDEX, bound_values

        own += [TOUCHPOINT_INDEX, *bound_values(journey_map)]
    wanted = {*own, *columns}
    return [c for c in names if c in wanted]


def _bound_lookups(
    names: Sequence[str], label: str, previous: Sequence[str], journey_map: JourneyMap
) -> tuple[dict[str, dict[str, tuple[Sequence[Any], Any]]], dict[str, str]]:
    """Which bound columns :func:`sort_paths` looks up after the sort instead of carrying
    (per index column: ``{out: (values, dtype)}`` for
    :func:`~journeylens.engine.frames.with_index_lookups`), and the ``last_before``
    columns of its window.

    The bound columns are functions of ``touchpoint_index`` (one small integer), and so are
    the previous bound stage and step of the touchpoint index of the last bound event: the
    sort carries that index (and the label, whatever it is) and nothing else of the binding.
    """
    # Imported here: binding builds on this module (unit, events), not the other way round.
    from journeylens.analytics.binding import TOUCHPOINT_INDEX, bound_values

    last_before = {PREV_PREFIX + c: c for c in previous}
    if TOUCHPOINT_INDEX not in names:
        return {}, last_before
    values = bound_values(journey_map)
    slim = {c: v for c, v in values.items() if c in names and c != label}
    tables = {TOUCHPOINT_INDEX: slim}
    carried = [c for c in previous if c in slim]
    if carried:
        tables[PREV_TOUCHPOINT_INDEX] = {PREV_PREFIX + c: values[c] for c in carried}
        last_before = {PREV_PREFIX + c: c for c in previous if c not in carried}
        last_before[PREV_TOUCHPOINT_INDEX] = TOUCHPOINT_INDEX
    return tables, last_before


def ratio(num: float, den: float) -> float | None:
    """``num / den``, or None when the denominator is 0 (an empty population has no rate)."""
    return None if den == 0 else num / den


def clean_float(value: Any) -> float | None:
    """A float, or None for null / NaN (engines disagree on the empty median)."""
    if value is None:
        return None
    out = float(value)
    return None if math.isnan(out) else out


def table(rows: Sequence[Mapping[str, Any]], schema: Mapping[str, pa.DataType]) -> pa.Table:
    """Rows as a pyarrow table with a fixed schema (also when there are no rows)."""
    return pa.Table.from_pylist(list(rows), schema=pa.schema(list(schema.items())))


def collect_rows(lf: nw.LazyFrame[Any]) -> list[dict[str, Any]]:
    """Collect a small aggregate frame into Python rows (the only place results leave the engine)."""
    return list(lf.collect().iter_rows(named=True))


def quantile_exprs(column: str, prefix: str) -> list[nw.Expr]:
    """Median and p90 (linear interpolation, as numpy's default) of a column, for ``agg``."""
    return [
        nw.col(column).median().alias(f"{prefix}median"),
        nw.col(column).quantile(0.9, interpolation="linear").alias(f"{prefix}p90"),
    ]


#: The quantiles the summaries report, as (name, tenths): numerators of q = tenths / 10
#: keep the rank arithmetic in integers (no 0.9 · (n − 1) landing a hair under a rank).
QUANTILES = (("median", 5), ("p90", 9))


def quantile_position(total: int, tenths: int) -> tuple[int, float]:
    """0-based lower rank and interpolation weight of quantile ``tenths / 10`` of ``total``
    sorted values (linear interpolation, as numpy's default: position (total − 1)·q).

    >>> quantile_position(5, 9)  # position 3.6
    (3, 0.6)
    """
    scaled = (total - 1) * tenths
    return scaled // 10, (scaled % 10) / 10.0


#: Buckets per unit of the fourth root of |value| in :func:`grouped_quantiles` (a gap of
#: 90 days in seconds falls in bucket ~3,400): fine enough that a bucket holds a small
#: share of a group's values, coarse enough that the counts per bucket stay few.
_BUCKETS_PER_ROOT = 64


def grouped_quantiles(
    lf: nw.LazyFrame[Any], keys: Sequence[str], column: str
) -> dict[tuple[Any, ...], tuple[float | None, float | None]]:
    """Exact median and p90 (linear interpolation, as numpy's default) of ``column`` per
    group of ``keys`` (nulls ignored), without holding a group's values in memory:
    ``{key values: (median, p90)}`` for the groups with at least one value.

    Selection in two cheap passes instead of a sort of every value: (1) one group-by
    counts the values per group and *bucket* — a monotone function of the value (the
    fourth root of its magnitude, signed), so the buckets keep the values' order — with
    each bucket's min and max; from the cumulative counts, each rank a quantile needs
    (``(n − 1)·q`` and the next one) is located in one bucket. (2) A rank that is a
    bucket's first or last, or falls in a bucket of equal values, is that bucket's min or
    max; only the other buckets' values are ranked (a window over those few rows) and the
    needed ranks read. Same numbers as the aggregates (to the last bits of rounding: the
    interpolation weight is exact here), at 100M events in about two scans. The values
    must be finite (a NaN or an infinite value has no bucket and raises).

    >>> import polars as pl
    >>> lf = nw.from_native(pl.LazyFrame({"k": ["a"] * 4 + ["b"], "v": [1.0, 2.0, 4.0, 10.0, 7.0]}))
    >>> grouped_quantiles(lf, ["k"], "v") == {("a",): (3.0, 8.2), ("b",): (7.0, 7.0)}
    True
    """
    value = nw.col(column).cast(nw.Float64)
    magnitude = (value.abs().sqrt().sqrt() * _BUCKETS_PER_ROOT).cast(nw.Int64)
    # Casting rounds or truncates by engine; either way the bucket never decreases as the
    # value grows, which is all the selection needs.
    bucket = nw.when(value < 0).then(-magnitude).otherwise(magnitude)
    values = lf.filter(~nw.col(column).is_null()).select(
        *keys, value.alias("_v"), bucket.alias("_b")
    )
    per_bucket = collect_rows(
        values.group_by(*keys, "_b").agg(
            nw.len().alias("_n"), nw.col("_v").min().alias("_lo"), nw.col("_v").max().alias("_hi")
        )
    )
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for row in per_bucket:
        groups.setdefault(tuple(row[k] for k in keys), []).append(row)
    # Per group and quantile: the two ranks around (n − 1)·q, the weight of the upper one.
    picks: dict[tuple[Any, ...], list[tuple[int, int, float]]] = {}
    found: dict[tuple[tuple[Any, ...], int], float] = {}  # (group, rank) → value
    # (group, bucket) → (rank in the bucket, rank in the group) of the values to rank
    wanted: dict[tuple[tuple[Any, ...], int], list[tuple[int, int]]] = {}
    for key, rows in groups.items():
        rows.sort(key=lambda r: int(r["_b"]))
        n = sum(int(r["_n"]) for r in rows)
        picks[key] = []
        for _, tenths in QUANTILES:
            lo, frac = quantile_position(n, tenths)
            picks[key].append((lo, min(lo + 1, n - 1), frac))
        ranks = sorted({r for lo, hi, _ in picks[key] for r in (lo, hi)})
        before = 0
        for r_row in rows:
            count = int(r_row["_n"])
            for rank in ranks:
                if before <= rank < before + count:
                    k = rank - before
                    if k == 0 or r_row["_lo"] == r_row["_hi"]:
                        found[(key, rank)] = float(r_row["_lo"])
                    elif k == count - 1:
                        found[(key, rank)] = float(r_row["_hi"])
                    else:
                        wanted.setdefault((key, int(r_row["_b"])), []).append((k, rank))
            before += count
    if wanted:
        found.update(_select_ranks(values, keys, wanted))
    out: dict[tuple[Any, ...], tuple[float | None, float | None]] = {}
    for key, qs in picks.items():
        got = []
        for lo, hi, frac in qs:
            low, high = found[(key, lo)], found[(key, hi)]
            got.append(low if frac == 0 else low + (high - low) * frac)
        out[key] = (got[0], got[1])
    return out


def _select_ranks(
    values: nw.LazyFrame[Any],
    keys: Sequence[str],
    wanted: dict[tuple[tuple[Any, ...], int], list[tuple[int, int]]],
) -> dict[tuple[tuple[Any, ...], int], float]:
    """``{(group, rank in the group): value}`` for the ``wanted`` values — per (group,
    bucket), (rank in the bucket, rank in the group) — from the rows of those buckets
    ranked within (group, bucket) by value.

    The rows are picked by plain column tests (the wanted bucket numbers, each key
    column's wanted values): a superset of the wanted cells, ranked per cell all the same,
    whose extra cells are ignored. (A test on one combined key text per row cost more
    than ranking the extra rows.)"""
    keep = [nw.col("_b").is_in(sorted({b for _, b in wanted}))]
    for i, c in enumerate(keys):
        wanted_values = {key[i] for key, _ in wanted}
        if None in wanted_values:
            continue  # a null key value: no test on this column (a superset again)
        keep.append(nw.col(c).is_in(sorted(wanted_values, key=str)))
    # cum_count is 1-based
    ranks = sorted({k + 1 for picks in wanted.values() for k, _ in picks})
    ranked = values.filter(*keep).with_columns(
        nw.col("_v").cum_count().over(*keys, "_b", order_by=["_v"]).cast(nw.Int64).alias("_r")
    )
    rows = collect_rows(ranked.filter(nw.col("_r").is_in(ranks)).select(*keys, "_b", "_r", "_v"))
    at = {(tuple(r[c] for c in keys), int(r["_b"]), int(r["_r"]) - 1): r["_v"] for r in rows}
    return {
        (key, rank): float(at[(key, b, k)])
        for (key, b), picks in wanted.items()
        for k, rank in picks
    }
