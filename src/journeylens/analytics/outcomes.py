"""Outcome comparison: which touchpoints, steps, events and channels go with an outcome.

An outcome is a rule per unit (:func:`journeylens.analytics.binding.evaluate_outcomes`:
one boolean column per outcome id). "Positive" below means the outcome's column is true —
for a negative-polarity outcome such as ``churned`` that is the unit that churned.

For each feature f of a kind (``touchpoint``, ``step``, ``stage``, ``event``, ``channel``)
the engine counts units (METRICS.md, "Outcomes and outcome comparison"):

    a = positive units with f      b = positive units without f
    c = negative units with f      d = negative units without f

- odds ratio OR = ((a+0.5)(d+0.5)) / ((b+0.5)(c+0.5)), 95% CI
  exp(log OR ± 1.96·sqrt(1/(a+.5) + 1/(b+.5) + 1/(c+.5) + 1/(d+.5)));
- lift = P(positive | f) / P(positive);
- p-value: Fisher's exact test (two-sided) when any cell < 5, else chi-square with 1 df
  (no continuity correction); Benjamini–Hochberg across every feature tested (all kinds
  together); flagged ``significant`` when q ≤ 0.05;
- features with a + c < 25 units are not tested and are reported as ``"too rare"``.

The universe of units is the outcome frame (every unit the outcome was evaluated for);
units of the events missing from it are ignored, units of it without any event count as
"without f" for every feature.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import narwhals as nw
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from journeylens.analytics import stats
from journeylens.analytics._arrays import BLOCK, NONE, PathArrays, bit_counts
from journeylens.analytics._common import UNIT_ID, AnalyticsError, Paths, collect_rows
from journeylens.analytics._results import RowResult
from journeylens.analytics.binding import bound_values
from journeylens.engine.frames import EVENT, distinct_units

#: Feature kinds and the bound-event column each reads.
FEATURE_COLUMNS: dict[str, str] = {
    "touchpoint": "touchpoint_id",
    "step": "step_id",
    "stage": "stage_id",
    "event": EVENT,
    "channel": "channel",
}
DEFAULT_FEATURES: tuple[str, ...] = ("touchpoint", "step", "event", "channel")
MIN_SUPPORT = 25
ALPHA = 0.05
TOO_RARE = "too rare"


@dataclass(frozen=True)
class FeatureComparison:
    """One feature's 2×2 table and statistics (``None`` when too rare to test)."""

    kind: str
    feature: str
    a: int
    b: int
    c: int
    d: int
    rate_with: float | None
    rate_without: float | None
    odds_ratio: float | None
    or_low: float | None
    or_high: float | None
    lift: float | None
    p_value: float | None
    test: str | None
    q_value: float | None
    significant: bool
    flag: str | None


_F, _I, _S = pa.float64(), pa.int64(), pa.string()


@dataclass(frozen=True)
class OutcomeComparison(RowResult[FeatureComparison]):
    """Every feature compared on one outcome; tested features first, by q then effect;
    ``to_frame()`` gives one row per feature."""

    outcome: str
    units: int
    positive: int
    base_rate: float | None
    min_support: int
    alpha: float
    features: tuple[FeatureComparison, ...]
    rows_field: ClassVar[str] = "features"
    frame_schema: ClassVar[dict[str, pa.DataType]] = {
        "kind": _S, "feature": _S, "a": _I, "b": _I, "c": _I, "d": _I,
        "rate_with": _F, "rate_without": _F, "odds_ratio": _F, "or_low": _F, "or_high": _F,
        "lift": _F, "p_value": _F, "test": _S, "q_value": _F,
        "significant": pa.bool_(), "flag": _S,
    }  # fmt: skip

    def significant(self) -> tuple[FeatureComparison, ...]:
        """Features with q ≤ alpha."""
        return tuple(f for f in self.features if f.significant)

    def get(self, kind: str, feature: str) -> FeatureComparison | None:
        """The comparison of one feature, if it occurs in the data."""
        return self.find(kind=kind, feature=feature)


def _outcome_units(outcomes: nw.LazyFrame[Any], outcome: str) -> nw.LazyFrame[Any]:
    names = outcomes.collect_schema().names()
    if UNIT_ID not in names or outcome not in names:
        choices = [n for n in names if n != UNIT_ID]
        raise AnalyticsError(
            f"no outcome '{outcome}' in the outcome frame; the outcomes are: "
            f"{', '.join(choices) or '(none)'} (evaluate_outcomes gives one column per outcome id)"
        )
    # One row per unit by a plain group-by (``unique`` is a window on the SQL engines); a
    # unit listed twice counts as positive if any of its rows is.
    return (
        outcomes.select(
            nw.col(UNIT_ID).cast(nw.String),
            nw.col(outcome).fill_null(False).cast(nw.Int64).alias("_pos"),
        )
        .group_by(UNIT_ID)
        .agg(nw.col("_pos").max())
    )


