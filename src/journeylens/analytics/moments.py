"""Moments of truth: the steps or touchpoints where the quality of the experience moves the
outcome most (METRICS.md, "Moments of truth").

At each location (a step or a touchpoint) the units that were there split into those with a
**good** and those with a **bad** experience, from one of two signals:

- ``survey``: the unit's survey answers placed at that location (placement as in
  :func:`journeylens.analytics.survey.locate_answers`). Per answer, by score type:

  ======  ==========  =========  ==========================================
  type    good        bad        why
  ======  ==========  =========  ==========================================
  nps     9–10        0–6        promoters vs detractors (passives neither)
  csat    4–5         1–2        satisfied vs dissatisfied (3 neither)
  ces     5–7         1–3        easy vs hard (4 neither)
  ======  ==========  =========  ==========================================

  Only answers given within ``survey_horizon`` (default 7 days) of the unit's first event
  at that location count: the signal is the experience of the unit's first visit there, as
  for ``pain``. A later answer exists only for a unit still active then, so counting it
  would credit the location with the unit's survival (a retained customer answering a
  support survey months later has, by definition, not churned); ``survey_horizon=None``
  counts every answer. The first event is the earliest bound event at the location or
  answer placed there. A unit with at least one bad answer there had a bad experience (one
  bad moment is remembered); else with at least one good answer a good one; units with
  only neutral answers are left out.
- ``pain``: the presence of a pain event (default ``error``, ``ticket_opened``; any
  ``event_name`` you list) at or after the unit's first event at that location and within
  ``pain_horizon`` (default 7 days) of it: bad with one, good without.

Effect = outcome rate of good − outcome rate of bad, with a 95% Wald CI
(± 1.96·sqrt(p_g(1−p_g)/n_g + p_b(1−p_b)/n_b)). The p-value follows the outcome comparison
rule on the table [[positive good, positive bad], [negative good, negative bad]] (Fisher when
any cell < 5, else chi-square 1 df); Benjamini–Hochberg across every location and signal
tested; a location is tested when it has at least one good and one bad unit and
``min_support`` (default 25) units in all. Moments rank by |effect| among those with
q ≤ 0.05, then the rest by q.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, ClassVar, Literal

import narwhals as nw
import pyarrow as pa

from journeylens.analytics import stats
from journeylens.analytics._common import UNIT_ID, AnalyticsError, collect_rows
from journeylens.analytics._results import RowResult
from journeylens.analytics.outcomes import ALPHA, MIN_SUPPORT, _outcome_units
from journeylens.analytics.survey import LOC_STEP, LOC_TOUCHPOINT, locate_answers, survey_answers
from journeylens.engine.frames import EVENT, TIME_US, cache, with_epoch_us
from journeylens.model import JourneyMap

Level = Literal["step", "touchpoint"]
Signal = Literal["survey", "pain"]
DEFAULT_PAIN_EVENTS: tuple[str, ...] = ("error", "ticket_opened")
DEFAULT_PAIN_HORIZON = timedelta(days=7)
DEFAULT_SURVEY_HORIZON = timedelta(days=7)

#: (good at or above, bad at or below) per score type.
THRESHOLDS: dict[str, tuple[float, float]] = {"nps": (9, 6), "csat": (4, 2), "ces": (5, 3)}


@dataclass(frozen=True)
class Moment:
    """One location and signal: good vs bad units and the difference in outcome rate."""

    level: str
    location: str
    signal: str
    n_good: int
    positive_good: int
    n_bad: int
    positive_bad: int
    rate_good: float | None
    rate_bad: float | None
    effect: float | None
    low: float | None
    high: float | None
    p_value: float | None
    test: str | None
    q_value: float | None
    significant: bool
    flag: str | None


_F, _I, _S = pa.float64(), pa.int64(), pa.string()


@dataclass(frozen=True)
class MomentsOfTruth(RowResult[Moment]):
    """Moments of truth for one outcome, ranked (significant first, by |effect|);
    ``to_frame()`` gives one row per location and signal."""

    outcome: str
    level: str
    alpha: float
    min_support: int
    moments: tuple[Moment, ...]
    rows_field: ClassVar[str] = "moments"
    frame_schema: ClassVar[dict[str, pa.DataType]] = {
        "level": _S, "location": _S, "signal": _S, "n_good": _I, "positive_good": _I,
        "n_bad": _I, "positive_bad": _I, "rate_good": _F, "rate_bad": _F, "effect": _F,
        "low": _F, "high": _F, "p_value": _F, "test": _S, "q_value": _F,
        "significant": pa.bool_(), "flag": _S,
    }  # fmt: skip

    def significant(self) -> tuple[Moment, ...]:
        """The moments with q ≤ alpha, strongest first."""
        return tuple(m for m in self.moments if m.significant)


def _survey_experience(
    bound: nw.LazyFrame[Any],
    level: Level,
    journey_map: JourneyMap | None,
    horizon: timedelta | None = DEFAULT_SURVEY_HORIZON,
) -> nw.LazyFrame[Any]:
    """Per (unit, location): ``_bad`` 1/0 from the unit's answers there within ``horizon`` of
    its first event there (neutral-only dropped)."""
    answers = locate_answers(survey_answers(bound), journey_map)
    loc = LOC_STEP if level == "step" else LOC_TOUCHPOINT
    if horizon is not None:
        bound_loc = "step_id" if level == "step" else "touchpoint_id"
        answers = with_epoch_us(answers.filter(~nw.col(loc).is_null()))
        placed = answers.select(UNIT_ID, nw.col(loc).alias("_loc"), TIME_US)
        if bound_loc in bound.collect_schema().names():
            visits = with_epoch_us(bound.filter(~nw.col(bound_loc).is_null())).select(
                UNIT_ID, nw.col(bound_loc).cast(nw.String).alias("_loc"), TIME_US
            )
            placed = nw.concat([visits, placed], how="vertical")
        firsts = placed.group_by(UNIT_ID, "_loc").agg(nw.col(TIME_US).min().alias("_t0"))
        horizon_us = int(horizon / timedelta(microseconds=1))
        answers = (
            answers.join(firsts, left_on=[UNIT_ID, loc], right_on=[UNIT_ID, "_loc"], how="inner")
            .filter(nw.col(TIME_US) <= nw.col("_t0") + horizon_us)
            .drop("_t0")
        )
    s, t = nw.col("score"), nw.col("score_type")
    good = nw.lit(False)
    bad = nw.lit(False)
    for kind, (g, b) in THRESHOLDS.items():
        good = good | ((t == kind) & (s >= g))
        bad = bad | ((t == kind) & (s <= b))
    return (
        answers.filter(~nw.col(loc).is_null())
        .with_columns(
            good.cast(nw.Int64).alias("_g"),
            bad.cast(nw.Int64).alias("_b"),
            nw.col(loc).alias("_loc"),
        )
        .group_by(UNIT_ID, "_loc")
        .agg(nw.col("_g").max(), nw.col("_b").max())
        .filter((nw.col("_g") == 1) | (nw.col("_b") == 1))
        .select(UNIT_ID, "_loc", nw.col("_b").alias("_bad"))
    )


def _pain_experience(
    bound: nw.LazyFrame[Any], level: Level, pain_events: Sequence[str], horizon: timedelta
) -> nw.LazyFrame[Any]:
    """Per (unit, location reached): ``_bad`` = 1 when a pain event follows within the horizon."""
    loc = "step_id" if level == "step" else "touchpoint_id"
    # Integer epoch microseconds: the horizon test runs the same on every engine.
    timed = with_epoch_us(bound)
    horizon_us = int(horizon / timedelta(microseconds=1))
    # Materialised: it is joined twice, and DuckDB plans a join of two frames derived from
    # one lazy source badly (seconds instead of milliseconds at 300k events).
    firsts = cache(
        timed.filter(~nw.col(loc).is_null())
        .group_by(UNIT_ID, nw.col(loc).alias("_loc"))
        .agg(nw.col(TIME_US).min().alias("_t0"))
    )
    pains = timed.filter(nw.col(EVENT).is_in(list(pain_events))).select(
        UNIT_ID, nw.col(TIME_US).alias("_tp")
    )
    hit = (
        firsts.join(pains, on=UNIT_ID, how="inner")
        .filter((nw.col("_tp") >= nw.col("_t0")) & (nw.col("_tp") <= nw.col("_t0") + horizon_us))
        .select(UNIT_ID, "_loc")
        .unique([UNIT_ID, "_loc"])
        .with_columns(nw.lit(1, dtype=nw.Int64).alias("_bad"))
    )
    return (
        firsts.join(hit, on=[UNIT_ID, "_loc"], how="left")
        .with_columns(nw.col("_bad").fill_null(0))
        .select(UNIT_ID, "_loc", "_bad")
    )


def moments_of_truth(
    bound: nw.LazyFrame[Any],
    outcomes: nw.LazyFrame[Any],
    outcome: str,
    *,
    level: Level = "step",
    signals: Sequence[Signal] = ("survey", "pain"),
    journey_map: JourneyMap | None = None,
    pain_events: Sequence[str] = DEFAULT_PAIN_EVENTS,
    pain_horizon: timedelta = DEFAULT_PAIN_HORIZON,
    survey_horizon: timedelta | None = DEFAULT_SURVEY_HORIZON,
    min_support: int = MIN_SUPPORT,
    alpha: float = ALPHA,
) -> MomentsOfTruth:
    """Rank the locations where a good vs bad experience moves ``outcome`` most.

    ``bound`` are bound events (``unit_id``, ``step_id`` / ``touchpoint_id``, ``score``,
    ``score_type``, ``event_name``, ``occurred_at``); ``outcomes`` the per-unit outcome
    frame of :func:`~journeylens.analytics.binding.evaluate_outcomes`.

    >>> import polars as pl
    >>> from datetime import datetime
    >>> # 30 units answer CSAT at step "pay": 20 good (5), 10 bad (1).
    >>> # 16 of the good ones and 2 of the bad ones convert.
    >>> units = [f"u{i:02}" for i in range(30)]
    >>> ev = pl.LazyFrame({"unit_id": units, "step_id": ["pay"] * 30,
    ...     "touchpoint_id": ["form"] * 30, "event_name": ["csat_response"] * 30,
    ...     "occurred_at": [datetime(2024, 1, 1)] * 30,
    ...     "score": [5.0] * 20 + [1.0] * 10, "score_type": ["csat"] * 30})
    >>> out = pl.LazyFrame({"unit_id": units,
    ...     "converted": [True] * 16 + [False] * 4 + [True] * 2 + [False] * 8})
    >>> r = moments_of_truth(nw.from_native(ev), nw.from_native(out), "converted",
    ...     signals=["survey"])
    >>> m = r.moments[0]; (m.location, m.n_good, m.n_bad, round(m.effect, 2), m.test)
    ('pay', 20, 10, 0.6, 'fisher')
    """
    if level not in ("step", "touchpoint"):
        raise AnalyticsError(f"level must be 'step' or 'touchpoint', got {level!r}")
    for sig in signals:
        if sig not in ("survey", "pain"):
            raise AnalyticsError(f"unknown signal {sig!r}; expected 'survey' or 'pain'")
    units = _outcome_units(outcomes, outcome)
    names = bound.collect_schema().names()
    loc_col = "step_id" if level == "step" else "touchpoint_id"
    if loc_col not in names:
        raise AnalyticsError(
            f"moments of truth by {level} need a '{loc_col}' column (bind the map first); "
            f"the columns are: {', '.join(names)}"
        )
    counts: list[tuple[str, str, int, int, int, int]] = []
    for sig in signals:
        if sig == "survey" and "score" not in names:
            continue
        exp = (
            _survey_experience(bound, level, journey_map, survey_horizon)
            if sig == "survey"
            else _pain_experience(bound, level, pain_events, pain_horizon)
        )
        rows = collect_rows(
            exp.with_columns(nw.col(UNIT_ID).cast(nw.String))
            .join(units, on=UNIT_ID, how="inner")
            .group_by("_loc")
            .agg(
                nw.len().cast(nw.Int64).alias("n"),
                nw.col("_bad").sum().alias("n_bad"),
                nw.col("_pos").sum().alias("pos"),
                (nw.col("_pos") * nw.col("_bad")).sum().alias("pos_bad"),
            )
        )
        for r in rows:
            n, n_bad = int(r["n"]), int(r["n_bad"] or 0)
            pos, pos_bad = int(r["pos"] or 0), int(r["pos_bad"] or 0)
            counts.append((str(r["_loc"]), sig, n - n_bad, pos - pos_bad, n_bad, pos_bad))

    tested = [
        i
        for i, (_, _, ng, _, nb, _) in enumerate(counts)
        if ng > 0 and nb > 0 and ng + nb >= min_support
    ]
    pvals: dict[int, tuple[float, str]] = {}
    for i in tested:
        _, _, ng, pg, nb, pb = counts[i]
        p, test = stats.table_p_value(pg, pb, ng - pg, nb - pb)
        pvals[i] = (p, test.value)
    qs = dict(zip(tested, stats.benjamini_hochberg([pvals[i][0] for i in tested]), strict=True))

    moments = []
    for i, (loc, signal, ng, pg, nb, pb) in enumerate(counts):
        diff = stats.difference_of_proportions(pg, ng, pb, nb)
        p_t = pvals.get(i)
        q = qs.get(i)
        flag = None
        if p_t is None:
            flag = "one-sided" if ng == 0 or nb == 0 else "too rare"
        moments.append(
            Moment(
                level, loc, signal, ng, pg, nb, pb,
                pg / ng if ng else None, pb / nb if nb else None,
                diff.value, diff.low, diff.high,
                p_t[0] if p_t else None, p_t[1] if p_t else None, q,
                q is not None and q <= alpha, flag,
            )
        )  # fmt: skip

    def rank(m: Moment) -> tuple[Any, ...]:
        return (
            not m.significant,
            -abs(m.effect or 0.0)
            if m.significant
            else (m.q_value if m.q_value is not None else 2.0),
            m.location,
            m.signal,
        )

    moments.sort(key=rank)
    return MomentsOfTruth(outcome, level, alpha, min_support, tuple(moments))
