"""Sessions: cutting each customer's events into visits.

Definition (METRICS.md): a new session starts when the gap to the previous event of the
same customer is **strictly greater** than the timeout (default 30 minutes); a gap exactly
equal to the timeout stays in the session. With ``keep_source=True`` an event that carries
a ``session_id`` from its source keeps it; only events without one get a computed session.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import narwhals as nw
import numpy as np
import pyarrow as pa

from journeylens.analytics._arrays import PathArrays, gap_exceeds, quantiles_in_groups
from journeylens.analytics._common import (
    GAP_S,
    POS,
    PREV_GAP_S,
    QUANTILES,
    UNIT_ID,
    AnalyticsError,
    Paths,
    as_events,
    clean_float,
    collect_rows,
    quantile_exprs,
    quantile_position,
    ratio,
    sort_paths,
    table,
    with_unit,
)
from journeylens.engine.frames import (
    CUSTOMER,
    SEQ,
    SESSION,
    TIME,
    TIME_US,
    ordered_window,
    with_epoch_us,
)
from journeylens.model import duration_seconds

DEFAULT_TIMEOUT_S = 1800.0


def _timeout_seconds(timeout: str | float) -> float:
    seconds = duration_seconds(timeout) if isinstance(timeout, str) else float(timeout)
    if seconds <= 0:
        raise AnalyticsError(f"session timeout must be positive, got {timeout!r}")
    return seconds


def sessionize(
    events: Any, *, timeout: str | float = DEFAULT_TIMEOUT_S, keep_source: bool = False
) -> nw.LazyFrame[Any]:
    """The events with ``session_id`` computed per customer (``<customer_id>#<n>``, n from 1).

    ``timeout`` is seconds or a duration text (``30m``). Events without a customer are dropped.

    >>> import polars as pl
    >>> from datetime import datetime, timedelta
    >>> t0 = datetime(2024, 1, 1)
    >>> ev = pl.DataFrame({"customer_id": ["c"] * 3, "event_name": ["a", "b", "c"],
    ...     "occurred_at": [t0, t0 + timedelta(minutes=30), t0 + timedelta(minutes=61)],
    ...     "seq": [1, 2, 3]})
    >>> sessionize(ev).sort("seq").select("session_id").collect()["session_id"].to_list()
    ['c#1', 'c#1', 'c#2']
    """
    limit_us = round(_timeout_seconds(timeout) * 1e6)
    lf = with_epoch_us(with_unit(as_events(events), "customer"))
    order = [TIME, SEQ]
    lf = lf.with_columns(nw.col(TIME_US).shift(1).over(UNIT_ID, order_by=order).alias("_prev_t"))
    lf = lf.with_columns(
        (nw.col("_prev_t").is_null() | ((nw.col(TIME_US) - nw.col("_prev_t")) > limit_us))
        .cast(nw.Int64)
        .alias("_new")
    )
    lf = lf.with_columns(
        nw.col("_new").cum_sum().over(UNIT_ID, order_by=order).alias("_session_no")
    )
    computed = nw.concat_str(
        [nw.col(UNIT_ID), nw.lit("#"), nw.col("_session_no").cast(nw.String)], separator=""
    )
    names = lf.collect_schema().names()
    if keep_source and SESSION in names:
        sid = nw.coalesce(nw.col(SESSION).cast(nw.String), computed)
    else:
        sid = computed
    return lf.with_columns(sid.alias(SESSION)).drop(
        "_prev_t", "_new", "_session_no", UNIT_ID, TIME_US
    )


@dataclass(frozen=True)
class Spread:
    """Mean, median and p90 (linear interpolation) of one per-unit quantity."""

    mean: float | None
    median: float | None
    p90: float | None


@dataclass(frozen=True)
class SessionsResult:
    """Sessions per customer, events per session and session duration (last − first event).

    Durations are in seconds; a one-event session lasts 0 s.
    """

    timeout_s: float
    customers: int
    sessions: int
    events: int
    sessions_per_customer: Spread
    events_per_session: Spread
    duration_s: Spread

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON."""
        return asdict(self)

    def to_frame(self) -> pa.Table:
        """One row per measure (``sessions_per_customer``, ``events_per_session``, ``duration_s``)."""
        rows = [
            {"measure": name, **asdict(getattr(self, name))}
            for name in ("sessions_per_customer", "events_per_session", "duration_s")
        ]
        return table(
            rows,
            {
                "measure": pa.string(),
                "mean": pa.float64(),
                "median": pa.float64(),
                "p90": pa.float64(),
            },
        )


def _spread_exprs(column: str, prefix: str) -> list[nw.Expr]:
    """Mean, median and p90 of ``column`` as aggregate expressions named ``<prefix>…``."""
    return [
        nw.col(column).cast(nw.Float64).mean().alias(f"{prefix}mean"),
        *quantile_exprs(column, prefix),
    ]


def _spread_of(row: dict[str, Any], prefix: str) -> Spread:
    return Spread(
        clean_float(row[f"{prefix}mean"]),
        clean_float(row[f"{prefix}median"]),
        clean_float(row[f"{prefix}p90"]),
    )


def _union_quantile(
    total: int, ones: int, low: float, tenths: int, value_at: dict[int, float]
) -> float | None:
    """Quantile ``tenths / 10`` of ``ones`` copies of ``low`` followed by the sorted values
    whose 1-based ranks map to ``value_at`` (every value ≥ ``low``): the sorted union.

    >>> _union_quantile(5, 3, 1.0, 9, {1: 4.0, 2: 6.0})  # 1 1 1 4 6: position 3.6
    5.2
    """
    if total == 0:
        return None
    lo, weight = quantile_position(total, tenths)

    def at(i: int) -> float:
        return low if i < ones else value_at[i - ones + 1]

    if weight == 0:
        return at(lo)
    return at(lo) + (at(lo + 1) - at(lo)) * weight


def _ranks_needed(total: int, ones: int) -> list[int]:
    """1-based ranks among the multi-event values that the quantiles of the union read
    (none when every quantile position falls in the block of one-event sessions)."""
    ranks: set[int] = set()
    for _, tenths in QUANTILES:
        if total == 0:
            break
        lo, weight = quantile_position(total, tenths)
        for i in (lo, lo + 1) if weight else (lo,):
            if i >= ones:
                ranks.add(i - ones + 1)
    return sorted(ranks)


def _sessions_of_paths(p: Paths, seconds: float) -> SessionsResult:
    """The summary of :func:`sessions` read off a customer path frame: one scan with a
    group-by of the rows outside one-event sessions, and a sort only when a median or p90
    falls among the multi-event sessions (then of their first and last rows only).

    A session starts at a path's first event or after a gap strictly greater than the
    timeout, and ends at the path's last event or before such a gap. A row that is both
    is a one-event session (1 event, 0 s), which needs no pairing; the others run from a
    start-only row to the next end-only row of the same customer, through *continuation*
    rows (not a start: the gap before them is within the timeout). So, per customer, from
    the rows that are not one-event sessions (few when most sessions have one event) and
    the path's last row (its position is the path length):

    * sessions = path length − continuations; multi-event sessions = their start rows;
      total duration = the continuations' gaps, summed in integer µs. Counts and means
      are sums of these (events = Σ path lengths).
    * The median and p90 of events per session and of duration are order statistics of
      the sorted union, in which the one-event sessions come first (their 1 event / 0 s
      is the minimum of either measure; a multi-event session of 0 s ties with them and
      is interchangeable). Only when a quantile position falls among the multi-event
      sessions are those paired (a window over the start-only and end-only rows) and
      ranked in the engine, and only the two values around each position are collected:
      nothing is held in Python memory, whatever the number of sessions.
    """
    f = p.frame
    start = (nw.col(POS) == 1) | (nw.col(PREV_GAP_S) > seconds)
    # The last event of a path has no gap after it (not "no next label": that is null
    # mid-path too in a frame sorted with keep_unlabelled).
    last = nw.col(GAP_S).is_null()
    end = last | (nw.col(GAP_S) > seconds)
    prev_gap_us = (nw.col(PREV_GAP_S) * 1e6).round(0).cast(nw.Int64)
    multi = (
        f.filter(~(start & end))
        .group_by(UNIT_ID)
        .agg(
            (~start).cast(nw.Int64).sum().alias("_cont"),
            start.cast(nw.Int64).sum().alias("_multi"),
            nw.when(start).then(0).otherwise(prev_gap_us).sum().alias("_dur_us"),
        )
    )
    per_customer = (
        f.filter(last)
        .select(UNIT_ID, nw.col(POS).alias("_len"))
        .join(multi, on=UNIT_ID, how="left")
        .select(
            "_len",
            (nw.col("_len") - nw.col("_cont").fill_null(0)).alias("k"),
            nw.col("_multi").fill_null(0),
            nw.col("_dur_us").fill_null(0),
        )
    )
    c = collect_rows(
        per_customer.select(
            nw.len().alias("customers"),
            nw.col("_len").sum().alias("events"),
            nw.col("k").sum().alias("sessions"),
            nw.col("_multi").sum().alias("multi"),
            nw.col("_dur_us").sum().alias("dur_us"),
            *_spread_exprs("k", "k_"),
        )
    )[0]
    n_events, n_sessions = int(c["events"] or 0), int(c["sessions"] or 0)
    ones, dur_us = n_sessions - int(c["multi"] or 0), int(c["dur_us"] or 0)

    picked_n: dict[int, float] = {}
    picked_d: dict[int, float] = {}
    ranks = _ranks_needed(n_sessions, ones)
    if ranks:
        # Pair each multi-event session's start-only row with its end-only row: in a
        # customer's position order these rows alternate start, end, start, end …
        rows = f.filter(start != end).select(UNIT_ID, POS, TIME_US, start.alias("_s"))
        paired = ordered_window(
            rows,
            UNIT_ID,
            [POS],
            row_number="_k",
            lag={"_sp": POS, "_st": TIME_US},
            presorted=p.ordered,
        )
        per_session = paired.filter(~nw.col("_s")).select(
            (nw.col(POS) - nw.col("_sp") + 1).alias("n"),
            (nw.col(TIME_US) - nw.col("_st")).alias("d_us"),
        )
        # ordinal ranks: ties get distinct ranks, in any order (equal values either way)
        ranked = per_session.with_columns(
            nw.col("n").rank(method="ordinal").cast(nw.Int64).alias("_rn"),
            nw.col("d_us").rank(method="ordinal").cast(nw.Int64).alias("_rd"),
        ).filter(nw.col("_rn").is_in(ranks) | nw.col("_rd").is_in(ranks))
        for row in collect_rows(ranked):
            picked_n[int(row["_rn"])] = float(row["n"])
            picked_d[int(row["_rd"])] = int(row["d_us"]) / 1e6

    def spread(mean: float | None, low: float, picked: dict[int, float]) -> Spread:
        median, p90 = (
            _union_quantile(n_sessions, ones, low, tenths, picked) for _, tenths in QUANTILES
        )
        return Spread(mean, median, p90)

    return SessionsResult(
        timeout_s=seconds,
        customers=int(c["customers"] or 0),
        sessions=n_sessions,
        events=n_events,
        sessions_per_customer=_spread_of(c, "k_"),
        events_per_session=spread(ratio(n_events, n_sessions), 1.0, picked_n),
        duration_s=spread(ratio(dur_us / 1e6, n_sessions), 0.0, picked_d),
    )


def _gap_threshold_us(seconds: float) -> int | None:
    """The least whole number of µs ``g`` with ``g / 1e6 > seconds`` — float division, as
    the path frame's ``prev_gap_s`` — so that integer gaps compare exactly as the float
    ones do (the division is monotone, so the set of such ``g`` starts there). None when
    the timeout is beyond 2^52 µs (~142 years), where floats no longer hold every µs.

    >>> _gap_threshold_us(1800.0), _gap_threshold_us(0.0000015)
    (1800000001, 2)
    """
    scaled = seconds * 1e6
    if scaled >= 2.0**52:
        return None
    g = max(math.floor(scaled) - 2, 0)  # at most a few µs below the threshold
    while not g / 1e6 > seconds:
        g += 1
    return g


def _sessions_of_arrays(a: PathArrays, seconds: float) -> SessionsResult:
    """:func:`_sessions_of_paths` from the sorted arrays of a customer path frame: the
    same figures by the same plan, each step a pass over boolean rows.

    A row *ends* a session when it is its path's last row or its gap to the next row is
    strictly greater than the timeout (compared in integer µs, :func:`_gap_threshold_us`);
    it *starts* one when the row before it ends one (a path's first row follows the last
    row of the path before). Sessions = end rows, per customer too (the end rows among
    each path's rows). A row that both starts and ends is a one-event session (1 event, 0 s);
    the others pair up in row order — the k-th start-only row with the k-th end-only row
    — into the multi-event sessions: events ``end − start + 1``, duration ``t[end] −
    t[start]`` (µs, read as seconds ``µs / 1e6``). The median and p90 are those of the
    union with the one-event block first (:func:`_union_quantile`), the multi-event
    values needed found by selection — so nothing per session is held but the multi-event
    ones (few when most sessions have one event, as in sparse logs).
    """
    n = a.rows
    threshold = _gap_threshold_us(seconds)
    # (beyond 2^52 µs, the float gaps themselves: NaN on the last rows, never greater)
    end = a.gap_s > seconds if threshold is None else gap_exceeds(a.t_us, a.starts, threshold)
    end[a.starts[1:] - 1] = True
    start = np.empty(n, dtype=bool)
    start[:1] = True
    start[1:] = end[:-1]
    single = start & end
    ones = int(np.count_nonzero(single))
    np.logical_xor(start, single, out=start)  # start-only rows
    np.logical_xor(end, single, out=single)  # end-only rows
    first, last = np.flatnonzero(start), np.flatnonzero(single)
    n_sessions = ones + len(first)
    multi_events = last - first
    multi_events += 1
    multi_us = a.t_us[last]
    multi_us -= a.t_us[first]
    # Sessions per customer: the end rows within each path's rows, summed as bytes into
    # int32 (no per-row temporary: listing the end rows costs 0.2 s at 10M when nearly
    # every event is its own session, as the int64 widening of every flag did).
    if n:
        per_customer = np.add.reduceat(end.view(np.int8), a.starts[:-1], dtype=np.int32)
    else:
        per_customer = np.zeros(0, dtype=np.int32)
    customers = a.units
    k_median, k_p90 = quantiles_in_groups(
        per_customer, np.array([0, customers]), [t for _, t in QUANTILES]
    ).get(0, [None, None])

    def spread(mean: float | None, low: float, values: np.ndarray, divisor: float) -> Spread:
        """Mean, and median and p90 of ``ones`` times ``low`` and ``values`` (each over
        ``divisor``)."""
        ranks = [r - 1 for r in _ranks_needed(n_sessions, ones)]  # 0-based
        if ranks:
            values.partition(ranks)
        picked = {r + 1: float(values[r]) / divisor for r in ranks}
        median, p90 = (
            _union_quantile(n_sessions, ones, low, tenths, picked) for _, tenths in QUANTILES
        )
        return Spread(mean, median, p90)

    return SessionsResult(
        timeout_s=seconds,
        customers=customers,
        sessions=n_sessions,
        events=n,
        sessions_per_customer=Spread(ratio(n_sessions, customers), k_median, k_p90),
        events_per_session=spread(ratio(n, n_sessions), 1.0, multi_events, 1.0),
        duration_s=spread(ratio(int(multi_us.sum()) / 1e6, n_sessions), 0.0, multi_us, 1e6),
    )


def sessions(
    events: Any, *, timeout: str | float = DEFAULT_TIMEOUT_S, keep_source: bool = False
) -> SessionsResult:
    """Cut customers' events into sessions (see the module docstring) and summarise them.

    ``events`` may be customer :class:`~journeylens.analytics._common.Paths` (from
    :func:`~journeylens.analytics._common.sort_paths`) to reuse their sort.

    >>> import polars as pl
    >>> from datetime import datetime, timedelta
    >>> t0 = datetime(2024, 1, 1)
    >>> ev = pl.DataFrame({"customer_id": ["a", "a", "a", "b"], "event_name": ["x"] * 4,
    ...     "occurred_at": [t0, t0 + timedelta(minutes=10), t0 + timedelta(hours=2), t0],
    ...     "seq": [1, 2, 3, 4]})
    >>> r = sessions(ev)
    >>> r.customers, r.sessions, r.events_per_session.median, r.duration_s.mean
    (2, 3, 1.0, 200.0)
    """
    seconds = _timeout_seconds(timeout)
    if not keep_source:
        # Reuse the sorted path frame (no second sort of the events).
        p = sort_paths(events, unit="customer")
        if p.unit != "customer":
            raise AnalyticsError("sessions are cut per customer: pass unit='customer' paths")
        if p.arrays is not None:
            return _sessions_of_arrays(p.arrays, seconds)
        return _sessions_of_paths(p, seconds)
    lf = with_epoch_us(sessionize(events, timeout=seconds, keep_source=True))
    per_session = (
        lf.group_by(CUSTOMER, SESSION)
        .agg(
            nw.len().alias("n"),
            nw.col(TIME_US).min().alias("t0"),
            nw.col(TIME_US).max().alias("t1"),
        )
        .with_columns(((nw.col("t1") - nw.col("t0")).cast(nw.Float64) / 1e6).alias("dur"))
    )
    per_customer = per_session.group_by(CUSTOMER).agg(nw.len().alias("k"))
    # One pass over the sessions and one over the customers, every figure at once.
    s = collect_rows(
        per_session.select(
            nw.len().alias("sessions"),
            nw.col("n").sum().alias("events"),
            *_spread_exprs("n", "n_"),
            *_spread_exprs("dur", "d_"),
        )
    )[0]
    c = collect_rows(per_customer.select(nw.len().alias("customers"), *_spread_exprs("k", "k_")))[0]
    return SessionsResult(
        timeout_s=seconds,
        customers=int(c["customers"] or 0),
        sessions=int(s["sessions"] or 0),
        events=int(s["events"] or 0),
        sessions_per_customer=_spread_of(c, "k_"),
        events_per_session=_spread_of(s, "n_"),
        duration_s=_spread_of(s, "d_"),
    )