def _feature_counts(
    bound: nw.LazyFrame[Any], units: nw.LazyFrame[Any], kinds: Sequence[str]
) -> list[tuple[str, str, int, int]]:
    """``(kind, feature, units with it, positive units with it)`` of every feature: the
    distinct units per value of each kind's column, among the outcome frame's units
    (:func:`~journeylens.engine.frames.distinct_units`: one pass over the events)."""
    if not kinds:
        return []
    events = bound.with_columns(nw.col(UNIT_ID).cast(nw.String))
    flags = units.select(UNIT_ID, (nw.col("_pos") == 1).alias("_flag"))
    counted = distinct_units(
        events, UNIT_ID, [(FEATURE_COLUMNS[k],) for k in kinds], flags=flags, flag="_flag"
    )
    out = [
        (kind, value, with_f, pos)
        for kind, per_value in zip(kinds, counted, strict=True)
        for (value,), (with_f, pos) in sorted(per_value.items())
    ]
    return out


def _array_codes(p: Paths, kind: str) -> tuple[np.ndarray, np.ndarray, list[str]] | None:
    """A feature kind read off ``p.arrays``: each event's source code (:data:`NONE`: no
    value), the value code of each source code, and the values by value code. The source
    is the label, a payload column (``sort_paths(columns=…)``; value = source), or the
    touchpoint index of a path frame sorted with its map, whose touchpoint / step / stage
    is the value (several touchpoints share a step: no per-event lookup is made). None
    when the arrays hold none of these."""
    a = p.arrays
    assert a is not None
    column = FEATURE_COLUMNS[kind]
    if column == p.label:
        return a.label, np.arange(len(a.labels)), list(a.labels)
    if (
        p.journey_map is not None
        and a.touchpoint_index is not None
        and column in ("touchpoint_id", "step_id", "stage_id")
    ):
        per_touchpoint = [str(v) for v in bound_values(p.journey_map)[column][0]]
        names = sorted(set(per_touchpoint))
        at = {v: i for i, v in enumerate(names)}
        return a.touchpoint_index, np.array([at[v] for v in per_touchpoint]), names
    if column in a.payload:
        values = a.payload[column]
        if isinstance(values, pa.ChunkedArray):
            values = values.combine_chunks()
        if pa.types.is_dictionary(values.type):  # coded by the sort (sort_paths(columns=…))
            codes = np.asarray(
                values.indices.fill_null(NONE).to_numpy(zero_copy_only=False), np.int32
            )
            names = [str(v) for v in values.dictionary.to_pylist()]
            return codes, np.arange(len(names)), names
        if not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
            values = pc.cast(values, pa.string())  # a cast of text would copy it for nothing
        d = pc.dictionary_encode(values)
        codes = np.asarray(d.indices.fill_null(NONE).to_numpy(zero_copy_only=False), np.int32)
        names = [str(v) for v in d.dictionary.to_pylist()]
        return codes, np.arange(len(names)), names
    return None


#: Above this many values a kind's units are counted by sorting (unit, value) pairs
#: instead of one pass over the events per 64 values.
_MAX_WORD_PASSES = 8


