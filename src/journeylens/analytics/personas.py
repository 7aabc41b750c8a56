"""Events tagged with the map's personas: per-persona breakdowns without a prepared column.

A persona's customers are those its ``segment`` rule accepts on the customer attributes
(:meth:`journeylens.analytics.binding.Population.for_persona`: columns of the customers
frame, else keys of its JSON ``attributes``; a persona without a segment rule covers every
customer, and every event). :func:`with_personas` gives each event one row per persona its
customer belongs to, with the persona id in a column — what survey metrics by persona and
channel use per persona group by. A customer in two personas counts in both; events of
customers no persona accepts are left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import narwhals as nw

from journeylens.analytics._common import AnalyticsError
from journeylens.analytics.binding import Population
from journeylens.model import Persona

PERSONA = "persona"


def with_personas(
    events: nw.LazyFrame[Any], personas: Sequence[Persona], customers: Any, *, column: str = PERSONA
) -> nw.LazyFrame[Any]:
    """The events of each persona's customers, with the persona id in ``column``.

    ``events`` carry ``customer_id``; ``customers`` is the customer attribute frame (the
    workspace's ``customers`` table, or any frame with ``customer_id``), on the same engine.

    >>> import polars as pl
    >>> from journeylens.model import Persona
    >>> young = Persona.model_validate({"id": "young", "name": "Young",
    ...     "segment": {"field": "generation", "op": "in", "value": ["gen_z"]}})
    >>> everyone = Persona.model_validate({"id": "all", "name": "All"})
    >>> ev = pl.LazyFrame({"customer_id": ["a", "b", "c"], "channel": ["web", "app", "web"]})
    >>> cu = pl.LazyFrame({"customer_id": ["a", "b"], "generation": ["gen_z", "boomer"]})
    >>> out = with_personas(nw.from_native(ev), [young, everyone], cu)
    >>> out.collect().sort("persona", "customer_id").select("persona", "customer_id").rows()
    [('all', 'a'), ('all', 'b'), ('all', 'c'), ('young', 'a')]
    """
    if not personas:
        raise AnalyticsError("per-persona breakdowns need at least one persona (*.persona.yaml)")
    lf = events
    if column in lf.collect_schema().names():
        lf = lf.drop(column)
    parts = [
        Population.for_persona(p)
        .apply(lf, customers if p.segment is not None else None)
        .with_columns(nw.lit(p.id, dtype=nw.String).alias(column))
        for p in personas
    ]
    return parts[0] if len(parts) == 1 else nw.concat(parts, how="vertical")
