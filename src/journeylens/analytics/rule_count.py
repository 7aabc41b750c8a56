"""How many events and customers a touchpoint's match rules select (the editor's live count).

The rules are compiled exactly as :func:`~journeylens.analytics.binding.bind` compiles them,
so the count is what the touchpoint would match on its own. It does not apply binding's
"first touchpoint in map order wins": an event an earlier touchpoint also matches is
counted here too (the editor shows what the rule selects, not what the map assigns).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import reduce
from typing import Any

import narwhals as nw

from journeylens.analytics._common import as_events, collect_rows
from journeylens.analytics.binding import compile_match, prepare_matches
from journeylens.model import MatchRule


@dataclass(frozen=True)
class RuleCount:
    """Events any of the rules match, and the distinct customers among them (events with
    no customer id count as events only)."""

    events: int
    customers: int


def count_rule_matches(events: Any, rules: Sequence[MatchRule]) -> RuleCount:
    """Count the events that any rule in ``rules`` matches (OR, as a touchpoint's ``match``).

    >>> import polars as pl
    >>> from datetime import datetime
    >>> ev = pl.DataFrame({"customer_id": ["a", "a", "b", None],
    ...     "event_name": ["page_view", "purchase", "page_view", "page_view"],
    ...     "occurred_at": [datetime(2024, 1, 1, h) for h in (1, 2, 3, 4)]})
    >>> count_rule_matches(ev, [MatchRule(event="page_*")])
    RuleCount(events=3, customers=2)
    >>> count_rule_matches(ev, [])
    RuleCount(events=0, customers=0)
    """
    if not rules:
        return RuleCount(0, 0)
    lf, fields = prepare_matches(as_events(events), list(rules), owner="touchpoint")
    condition = reduce(lambda a, b: a | b, [compile_match(r, fields) for r in rules])
    matched = lf.filter(condition)
    n_events = collect_rows(matched.select(nw.len().alias("n")))[0]["n"]
    n_customers = collect_rows(
        matched.filter(~nw.col("customer_id").is_null()).select(
            nw.col("customer_id").n_unique().alias("n")
        )
    )[0]["n"]
    return RuleCount(int(n_events or 0), int(n_customers or 0))