def _array_units_per_code(
    a: PathArrays,
    source: np.ndarray,
    value_ofs: Sequence[np.ndarray],
    n_values: int,
    counted: np.ndarray,
    flagged: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """``(having, positive)`` per value code 0 … n_values − 1: the ``counted`` units (a
    boolean per unit) with an event whose source code (``source``, :data:`NONE` for none)
    has that value by one of ``value_ofs`` (each a value per source code: kinds read off
    the same source share the pass, each in its own range of values), and of those the
    ``flagged`` ones.

    Each unit's rows are contiguous (``a.starts``): per 64 values, one lookup per event
    gives its bits (a table over the source codes, 0 for :data:`NONE` and other words'
    values) and the bits of a unit's events are OR-ed into one 64-bit word
    (``bitwise_or.reduceat``, a block of units at a time), then the units with each bit
    set are counted. Many values: ``np.unique`` of the (unit, value) pairs.
    """
    having = np.zeros(n_values, dtype=np.int64)
    positive = np.zeros(n_values, dtype=np.int64)
    if n_values == 0 or a.rows == 0:
        return having, positive
    if n_values > 64 * _MAX_WORD_PASSES:
        keep = source >= 0
        unit_of_row, kept = a.unit_of_row[keep] * n_values, source[keep]
        pairs = np.unique(np.concatenate([unit_of_row + v[kept] for v in value_ofs]))
        unit, value = pairs // n_values, pairs % n_values
        having += np.bincount(value[counted[unit]], minlength=n_values)
        positive += np.bincount(value[flagged[unit]], minlength=n_values)
        return having, positive
    starts = a.starts
    bits = np.empty(min(a.rows, 2 * BLOCK), dtype=np.uint64)
    for base in range(0, n_values, 64):
        # table[s]: the bits of source code s in this word; the last entry, read for
        # NONE (-1), stays 0.
        table = np.zeros(len(value_ofs[0]) + 1, dtype=np.uint64)
        for v in value_ofs:
            inside = np.flatnonzero((v >= base) & (v < base + 64))
            table[inside] |= np.left_shift(np.uint64(1), (v[inside] - base).astype(np.uint64))
        words = np.zeros(a.units, dtype=np.uint64)
        lo = 0
        while lo < a.units:
            # Units lo … hi - 1: about BLOCK rows (at least one unit, however long).
            hi = max(lo + 1, int(np.searchsorted(starts, starts[lo] + BLOCK, "right")) - 1)
            first, last = int(starts[lo]), int(starts[hi])
            if last - first > len(bits):
                bits = np.empty(last - first, dtype=np.uint64)
            b = table.take(source[first:last], out=bits[: last - first])
            words[lo:hi] = np.bitwise_or.reduceat(b, starts[lo:hi] - first)
            lo = hi
        width = min(64, n_values - base)
        having[base : base + width] = bit_counts(words[counted], width)
        positive[base : base + width] = bit_counts(words[flagged], width)
    return having, positive


def _array_feature_counts(
    p: Paths, units: nw.LazyFrame[Any], kinds: Sequence[str]
) -> tuple[int, int, list[tuple[str, str, int, int]]] | None:
    """``(units, positive units, rows)``: what :func:`_feature_counts` and the totals give,
    read off the path frame's sorted arrays (one pass per source and 64 values, no read of
    the events); None when a kind is not in the arrays."""
    a = p.arrays
    assert a is not None
    maybe = [_array_codes(p, kind) for kind in kinds]
    coded = [c for c in maybe if c is not None]
    if len(coded) < len(kinds):
        return None
    got = units.collect().to_arrow()
    ids = got.column(UNIT_ID).combine_chunks()
    pos = np.asarray(got.column("_pos").fill_null(0).to_numpy(zero_copy_only=False), np.int64)
    # The outcome frame's units among the paths' (sorted unit ids); units of the paths
    # missing from it are not counted, its units without events are "without" every value.
    at = pc.index_in(ids.cast(pa.string()), value_set=a.unit_ids.cast(pa.string()))
    found = np.asarray(at.is_valid().to_numpy(zero_copy_only=False), bool)
    where = np.asarray(at.fill_null(0).to_numpy(zero_copy_only=False), np.int64)[found]
    counted = np.zeros(a.units, dtype=bool)
    counted[where] = True
    flagged = np.zeros(a.units, dtype=bool)
    flagged[where[pos[found] == 1]] = True
    # Kinds read off the same source (touchpoint, step and stage off the touchpoint index)
    # are counted in one pass, each kind's values after the previous kind's.
    by_source: dict[int, list[int]] = {}
    for i, code in enumerate(coded):
        by_source.setdefault(id(code[0]), []).append(i)
    counts: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    for members in by_source.values():
        offsets = np.cumsum(np.array([0] + [len(coded[i][2]) for i in members], np.int64))
        having, positive = _array_units_per_code(
            a,
            coded[members[0]][0],
            [coded[i][1] + offsets[j] for j, i in enumerate(members)],
            int(offsets[-1]),
            counted,
            flagged,
        )
        for j, i in enumerate(members):
            part = slice(int(offsets[j]), int(offsets[j + 1]))
            counts[i] = (having[part], positive[part])
    out: list[tuple[str, str, int, int]] = []
    for i, (kind, code) in enumerate(zip(kinds, coded, strict=True)):
        names = code[2]
        having, positive = counts[i]
        out += sorted(
            (kind, names[v], int(having[v]), int(positive[v])) for v in np.flatnonzero(having)
        )
    return len(got), int(pos.sum()), out


def compare_outcome(
    bound: nw.LazyFrame[Any] | Paths,
    outcomes: nw.LazyFrame[Any],
    outcome: str,
    *,
    features: Sequence[str] = DEFAULT_FEATURES,
    min_support: int = MIN_SUPPORT,
    alpha: float = ALPHA,
) -> OutcomeComparison:
    """Compare ``outcome`` between units with and without each feature (module docstring).

    ``bound`` are events with ``unit_id`` and the feature columns (``touchpoint_id``,
    ``step_id`` … after binding; ``event_name``, ``channel`` always); ``outcomes`` has
    ``unit_id`` and a boolean column named ``outcome``.

    ``bound`` may also be the :class:`~journeylens.analytics._common.Paths` of the bound
    events (then its events are those of the path frame). When it carries the sorted
    arrays and they hold every kind asked for — the label, the touchpoint / step / stage
    of a path frame sorted with its map, other columns as ``sort_paths(columns=…)`` — the
    features are counted off the arrays without reading the events again; otherwise off
    ``Paths.frame``. Same figures either way.

    >>> import polars as pl
    >>> # 40 units; 30 saw "help" and 20 of them converted; 10 did not and 2 converted.
    >>> units = [f"u{i}" for i in range(40)]
    >>> ev = pl.LazyFrame({"unit_id": units[:30] + units[30:], "event_name":
    ...     ["help"] * 30 + ["browse"] * 10, "channel": ["web"] * 40})
    >>> out = pl.LazyFrame({"unit_id": units, "converted": [True] * 20 + [False] * 10
    ...     + [True] * 2 + [False] * 8})
    >>> r = compare_outcome(nw.from_native(ev), nw.from_native(out), "converted",
    ...     features=["event"])
    >>> h = r.get("event", "help"); (h.a, h.b, h.c, h.d), round(h.lift, 4), h.test
    ((20, 2, 10, 8), 1.2121, 'fisher')
    >>> r.get("event", "browse").flag  # a + c = 10 < 25
    'too rare'
    """
    unknown = [k for k in features if k not in FEATURE_COLUMNS]
    if unknown:
        raise AnalyticsError(
            f"unknown feature kind(s) {', '.join(unknown)}; expected {', '.join(FEATURE_COLUMNS)}"
        )
    if min_support < 0:
        raise AnalyticsError(f"min_support must be ≥ 0, got {min_support}")
    units = _outcome_units(outcomes, outcome)
    kinds = list(dict.fromkeys(features))
    from_arrays = None
    if isinstance(bound, Paths) and bound.arrays is not None:
        from_arrays = _array_feature_counts(bound, units, kinds)
    # kind, feature, units with f, positive with f
    raw: list[tuple[str, str, int, int]]
    if from_arrays is not None:
        n, positive, raw = from_arrays
    else:
        if isinstance(bound, Paths):
            bound = bound.frame  # built only here: the arrays do not hold every kind
        names = bound.collect_schema().names()
        tot = collect_rows(
            units.select(nw.len().cast(nw.Int64).alias("n"), nw.col("_pos").sum().alias("p"))
        )[0]
        n, positive = int(tot["n"] or 0), int(tot["p"] or 0)
        for kind in features:
            column = FEATURE_COLUMNS[kind]
            if column not in names:
                raise AnalyticsError(
                    f"feature kind '{kind}' needs a '{column}' column on the events"
                    + (" (bind the map first)" if kind in ("touchpoint", "step", "stage") else "")
                    + f"; the columns are: {', '.join(names)}"
                )
        raw = _feature_counts(bound, units, kinds)

    tested: list[tuple[int, float, str]] = []  # index in raw, p, test
    for i, (_, _, with_f, a) in enumerate(raw):
        if with_f >= min_support:
            b, c = positive - a, with_f - a
            p, test = stats.table_p_value(a, b, c, n - positive - c)
            tested.append((i, p, test.value))
    qs = stats.benjamini_hochberg([p for _, p, _ in tested])
    test_of = {i: (p, t, q) for (i, p, t), q in zip(tested, qs, strict=True)}

    out: list[FeatureComparison] = []
    for i, (kind, feature, with_f, a) in enumerate(raw):
        b, c = positive - a, with_f - a
        d = n - positive - c
        rate_with = a / with_f if with_f else None
        rate_without = b / (b + d) if b + d else None
        if i in test_of:
            p, t, q = test_of[i]
            o = stats.odds_ratio(a, b, c, d)
            out.append(
                FeatureComparison(
                    kind, feature, a, b, c, d, rate_with, rate_without, o.value, o.low, o.high,
                    stats.lift(a, b, c, d), p, t, q, q <= alpha, None,
                )
            )  # fmt: skip
        else:
            out.append(
                FeatureComparison(
                    kind, feature, a, b, c, d, rate_with, rate_without,
                    None, None, None, None, None, None, None, False, TOO_RARE,
                )
            )  # fmt: skip

    def rank(f: FeatureComparison) -> tuple[Any, ...]:
        effect = abs(math.log(f.odds_ratio)) if f.odds_ratio else 0.0
        return (
            f.q_value is None,
            f.q_value if f.q_value is not None else 1.0,
            -effect,
            f.kind,
            f.feature,
        )

    out.sort(key=rank)
    return OutcomeComparison(
        outcome=outcome,
        units=n,
        positive=positive,
        base_rate=positive / n if n else None,
        min_support=min_support,
        alpha=alpha,
        features=tuple(out),
    )
