"""bind's lookup of event names (rules on the event name only) gives the same binding as
testing every rule on every event (the path Spark and rules on other fields take)."""

from __future__ import annotations

from typing import Any

import duckdb
import narwhals as nw
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import journeylens.analytics.binding as binding
from journeylens.analytics import bind
from journeylens.model import JourneyMap


def _map(rules: list[list[str]]) -> JourneyMap:
    return JourneyMap.model_validate(
        {
            "id": "m",
            "title": "M",
            "stages": [
                {
                    "id": "s",
                    "name": "S",
                    "steps": [
                        {
                            "id": f"st{i}",
                            "name": f"St{i}",
                            "touchpoints": [
                                {
                                    "id": f"tp{i}",
                                    "name": f"Tp{i}",
                                    "channel": "web",
                                    "match": [{"event": names}] if names else [],
                                }
                            ],
                        }
                        for i, names in enumerate(rules)
                    ],
                }
            ],
        }
    )


def _bound(engine: str, names: list[str | None], jm: JourneyMap) -> list[tuple[Any, ...]]:
    polars = pl.DataFrame(
        {
            "customer_id": ["c"] * len(names),
            "event_name": pl.Series(names, dtype=pl.String),
            "occurred_at": pl.Series([0] * len(names), dtype=pl.Datetime("us")),
            "seq": list(range(len(names))),
        }
    )
    if engine == "duckdb":
        frame: Any = duckdb.connect().from_arrow(polars.to_arrow())
    else:
        frame = polars.lazy()
    out = bind(nw.from_native(frame), jm).select("seq", "touchpoint_index", "step_id")
    return sorted(out.collect().rows())


def _slow(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(binding, "with_value_lookup", lambda *a, **k: None)


@pytest.mark.parametrize("engine", ["duckdb", "polars"])
def test_hand_computed_precedence(engine: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """An exact name of a later touchpoint that an earlier glob matches goes to the
    earlier one; a trailing line break is part of the name (no glob end matches it)."""
    jm = _map([["pa?e"], ["page", "buy"], ["b*"], []])
    names = ["page", "buy", "bz", "pa\ne", "page\n", None, "x"]
    calls: list[Any] = []
    lookup = binding.with_value_lookup

    def spy(*args: Any, **kwargs: Any) -> Any:
        calls.append(args[2])
        return lookup(*args, **kwargs)

    monkeypatch.setattr(binding, "with_value_lookup", spy)
    want = [
        (0, 0, "st0"),  # page: tp0's glob pa?e matches it before tp1's exact name
        (1, 1, "st1"),  # buy: tp1's exact name before tp2's glob
        (2, 2, "st2"),
        (3, 0, "st0"),  # ? matches a line break
        (4, None, None),
        (5, None, None),
        (6, None, None),
    ]
    assert _bound(engine, names, jm) == want
    assert calls == [{"page": 0, "buy": 1}]  # the lookup was taken, with these names
    _slow(monkeypatch)
    assert _bound(engine, names, jm) == want


names_st = st.sampled_from(["page", "page_view", "pa", "buy", "b", "ü", "a.b", "a\nb", "x*y"])
rule_st = st.lists(
    st.lists(
        st.sampled_from(["page", "page_*", "pa?e", "b*", "buy", "a.b", "[!p]*", "ü"]), max_size=3
    ),
    min_size=1,
    max_size=4,
)


@settings(max_examples=40, deadline=None)
@given(rules=rule_st, names=st.lists(st.one_of(st.none(), names_st), max_size=12))
def test_lookup_equals_testing_every_rule(rules: list[list[str]], names: list[str | None]) -> None:
    jm = _map(rules)
    for engine in ("duckdb", "polars"):
        fast = _bound(engine, names, jm)
        with pytest.MonkeyPatch.context() as mp:
            _slow(mp)
            assert _bound(engine, names, jm) == fast, engine
