"""Findings in plain words: where segments of customers fare significantly worse, which
visits go with churn, and when a touchpoint's errors spike.

Three kinds of evidence, each a typed :class:`Finding` with the numbers, N and a sentence:

**Drop-off by segment** (:func:`dropoff_findings`). For every step of the map but the last,
a customer *arrived* with their first visit there (survey answers about the step are not
visits) and *went on* when they have an event at one of the next two steps of the map at
or after that arrival (the next two, so a planned skip is progress; later steps are left
out because a ticket or review written *because* the visit went badly binds to a late
step). Drop-off = 1 − went on / arrived. A *cell* is a segment value — device (properties
``device_type`` / ``device_category``), generation (customers frame), persona (segment rule) — alone or
with the month of the visit, or the month alone. The channel is no segment here: a step's
channel is its touchpoints' channel, so comparing channels at a step compares touchpoints
by design (and was the noisiest cell on simulated data), not customers. Each cell is compared with
the other customers at the step whose same attributes are known (2×2 table, Fisher /
chi-square as METRICS.md says, Benjamini–Hochberg over every test). A cell is kept when
q < ``alpha``, its drop-off is at least ``min_ratio``× the others' and ``min_diff`` higher,
and it has ``min_n`` customers. A cell is dropped when a finer cell at the same step that
contains it (mobile in February inside mobile, or inside February) scores higher: the
finer one says it more precisely.

**Outcome by visit** (:func:`outcome_findings`). Among customers who finished the journey
early enough to be seen churning, the churn rate of those who reached a step vs those who
did not (the step counted only in its stage's order, as the planted-effect checks do), and
the churn rate after a bad vs a good survey answer at a step (moments of truth).

**Anomalies** (:func:`anomaly_findings`). Error events (event names with ``error`` or
``fail``, counted at the touchpoint they are bound to or name in ``properties.touchpoint``)
and support tickets per day, each divided by that day's events (so a busy day is no
spike). A day is anomalous when its robust z-score — (rate − median) / (1.4826 · MAD) over
all days — is at least ``z_threshold`` and the rate is ``min_ratio``× the median;
consecutive anomalous days form one finding.

**Ranking.** ``score`` = impact × ln(ratio): many customers and a large effect both count.
The impact of a drop-off is the customers lost beyond the others' rate, weighted, when the
map has a positive ``did`` outcome (a conversion), by how much going on from the step raises
that outcome (its rate among those who went on minus among those who dropped): so a drop
at checkout, where nearly everyone who goes on pays, weighs more than one at the first ad,
and a drop after the purchase weighs little. For the other kinds it is the units (events)
affected beyond the baseline. :func:`top_findings` lists the best finding of
each kind first, then the rest by score.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from typing import Any

import narwhals as nw

from journeylens.analytics._common import UNIT_ID, as_events, collect_rows
from journeylens.analytics.binding import Population, evaluate_outcomes
from journeylens.analytics.moments import moments_of_truth
from journeylens.analytics.outcomes import compare_outcome
from journeylens.analytics.stats import benjamini_hochberg, table_p_value
from journeylens.engine.frames import EVENT, TIME, cache, extract_properties, prop_column
from journeylens.insights.findings import (
    _DEVICE_KEYS,
    _finishers,
    _generations,
    _identified,
    _in_stage_order,
    _visits,
)
from journeylens.model import JourneyMap, Persona

#: Segment dimensions of the drop-off comparison, in the order sentences name them.
DIMENSIONS = ("device", "generation", "persona")
_MONTH = "month"
_TOUCHPOINT_KEY = "touchpoint"
_ERROR_WORDS = ("error", "fail")
_TICKET_EVENT = "ticket_opened"


@dataclass(frozen=True)
class Finding:
    """One finding: a group compared with a baseline, with the numbers and a sentence.

    ``kind`` is ``drop_off``, ``outcome``, ``moment`` or ``anomaly``; ``location`` the
    step or touchpoint id (``location_name`` its name); ``value`` / ``baseline_value`` the
    two rates (shares 0 … 1; for an anomaly events per 1,000 events of the day) over ``n``
    / ``n_baseline`` units (days' events for an anomaly); ``ratio`` = value / baseline;
    ``q_value`` the BH-adjusted p (None for an anomaly); ``impact`` the units (events)
    affected beyond the baseline rate; ``score`` = impact × ln(ratio).
    """

    kind: str
    location: str
    location_name: str
    group: str
    baseline: str
    metric: str
    value: float
    baseline_value: float
    ratio: float
    n: int
    n_baseline: int
    q_value: float | None
    impact: float
    score: float
    text: str

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict."""
        return asdict(self)


# -- wording -----------------------------------------------------------------------------


def pct(x: float) -> str:
    """A share as a whole percent (``0.375`` → ``"38%"``; under 1% with one decimal).

    >>> pct(0.375), pct(0.004), pct(0.0)
    ('38%', '0.4%', '0%')
    """
    if 0 < x < 0.01:
        return f"{x:.1%}"
    return f"{x:.0%}"


def times(r: float) -> str:
    """A ratio as ``3.0×`` (``12×`` from ten on).

    >>> times(2.96), times(12.4)
    ('3.0×', '12×')
    """
    return f"{r:.0f}×" if r >= 10 else f"{r:.1f}×"


def month_name(key: str) -> str:
    """``2026-02`` → ``February 2026``.

    >>> month_name("2026-02")
    'February 2026'
    """
    return date.fromisoformat(key + "-01").strftime("%B %Y")


def day_span(first: date, last: date) -> str:
    """Days as words: ``3–6 March 2026``, ``28 February – 2 March 2026``, one day alone.

    >>> day_span(date(2026, 3, 3), date(2026, 3, 6)), day_span(date(2026, 3, 3), date(2026, 3, 3))
    ('3–6 March 2026', '3 March 2026')
    >>> day_span(date(2026, 2, 28), date(2026, 3, 2))
    '28 February – 2 March 2026'
    """
    if first == last:
        return f"{first.day} {first:%B %Y}"
    if (first.year, first.month) == (last.year, last.month):
        return f"{first.day}–{last.day} {last:%B %Y}"
    if first.year == last.year:
        return f"{first.day} {first:%B} – {last.day} {last:%B %Y}"
    return f"{first.day} {first:%B %Y} – {last.day} {last:%B %Y}"


def cell_label(cell: Sequence[tuple[str, str]]) -> str:
    """The customers of a cell in words.

    >>> cell_label([("device", "mobile"), ("month", "2026-02")])
    'mobile customers in February 2026'
    >>> cell_label([("generation", "gen_z")]), cell_label([("persona", "Maya")])
    ('gen_z customers', 'customers like persona Maya')
    """
    d = dict(cell)
    lead = " ".join(d[k] for k in ("device", "generation") if k in d)
    words = f"{lead} customers" if lead else "customers"
    if "persona" in d:
        words += f" like persona {d['persona']}"
    if _MONTH in d:
        words += f" in {month_name(d[_MONTH])}"
    return words


def dropoff_sentence(
    cell: Sequence[tuple[str, str]], step: str, stage: str, rate: float, n: int,
    base: float, n_base: int,
) -> str:  # fmt: skip
    """The drop-off finding in plain words.

    >>> dropoff_sentence([("device", "mobile")], "Pays", "Purchase", 0.375, 400, 0.15, 1200)
    '38% of mobile customers who reached “Pays” (Purchase) went no further, 2.5× the rate of the others (15%; N = 400 vs 1,200).'
    """
    ratio = rate / base if base else math.inf
    than = f"{times(ratio)} the rate of the others" if base else "where none of the others did"
    return (
        f"{pct(rate)} of {cell_label(cell)} who reached “{step}” ({stage}) went no further, "
        f"{than} ({pct(base)}; N = {n:,} vs {n_base:,})."
    )


# -- drop-off by segment -------------------------------------------------------------------


def _score(impact: float, ratio: float) -> float:
    return impact * math.log(ratio) if ratio > 0 and math.isfinite(ratio) else impact * 5.0


def _with_dimensions(
    visits: nw.LazyFrame[Any], customers: Any, personas: Sequence[Persona], bound: Any
) -> tuple[nw.LazyFrame[Any], list[str]]:
    """``visits`` with one column per segment dimension that the data has."""
    names = visits.collect_schema().names()
    dims: list[str] = []
    device_cols = [prop_column(k) for k in _DEVICE_KEYS if prop_column(k) in names]
    exprs: list[nw.Expr] = [nw.col(TIME).dt.to_string("%Y-%m").alias(_MONTH)]
    if device_cols:
        exprs.append(nw.coalesce(*[nw.col(c) for c in device_cols]).cast(nw.String).alias("device"))
        dims.append("device")
    out = visits.with_columns(*exprs)
    if customers is not None:
        out = out.join(_generations(customers), on=UNIT_ID, how="left")
        dims.append("generation")
    with_segment = [p for p in personas if p.segment is not None]
    if with_segment and customers is not None:
        members = None
        for p in with_segment:
            units = (
                Population.for_persona(p)
                .apply(bound, customers)
                .select(UNIT_ID)
                .unique()
                .with_columns(nw.lit(p.name.split(",")[0]).alias("persona"))
            )
            members = units if members is None else nw.concat([members, units])
        if members is not None:
            out = out.join(members, on=UNIT_ID, how="left")
            dims.append("persona")
    return out, dims


def dropoff_findings(
    bound: nw.LazyFrame[Any],
    journey_map: JourneyMap,
    *,
    customers: Any = None,
    personas: Sequence[Persona] = (),
    alpha: float = 0.05,
    min_n: int = 30,
    min_ratio: float = 1.5,
    min_diff: float = 0.05,
    settle_days: int = 14,
) -> tuple[Finding, ...]:
    """Segments whose drop-off at a step is significantly and markedly higher than the
    others' (module docstring), ranked by score.

    ``bound`` is :func:`~journeylens.analytics.binding.bind` of the events (unit customer,
    cached: it is read once per dimension); ``customers`` the stitched customers (only
    identified customers are counted, generations and personas come from it). Arrivals in
    the last ``settle_days`` of the data are left out: those customers had no time to go on.
    """
    lf = _identified(extract_properties(as_events(bound), list(_DEVICE_KEYS)), customers)
    steps = {s.id: (stage.name, s.name) for stage, s in journey_map.iter_steps()}
    last = max((i for i, _ in enumerate(journey_map.iter_steps(), start=1)), default=0)
    end = collect_rows(lf.select(nw.col(TIME).max().alias("t")))[0]["t"]
    if end is None:
        return ()
    visits = _visits(lf).filter(
        ~nw.col("step_id").is_null()
        & (nw.col("step_index") < last)
        & (nw.col(TIME) <= nw.lit(end - timedelta(days=settle_days)))
    )
    # Did each customer go on from their first arrival at each step?
    firsts = visits.group_by(UNIT_ID, "step_id", "step_index").agg(nw.col(TIME).min().alias("_t0"))
    later = (
        lf.filter(~nw.col("step_index").is_null())
        .group_by(UNIT_ID, "step_index")
        .agg(nw.col(TIME).max().alias("_tmax"))
    )
    went_on = nw.lit(False)
    for k in (1, 2):
        firsts = firsts.join(
            later.with_columns((nw.col("step_index") - k).alias("step_index")).rename(
                {"_tmax": f"_t{k}"}
            ),
            on=[UNIT_ID, "step_index"],
            how="left",
        )
        went_on = went_on | (nw.col(f"_t{k}") >= nw.col("_t0")).fill_null(False)
    outcome = cache(firsts.select(UNIT_ID, "step_id", went_on.cast(nw.Int64).alias("_on")))
    worth, conv_name = _worth_of_going_on(lf, journey_map, outcome)
    cells_lf, dims = _with_dimensions(visits, customers, personas, lf)
    # One stored frame of (customer, step, segment values, went on): every cell's counts
    # below are small group-bys on it instead of a pass over the events each.
    cells_lf = cache(
        cells_lf.select(UNIT_ID, "step_id", _MONTH, *dims)
        .unique()
        .join(outcome, on=[UNIT_ID, "step_id"], how="inner")
    )
    specs: list[tuple[str, ...]] = [(d,) for d in dims] + [(d, _MONTH) for d in dims]
    specs.append((_MONTH,))
    rows: list[tuple[str, tuple[tuple[str, str], ...], int, int, int, int]] = []
    for spec in specs:
        known = (
            cells_lf.select(UNIT_ID, "step_id", "_on", *spec)
            .filter(nw.all_horizontal(*[~nw.col(c).is_null() for c in spec], ignore_nulls=False))
            .unique()
        )
        per_cell = collect_rows(
            known.group_by("step_id", *spec).agg(
                nw.len().cast(nw.Int64).alias("n"), nw.col("_on").sum().alias("on")
            )
        )
        totals = {
            r["step_id"]: (int(r["n"]), int(r["on"] or 0))
            for r in collect_rows(
                known.select(UNIT_ID, "step_id", "_on")
                .unique()
                .group_by("step_id")
                .agg(nw.len().cast(nw.Int64).alias("n"), nw.col("_on").sum().alias("on"))
            )
        }
        for r in per_cell:
            n, on = int(r["n"]), int(r["on"] or 0)
            n_all, on_all = totals[r["step_id"]]
            cell = tuple((c, str(r[c])) for c in spec)
            rows.append(
                (str(r["step_id"]), cell, n, n - on, n_all - n, (n_all - on_all) - (n - on))
            )
    candidates = [r for r in rows if r[2] >= min_n and r[4] >= min_n]
    if not candidates:
        return ()
    # 2×2 per cell: dropped / stayed × in the cell / the others.
    p_values = [
        table_p_value(drop, drop_o, n - drop, n_o - drop_o)[0]
        for _, _, n, drop, n_o, drop_o in candidates
    ]
    q_values = benjamini_hochberg(p_values)
    found: list[tuple[Finding, frozenset[tuple[str, str]]]] = []
    for (step, cell, n, drop, n_o, drop_o), q in zip(candidates, q_values, strict=True):
        rate, base = drop / n, drop_o / n_o
        ratio = rate / base if base else math.inf
        if q >= alpha or rate - base < min_diff or ratio < min_ratio:
            continue
        stage_name, step_name = steps[step]
        excess = n * (rate - base)
        impact = excess * worth.get(step, 0.0) if worth else excess
        finding = Finding(
            kind="drop_off",
            location=step,
            location_name=step_name,
            group=cell_label(cell),
            baseline="the others",
            metric="drop-off",
            value=rate,
            baseline_value=base,
            ratio=ratio,
            n=n,
            n_baseline=n_o,
            q_value=q,
            impact=impact,
            score=_score(impact, ratio),
            text=dropoff_sentence(cell, step_name, stage_name, rate, n, base, n_o)
            + (
                f" About {impact:,.0f} fewer “{conv_name}” than at the others' rate."
                if worth
                else ""
            ),
        )
        found.append((finding, frozenset(cell)))
    found.sort(key=lambda t: -t[0].score)
    kept: list[tuple[Finding, frozenset[tuple[str, str]]]] = []
    for f, members in found:
        # A coarser cell at the same step is redundant next to a finer, stronger one; a
        # finer cell is redundant next to a coarser one holding the same customers.
        if any(
            k.location == f.location and (members < c or (c < members and k.n == f.n))
            for k, c in kept
        ):
            continue
        kept.append((f, members))
    return tuple(f for f, _ in kept)


def _worth_of_going_on(
    lf: nw.LazyFrame[Any], journey_map: JourneyMap, outcome: nw.LazyFrame[Any]
) -> tuple[dict[str, float], str]:
    """Per step: how much going on raises the map's first positive ``did`` outcome (the
    conversion): its rate among customers who went on minus among those who dropped (at
    least 0). ``{}`` when the map has no such outcome."""
    conv = next(
        (o for o in journey_map.outcomes if o.did is not None and o.polarity == "positive"), None
    )
    if conv is None:
        return {}, ""
    flags = evaluate_outcomes(lf, [conv]).select(
        UNIT_ID, nw.col(conv.id).cast(nw.Float64).alias("_conv")
    )
    rates: dict[str, dict[int, float]] = {}
    for r in collect_rows(
        outcome.join(flags, on=UNIT_ID, how="left")
        .group_by("step_id", "_on")
        .agg(nw.col("_conv").fill_null(0.0).mean().alias("c"))
    ):
        rates.setdefault(str(r["step_id"]), {})[int(r["_on"])] = float(r["c"] or 0.0)
    worth = {step: max(0.0, by.get(1, 0.0) - by.get(0, 0.0)) for step, by in rates.items()}
    return worth, conv.name


# -- outcome by visit and moments of truth ---------------------------------------------------


def outcome_findings(
    bound: nw.LazyFrame[Any],
    journey_map: JourneyMap,
    *,
    as_of: datetime | None = None,
    alpha: float = 0.05,
    min_ratio: float = 1.3,
) -> tuple[Finding, ...]:
    """Steps whose visitors churn markedly more (of the customers who finished the journey
    early enough), and steps where a bad survey answer goes with more churn; kept when
    significant (BH q < ``alpha``) and at least ``min_ratio``× the other group's churn."""
    lf = as_events(bound)
    if as_of is None:
        as_of = collect_rows(lf.select(nw.col(TIME).max().alias("t")))[0]["t"]
    if as_of is None:
        return ()
    fin = _finishers(lf, journey_map, as_of)
    if fin is None:
        return ()
    pop, outcomes, churn_id = fin
    # Stored once: every step below reads the finishers' events again.
    pop, outcomes = cache(pop), cache(outcomes)
    names = {s.id: s.name for _, s in journey_map.iter_steps()}
    out: list[Finding] = []
    steps = [s.id for _, s in journey_map.iter_steps()]
    # Each step in its stage's order, as the planted checks measure "needed help".
    for step in steps[:-1]:
        ordered = _in_stage_order(pop, journey_map, step)
        got = compare_outcome(ordered, outcomes, churn_id, features=["step"]).get("step", step)
        if got is None or not got.significant or (got.q_value or 1.0) >= alpha:
            continue
        if got.rate_with is None or not got.rate_without or got.rate_with == 1.0:
            continue
        ratio = got.rate_with / got.rate_without
        if ratio < min_ratio:
            continue
        n, n_o = got.a + got.c, got.b + got.d
        impact = n * (got.rate_with - got.rate_without)
        out.append(
            Finding(
                "outcome", step, names[step], f"customers who reached “{names[step]}”",
                "those who did not", "churn", got.rate_with, got.rate_without, ratio, n, n_o,
                got.q_value, impact, _score(impact, ratio),
                f"Customers who reached “{names[step]}” churned {times(ratio)} as often as "
                f"those who did not: {pct(got.rate_with)} vs {pct(got.rate_without)} "
                f"(N = {n:,} vs {n_o:,} who finished the journey).",
            )
        )  # fmt: skip
    mot = moments_of_truth(
        pop, outcomes, churn_id, level="step", signals=["survey"], journey_map=journey_map
    )
    for m in mot.moments:
        if not m.significant or m.rate_bad is None or not m.rate_good:
            continue
        ratio = m.rate_bad / m.rate_good
        if ratio < min_ratio or m.location not in names:
            continue
        impact = m.n_bad * (m.rate_bad - m.rate_good)
        name = names[m.location]
        out.append(
            Finding(
                "moment", m.location, name, f"a bad “{name}”", "a good one", "churn",
                m.rate_bad, m.rate_good, ratio, m.n_bad, m.n_good, m.q_value, impact,
                _score(impact, ratio),
                f"“{name}” is a moment of truth: customers who rated it badly churned "
                f"{times(ratio)} as often as those who rated it well: {pct(m.rate_bad)} vs "
                f"{pct(m.rate_good)} (N = {m.n_bad:,} vs {m.n_good:,}).",
            )
        )  # fmt: skip
    out.sort(key=lambda f: -f.score)
    return tuple(out)


# -- anomalies over time ---------------------------------------------------------------------


def robust_z(values: Sequence[float]) -> list[float]:
    """(x − median) / (1.4826 · MAD) for each value (here median 3, MAD 1); when the MAD is 0, the mean absolute
    deviation (× 1.2533) stands in, and when that is 0 too every z is 0.

    >>> [round(z, 2) for z in robust_z([1, 2, 3, 4, 100])]
    [-1.35, -0.67, 0.0, 0.67, 65.43]
    """
    xs = sorted(values)
    med = _median(xs)
    mad = _median(sorted(abs(x - med) for x in xs))
    scale = 1.4826 * mad
    if scale == 0:
        scale = 1.2533 * sum(abs(x - med) for x in xs) / len(xs) if xs else 0.0
    return [0.0 if scale == 0 else (x - med) / scale for x in values]


def _median(xs: Sequence[float]) -> float:
    n = len(xs)
    if n == 0:
        return 0.0
    return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2


def _runs(days: Iterable[date]) -> list[list[date]]:
    runs: list[list[date]] = []
    for d in sorted(days):
        if runs and d - runs[-1][-1] == timedelta(days=1):
            runs[-1].append(d)
        else:
            runs.append([d])
    return runs


def anomaly_findings(
    bound: nw.LazyFrame[Any],
    journey_map: JourneyMap,
    *,
    z_threshold: float = 5.0,
    min_ratio: float = 3.0,
    min_days: int = 14,
    min_events: int = 10,
) -> tuple[Finding, ...]:
    """Spikes of error events and support tickets per touchpoint (module docstring)."""
    lf = extract_properties(as_events(bound), [_TOUCHPOINT_KEY])
    day = nw.col(TIME).dt.truncate("1d").alias("_day")
    totals = {
        r["_day"]: int(r["n"])
        for r in collect_rows(lf.group_by(day).agg(nw.len().cast(nw.Int64).alias("n")))
    }
    if len(totals) < min_days:
        return ()
    name = nw.col(EVENT).str.to_lowercase()
    is_error = nw.lit(False)
    for word in _ERROR_WORDS:
        is_error = is_error | name.str.contains(word, literal=True)
    where = nw.col("touchpoint_id")
    if prop_column(_TOUCHPOINT_KEY) in lf.collect_schema().names():
        where = nw.coalesce(nw.col("touchpoint_id"), nw.col(prop_column(_TOUCHPOINT_KEY)))
    signals = lf.filter(is_error | (nw.col(EVENT) == _TICKET_EVENT)).with_columns(
        where.cast(nw.String).alias("_tp"), day
    )
    counts: dict[tuple[str, str], dict[Any, int]] = {}
    for r in collect_rows(
        signals.filter(~nw.col("_tp").is_null())
        .group_by("_tp", EVENT, "_day")
        .agg(nw.len().cast(nw.Int64).alias("n"))
    ):
        counts.setdefault((str(r["_tp"]), str(r[EVENT])), {})[r["_day"]] = int(r["n"])
    tp_names = {tp.id: tp.name for _, _, tp in journey_map.iter_touchpoints()}
    days = sorted(totals)
    out: list[Finding] = []
    for (tp, event), per_day in counts.items():
        if sum(per_day.values()) < min_events:
            continue
        rates = [1000 * per_day.get(d, 0) / totals[d] for d in days]
        med = _median(sorted(rates))
        zs = robust_z(rates)
        hot = [
            d
            for d, r, z in zip(days, rates, zs, strict=True)
            if z >= z_threshold and r >= min_ratio * med and r > 0
        ]
        for run in _runs(_as_date(d) for d in hot):
            inside = [d for d in days if _as_date(d) in run]
            n_in = sum(totals[d] for d in inside)
            ev_in = sum(per_day.get(d, 0) for d in inside)
            rate_in = 1000 * ev_in / n_in
            n_out = sum(totals.values()) - n_in
            ev_out = sum(per_day.values()) - ev_in
            base = 1000 * ev_out / n_out if n_out else 0.0
            ratio = rate_in / base if base else math.inf
            impact = ev_in - base * n_in / 1000
            place = tp_names.get(tp, tp)
            what = "Support tickets" if event == _TICKET_EVENT else f"Error events ({event})"
            than = f"{times(ratio)} their usual rate" if base else "where there were none before"
            out.append(
                Finding(
                    "anomaly", tp, place, day_span(run[0], run[-1]), "the other days",
                    f"{event} per 1,000 events", rate_in, base, ratio, n_in, n_out, None,
                    impact, _score(impact, ratio),
                    f"{what} at “{place}” spiked {than} on {day_span(run[0], run[-1])}: "
                    f"{ev_in:,} in {len(run)} day{'s' if len(run) > 1 else ''} "
                    f"({rate_in:.1f} per 1,000 events vs {base:.1f} on the other days).",
                )
            )  # fmt: skip
    out.sort(key=lambda f: -f.score)
    return tuple(out)


def _as_date(value: Any) -> date:
    return value.date() if isinstance(value, datetime) else value


# -- everything, ranked ----------------------------------------------------------------------


def top_findings(findings: Iterable[Finding], limit: int = 8) -> tuple[Finding, ...]:
    """The best finding of each kind first (by score), then the rest by score; one finding
    per kind and location (the others at the same place usually restate the same story).

    >>> f = lambda kind, at, score: Finding(kind, at, "", "", "", "", 0, 0, 1, 0, 0, None, 0,
    ...                                     score, "")
    >>> top = top_findings([f("a", "x", 9), f("a", "x", 8), f("a", "y", 7), f("b", "x", 1)], 3)
    >>> [(x.kind, x.location, x.score) for x in top]
    [('a', 'x', 9), ('b', 'x', 1), ('a', 'y', 7)]
    """
    ranked: list[Finding] = []
    seen: set[tuple[str, str]] = set()
    for f in sorted(findings, key=lambda f: -f.score):
        if (f.kind, f.location) not in seen:
            seen.add((f.kind, f.location))
            ranked.append(f)
    firsts: dict[str, Finding] = {}
    for f in ranked:
        firsts.setdefault(f.kind, f)
    lead = list(firsts.values())
    rest = [f for f in ranked if f not in lead]
    return tuple((lead + rest)[:limit])


def segment_findings(
    bound: nw.LazyFrame[Any],
    journey_map: JourneyMap,
    *,
    customers: Any = None,
    personas: Sequence[Persona] = (),
    as_of: datetime | None = None,
) -> tuple[Finding, ...]:
    """Every finding of every kind (drop-off, outcome, moment, anomaly), each kind ranked."""
    return (
        dropoff_findings(bound, journey_map, customers=customers, personas=personas)
        + outcome_findings(bound, journey_map, as_of=as_of)
        + anomaly_findings(bound, journey_map)
    )
