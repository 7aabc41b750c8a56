"""Measured emotion: the experience signal of each step on the designed map's −2 … +2 scale
(METRICS.md, "Measured emotion").

Each survey score and each scored text is one signal:

- NPS (0–10): (s − 5)/2.5;  CSAT (1–5): s − 3;  CES (1–7): (s − 4)/1.5;
- text: VADER compound sentiment (−1 … 1) × 2.

The measured emotion of a location is the mean of its signals, reported with N (and with
how many came from scores and from texts) beside the designed emotion of the step, and the
gap measured − designed. Signals are placed like survey answers
(:func:`journeylens.analytics.survey.locate_answers`: ``properties.touchpoint`` /
``properties.stage`` first, else the binding).

Text sentiment: if the events carry a ``sentiment`` column (VADER compound, e.g. computed
upstream by ``journeylens.insights``), it is used in the engine. Otherwise the rows that
have ``text`` (comments, tickets, mentions — a small share of events) are scored here with
the ``vaderSentiment`` lexicon, which ships with the package and works offline; only those
rows' location and text leave the engine.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, ClassVar, Literal

import narwhals as nw
import pyarrow as pa

from journeylens.analytics._common import AnalyticsError, collect_rows
from journeylens.analytics._results import RowResult, map_positions
from journeylens.analytics.survey import LOC_STAGE, LOC_STEP, LOC_TOUCHPOINT, locate_answers
from journeylens.engine.frames import with_value_scores
from journeylens.model import JourneyMap

EmotionLevel = Literal["stage", "step", "touchpoint"]
SENTIMENT = "sentiment"
_LOC = {"stage": LOC_STAGE, "step": LOC_STEP, "touchpoint": LOC_TOUCHPOINT}


def score_signal() -> nw.Expr:
    """The −2 … +2 signal of a survey score (null for rows without a known score type).

    >>> import polars as pl
    >>> lf = nw.from_native(pl.LazyFrame({"score": [10.0, 1.0, 7.0, None],
    ...     "score_type": ["nps", "csat", "ces", "nps"]}))
    >>> lf.select(score_signal().alias("x")).collect()["x"].to_list()
    [2.0, -2.0, 2.0, None]
    """
    s, t = nw.col("score").cast(nw.Float64), nw.col("score_type")
    return (
        nw.when(t == "nps")
        .then((s - 5.0) / 2.5)
        .otherwise(
            nw.when(t == "csat")
            .then(s - 3.0)
            .otherwise(
                nw.when(t == "ces").then((s - 4.0) / 1.5).otherwise(nw.lit(None, dtype=nw.Float64))
            )
        )
    )


@lru_cache(maxsize=1)
def _analyzer() -> Any:
    from vaderSentiment.vaderSentiment import (  # type: ignore[import-untyped]
        SentimentIntensityAnalyzer,
    )

    return SentimentIntensityAnalyzer()


def vader_compound(texts: Iterable[str]) -> list[float]:
    """VADER compound sentiment (−1 … 1) of each text (offline, lexicon shipped with the package).

    >>> [v > 0.5 for v in vader_compound(["Great, friendly and fast service!", "awful, broken"])]
    [True, False]
    """
    analyzer = _analyzer()
    return [float(analyzer.polarity_scores(t)["compound"]) for t in texts]


def with_sentiment(lf: nw.LazyFrame[Any], *, column: str = "text") -> nw.LazyFrame[Any]:
    """The events with a ``sentiment`` column: the VADER compound (−1 … 1) of their text.

    Each distinct text is scored once (texts repeat a lot), and :func:`measured_emotion`
    then reads the column in the engine instead of scoring row by row. Rows without text
    get null.

    >>> import polars as pl
    >>> lf = nw.from_native(pl.LazyFrame({"text": ["Great, friendly and fast!", None]}))
    >>> rows = nw.to_native(with_sentiment(lf).collect()).rows()  # a join keeps no row order
    >>> scores = {text: score for text, score in rows}
    >>> scores["Great, friendly and fast!"] > 0.5, scores[None] is None
    (True, True)
    """
    return with_value_scores(lf, vader_compound, column=column, out=SENTIMENT)


@dataclass(frozen=True)
class EmotionRow:
    """Measured emotion at one location, with N and the designed emotion beside it."""

    location: str | None
    n: int
    n_scores: int
    n_texts: int
    measured: float | None
    designed: float | None
    gap: float | None


@dataclass(frozen=True)
class MeasuredEmotion(RowResult[EmotionRow]):
    """Measured emotion per location (map order first, then unplaced signals as ``None``);
    ``to_frame()`` gives one row per location."""

    level: str
    rows: tuple[EmotionRow, ...]
    frame_schema: ClassVar[dict[str, pa.DataType]] = {
        "location": pa.string(),
        "n": pa.int64(),
        "n_scores": pa.int64(),
        "n_texts": pa.int64(),
        "measured": pa.float64(),
        "designed": pa.float64(),
        "gap": pa.float64(),
    }

    def get(self, location: str | None) -> EmotionRow | None:
        """The row of one location, if it has any signal."""
        return self.find(location=location)


def measured_emotion(
    events: nw.LazyFrame[Any],
    *,
    journey_map: JourneyMap | None = None,
    level: EmotionLevel = "step",
    text_sentiment: bool = True,
) -> MeasuredEmotion:
    """Mean −2 … +2 experience signal per stage, step or touchpoint (module docstring).

    >>> import polars as pl
    >>> ev = pl.LazyFrame({"step_id": ["pay", "pay", "pay"], "score": [10.0, 2.0, None],
    ...     "score_type": ["nps", "csat", None], "text": [None, None, None]})
    >>> r = measured_emotion(nw.from_native(ev))
    >>> row = r.get("pay"); row.n, row.measured  # (2 + (−1)) / 2
    (2, 0.5)
    """
    if level not in _LOC:
        raise AnalyticsError(f"level must be one of stage, step, touchpoint; got {level!r}")
    names = events.collect_schema().names()
    lf = events
    for column, dtype in (("score", nw.Float64), ("score_type", nw.String), ("text", nw.String)):
        if column not in names:
            lf = lf.with_columns(nw.lit(None, dtype=dtype).alias(column))
    lf = locate_answers(lf, journey_map)
    loc = _LOC[level]
    has_sentiment = SENTIMENT in names
    lf = lf.with_columns(
        score_signal().alias("_ss"),
        (
            nw.col(SENTIMENT).cast(nw.Float64) * 2.0
            if has_sentiment
            else nw.lit(None, dtype=nw.Float64)
        ).alias("_ts"),
    )
    sums: dict[str | None, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0, 0.0])
    for r in collect_rows(
        lf.filter(~nw.col("_ss").is_null() | ~nw.col("_ts").is_null())
        .group_by(loc)
        .agg(
            nw.col("_ss").sum().alias("ss"),
            nw.col("_ss").count().alias("ns"),
            nw.col("_ts").sum().alias("ts"),
            nw.col("_ts").count().alias("nt"),
        )
    ):
        acc = sums[r[loc]]
        acc[0] += float(r["ss"] or 0.0)
        acc[1] += int(r["ns"] or 0)
        acc[2] += float(r["ts"] or 0.0)
        acc[3] += int(r["nt"] or 0)
    if text_sentiment and not has_sentiment:
        text_rows = collect_rows(
            lf.filter(~nw.col("text").is_null() & (nw.col("text") != "")).select(loc, "text")
        )
        scores = vader_compound(str(r["text"]) for r in text_rows)
        for r, v in zip(text_rows, scores, strict=True):
            acc = sums[r[loc]]
            acc[2] += 2.0 * v
            acc[3] += 1

    designed: dict[str, float] = {}
    position = map_positions(journey_map, level)
    if journey_map is not None:
        for _stage, step in journey_map.iter_steps():
            if step.emotion is not None:
                designed[step.id] = step.emotion.score
        for _stage, step, tp in journey_map.iter_touchpoints():
            if level == "touchpoint" and step.emotion is not None:
                designed.setdefault(tp.id, step.emotion.score)
        if level == "stage":
            designed = {}
            for stage in journey_map.stages:
                scores_ = [s.emotion.score for s in stage.steps if s.emotion is not None]
                if scores_:
                    designed[stage.id] = sum(scores_) / len(scores_)

    rows = []
    for location, (ss, ns, ts, nt) in sums.items():
        n = int(ns + nt)
        if n == 0:
            continue
        mean = (ss + ts) / n
        key = None if location is None else str(location)
        d = designed.get(key) if key is not None else None
        rows.append(EmotionRow(key, n, int(ns), int(nt), mean, d, None if d is None else mean - d))
    rows.sort(
        key=lambda r: (
            r.location is None,
            position.get(r.location or "", len(position)),
            r.location or "",
        )
    )
    return MeasuredEmotion(level=level, rows=tuple(rows))
