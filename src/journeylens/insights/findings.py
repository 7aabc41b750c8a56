"""Planted effects vs measured: where each effect of a simulation shows in the analytics.

The simulator writes a ground truth (``ground_truth.json``): every planted effect with what
was declared and what it *realised* while simulating. :func:`check_planted_effects`
measures each effect again **from the ingested, stitched events only** (no ground-truth
identities), with the analytics a person would use to find it, and puts the two side by
side. It is what ``journeylens demo`` prints and what the demo report lists as findings.

Each effect kind is measured as follows (``unit`` = stitched customer; "went on" from a
step means a later event at one of the next two steps of the map, see ``_pass_rates``;
friction and channel lift count identified customers only, since a guest's web visit and
their order cannot be stitched):

=====================  ============================================================  ==============================
kind                   measured                                                      planted counterpart
=====================  ============================================================  ==============================
friction               drop-off at the step (no event at the next two steps after    ``drop_rate_affected`` /
                       the first visit there in the effect's days) for visits by     ``drop_rate_other``
                       the affected group
                       (``device_type`` of the event, or the customer's
                       ``generation``) vs the other visits in the same days
pain                   churn rate (the map's ``inactive_days`` outcome) of           ``churn_rate_exposed`` /
                       finishers who reached the step vs finishers who did not       ``churn_rate_other``
                       (:func:`~journeylens.analytics.outcomes.compare_outcome`)
moment_of_truth        churn rate of finishers with a bad vs a good survey answer    ``churn_rate_exposed`` /
                       at the step (:func:`~journeylens.analytics.moments.           ``churn_rate_other``
                       moments_of_truth`, signal ``survey``)
channel_lift           pass rate (an event at the next two steps afterwards) of      ``pass_rate_exposed`` /
                       identified units touched by the
                       channel (and campaign) before their first visit there vs      ``pass_rate_unexposed``
                       the others
channel_preference     share of touchpoint events on the preferred channels          ``touch_share_on_channels_*``
                       (the map's touchpoint channel) for customers of the
                       effect's generations vs other identified customers
incident               error events per visit of the touchpoint inside vs outside    ``error_rate_in_window`` /
                       the effect's days                                             ``error_rate_outside``
seasonality            first-event (arrival) share by weekday: mean weekend day /    the same from
                       mean weekday                                                  ``arrival_share_by_weekday``
campaign_spike         arrivals per day inside vs outside the effect's days          ``arrival_ratio``
=====================  ============================================================  ==============================

"Finishers" are the units that reached the map's last step at least ``inactive_days``
before the end of the data (``as_of``): only they can be seen to churn, which is what the
simulator plants (churn after finishing the journey).

An effect **shows** when the measured ratio lies on the same side of 1 as the planted one
and covers at least half of it on the log scale (``|log measured| ≥ ½·|log planted|``):
a ×3 effect shows when ×1.74 or more is measured, and vanishes below that.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import narwhals as nw
import pyarrow as pa

from journeylens.analytics._common import UNIT_ID, as_events, collect_rows, ratio, table
from journeylens.analytics.binding import evaluate_outcomes
from journeylens.analytics.conformance import lookup
from journeylens.analytics.moments import moments_of_truth
from journeylens.analytics.outcomes import compare_outcome
from journeylens.engine.frames import CUSTOMER, EVENT, TIME, extract_properties, prop_column
from journeylens.model import JourneyMap

#: Property keys the checks read (web: Segment ``device_type``; app: GA4 ``device_category``).
_DEVICE_KEYS = ("device_type", "device_category")
_CAMPAIGN_KEY = "campaign_name"
_WEEKEND = (6, 7)  # narwhals weekday: Monday = 1 … Sunday = 7


class FindingsError(ValueError):
    """The ground truth or the inputs of a check are not what the check needs."""


@dataclass(frozen=True)
class PlantedEffect:
    """One effect of a simulation's ground truth: its declaration and what it realised."""

    id: str
    kind: str
    description: str
    declared: Mapping[str, Any]
    realised: Mapping[str, Any]


