"""The path frame as sorted numpy arrays: order-dependent analytics as linear passes.

**Sort once, reuse the order.** On DuckDB, :func:`~journeylens.analytics._common.sort_paths`
sorts the events of each unit by ``(occurred_at, seq)`` once — keyed by small integers (the
unit's and the label's position in their sorted distinct values), so the sort moves a few
bytes per event — and keeps the result as :class:`PathArrays`: one array per column, rows in
``(unit, occurred_at, seq)`` order, each unit's rows contiguous. Whatever depends on the
order (a path's next event, the gap to it, the position in the path, where a funnel attempt
goes next, the stage sequence) is then a shift or a cumulative pass over the arrays — no
hash table, no second sort — where a SQL engine, which does not keep row order between
queries, must pair neighbours again with a window or a join.

The analytics read these arrays when the :class:`~journeylens.analytics._common.Paths` they
are given carries them (``Paths.arrays``); otherwise (Polars, Spark, a path frame too large
for memory) they run their engine-neutral narwhals code. Both give the same numbers: the
conformance suite runs every analytic on DuckDB (these arrays) and on Polars and Spark (the
narwhals code) against one pure-Python reference.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pyarrow as pa

# The code of a missing value in the integer code arrays (a null label, an unbound
# event): the one the sort hands over.
from journeylens.engine.sorted import NONE as NONE  # re-exported: the analytics use it


@dataclass(frozen=True, eq=False)
class PathArrays:
    """A path frame as arrays, rows in ``(unit, occurred_at, seq)`` order.

    ``starts`` (int64, length units + 1): unit ``u``'s rows are ``starts[u]:starts[u + 1]``
    (every unit has at least one row; ``starts[-1]`` is the number of rows). ``unit_ids``:
    each unit's id (text), units in ascending id order. ``t_us``: each event's time in epoch
    microseconds. ``label``: each event's label as a position in ``labels`` (the distinct
    label texts, sorted), :data:`NONE` for a null label. ``touchpoint_index`` (int32, a path
    frame sorted with a journey map): the event's touchpoint as its position in the map
    (``binding.TOUCHPOINT_INDEX``), :data:`NONE` when unbound; ``prev_touchpoint_index``: the
    touchpoint index of the last bound event before this one in its path, :data:`NONE` when
    there is none (derived from ``touchpoint_index`` on first use).

    Derived arrays (``pos``, ``next_label``, ``gap_us`` …) are computed on first use and kept.

    >>> a = PathArrays.from_rows(["u1", "u1", "u2"], [0, 60_000_000, 5], ["a", "b", "a"])
    >>> a.units, a.rows, a.labels, a.pos.tolist(), a.next_label.tolist()
    (2, 3, ('a', 'b'), [1, 2, 1], [1, -1, -1])
    >>> float(a.gap_s[0]), a.is_last.tolist()
    (60.0, [False, True, True])
    """

    starts: np.ndarray
    unit_ids: pa.Array
    t_us: np.ndarray
    label: np.ndarray
    labels: tuple[str, ...]
    touchpoint_index: np.ndarray | None = None
    #: The frame's other columns (as the engine returned them, in row order): what the
    #: path frame built from these arrays shows besides the derived columns.
    payload: dict[str, Any] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        """Number of events."""
        return int(self.starts[-1])

    @property
    def units(self) -> int:
        """Number of paths (units)."""
        return len(self.starts) - 1

    @cached_property
    def lengths(self) -> np.ndarray:
        """Events per path (int64, one per unit)."""
        return np.diff(self.starts)

    @cached_property
    def unit_of_row(self) -> np.ndarray:
        """Each event's unit number (int64: the position in ``unit_ids``)."""
        return np.repeat(np.arange(self.units, dtype=np.int64), self.lengths)

    @property
    def last_rows(self) -> np.ndarray:
        """The row number of each path's last event (int64, one per unit): setting these
        few rows costs far less than a boolean mask over every row."""
        return self.starts[1:] - 1

    @cached_property
    def is_first(self) -> np.ndarray:
        """True on the first event of each path."""
        out = np.zeros(self.rows, dtype=bool)
        out[self.starts[:-1]] = True
        return out

    @cached_property
    def is_last(self) -> np.ndarray:
        """True on the last event of each path."""
        out = np.zeros(self.rows, dtype=bool)
        out[self.starts[1:] - 1] = True
        return out

    @cached_property
    def pos(self) -> np.ndarray:
        """1-based position of each event in its path (int64)."""
        # Ones, with each path's first row stepping back to 1: a cumulative sum numbers
        # every path from 1 without a per-path loop.
        step = np.ones(self.rows, dtype=np.int64)
        first = self.starts[1:-1]
        step[first] = 1 - self.lengths[:-1]
        return np.cumsum(step, out=step)

    @cached_property
    def next_label(self) -> np.ndarray:
        """The next event's label code in the same path; :data:`NONE` on the last event."""
        out = np.empty(self.rows, dtype=np.int32)
        out[:-1] = self.label[1:]
        out[self.last_rows] = NONE
        return out

    @cached_property
    def gap_us(self) -> np.ndarray:
        """Microseconds from each event to the next one of its path (0 on the last event;
        read it with ``is_last``)."""
        out = np.empty(self.rows, dtype=np.int64)
        np.subtract(self.t_us[1:], self.t_us[:-1], out=out[:-1])
        out[self.last_rows] = 0  # also the very last row, which the subtraction leaves
        return out

    @cached_property
    def gap_s(self) -> np.ndarray:
        """Seconds from each event to the next one of its path (float64; NaN on the last
        event), as the path frame's ``gap_s``."""
        out = self.gap_us.astype(np.float64)
        out /= 1e6
        out[self.last_rows] = np.nan
        return out

    @cached_property
    def prev_touchpoint_index(self) -> np.ndarray | None:
        """Per event, the touchpoint index of the last bound event before it in its path
        (:data:`NONE` when there is none; None without ``touchpoint_index``)."""
        if self.touchpoint_index is None:
            return None
        return previous_bound(self.touchpoint_index, self.starts)

    def label_code(self, text: str) -> int:
        """The code of a label text, :data:`NONE` when no event has it."""
        i = int(np.searchsorted(np.asarray(self.labels, dtype=object), text))
        return i if i < len(self.labels) and self.labels[i] == text else NONE

    def label_text(self, code: int) -> str | None:
        """The text of a label code (None for :data:`NONE`)."""
        return None if code == NONE else self.labels[code]

    @classmethod
    def from_rows(
        cls,
        units: Sequence[str],
        t_us: Sequence[int],
        labels: Sequence[str | None],
        *,
        seq: Sequence[int] | None = None,
        touchpoint_index: Sequence[int | None] | None = None,
    ) -> PathArrays:
        """Arrays of plain rows in any order (sorted here by unit, time, ``seq``; ``seq``
        defaults to the given order): for tests and small inputs."""
        n = len(units)
        order_seq = np.arange(n) if seq is None else np.asarray(seq, dtype=np.int64)
        unit_values = sorted(set(units))
        unit_code = np.searchsorted(
            np.asarray(unit_values, dtype=object), np.asarray(units, dtype=object)
        )
        times = np.asarray(t_us, dtype=np.int64)
        order = np.lexsort((order_seq, times, unit_code))
        label_values = sorted({x for x in labels if x is not None})
        label_of = {v: i for i, v in enumerate(label_values)}
        codes = np.asarray([NONE if x is None else label_of[x] for x in labels], dtype=np.int32)
        counts = np.bincount(unit_code, minlength=len(unit_values)) if n else np.zeros(0, np.int64)
        starts = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        tp = None
        if touchpoint_index is not None:
            tp = np.asarray([NONE if x is None else x for x in touchpoint_index], dtype=np.int32)[
                order
            ]
        return cls(
            starts=starts,
            unit_ids=pa.array(unit_values, pa.string()),
            t_us=times[order],
            label=codes[order],
            labels=tuple(label_values),
            touchpoint_index=tp,
        )


