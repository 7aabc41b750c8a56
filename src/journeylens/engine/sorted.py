"""One sort of the events by (unit, time), handed over as arrays (DuckDB).

The analytics' path frame is the events of each unit in ``(occurred_at, seq)`` order. A SQL
engine keeps no row order between queries, so it pairs each event with its neighbours by a
window (a sort per query that needs them). Here DuckDB sorts once, by small integer keys — the
unit's position among the sorted distinct unit ids, found by a join with those few ids — and
the rows come back as Arrow / numpy arrays in that order, where the order stays: every
later pass over them is linear (see :mod:`journeylens.analytics._arrays`).

Measured at 10M events on DuckDB 2.0 (2 cores): the sort to arrays of (unit key, time, seq,
label code, touchpoint index) 1.0–1.2 s, against 2.0–2.4 s for sorting the events table by
(customer_id, occurred_at, seq); the partitioned window that numbers the same rows 3.1–3.3 s.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import narwhals as nw
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from journeylens.engine.frames import _lazy, _quote, engine_of

#: Code of a null in the integer code arrays.
NONE = -1


@dataclass(frozen=True)
class SortedColumns:
    """Rows sorted by (unit, order columns), as arrays.

    ``units``: the distinct unit ids, ascending; ``starts`` (int64, length units + 1): unit
    ``u``'s rows are ``starts[u]:starts[u + 1]``. ``label``: the coded column's value per row
    as a position in ``label_values`` (its distinct texts, ascending), :data:`NONE` for
    null. ``ints``: each integer column asked for, as int32 with nulls as :data:`NONE`.
    ``payload``: every other column asked for, as Arrow arrays in row order (the ``codes``
    columns as dictionary arrays).
    """

    units: pa.Array
    starts: np.ndarray
    label: np.ndarray
    label_values: tuple[str, ...]
    ints: dict[str, np.ndarray]
    payload: dict[str, pa.ChunkedArray]
    #: The ``epoch`` column as int64 epoch microseconds (None when not asked, or when it has
    #: nulls).
    t_us: np.ndarray | None = None


def rows_and_text_bytes(lf: nw.LazyFrame[Any], texts: Sequence[str] = ()) -> tuple[int, int]:
    """Number of rows of a DuckDB-backed lazy frame and the bytes of its ``texts`` columns'
    values (UTF-8; one aggregate, reading only those columns)."""
    sums = [f"coalesce(sum(strlen(CAST({_quote(c)} AS VARCHAR))), 0)" for c in texts]
    row = nw.to_native(lf).aggregate(", ".join(["count(*)", *sums])).fetchall()[0]
    return int(row[0]), sum(int(v) for v in row[1:])


def sort_to_arrays(
    lf: nw.LazyFrame[Any],
    unit: str,
    order: Sequence[str],
    *,
    label: str,
    ints: Sequence[str] = (),
    payload: Sequence[str] = (),
    codes: Sequence[str] = (),
    epoch: str | None = None,
) -> SortedColumns | None:
    """Sort ``lf`` (a DuckDB-backed frame) by ``unit`` then ``order`` (ascending, nulls first)
    once and return its columns in that order (:class:`SortedColumns`).

    ``unit`` must have no nulls. ``label`` is returned as codes of its text; ``ints`` as
    int32 (values must fit); ``payload`` as they are; ``codes`` (text columns, also listed
    in ``payload``) as dictionary arrays — int32 positions in their sorted distinct texts,
    which move through the sort and come back as four bytes a row instead of the text.
    ``epoch``: a timestamp column of
    microsecond precision, sorted by and returned as ``t_us`` (epoch microseconds) only —
    one integer moved by the sort instead of the timestamp and a copy of it. Only DuckDB:
    the other engines keep their path frame in the engine. None when DuckDB cannot hand
    the rows over (e.g. Python replacement scans switched off on the connection).
    """
    if engine_of(lf) != "duckdb":
        raise ValueError("sort_to_arrays needs a DuckDB-backed frame")
    native = nw.to_native(lf)
    q = _quote
    coded = [label, *[c for c in codes if c != label]]
    # The distinct units and coded values in one scan (small hash sets), ordered in Arrow.
    lists = ", ".join(
        f"list(DISTINCT CAST({q(c)} AS VARCHAR)) AS _jl_v{i}" for i, c in enumerate(coded)
    )
    found = native.query(
        "_jl_src", f"SELECT list(DISTINCT CAST({q(unit)} AS VARCHAR)) AS u, {lists} FROM _jl_src"
    ).to_arrow_table()
    units = _sorted_texts(found.column("u"))
    values = [_sorted_texts(found.column(f"_jl_v{i}")) for i in range(len(coded))]
    # Read by DuckDB by name (replacement scans) in the query below: the small tables that
    # turn each unit id and each coded text into its position (joins on few keys).
    _jl_units = pa.table({"v": units, "k": pa.array(np.arange(len(units), dtype=np.int32))})
    _jl_codes = pa.table(
        {
            "c": pa.array(
                np.repeat(np.arange(len(coded), dtype=np.int32), [len(v) for v in values])
            ),
            "v": pa.concat_arrays([v.cast(pa.string()) for v in values]) if coded else [],
            "k": pa.array(np.concatenate([np.arange(len(v), dtype=np.int32) for v in values])),
        }
    )
    cols = [
        "u.k AS _jl_k",
        *[f"coalesce(d{i}.k, {NONE}) AS _jl_c{i}" for i in range(len(coded))],
        *[f"CAST(coalesce(e.{q(c)}, {NONE}) AS INTEGER) AS {q(c)}" for c in ints],
        *[f"e.{q(c)}" for c in payload if c not in coded],
        *([f"epoch_us(e.{q(epoch)}) AS _jl_t"] if epoch else []),
    ]
    # epoch_us keeps the order of a microsecond timestamp: sorting by it is the same.
    keys = ["_jl_t" if c == epoch else f"e.{q(c)}" for c in order]
    by = ", ".join(["u.k", *[f"{k} ASC NULLS FIRST" for k in keys]])
    joins = " ".join(
        f"LEFT JOIN _jl_codes AS d{i} ON d{i}.c = {i} AND CAST(e.{q(c)} AS VARCHAR) = d{i}.v"
        for i, c in enumerate(coded)
    )
    sql = (
        f"SELECT {', '.join(cols)} FROM _jl_src AS e "
        f"JOIN _jl_units AS u ON CAST(e.{q(unit)} AS VARCHAR) = u.v {joins} "
        f"ORDER BY {by}"
    )
    import duckdb

    try:
        got = native.query("_jl_src", sql).to_arrow_table()
    except duckdb.CatalogException:  # the small tables cannot be read by name here
        return None
    key = _numpy(got.column("_jl_k"), np.int32)
    counts = np.bincount(key, minlength=len(units)) if len(key) else np.zeros(0, np.int64)
    starts = np.zeros(len(units) + 1, dtype=np.int64)
    np.cumsum(counts, out=starts[1:])
    t_us = None
    if epoch and not got.column("_jl_t").null_count:
        t_us = _numpy(got.column("_jl_t"), np.int64)
    kept: dict[str, Any] = {c: got.column(c) for c in payload if c not in coded}
    for i, c in enumerate(coded):
        if c in payload:
            at = _numpy(got.column(f"_jl_c{i}"), np.int32)
            indices = pa.array(at, pa.int32(), mask=at == NONE)
            kept[c] = pa.DictionaryArray.from_arrays(indices, values[i].cast(pa.string()))
    return SortedColumns(
        t_us=t_us,
        units=units,
        starts=starts,
        label=_numpy(got.column("_jl_c0"), np.int32),
        label_values=tuple(values[0].to_pylist()),
        ints={c: _numpy(got.column(c), np.int32) for c in ints},
        payload=kept,
    )


def _sorted_texts(column: pa.ChunkedArray) -> pa.Array:
    """The distinct texts of a one-row list column, ascending, without null."""
    values = column.combine_chunks().flatten() if len(column) else pa.array([], pa.string())
    values = values.drop_null().cast(pa.string())
    return values.take(pc.sort_indices(values))


def _numpy(column: pa.ChunkedArray, dtype: Any) -> np.ndarray:
    """An Arrow column without nulls as a numpy array of ``dtype``."""
    arr = column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
    return np.asarray(arr.to_numpy(zero_copy_only=False), dtype=dtype)


def epoch_us(column: pa.ChunkedArray) -> np.ndarray | None:
    """A timestamp column as int64 epoch microseconds; None when it has nulls or is not a
    timestamp (the caller then keeps the engine's own path)."""
    if not pa.types.is_timestamp(column.type) or column.null_count:
        return None
    arr = column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
    # A timestamp's values are int64 counts of its unit: read the buffer as such.
    raw = np.frombuffer(arr.buffers()[1], dtype=np.int64, count=len(arr), offset=8 * arr.offset)
    unit = column.type.unit
    if unit == "us":
        return raw
    if unit == "ns":  # floored to microseconds, as the engines' epoch_us does
        out: np.ndarray = np.floor_divide(raw, 1000)
        return out
    return raw * (1_000_000 if unit == "s" else 1_000)


def arrow_relation(lf: nw.LazyFrame[Any], table: pa.Table) -> nw.LazyFrame[Any]:
    """A lazy frame over ``table``: a DuckDB relation on the connection of ``lf``'s that
    scans the Arrow buffers (no copy into the engine) and keeps ``table`` alive."""
    _jl_frame = table  # read by name (replacement scan) in the query below
    return _lazy(nw.to_native(lf).query("_jl_src", "SELECT * FROM _jl_frame"))


def masked(values: np.ndarray, invalid: np.ndarray, type_: pa.DataType | None = None) -> pa.Array:
    """A numpy array as an Arrow array with nulls where ``invalid`` (zero copy of the values)."""
    return pa.array(values, type=type_, mask=invalid)


def dictionary(codes: np.ndarray, values: pa.Array) -> pa.Array:
    """Codes into ``values`` (:data:`NONE` = null) as an Arrow dictionary array: text
    columns without repeating each text per row."""
    indices = pa.array(codes, pa.int32(), mask=codes == NONE)
    return pa.DictionaryArray.from_arrays(indices, values)