@dataclass(frozen=True)
class EffectCheck:
    """One planted effect next to its measurement.

    ``group`` / ``baseline`` name the two populations compared; ``measured_*`` are their
    rates (shares 0 … 1, or arrivals per day for a campaign spike), ``n_*`` their
    denominators; ``measured_ratio`` = group / baseline; ``planted_ratio`` is the same ratio
    realised by the simulator. ``text`` says it in plain words.
    """

    effect_id: str
    kind: str
    location: str
    metric: str
    group: str
    baseline: str
    measured_group: float | None
    measured_baseline: float | None
    n_group: int
    n_baseline: int
    measured_ratio: float | None
    planted_group: float | None
    planted_baseline: float | None
    planted_ratio: float | None
    shows: bool
    text: str


@dataclass(frozen=True)
class PlantedChecks:
    """Every planted effect checked, in ground-truth order."""

    checks: tuple[EffectCheck, ...] = field(default_factory=tuple)

    @property
    def shown(self) -> int:
        """How many effects show in the measured data."""
        return sum(c.shows for c in self.checks)

    def get(self, effect_id: str) -> EffectCheck | None:
        """The check of one effect, if it was checked."""
        return next((c for c in self.checks if c.effect_id == effect_id), None)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict."""
        return asdict(self)

    def to_frame(self) -> pa.Table:
        """One row per effect."""
        f, i, s = pa.float64(), pa.int64(), pa.string()
        return table(
            [asdict(c) for c in self.checks],
            {
                "effect_id": s, "kind": s, "location": s, "metric": s, "group": s,
                "baseline": s, "measured_group": f, "measured_baseline": f, "n_group": i,
                "n_baseline": i, "measured_ratio": f, "planted_group": f,
                "planted_baseline": f, "planted_ratio": f, "shows": pa.bool_(), "text": s,
            },
        )  # fmt: skip


def planted_effects(ground_truth: Mapping[str, Any]) -> tuple[PlantedEffect, ...]:
    """The effects of a parsed ``ground_truth.json`` (schema ``journeylens/ground-truth/v1``).

    >>> gt = {"effects": [{"id": "x", "kind": "pain", "declared": {"churn_factor": 2},
    ...                    "realised": {"churn_ratio": 2.1}}]}
    >>> [(e.id, e.kind, e.realised["churn_ratio"]) for e in planted_effects(gt)]
    [('x', 'pain', 2.1)]
    """
    effects = ground_truth.get("effects")
    if not isinstance(effects, list):
        raise FindingsError("ground truth: expected an `effects` list")
    out = []
    for i, e in enumerate(effects):
        if not isinstance(e, Mapping) or not isinstance(e.get("id"), str):
            raise FindingsError(f"ground truth: effects[{i}]: expected an object with an `id`")
        declared = e.get("declared") or {}
        out.append(
            PlantedEffect(
                id=str(e["id"]),
                kind=str(e.get("kind", "")),
                description=str(declared.get("description") or ""),
                declared=declared,
                realised=e.get("realised") or {},
            )
        )
    return tuple(out)


# -- small helpers ---------------------------------------------------------------------------


def shows(measured: float | None, planted: float | None) -> bool:
    """Whether a measured ratio recovers a planted one (module docstring).

    >>> shows(2.9, 3.0), shows(1.8, 3.0), shows(1.6, 3.0), shows(0.8, 0.7), shows(1.2, 0.7)
    (True, True, False, True, False)
    """
    if measured is None or planted is None or measured <= 0 or planted <= 0:
        return False
    lp, lm = math.log(planted), math.log(measured)
    if lp == 0:
        return abs(lm) < math.log(1.1)
    return (lm > 0) == (lp > 0) and abs(lm) >= 0.5 * abs(lp)


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{x:.0%}"


def _times(x: float | None) -> str:
    return "—" if x is None else f"×{x:.1f}"


def _day(value: Any) -> datetime | None:
    if value is None:
        return None
    d = value if isinstance(value, date) else date.fromisoformat(str(value))
    return datetime(d.year, d.month, d.day)


def _window(declared: Mapping[str, Any]) -> tuple[datetime | None, datetime | None]:
    """The effect's days as ``[start, end + 1 day)`` (both declared ends are included)."""
    when = declared.get("when") or {}
    start, end = _day(when.get("start")), _day(when.get("end"))
    return start, (end + timedelta(days=1) if end is not None else None)


def _in_window(start: datetime | None, end: datetime | None, column: str = TIME) -> nw.Expr:
    expr = nw.lit(True)
    if start is not None:
        expr = expr & (nw.col(column) >= nw.lit(start))
    if end is not None:
        expr = expr & (nw.col(column) < nw.lit(end))
    return expr