def previous_bound(index: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Per row, the last value of ``index`` other than :data:`NONE` *before* it in the same
    path (:data:`NONE` when there is none): the forward fill that carries the previous bound
    touchpoint to the events after it.

    >>> previous_bound(np.array([-1, 3, -1, 2, 5, -1], np.int32), np.array([0, 4, 6])).tolist()
    [-1, -1, 3, 3, -1, 5]
    """
    n = len(index)
    if n == 0:
        return np.full(0, NONE, dtype=np.int32)
    # before[i]: the last bound row before row i (a running maximum of bound row numbers,
    # shifted by one row). At each path's first row the running maximum is lifted to the
    # row before it — the previous path's last row, whose value is masked to NONE below —
    # so no row looks past the start of its own path.
    before = np.full(n, -1, dtype=np.int32)
    bound_rows = np.flatnonzero(index[:-1] != NONE).astype(np.int32)
    before[bound_rows + 1] = bound_rows
    firsts = starts[1:-1]
    before[firsts] = (firsts - 1).astype(np.int32)
    np.maximum.accumulate(before, out=before)
    padded = np.empty(n + 1, dtype=np.int32)  # padded[0] = NONE answers before = -1
    padded[0] = NONE
    padded[1:] = index
    padded[starts[1:]] = NONE  # each path's last row (shifted by the pad)
    before += 1
    return padded[before]


def quantiles_sorted(values: np.ndarray, tenths: Sequence[int]) -> list[float | None]:
    """Quantiles ``t / 10`` of ``values`` (linear interpolation, as numpy's default and the
    engines' ``quantile_cont``); None for no values. Selection, not a full sort."""
    from journeylens.analytics._common import quantile_position

    n = len(values)
    if n == 0:
        return [None for _ in tenths]
    picks = [quantile_position(n, t) for t in tenths]
    ranks = sorted({r for lo, _ in picks for r in (lo, min(lo + 1, n - 1))})
    part = np.partition(values, ranks)
    out: list[float | None] = []
    for lo, frac in picks:
        low = float(part[lo])
        out.append(low if frac == 0 else low + (float(part[min(lo + 1, n - 1)]) - low) * frac)
    return out


def unit_sets(unit: np.ndarray, code: np.ndarray, codes: int, units: int) -> np.ndarray:
    """How many distinct units have each code ``0 … codes-1`` (int64 per code): rows are
    (unit number, code) pairs; a pair seen twice counts once.

    Rows in unit order (non-decreasing ``unit``, as in a path frame) need no sort of the
    pairs: up to :data:`WORD_CODES` codes, each unit's codes are OR-ed into 64-bit words
    (:func:`path_code_counts`) and the units counted per bit; beyond, the rows are ordered
    by code with a stable radix sort, in which each code's units stay in ascending order,
    so a unit is new where it differs from the row before. Other rows take ``np.unique``
    of the pairs (a full sort).

    >>> unit_sets(np.array([0, 0, 1, 2, 2]), np.array([1, 1, 1, 0, 1]), 3, 3).tolist()
    [1, 3, 0]
    """
    if len(unit) == 0:
        return np.zeros(codes, dtype=np.int64)
    if not bool(np.all(unit[1:] >= unit[:-1])):
        pair = np.unique(unit.astype(np.int64) * codes + code)
        return np.bincount(pair % codes, minlength=codes)
    if codes <= WORD_CODES:  # each unit's rows are one run: a path
        runs = np.flatnonzero(unit[1:] != unit[:-1])
        runs += 1
        return path_code_counts(np.concatenate([[0], runs, [len(unit)]]), code, codes)
    order, bounds = group_order(code, codes)
    return distinct_in_order(unit, order, bounds)


def as_int32(array: Any, missing: int = NONE) -> np.ndarray:
    """An Arrow integer column as int32 numpy, nulls as ``missing``."""
    arr = array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array
    if arr.null_count:
        import pyarrow.compute as pc

        arr = pc.fill_null(arr, missing)
    return np.asarray(arr.to_numpy(zero_copy_only=False), dtype=np.int32)


def group_order(group: np.ndarray, groups: int) -> tuple[np.ndarray, np.ndarray]:
    """The rows ordered by group number ``0 … groups-1``, rows of one group in their
    original order (a stable sort), and ``bounds`` (int64, length groups + 1): group ``g``'s
    rows are ``order[bounds[g]:bounds[g + 1]]``.

    A radix sort on 16-bit keys — numpy's stable sort of ``uint16`` is one counting pass,
    several times cheaper than the merge sort of wider integers — and, beyond 2^16 groups,
    two of them (low then high 16 bits: least significant digit first keeps it stable).

    >>> o, b = group_order(np.array([2, 0, 2, 1]), 3)
    >>> o.tolist(), b.tolist()
    ([1, 3, 0, 2], [0, 1, 2, 4])
    """
    bounds = np.zeros(groups + 1, dtype=np.int64)
    np.cumsum(counts_of(group, groups), out=bounds[1:])
    if groups <= 1 << 16:
        order = np.argsort(group.astype(np.uint16, copy=False), kind="stable")
    else:
        order = np.argsort(group.astype(np.uint16), kind="stable")  # low 16 bits (wraps)
        high = np.right_shift(group, 16).astype(np.uint16)[order]
        order = order[np.argsort(high, kind="stable")]
    return order, bounds


def distinct_in_groups(values: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """Number of distinct values in each slice ``values[bounds[g]:bounds[g + 1]]`` (int64
    per group), for values non-decreasing within each slice: a value counts where it
    differs from the one before it or opens its slice.

    >>> distinct_in_groups(np.array([3, 3, 5, 1, 1, 9]), np.array([0, 3, 3, 5])).tolist()
    [2, 0, 1]
    """
    groups = len(bounds) - 1
    out = np.zeros(groups, dtype=np.int64)
    values = values[: bounds[-1]]  # rows past the last group (ignored) would join it
    if len(values) == 0:
        return out
    new = np.empty(len(values), dtype=bool)
    new[0] = True
    np.not_equal(values[1:], values[:-1], out=new[1:])
    lo = bounds[:-1]
    present = np.flatnonzero(bounds[1:] > lo)
    new[lo[present]] = True
    out[present] = np.add.reduceat(new, lo[present], dtype=np.int64)
    return out


def bit_counts(words: np.ndarray, bits: int) -> np.ndarray:
    """How many of the 64-bit ``words`` have each bit ``0 … bits-1`` set (int64 per bit):
    each of the eight bytes counted by value (``bincount``), every byte value spread over
    its bits — eight passes over the words instead of one per bit.

    >>> bit_counts(np.array([0b101, 0b100], np.uint64), 4).tolist()
    [1, 0, 2, 0]
    """
    as_bytes = words.astype(np.uint64).view(np.uint8).reshape(-1, 8)
    little = as_bytes if np.little_endian else as_bytes[:, ::-1]
    # spread[v, j]: bit j of byte value v
    spread = np.unpackbits(np.arange(256, dtype=np.uint8)[:, None], axis=1, bitorder="little")
    out = np.zeros(64, dtype=np.int64)
    for j in range(8):
        per_value = np.bincount(little[:, j], minlength=256)
        out[8 * j : 8 * j + 8] = per_value @ spread.astype(np.int64)
    return out[:bits]


#: Above this many groups, :func:`quantiles_in_groups` sorts every value once with its
#: group number as the high bits instead of a selection per group (numpy's per-call cost
#: would dominate: 90,000 edges of 3M transitions took 0.3 s more that way).
MANY_GROUPS = 4096


def quantiles_in_groups(
    ordered: np.ndarray,
    bounds: np.ndarray,
    tenths: Sequence[int],
    divisor: float | None = None,
) -> dict[int, list[float | None]]:
    """Per non-empty slice ``g`` of ``ordered`` (``bounds`` as :func:`group_order`'s), the
    quantiles ``t / 10`` of its values, as :func:`quantiles_sorted` — each value divided by
    ``divisor`` first when given (µs gaps read as the path frame's float seconds
    ``us / 1e6``: the same ranks, the same interpolated numbers). Partitions the slices of
    ``ordered`` in place (pass a copy that may be reordered)."""
    from journeylens.analytics._common import quantile_position

    sizes = np.diff(bounds)
    present = np.flatnonzero(sizes)
    if len(present) > MANY_GROUPS:
        many = _quantiles_of_many_groups(ordered, bounds, present, tenths, divisor)
        if many is not None:
            return many
    out: dict[int, list[float | None]] = {}
    for g in present.tolist():
        n = int(sizes[g])
        part = ordered[bounds[g] : bounds[g + 1]]
        picks = [quantile_position(n, t) for t in tenths]
        ranks = sorted({r for lo, _ in picks for r in (lo, min(lo + 1, n - 1))})
        if n > 1:
            part.partition(ranks)
        got: list[float | None] = []
        for lo, frac in picks:
            low, high = float(part[lo]), float(part[min(lo + 1, n - 1)])
            if divisor is not None:
                low, high = low / divisor, high / divisor
            got.append(low if frac == 0 else low + (high - low) * frac)
        out[g] = got
    return out


#: Rows per block of the blocked passes below: block buffers of this size stay in cache
#: and are reused, where a whole-length temporary would be fresh memory (slow to get
#: from the system at 10M rows: ~0.1 s per 80 MB), and numpy's per-call cost is small.
BLOCK = 1 << 16


def distinct_in_order(values: np.ndarray, order: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """:func:`distinct_in_groups` of ``values[order]`` without the gathered copy: the
    "differs from the row before" flags are computed a block of ``order`` at a time.

    >>> o = np.array([3, 0, 1, 2]); distinct_in_order(np.array([0, 0, 1, 2]), o, np.array([0, 1, 4])).tolist()
    [1, 2]
    """
    groups = len(bounds) - 1
    out = np.zeros(groups, dtype=np.int64)
    n = int(bounds[-1])
    if n == 0:
        return out
    new = np.empty(n, dtype=bool)
    new[0] = True
    buffer = np.empty(BLOCK + 1, dtype=values.dtype)
    for lo in range(1, n, BLOCK):
        hi = min(lo + BLOCK, n)
        got = buffer[: hi - lo + 1]
        np.take(values, order[lo - 1 : hi], out=got)
        np.not_equal(got[1:], got[:-1], out=new[lo:hi])
    starts = bounds[:-1]
    present = np.flatnonzero(bounds[1:] > starts)
    new[starts[present]] = True
    out[present] = np.add.reduceat(new, starts[present], dtype=np.int64)
    return out


def next_gaps_in_place(order: np.ndarray, t: np.ndarray) -> np.ndarray:
    """``order`` (int64 row numbers, none the last row) overwritten with ``t[r + 1] − t[r]``
    for each of its rows ``r``, a block at a time: the gaps to the next row in that order
    with no new whole-length array. Returns ``order``.

    >>> next_gaps_in_place(np.array([2, 0]), np.array([10, 15, 40, 41])).tolist()
    [1, 5]
    """
    row = np.empty(BLOCK, dtype=np.int64)
    now = np.empty(BLOCK, dtype=t.dtype)
    for lo in range(0, len(order), BLOCK):
        part = order[lo : lo + BLOCK]
        k = len(part)
        np.copyto(row[:k], part)
        np.take(t, row[:k], out=now[:k])
        row[:k] += 1
        np.take(t, row[:k], out=part)
        part -= now[:k]
    return order


def gap_exceeds(t: np.ndarray, starts: np.ndarray, threshold: int) -> np.ndarray:
    """True on each row whose next row in its path comes ``threshold`` or more later
    (``t[i + 1] − t[i] >= threshold``; never on a path's last row), a block at a time: no
    whole-length array of the gaps.

    >>> gap_exceeds(np.array([0, 5, 20, 21]), np.array([0, 2, 4]), 5).tolist()
    [True, False, False, False]
    """
    n = len(t)
    out = np.zeros(n, dtype=bool)
    gap = np.empty(BLOCK, dtype=t.dtype)
    for lo in range(0, n - 1, BLOCK):
        hi = min(lo + BLOCK, n - 1)
        np.subtract(t[lo + 1 : hi + 1], t[lo:hi], out=gap[: hi - lo])
        np.greater_equal(gap[: hi - lo], threshold, out=out[lo:hi])
    out[starts[1:] - 1] = False
    return out


def counts_of(code: np.ndarray, codes: int) -> np.ndarray:
    """``np.bincount(code, minlength=codes)`` (int64 per code) a block at a time: bincount
    converts its input to int64 first, a whole-length temporary for narrow codes."""
    out = np.zeros(codes, dtype=np.int64)
    if code.dtype.itemsize == 8:
        out += np.bincount(code, minlength=codes)
        return out
    block = max(BLOCK, 8 * codes)  # each call also zeroes ``codes`` counters
    for lo in range(0, len(code), block):
        out += np.bincount(code[lo : lo + block], minlength=codes)
    return out


def _quantiles_of_many_groups(
    ordered: np.ndarray,
    bounds: np.ndarray,
    present: np.ndarray,
    tenths: Sequence[int],
    divisor: float | None,
) -> dict[int, list[float | None]] | None:
    """:func:`quantiles_in_groups` by one sort of ``group << b | value`` (non-negative
    integer values of at most ``b`` bits; None when they are not, or do not fit beside the
    group number in 63 bits): every group's values sorted at once, its quantiles read at
    computed positions — the same arithmetic as the selection (``quantile_position``),
    element-wise."""
    total = int(bounds[-1])
    values = ordered[:total]
    if values.dtype.kind not in "iu" or total == 0 or int(values.min()) < 0:
        return None
    shift = max(int(values.max()).bit_length(), 1)
    groups = len(bounds) - 1
    if shift + groups.bit_length() > 63:
        return None
    key = np.repeat(np.arange(groups, dtype=np.int64), np.diff(bounds))
    key <<= shift
    key |= values
    key.sort()
    key &= (1 << shift) - 1  # each group's values, ascending
    n = bounds[present + 1] - bounds[present]
    first = bounds[present]
    columns = []
    for t in tenths:
        scaled = (n - 1) * t
        lo_at = first + scaled // 10
        frac_at = (scaled % 10) / 10.0
        low = key[lo_at].astype(np.float64)
        high = key[np.minimum(lo_at + 1, first + n - 1)].astype(np.float64)
        if divisor is not None:
            low /= divisor
            high /= divisor
        columns.append(np.where(frac_at == 0, low, low + (high - low) * frac_at).tolist())
    return {g: [c[i] for c in columns] for i, g in enumerate(present.tolist())}


#: Buckets of :func:`gap_quantiles_by_buckets`: 0 for a gap of 0, else 1 + 16 per
#: octave (a float64's exponent and top 4 mantissa bits) — 1,009 at most for int64 gaps.
_BUCKETS = 1024
#: A float64's bits shifted right by 48 for 1.0 (exponent 1023, mantissa 0), less one.
_BELOW_ONE = (1023 << 4) - 1


def _bucket_of(gap: np.ndarray, out: np.ndarray) -> np.ndarray:
    """The bucket of each non-negative ``gap`` into ``out`` (int64): monotone in the
    gap, so a bucket's values all lie between the previous bucket's and the next's."""
    np.right_shift(gap.astype(np.float64).view(np.int64), 48, out=out)
    out -= _BELOW_ONE
    np.maximum(out, 0, out=out)
    return out


def gap_quantiles_by_buckets(
    code: np.ndarray,
    t: np.ndarray,
    codes: int,
    tenths: Sequence[int],
    divisor: float | None = None,
) -> tuple[np.ndarray, dict[int, list[float | None]]]:
    """Rows per code ``0 … codes-1`` (int64; rows of other codes are left out) and, per
    code present, the quantiles ``t / 10`` of its rows' gaps ``t[i + 1] − t[i]`` (row
    ``i`` of ``code``, ``len(code) < len(t)``; gaps ≥ 0), as :func:`quantiles_in_groups`
    of the gaps grouped by code — without ordering the rows.

    Selection in two blocked passes, as the engines' ``grouped_quantiles``: (1) counts
    per code and *bucket* of the gap (:func:`_bucket_of`, monotone, ~16 per octave); the
    cumulative counts place every rank a quantile reads in one bucket. (2) The rows of
    those few (code, bucket) cells are collected and sorted, and the ranks read off. No
    whole-length array is made (an argsort would make two of int64), and the sort is of
    a few percent of the rows for spread-out gaps (all of one code's when its gaps are
    equal: correct, only slower).
    """
    m = len(code)
    cells = (codes + 1) * _BUCKETS  # one code past the last: the rows left out
    per_cell = np.zeros(cells, dtype=np.int64)
    block = max(BLOCK, 1 << 18)
    gap = np.empty(block, dtype=np.int64)
    cell = np.empty(block, dtype=np.int64)

    for lo in range(0, m, block):
        hi = min(lo + block, m)
        g, c = gap[: hi - lo], cell[: hi - lo]
        np.subtract(t[lo + 1 : hi + 1], t[lo:hi], out=g)
        _bucket_of(g, c)
        c += _clipped(code[lo:hi], codes) * _BUCKETS
        per_cell += np.bincount(c, minlength=cells)
    counts_by = per_cell[: codes * _BUCKETS].reshape(codes, _BUCKETS)
    counts = counts_by.sum(axis=1)
    present = np.flatnonzero(counts)
    if len(present) == 0:
        return counts, {}
    # Per present code, the ranks each quantile reads (lower, upper) and the weight.
    n = counts[present]
    lows, highs, fracs = [], [], []
    for tt in tenths:
        scaled = (n - 1) * tt
        lows.append(scaled // 10)
        highs.append(np.minimum(scaled // 10 + 1, n - 1))
        fracs.append((scaled % 10) / 10.0)
    ranks = np.stack([*lows, *highs], axis=1)  # (present, 2 · quantiles)
    cum = counts_by[present].cumsum(axis=1)
    bucket = (cum[:, None, :] <= ranks[:, :, None]).sum(axis=2)
    before = np.where(bucket > 0, np.take_along_axis(cum, np.maximum(bucket - 1, 0), 1), 0)
    within = ranks - before
    wanted = present[:, None] * _BUCKETS + bucket  # cell of each rank
    # Dense numbers of the wanted cells (1-based; 0: not wanted), then pass 2.
    ids = np.unique(wanted)
    number = np.zeros(cells, dtype=np.int32)
    number[ids] = np.arange(1, len(ids) + 1, dtype=np.int32)
    got_cell, got_gap = [], []
    for lo in range(0, m, block):
        hi = min(lo + block, m)
        g, c = gap[: hi - lo], cell[: hi - lo]
        np.subtract(t[lo + 1 : hi + 1], t[lo:hi], out=g)
        _bucket_of(g, c)
        c += _clipped(code[lo:hi], codes) * _BUCKETS
        k = number[c]
        keep = np.flatnonzero(k)
        got_cell.append(k[keep])
        got_gap.append(g[keep])
    sel_cell = np.concatenate(got_cell).astype(np.int64)
    sel_gap = np.concatenate(got_gap)
    top = int(sel_gap.max()) if len(sel_gap) else 0
    shift = max(top.bit_length(), 1)
    if shift + len(ids).bit_length() + 1 <= 63:
        key = sel_cell << shift
        key |= sel_gap
        key.sort()
        sel_cell = key >> shift
        sel_gap = key & ((1 << shift) - 1)
    else:
        order = np.lexsort((sel_gap, sel_cell))
        sel_cell, sel_gap = sel_cell[order], sel_gap[order]
    first = np.searchsorted(sel_cell, np.arange(1, len(ids) + 1))
    at = first[np.searchsorted(ids, wanted)] + within
    value = sel_gap[at].astype(np.float64)
    if divisor is not None:
        value /= divisor
    q = len(tenths)
    columns = []
    for j in range(q):
        low, high, frac = value[:, j], value[:, q + j], fracs[j]
        columns.append(np.where(frac == 0, low, low + (high - low) * frac).tolist())
    return counts, {g: [c[i] for c in columns] for i, g in enumerate(present.tolist())}


def _clipped(code: np.ndarray, codes: int) -> np.ndarray:
    """``code`` as int64, every value outside ``0 … codes-1`` as ``codes``."""
    out = code.astype(np.int64)
    out[(out < 0) | (out > codes)] = codes
    return out


#: Up to this many codes, :func:`path_code_counts` ORs each path's codes into 64-bit
#: words (one blocked pass per 64 codes): cheaper than the radix order up to ~4 words.
WORD_CODES = 256


def path_code_counts(starts: np.ndarray, code: np.ndarray, codes: int) -> np.ndarray:
    """How many paths have each code ``0 … codes-1`` among their rows (int64 per code):
    path ``p``'s rows are ``starts[p]:starts[p + 1]`` (``starts`` increasing; rows past
    ``len(code)`` are none), rows of other codes are ignored.

    Per path, one 64-bit word per 64 codes: the OR of ``1 << (code − 64·w)`` over its
    rows (``bitwise_or.reduceat`` over each path's rows in a block; a path straddling two
    blocks gets both ORs), then the paths counted per bit (:func:`bit_counts`). A shift
    outside 0…63 (another word's code, a code left out) gives 0 in numpy.

    >>> path_code_counts(np.array([0, 2, 3, 5]), np.array([1, 1, 1, 0, 70]), 72)[[0, 1, 70]]
    array([1, 2, 1])
    """
    m = len(code)
    n_words = max(-(-codes // 64), 1)
    paths = len(starts) - 1
    words = np.zeros((n_words, paths), dtype=np.uint64)
    shift = np.empty(BLOCK, dtype=np.int64)
    bits = np.empty(BLOCK, dtype=np.uint64)
    for lo in range(0, m, BLOCK):
        hi = min(lo + BLOCK, m)
        # the paths with rows in [lo, hi) and where each one's rows begin there
        p0 = int(np.searchsorted(starts, lo, side="right")) - 1
        p1 = int(np.searchsorted(starts, hi - 1, side="right"))
        firsts = np.maximum(starts[p0:p1], lo) - lo
        for w in range(n_words):
            s, b = shift[: hi - lo], bits[: hi - lo]
            np.subtract(code[lo:hi], 64 * w, out=s, dtype=np.int64)
            np.left_shift(1, s, out=b, dtype=np.uint64, casting="unsafe")
            words[w, p0:p1] |= np.bitwise_or.reduceat(b, firsts)
    counts = [bit_counts(words[w], 64) for w in range(n_words)]
    return np.concatenate(counts)[:codes]
