"""What the row-shaped analytics results share: a frozen tuple of rows, lookup of one row,
``to_dict`` / ``to_frame``, and rows placed in map order.

:class:`RowResult` is a base for frozen dataclasses holding their rows in one tuple field
(``rows``, or the field named by ``rows_field``); each result class only names its frame
schema (``frame_schema``) and the fields its ``get`` looks up.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from typing import Any, ClassVar, Generic, TypeVar, cast

import pyarrow as pa

from journeylens.analytics._common import table
from journeylens.analytics.conformance import MapOrder
from journeylens.model import JourneyMap

R = TypeVar("R")


class RowResult(Generic[R]):
    """Base of a frozen dataclass result whose ``rows_field`` is a ``tuple[R, ...]`` of
    dataclass rows.

    >>> from dataclasses import dataclass
    >>> @dataclass(frozen=True)
    ... class Row:
    ...     location: str
    ...     n: int
    >>> @dataclass(frozen=True)
    ... class Result(RowResult[Row]):
    ...     rows: tuple[Row, ...]
    ...     frame_schema: ClassVar[dict[str, pa.DataType]] = {
    ...         "location": pa.string(), "n": pa.int64()}
    >>> r = Result((Row("a", 1), Row("b", 2)))
    >>> r.find(location="b"), r.to_dict(), r.to_frame().num_rows
    (Row(location='b', n=2), {'rows': ({'location': 'a', 'n': 1}, {'location': 'b', 'n': 2})}, 2)
    """

    #: Column name → arrow type of :meth:`to_frame` (the row fields, in order).
    frame_schema: ClassVar[Mapping[str, pa.DataType]]
    #: The dataclass field holding the rows.
    rows_field: ClassVar[str] = "rows"

    def _rows(self) -> tuple[R, ...]:
        return cast("tuple[R, ...]", getattr(self, self.rows_field))

    def find(self, **fields: Any) -> R | None:
        """The first row whose fields equal ``fields``, if any."""
        for row in self._rows():
            if all(getattr(row, k) == v for k, v in fields.items()):
                return row
        return None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict."""
        return asdict(cast(Any, self))

    def to_frame(self) -> pa.Table:
        """One row per result row, with the class's fixed schema (also when empty)."""
        return table([asdict(cast(Any, r)) for r in self._rows()], self.frame_schema)


def map_positions(journey_map: JourneyMap | None, level: str) -> dict[str, int]:
    """Position in map order of each stage, step or touchpoint id (``{}`` without a map).

    >>> m = JourneyMap.model_validate({"id": "m", "title": "M", "stages": [
    ...     {"id": "s1", "name": "S1", "steps": [{"id": "a", "name": "A"}, {"id": "b", "name": "B"}]}]})
    >>> map_positions(m, "step"), map_positions(None, "step")
    ({'a': 0, 'b': 1}, {})
    """
    if journey_map is None:
        return {}
    order = MapOrder.of(journey_map)
    ids = {"stage": order.stages, "step": order.steps, "touchpoint": order.touchpoints}[level]
    return {loc: i for i, loc in enumerate(ids)}