def _days_text(declared: Mapping[str, Any]) -> str:
    when = declared.get("when") or {}
    if when.get("start") and when.get("end"):
        return f" {when['start']} … {when['end']}"
    return ""


def _step_name(journey_map: JourneyMap, step_id: str) -> str:
    for _, step in journey_map.iter_steps():
        if step.id == step_id:
            return step.name
    raise FindingsError(f"map '{journey_map.id}' has no step '{step_id}'")


def _step_index(journey_map: JourneyMap, step_id: str) -> int:
    for i, (_, step) in enumerate(journey_map.iter_steps(), start=1):
        if step.id == step_id:
            return i
    raise FindingsError(f"map '{journey_map.id}' has no step '{step_id}'")


def _where_step(effect: PlantedEffect) -> str:
    step = (effect.declared.get("where") or {}).get("step")
    if not step:
        raise FindingsError(f"effect '{effect.id}': expected where.step")
    return str(step)


def _ratio_text(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None or b == 0 else a / b


def _check(
    effect: PlantedEffect, *, location: str, metric: str, group: str, baseline: str,
    measured: tuple[float | None, float | None], n: tuple[int, int],
    planted: tuple[float | None, float | None], planted_ratio: float | None = None,
    fmt: Any = _pct,
) -> EffectCheck:  # fmt: skip
    m_ratio = _ratio_text(*measured)
    p_ratio = planted_ratio if planted_ratio is not None else _ratio_text(*planted)
    text = (
        f"{metric}: {fmt(measured[0])} for {group} vs {fmt(measured[1])} for {baseline} "
        f"({_times(m_ratio)}; planted {_times(p_ratio)})"
    )
    return EffectCheck(
        effect.id, effect.kind, location, metric, group, baseline, measured[0], measured[1],
        n[0], n[1], m_ratio, planted[0], planted[1], p_ratio, shows(m_ratio, p_ratio), text,
    )  # fmt: skip


def _pass_rates(
    bound: nw.LazyFrame[Any], step_index: int, arrivals: nw.LazyFrame[Any]
) -> dict[bool, tuple[int, int]]:
    """Per group: (units that arrived, units that went on to the next steps afterwards).

    ``arrivals`` has ``unit_id``, ``_grp`` (bool) and ``_t0`` (the arrival time). A unit
    went on when it has an event bound to one of the next two steps of the map (the next,
    or the one after when it skipped) at or after ``_t0``. Steps further away are left
    out on purpose: a support ticket or a social post written *because* the visit went
    badly binds to a late step ("gets help", "recommends") and is no progress.
    """
    beyond = (
        bound.filter(nw.col("step_index").is_in([step_index + 1, step_index + 2]))
        .group_by(UNIT_ID)
        .agg(nw.col(TIME).max().alias("_tmax"))
    )
    rows = collect_rows(
        arrivals.join(beyond, on=UNIT_ID, how="left")
        .with_columns((nw.col("_tmax") >= nw.col("_t0")).fill_null(False).alias("_on"))
        .group_by("_grp")
        .agg(
            nw.len().cast(nw.Int64).alias("n"),
            nw.col("_on").cast(nw.Int64).sum().alias("on"),
        )
    )
    return {bool(r["_grp"]): (int(r["n"]), int(r["on"] or 0)) for r in rows}


def _identified(bound: nw.LazyFrame[Any], customers: Any) -> nw.LazyFrame[Any]:
    """Only the events of identified customers (all events without a customers frame).

    A guest checks out with an e-mail only: their web visit and their order are two
    customers that stitching cannot join, so the visit would look like a drop-off.
    """
    if customers is None:
        return bound
    cu = as_events_free(customers)
    if "identified" not in cu.collect_schema().names():
        return bound
    known = cu.filter(nw.col("identified")).select(nw.col(CUSTOMER).cast(nw.String).alias(UNIT_ID))
    return bound.join(known, on=UNIT_ID, how="semi")


def _visits(bound: nw.LazyFrame[Any]) -> nw.LazyFrame[Any]:
    """The events that are visits: survey answers bound to a step (a CES survey about the
    checkout) are asked afterwards and say nothing about when the customer was there."""
    if "score_type" not in bound.collect_schema().names():
        return bound
    return bound.filter(nw.col("score_type").is_null())


def _generations(customers: Any) -> nw.LazyFrame[Any]:
    cu = as_events_free(customers)
    return cu.select(
        nw.col(CUSTOMER).cast(nw.String).alias(UNIT_ID), nw.col("generation").cast(nw.String)
    ).filter(~nw.col("generation").is_null())


def as_events_free(frame: Any) -> nw.LazyFrame[Any]:
    """Any native frame (DuckDB relation, Polars, Spark) as a narwhals lazy frame."""
    if isinstance(frame, nw.LazyFrame):
        return frame
    out = nw.from_native(frame)
    if isinstance(out, nw.DataFrame):
        return out.lazy()
    if not isinstance(out, nw.LazyFrame):
        raise FindingsError(f"not a frame: {type(frame).__name__}")
    return out


# -- one check per kind ----------------------------------------------------------------------


def _friction(
    bound: nw.LazyFrame[Any], jm: JourneyMap, e: PlantedEffect, customers: Any
) -> EffectCheck:
    step = _where_step(e)
    idx = _step_index(jm, step)
    start, end = _window(e.declared)
    who = e.declared.get("who") or {}
    devices = [str(d) for d in who.get("device_type") or []]
    gens = [str(g) for g in who.get("generations") or []]
    bound = _identified(bound, customers)
    visits = _visits(bound).filter((nw.col("step_id") == step) & _in_window(start, end))
    if devices:
        # Only visits whose device is known: the baseline is the other devices.
        device = nw.coalesce(*[nw.col(prop_column(k)) for k in _DEVICE_KEYS])
        visits = visits.filter(~device.is_null()).with_columns(device.is_in(devices).alias("_grp"))
        label = "/".join(devices)
    elif gens and customers is not None:
        visits = visits.join(_generations(customers), on=UNIT_ID, how="left").with_columns(
            nw.col("generation").is_in(gens).fill_null(False).alias("_grp")
        )
        label = "/".join(gens)
    else:
        visits = visits.with_columns(nw.lit(True).alias("_grp"))
        label = "everyone"
    arrivals = visits.group_by(UNIT_ID, "_grp").agg(nw.col(TIME).min().alias("_t0"))
    rates = _pass_rates(bound, idx, arrivals)
    n_g, on_g = rates.get(True, (0, 0))
    n_b, on_b = rates.get(False, (0, 0))
    drop_g = None if not n_g else 1 - on_g / n_g
    drop_b = None if not n_b else 1 - on_b / n_b
    r = e.realised
    return _check(
        e,
        location=f"step {step}",
        metric=f"drop-off at “{_step_name(jm, step)}”{_days_text(e.declared)}",
        group=label,
        baseline="the others",
        measured=(drop_g, drop_b),
        n=(n_g, n_b),
        planted=(r.get("drop_rate_affected"), r.get("drop_rate_other")),
    )


def _finishers(
    bound: nw.LazyFrame[Any], jm: JourneyMap, as_of: datetime
) -> tuple[nw.LazyFrame[Any], nw.LazyFrame[Any], str] | None:
    """Bound events and churn outcome of the units that finished early enough to churn."""
    churn = next((o for o in jm.outcomes if o.inactive_days is not None), None)
    steps = [s.id for _, s in jm.iter_steps()]
    if churn is None or not steps or churn.inactive_days is None:
        return None
    cutoff = as_of - timedelta(days=churn.inactive_days)
    done = (
        bound.filter(nw.col("step_id") == steps[-1])
        .group_by(UNIT_ID)
        .agg(nw.col(TIME).min().alias("_done"))
        .filter(nw.col("_done") <= nw.lit(cutoff))
        .select(UNIT_ID)
    )
    pop = bound.join(done, on=UNIT_ID, how="semi")
    outcomes = evaluate_outcomes(pop, [churn], as_of=as_of)
    return pop, outcomes, churn.id


def _in_stage_order(bound: nw.LazyFrame[Any], jm: JourneyMap, step: str) -> nw.LazyFrame[Any]:
    """``bound`` with the step's events kept only when they fall between the unit's first
    event at an earlier step of the same stage and its first event at a later step of that
    stage (the step's other events are unbound).

    A step whose touchpoints also catch events from elsewhere in the journey (a support
    ticket about the checkout, or one opened years later, is a ``ticket_opened`` too) is
    "reached" here only in its stage's order, which is what "needed help while learning"
    means.
    """
    stage = next(sg for sg, st in jm.iter_steps() if st.id == step)
    ids = [s.id for s in stage.steps]
    earlier, later = ids[: ids.index(step)], ids[ids.index(step) + 1 :]
    in_order = nw.lit(True)
    firsts = []
    if earlier:
        firsts.append((earlier, "_entered"))
        in_order = in_order & (nw.col(TIME) >= nw.col("_entered")).fill_null(False)
    if later:
        firsts.append((later, "_left"))
        in_order = in_order & (nw.col(TIME) < nw.col("_left")).fill_null(True)
    out = bound
    for steps, name in firsts:
        out = out.join(
            bound.filter(nw.col("step_id").is_in(steps))
            .group_by(UNIT_ID)
            .agg(nw.col(TIME).min().alias(name)),
            on=UNIT_ID,
            how="left",
        )
    at_step = nw.col("step_id") == step
    return out.with_columns(
        nw.when(at_step & ~in_order)
        .then(nw.lit(None, dtype=nw.String))
        .otherwise(nw.col("step_id"))
        .alias("step_id")
    ).drop(*[name for _, name in firsts])


def _pain(
    bound: nw.LazyFrame[Any], jm: JourneyMap, e: PlantedEffect, as_of: datetime
) -> EffectCheck:
    step = _where_step(e)
    fin = _finishers(bound, jm, as_of)
    got = None
    if fin is not None:
        pop, outcomes, churn_id = fin
        pop = _in_stage_order(pop, jm, step)
        got = compare_outcome(pop, outcomes, churn_id, features=["step"], min_support=0).get(
            "step", step
        )
    r = e.realised
    return _check(
        e,
        location=f"step {step}",
        metric=f"churn after finishing, by “{_step_name(jm, step)}”",
        group="customers who reached it",
        baseline="those who did not",
        measured=(got.rate_with, got.rate_without) if got else (None, None),
        n=(got.a + got.c, got.b + got.d) if got else (0, 0),
        planted=(r.get("churn_rate_exposed"), r.get("churn_rate_other")),
    )


def _moment(
    bound: nw.LazyFrame[Any], jm: JourneyMap, e: PlantedEffect, as_of: datetime
) -> EffectCheck:
    step = _where_step(e)
    fin = _finishers(bound, jm, as_of)
    got = None
    if fin is not None:
        pop, outcomes, churn_id = fin
        mot = moments_of_truth(
            pop, outcomes, churn_id, level="step", signals=["survey"], journey_map=jm,
            min_support=0,
        )  # fmt: skip
        got = next((m for m in mot.moments if m.location == step), None)
    r = e.realised
    return _check(
        e,
        location=f"step {step}",
        metric=f"churn after a bad vs good “{_step_name(jm, step)}” (survey answers)",
        group="a bad experience",
        baseline="a good one",
        measured=(got.rate_bad, got.rate_good) if got else (None, None),
        n=(got.n_bad, got.n_good) if got else (0, 0),
        planted=(r.get("churn_rate_exposed"), r.get("churn_rate_other")),
    )


def _channel_lift(
    bound: nw.LazyFrame[Any], jm: JourneyMap, e: PlantedEffect, customers: Any
) -> EffectCheck:
    step = _where_step(e)
    bound = _identified(bound, customers)
    idx = _step_index(jm, step)
    channel = str(e.declared.get("channel") or "")
    campaign = e.declared.get("campaign")
    touched = nw.col("channel") == channel
    if campaign:
        touched = touched & (nw.col(prop_column(_CAMPAIGN_KEY)) == str(campaign))
    first_touch = (
        bound.filter(touched.fill_null(False))
        .group_by(UNIT_ID)
        .agg(nw.col(TIME).min().alias("_te"))
    )
    arrivals = (
        _visits(bound)
        .filter(nw.col("step_id") == step)
        .group_by(UNIT_ID)
        .agg(nw.col(TIME).min().alias("_t0"))
        .join(first_touch, on=UNIT_ID, how="left")
        .with_columns((nw.col("_te") < nw.col("_t0")).fill_null(False).alias("_grp"))
    )
    rates = _pass_rates(bound, idx, arrivals)
    n_g, on_g = rates.get(True, (0, 0))
    n_b, on_b = rates.get(False, (0, 0))
    r = e.realised
    what = f"{campaign} ({channel})" if campaign else channel
    return _check(
        e,
        location=f"step {step}",
        metric=f"pass rate at “{_step_name(jm, step)}”",
        group=f"customers reached by {what} first",
        baseline="the others",
        measured=(ratio(on_g, n_g), ratio(on_b, n_b)),
        n=(n_g, n_b),
        planted=(r.get("pass_rate_exposed"), r.get("pass_rate_unexposed")),
    )


def _channel_preference(
    bound: nw.LazyFrame[Any], jm: JourneyMap, e: PlantedEffect, customers: Any
) -> EffectCheck:
    who = e.declared.get("who") or {}
    gens = [str(g) for g in who.get("generations") or []]
    channels = sorted(str(c) for c in (e.declared.get("channels") or {}))
    tp_channel = {tp.id: str(tp.channel.value) for _, _, tp in jm.iter_touchpoints()}
    got: dict[bool, tuple[int, int]] = {}
    if customers is not None and gens:
        touches = (
            bound.filter(~nw.col("touchpoint_id").is_null())
            .select(UNIT_ID, lookup(nw.col("touchpoint_id"), tp_channel).alias("_ch"))
            .join(_generations(customers), on=UNIT_ID, how="inner")
            .with_columns(
                nw.col("generation").is_in(gens).alias("_grp"),
                nw.col("_ch").is_in(channels).cast(nw.Int64).alias("_on"),
            )
        )
        got = {
            bool(r["_grp"]): (int(r["n"]), int(r["on"] or 0))
            for r in collect_rows(
                touches.group_by("_grp").agg(
                    nw.len().cast(nw.Int64).alias("n"), nw.col("_on").sum().alias("on")
                )
            )
        }
    n_g, on_g = got.get(True, (0, 0))
    n_b, on_b = got.get(False, (0, 0))
    r = e.realised
    return _check(
        e,
        location="channels " + ", ".join(channels),
        metric=f"share of touches on {', '.join(channels)}",
        group="/".join(gens) or "—",
        baseline="other generations",
        measured=(ratio(on_g, n_g), ratio(on_b, n_b)),
        n=(n_g, n_b),
        planted=(r.get("touch_share_on_channels_who"), r.get("touch_share_on_channels_others")),
    )


def _incident(bound: nw.LazyFrame[Any], e: PlantedEffect) -> EffectCheck:
    tp = str((e.declared.get("where") or {}).get("touchpoint") or "")
    event = str(e.declared.get("event") or "")
    start, end = _window(e.declared)
    inside = _in_window(start, end)
    rows = collect_rows(
        bound.select(
            ((nw.col("touchpoint_id") == tp) & inside).fill_null(False).cast(nw.Int64).alias("vi"),
            ((nw.col("touchpoint_id") == tp) & ~inside).fill_null(False).cast(nw.Int64).alias("vo"),
            ((nw.col(EVENT) == event) & inside).fill_null(False).cast(nw.Int64).alias("ei"),
            ((nw.col(EVENT) == event) & ~inside).fill_null(False).cast(nw.Int64).alias("eo"),
        ).select(nw.all().sum())
    )[0]
    vi, vo, ei, eo = (int(rows[k] or 0) for k in ("vi", "vo", "ei", "eo"))
    r = e.realised
    return _check(
        e,
        location=f"touchpoint {tp}",
        metric=f"{event} per visit of {tp}",
        group=f"the days{_days_text(e.declared)}",
        baseline="the other days",
        measured=(ratio(ei, vi), ratio(eo, vo)),
        n=(vi, vo),
        planted=(r.get("error_rate_in_window"), r.get("error_rate_outside")),
    )


def _arrivals(bound: nw.LazyFrame[Any]) -> nw.LazyFrame[Any]:
    return bound.group_by(UNIT_ID).agg(nw.col(TIME).min().alias("_t0"))


def _seasonality(bound: nw.LazyFrame[Any], e: PlantedEffect) -> EffectCheck:
    rows = collect_rows(
        _arrivals(bound)
        .with_columns(nw.col("_t0").dt.weekday().alias("_wd"))
        .group_by("_wd")
        .agg(nw.len().cast(nw.Int64).alias("n"))
    )
    per_day = {int(r["_wd"]): int(r["n"]) for r in rows}
    weekend = [per_day.get(d, 0) for d in _WEEKEND]
    weekday = [per_day.get(d, 0) for d in range(1, 6)]
    m_end = sum(weekend) / len(weekend)
    m_week = sum(weekday) / len(weekday)
    total = m_end * len(weekend) + m_week * len(weekday)
    shares = list(e.realised.get("arrival_share_by_weekday") or [])
    p_end = sum(shares[5:7]) / 2 if len(shares) == 7 else None
    p_week = sum(shares[:5]) / 5 if len(shares) == 7 else None
    return _check(
        e,
        location="arrivals by weekday",
        metric="share of arrivals per day",
        group="a weekend day",
        baseline="a weekday",
        measured=(ratio(m_end, total), ratio(m_week, total)),
        n=(sum(weekend), sum(weekday)),
        planted=(p_end, p_week),
        fmt=lambda x: "—" if x is None else f"{x:.1%}",
    )


def _campaign_spike(bound: nw.LazyFrame[Any], e: PlantedEffect) -> EffectCheck:
    start, end = _window(e.declared)
    rows = collect_rows(
        _arrivals(bound)
        .with_columns(_in_window(start, end, "_t0").alias("_in"))
        .select(
            nw.col("_in").cast(nw.Int64).sum().alias("n_in"),
            nw.len().cast(nw.Int64).alias("n"),
            nw.col("_t0").min().alias("t0"),
            nw.col("_t0").max().alias("t1"),
        )
    )[0]
    n_in, n = int(rows["n_in"] or 0), int(rows["n"] or 0)
    measured: tuple[float | None, float | None] = (None, None)
    if start is not None and end is not None and rows["t0"] is not None:
        first, last = rows["t0"].date(), rows["t1"].date()
        days_all = (last - first).days + 1
        days_in = max(
            0, (min(end.date(), last + timedelta(days=1)) - max(start.date(), first)).days
        )
        measured = (ratio(n_in, days_in), ratio(n - n_in, days_all - days_in))
    r = e.realised
    return _check(
        e,
        location=f"arrivals{_days_text(e.declared)}",
        metric="new customers per day",
        group=f"the campaign days{_days_text(e.declared)}",
        baseline="the other days",
        measured=measured,
        n=(n_in, n - n_in),
        planted=(r.get("arrivals_per_day_in"), r.get("arrivals_per_day_outside")),
        planted_ratio=r.get("arrival_ratio"),
        fmt=lambda x: "—" if x is None else f"{x:,.0f}",
    )


def check_planted_effects(
    bound: nw.LazyFrame[Any],
    journey_map: JourneyMap,
    effects: Sequence[PlantedEffect],
    *,
    customers: Any = None,
    as_of: datetime | None = None,
) -> PlantedChecks:
    """Measure every planted effect on bound events (module docstring for each kind).

    ``bound`` is :func:`~journeylens.analytics.binding.bind` of the events with unit
    ``customer`` (cache it: every check reads it); ``customers`` the stitched customers
    (``customer_id``, ``generation``) for generation-based effects; ``as_of`` the end of
    the data (default: the last event). Effects of unknown kinds are left out.
    """
    lf = extract_properties(as_events(bound), [*_DEVICE_KEYS, _CAMPAIGN_KEY])
    if as_of is None:
        as_of = collect_rows(lf.select(nw.col(TIME).max().alias("t")))[0]["t"]
    checks: list[EffectCheck] = []
    for e in effects:
        if e.kind == "friction":
            checks.append(_friction(lf, journey_map, e, customers))
        elif e.kind == "pain" and as_of is not None:
            checks.append(_pain(lf, journey_map, e, as_of))
        elif e.kind == "moment_of_truth" and as_of is not None:
            checks.append(_moment(lf, journey_map, e, as_of))
        elif e.kind == "channel_lift":
            checks.append(_channel_lift(lf, journey_map, e, customers))
        elif e.kind == "channel_preference":
            checks.append(_channel_preference(lf, journey_map, e, customers))
        elif e.kind == "incident":
            checks.append(_incident(lf, e))
        elif e.kind == "seasonality":
            checks.append(_seasonality(lf, e))
        elif e.kind == "campaign_spike":
            checks.append(_campaign_spike(lf, e))
    return PlantedChecks(tuple(checks))
