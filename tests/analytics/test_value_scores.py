"""Scoring each distinct text once and joining the scores back, on every engine."""

from __future__ import annotations

from typing import Any

import narwhals as nw
import pyarrow as pa
import pytest

from journeylens.analytics.emotion import with_sentiment
from journeylens.engine.frames import with_value_scores

from .conftest import Make, builder


def _scored(lf: nw.LazyFrame[Any]) -> list[tuple[int, Any]]:
    rows = lf.select("id", "score").collect().rows()
    return sorted((int(r[0]), r[1]) for r in rows)


def _length_scorer(calls: list[list[str]]) -> Any:
    def score(values: list[str]) -> list[float]:
        calls.append(list(values))
        return [float(len(v)) for v in values]

    return score


def test_each_distinct_value_is_scored_once_and_joined_back(make: Make) -> None:
    lf = make({"id": [1, 2, 3, 4, 5], "text": ["ok", None, "ok", "bad", 'say "hi"']})
    calls: list[list[str]] = []
    out = with_value_scores(lf, _length_scorer(calls), column="text", out="score")
    # Hand-computed: len("ok") = 2, len("bad") = 3, len('say "hi"') = 8; null text → null.
    assert _scored(out) == [(1, 2.0), (2, None), (3, 2.0), (4, 3.0), (5, 8.0)]
    assert calls == [["bad", "ok", 'say "hi"']]  # distinct, sorted, nulls left out


def test_same_result_on_spark(request: pytest.FixtureRequest) -> None:
    build = builder("spark", request)
    lf = build(pa.table({"id": [1, 2, 3], "text": ["ok", None, "bad"]}))
    out = with_value_scores(lf, _length_scorer([]), column="text", out="score")
    assert _scored(out) == [(1, 2.0), (2, None), (3, 3.0)]


def test_a_scorer_returning_the_wrong_number_of_scores_is_an_error(make: Make) -> None:
    lf = make({"id": [1], "text": ["ok"]})
    with pytest.raises(ValueError, match="scorer returned 0 scores for 1 values"):
        with_value_scores(lf, lambda v: [], column="text", out="score")


def test_with_sentiment_adds_vader_compound(make: Make) -> None:
    lf = make(
        {"id": [1, 2, 3], "text": ["Great, friendly and fast service!", "awful, broken", None]}
    )
    rows = dict(_scored(with_sentiment(lf).rename({"sentiment": "score"})))
    assert rows[1] > 0.5
    assert rows[2] < -0.5
    assert rows[3] is None
