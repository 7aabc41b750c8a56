"""Sessions: cutting each customer's events into visits.

Definition (METRICS.md): a new session starts when the gap to the previous event of the
same customer is **strictly greater** than the timeout (default 30 minutes); a gap exactly
equal to the timeout stays in the session. With ``keep_source=True`` an event that carries
a ``session_id`` from its source keeps it; only events without one get a computed session.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import narwhals as nw
import pyarrow as pa

from journeylens.analytics._common import (
    GAP_S,
    NEXT_LABEL,
    POS,
    PREV_GAP_S,
    UNIT_ID,
    AnalyticsError,
    as_events,
    clean_float,
    collect_rows,
    quantile_exprs,
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


def _per_session_of_paths(p: Any, seconds: float) -> tuple[nw.LazyFrame[Any], nw.LazyFrame[Any]]:
    """Per-session ``(customer_id, n, dur)`` and per-customer starts, from the path frame.

    A session starts at a path's first event or after a gap strictly greater than the
    timeout, and ends at the path's last event or before such a gap. Only these boundary
    rows are ordered again (a narrow window over position, not a second sort of the
    events; none at all when the path frame is stored in order): an end row that is not
    itself a start belongs to the boundary row just before it, which is its session's start.
    """
    f = p.frame
    start = (nw.col(POS) == 1) | (nw.col(PREV_GAP_S) > seconds)
    end = nw.col(NEXT_LABEL).is_null() | (nw.col(GAP_S) > seconds)
    boundary = f.filter(start | end).select(
        UNIT_ID, POS, TIME_US, start.alias("_s"), end.alias("_e")
    )
    boundary = ordered_window(
        boundary,
        UNIT_ID,
        [POS],
        row_number="_k",
        lag={"_sp": POS, "_st": TIME_US},
        presorted=p.ordered,
    )
    per_session = boundary.filter(nw.col("_e")).select(
        nw.col(UNIT_ID).alias(CUSTOMER),
        nw.when(nw.col("_s"))
        .then(nw.lit(1, dtype=nw.Int64))
        .otherwise(nw.col(POS) - nw.col("_sp") + 1)
        .alias("n"),
        nw.when(nw.col("_s"))
        .then(nw.lit(0.0, dtype=nw.Float64))
        .otherwise((nw.col(TIME_US) - nw.col("_st")).cast(nw.Float64) / 1e6)
        .alias("dur"),
    )
    per_customer = (
        f.filter(start).group_by(UNIT_ID).agg(nw.len().alias("k")).rename({UNIT_ID: CUSTOMER})
    )
    return per_session, per_customer


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
    if keep_source:
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
    else:
        # Reuse the sorted path frame (no second sort of the events).
        p = sort_paths(events, unit="customer")
        if p.unit != "customer":
            raise AnalyticsError("sessions are cut per customer: pass unit='customer' paths")
        per_session, per_customer = _per_session_of_paths(p, seconds)
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
