"""Binding: the designed map meets the observed events.

:func:`bind` evaluates every touchpoint's match rules on the canonical events, in the engine,
as narwhals expressions, and gives each event its ``touchpoint_id``, ``step_id``,
``stage_id``, ``stage_index`` (1-based stage order of the map) and ``step_index`` (1-based
order of the step across the whole map); all are null for an event no touchpoint matches.

**Precedence.** When several touchpoints match one event, the first in map order wins:
stages in order, then steps in order within the stage, then touchpoints in order within the
step, then the touchpoint's rules in order. So a specific rule placed earlier in the map
beats a catch-all placed later. An event is bound to at most one touchpoint.

**Rule semantics** (the rule language of :mod:`journeylens.model.rules`):

* ``event`` / ``source`` names are exact unless they hold glob wildcards (``*``, ``?``,
  ``[…]``), which match the whole value (the glob becomes an anchored regular expression);
* a ``where`` condition reads an event column or ``properties.<key>`` (nested keys with
  dots); ``gt/ge/lt/le`` compare numbers (a property that is not a number fails them);
  ``eq/ne/in/not_in`` compare text, numbers and booleans (``true`` / ``false`` in JSON);
* a condition on a missing (null) value is false, except ``missing``; so ``not`` of a
  condition on a missing value is true;
* ``all`` / ``any`` / ``not`` combine conditions.

Outcomes (:func:`evaluate_outcomes`) and populations (:class:`Population`) reuse the same
rule compiler on events and on customer attributes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

import narwhals as nw
import numpy as np
import pyarrow as pa

from journeylens.analytics._common import (
    UNIT_ID,
    AnalyticsError,
    Unit,
    as_events,
    collect_rows,
    table,
    with_unit,
)
from journeylens.engine.frames import (
    CUSTOMER,
    EVENT,
    TIME,
    cache,
    extract_properties,
    prop_column,
    with_index_lookups,
    with_value_lookup,
)
from journeylens.model import (
    AllOf,
    AnyOf,
    Condition,
    JourneyMap,
    MatchRule,
    NotOf,
    Op,
    Outcome,
    Persona,
    Rule,
)

#: Columns :func:`bind` adds.
TOUCHPOINT_ID, STEP_ID, STAGE_ID, STAGE_INDEX, STEP_INDEX = (
    "touchpoint_id",
    "step_id",
    "stage_id",
    "stage_index",
    "step_index",
)
BOUND_COLUMNS = (TOUCHPOINT_ID, STEP_ID, STAGE_ID, STAGE_INDEX, STEP_INDEX)
#: Column :func:`bind` also adds: the 0-based map order of the bound touchpoint (null when
#: unbound). Every column of ``BOUND_COLUMNS`` is a function of it (:func:`bound_columns`),
#: so the shared sort carries this one small integer instead of three texts and two numbers.
TOUCHPOINT_INDEX = "touchpoint_index"
_PROPS = "properties."


class BindingError(AnalyticsError):
    """A rule reads a field the data does not have (names the rule's owner and the field)."""


# -- the rule compiler ---------------------------------------------------------------------


def glob_to_regex(pattern: str) -> str:
    """A shell glob as a regular expression that must match the whole value.

    ``*`` any text, ``?`` one character, ``[abc]`` / ``[!abc]`` a character class; every
    other character is literal.

    >>> glob_to_regex("page_*"), glob_to_regex("a?c"), glob_to_regex("[!x].b")
    ('^(?s:page_.*)$', '^(?s:a.c)$', '^(?s:[^x]\\\\.b)$')
    """
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        ch = pattern[i]
        if ch == "*":
            out.append(".*")
        elif ch == "?":
            out.append(".")
        elif ch == "[":
            j = pattern.find("]", i + 2 if i + 1 < n and pattern[i + 1] in "!^" else i + 1)
            if j == -1:
                out.append("\\[")
            else:
                body = pattern[i + 1 : j]
                if body.startswith("!"):
                    body = "^" + body[1:]
                out.append("[" + body.replace("\\", "\\\\") + "]")
                i = j
        else:
            out.append(_escape(ch))
        i += 1
    return "^(?s:" + "".join(out) + ")$"


def _escape(ch: str) -> str:
    # Escape only regex metacharacters: RE2, Java and Rust regex agree on these escapes.
    return "\\" + ch if ch in ".^$*+?()[]{}|\\/" else ch


def _has_glob(name: str) -> bool:
    return any(c in name for c in "*?[")


def _names_expr(column: str, names: str | Sequence[str]) -> nw.Expr:
    """``column`` equals one of ``names`` (each exact, or a glob when it has wildcards)."""
    values = [names] if isinstance(names, str) else list(names)
    exact = [v for v in values if not _has_glob(v)]
    globs = [v for v in values if _has_glob(v)]
    parts: list[nw.Expr] = []
    if exact:
        parts.append(nw.col(column).is_in(exact))
    for g in globs:
        if not _has_glob(g[:-1]) and g.endswith("*"):
            # ``prefix*`` is a prefix test: the same answer as the anchored regex, without
            # running a regex engine on every event.
            parts.append(nw.col(column).str.starts_with(g[:-1]))
        else:
            parts.append(nw.col(column).str.contains(glob_to_regex(g)))
    return _any(parts)


def _any(parts: Sequence[nw.Expr]) -> nw.Expr:
    if not parts:
        return nw.lit(False)
    out = parts[0].fill_null(False)
    for part in parts[1:]:
        out = out | part.fill_null(False)
    return out


def _all(parts: Sequence[nw.Expr]) -> nw.Expr:
    if not parts:
        return nw.lit(True)
    out = parts[0].fill_null(False)
    for part in parts[1:]:
        out = out & part.fill_null(False)
    return out


@dataclass(frozen=True)
class _Fields:
    """How rule fields resolve to columns of one frame (events or customers)."""

    columns: frozenset[str]
    json_column: str  # JSON text column for fields that are not columns
    json_prefix: str  # field prefix that always means "inside the JSON column" ("properties.")
    owner: str = "rule"
    fallback_to_json: bool = False  # customers: an attribute that is not a column is in JSON

    def key(self, name: str) -> str | None:
        """The JSON key a field reads, or None when it is a plain column."""
        if self.json_prefix and name.startswith(self.json_prefix):
            return name[len(self.json_prefix) :]
        if name in self.columns:
            return None
        if self.fallback_to_json and self.json_column in self.columns:
            return name
        raise BindingError(
            f"{self.owner}: field '{name}' is not a column; the columns are: "
            f"{', '.join(sorted(self.columns))}"
        )


def _conditions(rule: Rule) -> Iterable[Condition]:
    if isinstance(rule, Condition):
        yield rule
    elif isinstance(rule, AllOf):
        for r in rule.all:
            yield from _conditions(r)
    elif isinstance(rule, AnyOf):
        for r in rule.any:
            yield from _conditions(r)
    else:
        yield from _conditions(rule.not_)


def _json_keys(rules: Iterable[Rule], fields: _Fields) -> tuple[list[str], list[str]]:
    """The JSON keys the rules read as text and as numbers."""
    text: list[str] = []
    numeric: list[str] = []
    for rule in rules:
        for cond in _conditions(rule):
            key = fields.key(cond.field)
            if key is None:
                continue
            if cond.op in (Op.GT, Op.GE, Op.LT, Op.LE) or (
                cond.op in (Op.EQ, Op.NE, Op.IN, Op.NOT_IN) and _numeric_value(cond.value)
            ):
                numeric.append(key)
            text.append(key)
    return text, numeric


def _numeric_value(value: Any) -> bool:
    values = value if isinstance(value, list) else [value]
    return any(isinstance(v, int | float) and not isinstance(v, bool) for v in values)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def compile_condition(cond: Condition, fields: _Fields) -> nw.Expr:
    """One condition as a boolean expression that is never null."""
    key = fields.key(cond.field)
    op, value = cond.op, cond.value
    if key is None:
        col = nw.col(cond.field)
        num = nw.col(cond.field)
    else:
        col = nw.col(prop_column(key))
        num = nw.col(prop_column(key, numeric=True))
    if op is Op.EXISTS:
        return ~col.is_null()
    if op is Op.MISSING:
        return col.is_null()
    expr: nw.Expr
    if op in (Op.GT, Op.GE, Op.LT, Op.LE):
        target = num if key is not None else num.cast(nw.Float64)
        v = float(value)  # type: ignore[arg-type]
        expr = {
            Op.GT: target > v,
            Op.GE: target >= v,
            Op.LT: target < v,
            Op.LE: target <= v,
        }[op]
    elif op in (Op.EQ, Op.NE, Op.IN, Op.NOT_IN):
        values = value if isinstance(value, list) else [value]
        if key is not None:
            # Properties are JSON text; numbers compare as numbers, the rest as text.
            nums = [
                float(v) for v in values if isinstance(v, int | float) and not isinstance(v, bool)
            ]
            texts = [
                _text(v)
                for v in values
                if not (isinstance(v, int | float) and not isinstance(v, bool))
            ]
            parts = []
            if texts:
                parts.append(col.is_in(texts))
            if nums:
                parts.append(num.is_in(nums))
            hit = _any(parts)
            present = ~col.is_null()
        else:
            hit = col.is_in(list(values)).fill_null(False)
            present = ~col.is_null()
        expr = hit if op in (Op.EQ, Op.IN) else (present & ~hit)
    elif op is Op.GLOB:
        expr = col.cast(nw.String).str.contains(glob_to_regex(str(value)))
    else:  # Op.REGEX
        expr = col.cast(nw.String).str.contains(str(value))
    return expr.fill_null(False)


def compile_rule(rule: Rule, fields: _Fields) -> nw.Expr:
    """A rule (condition, all, any, not) as a boolean expression that is never null."""
    if isinstance(rule, Condition):
        return compile_condition(rule, fields)
    if isinstance(rule, AllOf):
        return _all([compile_rule(r, fields) for r in rule.all])
    if isinstance(rule, AnyOf):
        return _any([compile_rule(r, fields) for r in rule.any])
    if isinstance(rule, NotOf):
        return ~compile_rule(rule.not_, fields)
    raise TypeError(f"not a rule: {rule!r}")


def compile_match(match: MatchRule, fields: _Fields) -> nw.Expr:
    """A touchpoint match rule: every given part holds (event, source, channel, where)."""
    parts: list[nw.Expr] = []
    if match.event is not None:
        parts.append(_names_expr(EVENT, match.event))
    if match.source is not None:
        parts.append(_names_expr("source", match.source))
    if match.channel is not None:
        channels = [match.channel] if not isinstance(match.channel, list) else match.channel
        parts.append(nw.col("channel").is_in([str(c.value) for c in channels]))
    parts.extend(compile_rule(r, fields) for r in match.where)
    return _all(parts)


def _event_fields(lf: nw.LazyFrame[Any], owner: str) -> _Fields:
    return _Fields(
        columns=frozenset(lf.collect_schema().names()),
        json_column="properties",
        json_prefix=_PROPS,
        owner=owner,
    )


def _check_match_columns(matches: Iterable[MatchRule], fields: _Fields) -> None:
    for m in matches:
        for column, given in (("source", m.source), ("channel", m.channel)):
            if given is not None and column not in fields.columns:
                raise BindingError(
                    f"{fields.owner}: rule reads '{column}', which the events do not have; "
                    f"the columns are: {', '.join(sorted(fields.columns))}"
                )


def prepare_matches(
    lf: nw.LazyFrame[Any], matches: Sequence[MatchRule], owner: str = "map"
) -> tuple[nw.LazyFrame[Any], _Fields]:
    """Extract the JSON properties the rules read, once, and return the field resolver."""
    fields = _event_fields(lf, owner)
    _check_match_columns(matches, fields)
    text, numeric = _json_keys([r for m in matches for r in m.where], fields)
    lf = extract_properties(lf, text, numeric_keys=numeric)
    return lf, _event_fields(lf, owner)


def match_expr(
    lf: nw.LazyFrame[Any], rule: MatchRule, owner: str = "rule"
) -> tuple[nw.LazyFrame[Any], nw.Expr]:
    """The frame (with needed properties extracted) and the boolean expression of one rule."""
    lf, fields = prepare_matches(lf, [rule], owner)
    return lf, compile_match(rule, fields)


# -- bind -------------------------------------------------------------------------------------


def bind(events: Any, journey_map: JourneyMap, *, unit: Unit = "customer") -> nw.LazyFrame[Any]:
    """Every event with its unit, touchpoint, step and stage (null when unbound).

    Adds ``unit_id``, ``touchpoint_id``, ``step_id``, ``stage_id``, ``stage_index``
    (1-based map order of the stage), ``step_index`` (1-based order of the step over the
    whole map) and ``touchpoint_index`` (0-based map order of the touchpoint, from which
    the others follow: :func:`bound_columns`). The first matching touchpoint in map order
    wins (see the module docstring).

    >>> import polars as pl
    >>> from datetime import datetime
    >>> from journeylens.model import JourneyMap
    >>> jm = JourneyMap.model_validate({"id": "m", "title": "M", "stages": [
    ...   {"id": "discover", "name": "Discover", "steps": [{"id": "browse", "name": "Browse",
    ...     "touchpoints": [{"id": "site", "name": "Site", "channel": "web",
    ...                      "match": [{"event": "page_*"}]}]}]},
    ...   {"id": "buy", "name": "Buy", "steps": [{"id": "pay", "name": "Pay",
    ...     "touchpoints": [{"id": "checkout", "name": "Checkout", "channel": "web",
    ...                      "match": [{"event": "purchase"}]}]}]}]})
    >>> ev = pl.DataFrame({"customer_id": ["c"] * 3, "event_name": ["page_view", "purchase", "x"],
    ...     "occurred_at": [datetime(2024, 1, 1, h) for h in (1, 2, 3)], "seq": [1, 2, 3]})
    >>> bind(ev, jm).select("event_name", "touchpoint_id", "stage_index").collect().rows()
    [('page_view', 'site', 1), ('purchase', 'checkout', 2), ('x', None, None)]
    """
    lf = with_unit(as_events(events), unit)
    present = lf.collect_schema().names()
    lf = lf.drop(*[c for c in (*BOUND_COLUMNS, TOUCHPOINT_INDEX) if c in present])
    triples = list(journey_map.iter_touchpoints())
    lf, fields = prepare_matches(
        lf, [m for _, _, tp in triples for m in tp.match], owner=f"map '{journey_map.id}'"
    )
    hits: list[nw.Expr] = []
    names = _event_name_rules([tp.match for _, _, tp in triples])
    looked_up = None
    if names is not None and EVENT in present and lf.collect_schema()[EVENT] == nw.String:
        looked_up = with_value_lookup(lf, EVENT, names[0], _NAME_HIT)
    if looked_up is not None and names is not None:
        # Rules on the event name only: the exact names by one lookup (its touchpoint
        # already the first in map order that matches it, globs of earlier ones included);
        # the globs test only the names that are none of them.
        lf = looked_up
        hits.append(nw.col(_NAME_HIT))
        for i, globs in names[1]:
            hits.append(nw.when(_names_expr(EVENT, globs)).then(nw.lit(i, dtype=nw.Int64)))
    else:
        for i, (_, _, tp) in enumerate(triples):
            if tp.match:
                cond = _any([compile_match(m, fields) for m in tp.match])
                hits.append(nw.when(cond).then(nw.lit(i, dtype=nw.Int64)))
    if not hits:
        idx: nw.Expr = nw.lit(None, dtype=nw.Int64)
    elif len(hits) == 1:
        idx = hits[0]
    else:
        idx = nw.coalesce(*hits)  # first match in map order wins
    lf = lf.with_columns(idx.alias(TOUCHPOINT_INDEX))
    if looked_up is not None:
        lf = lf.drop(_NAME_HIT)
    return with_index_lookups(lf, TOUCHPOINT_INDEX, bound_values(journey_map))


#: Column of :func:`bind`'s name lookup (dropped before it returns).
_NAME_HIT = "_jl_name_hit"


def _event_name_rules(
    matches: Sequence[Sequence[MatchRule]],
) -> tuple[dict[str, int], list[tuple[int, list[str]]]] | None:
    """When every touchpoint's rules test the event name only (no source, channel or
    ``where``): each exact name's touchpoint — the first in map order whose rules match
    it, by its exact names or its globs — and, per touchpoint with globs, those globs.
    None when some rule reads anything else.

    >>> m = [[MatchRule(event="page_*")], [MatchRule(event=["page_view", "buy"])]]
    >>> _event_name_rules(m)
    ({'page_view': 0, 'buy': 1}, [(0, ['page_*'])])
    """
    names_of: list[list[str]] = []
    for rules in matches:
        names: list[str] = []
        for m in rules:
            if m.source is not None or m.channel is not None or m.where or m.event is None:
                return None
            names += [m.event] if isinstance(m.event, str) else m.event
        names_of.append(names)
    matchers = [_names_matcher(names) for names in names_of]
    first: dict[str, int] = {}
    for name in dict.fromkeys(n for names in names_of for n in names if not _has_glob(n)):
        first[name] = next(i for i, matches_name in enumerate(matchers) if matches_name(name))
    globs_of = [[n for n in names if _has_glob(n)] for names in names_of]
    return first, [(i, globs) for i, globs in enumerate(globs_of) if globs]


def _names_matcher(names: Sequence[str]) -> Callable[[str], bool]:
    """Whether a text matches ``names`` as :func:`_names_expr` tests an event name in the
    engine: exactly, or as a glob matching the whole text (``prefix*`` a prefix) — for
    the distinct names matched in Python (:func:`bind`'s lookup, outcomes on label codes)."""
    import re

    exact = {v for v in names if not _has_glob(v)}
    globs = [v for v in names if _has_glob(v)]
    prefixes = tuple(g[:-1] for g in globs if g.endswith("*") and not _has_glob(g[:-1]))
    patterns = [
        re.compile(glob_to_regex(g))
        for g in globs
        if not (g.endswith("*") and not _has_glob(g[:-1]))
    ]

    def matches(text: str) -> bool:
        return (
            text in exact
            or bool(prefixes and text.startswith(prefixes))
            or any(p.fullmatch(text) for p in patterns)
        )

    return matches


def bound_values(journey_map: JourneyMap) -> dict[str, tuple[Sequence[Any], Any]]:
    """Per column of ``BOUND_COLUMNS``: its value for touchpoint index 0, 1, … (map order)
    and its dtype — the table :func:`bind` looks them up in
    (:func:`~journeylens.engine.frames.with_index_lookups`)."""
    triples = list(journey_map.iter_touchpoints())
    stage_index = {s.id: i for i, s in enumerate(journey_map.stages, start=1)}
    step_index = {st.id: i for i, (_, st) in enumerate(journey_map.iter_steps(), start=1)}
    return {
        TOUCHPOINT_ID: ([tp.id for _, _, tp in triples], nw.String),
        STEP_ID: ([st.id for _, st, _ in triples], nw.String),
        STAGE_ID: ([sg.id for sg, _, _ in triples], nw.String),
        STAGE_INDEX: ([stage_index[sg.id] for sg, _, _ in triples], nw.Int64),
        STEP_INDEX: ([step_index[st.id] for _, st, _ in triples], nw.Int64),
    }


def bound_columns(journey_map: JourneyMap, index: str = TOUCHPOINT_INDEX) -> dict[str, nw.Expr]:
    """The columns of ``BOUND_COLUMNS`` as expressions of a touchpoint index column.

    ``index`` holds the 0-based map order of a touchpoint (``touchpoint_index`` of
    :func:`bind`); each expression looks up that touchpoint's id, step, stage and their
    1-based orders (null for a null index). The path frame stores only the index and
    re-derives these on reading.

    >>> import polars as pl
    >>> from journeylens.model import JourneyMap
    >>> jm = JourneyMap.model_validate({"id": "m", "title": "M", "stages": [
    ...   {"id": "s", "name": "S", "steps": [{"id": "a", "name": "A", "touchpoints": [
    ...     {"id": "t1", "name": "T1", "channel": "web"},
    ...     {"id": "t2", "name": "T2", "channel": "web"}]}]}]})
    >>> lf = nw.from_native(pl.LazyFrame({"touchpoint_index": [1, None]}))
    >>> tp = bound_columns(jm)["touchpoint_id"].alias("tp")
    >>> lf.select(tp).collect()["tp"].to_list()
    ['t2', None]
    """

    def lookup(values: Sequence[Any], dtype: Any) -> nw.Expr:
        cases = [
            nw.when(nw.col(index) == i).then(nw.lit(v, dtype=dtype)) for i, v in enumerate(values)
        ]
        if not cases:
            return nw.lit(None, dtype=dtype)
        return cases[0] if len(cases) == 1 else nw.coalesce(*cases)

    return {c: lookup(v, d) for c, (v, d) in bound_values(journey_map).items()}


# -- unbound summary ----------------------------------------------------------------------------


@dataclass(frozen=True)
class UnboundRow:
    """Unbound events of one (source, event name): what the map is missing."""

    source: str | None
    event_name: str
    events: int
    share_of_unbound: float


@dataclass(frozen=True)
class UnboundSummary:
    """How many events no touchpoint matches, per source and event name (most first).

    ``unbound_share`` = unbound events / all events (None when there are no events).
    """

    total_events: int
    unbound_events: int
    unbound_share: float | None
    rows: tuple[UnboundRow, ...]

    def to_frame(self) -> pa.Table:
        """The rows as a pyarrow table."""
        return table(
            [asdict(r) for r in self.rows],
            {
                "source": pa.string(),
                "event_name": pa.string(),
                "events": pa.int64(),
                "share_of_unbound": pa.float64(),
            },
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON."""
        return {
            "total_events": self.total_events,
            "unbound_events": self.unbound_events,
            "unbound_share": self.unbound_share,
            "rows": [asdict(r) for r in self.rows],
        }


def unbound_summary(bound: nw.LazyFrame[Any], *, top: int | None = None) -> UnboundSummary:
    """Count the events of a :func:`bind` result that no touchpoint matches.

    >>> import polars as pl
    >>> lf = nw.from_native(pl.LazyFrame({"source": ["web", "web", "app"],
    ...     "event_name": ["a", "a", "b"], "touchpoint_id": [None, None, "t"]}))
    >>> s = unbound_summary(lf)
    >>> s.unbound_events, s.total_events, s.rows[0].event_name, s.rows[0].events
    (2, 3, 'a', 2)
    """
    names = bound.collect_schema().names()
    if TOUCHPOINT_ID not in names:
        raise AnalyticsError("unbound_summary needs a bound frame (call bind first)")
    src = nw.col("source") if "source" in names else nw.lit(None, dtype=nw.String)
    total_row = collect_rows(
        bound.select(
            nw.len().alias("n"), nw.col(TOUCHPOINT_ID).is_null().cast(nw.Int64).sum().alias("u")
        )
    )[0]
    total, unbound = int(total_row["n"] or 0), int(total_row["u"] or 0)
    rows = collect_rows(
        bound.filter(nw.col(TOUCHPOINT_ID).is_null())
        .with_columns(src.alias("_source"))
        .group_by("_source", EVENT)
        .agg(nw.len().alias("events"))
    )
    rows.sort(key=lambda r: (-int(r["events"]), str(r["_source"]), str(r[EVENT])))
    if top is not None:
        rows = rows[:top]
    return UnboundSummary(
        total_events=total,
        unbound_events=unbound,
        unbound_share=None if total == 0 else unbound / total,
        rows=tuple(
            UnboundRow(
                source=r["_source"],
                event_name=r[EVENT],
                events=int(r["events"]),
                share_of_unbound=int(r["events"]) / unbound,
            )
            for r in rows
        ),
    )


# -- outcomes ---------------------------------------------------------------------------------


def evaluate_outcomes(
    events: Any,
    journey_map: JourneyMap | Sequence[Outcome],
    *,
    unit: Unit = "customer",
    as_of: datetime | None = None,
) -> nw.LazyFrame[Any]:
    """One row per unit: ``unit_id`` and one boolean column per outcome id.

    * ``did``: the unit has at least one event the rule matches;
    * ``did_not``: it has none;
    * ``inactive_days: D``: the time from the unit's last event to ``as_of`` is at least D
      days (no activity for D days). ``as_of`` defaults to the end of the data window, the
      latest ``occurred_at`` of all events.

    ``events`` may be a :class:`~journeylens.analytics._common.Paths`: its events (the path
    frame's rows) are read. When it carries the sorted arrays of the same unit, labelled by
    the event name, and every rule is an event-name rule or ``inactive_days``, the outcomes
    are read off the arrays (:func:`_outcomes_from_arrays`) without reading the events.

    >>> import polars as pl
    >>> from datetime import datetime
    >>> from journeylens.model import Outcome
    >>> ev = pl.DataFrame({"customer_id": ["a", "a", "b"], "event_name": ["x", "buy", "x"],
    ...     "occurred_at": [datetime(2024, 1, d) for d in (1, 2, 20)], "seq": [1, 2, 3]})
    >>> outs = [Outcome(id="converted", name="C", did={"event": "buy"}),
    ...         Outcome(id="churned", name="Ch", inactive_days=14, polarity="negative")]
    >>> evaluate_outcomes(ev, outs).sort("unit_id").collect().rows()
    [('a', True, True), ('b', False, False)]
    """
    from journeylens.analytics._common import Paths

    outcomes = list(journey_map.outcomes if isinstance(journey_map, JourneyMap) else journey_map)
    if isinstance(events, Paths):
        from_arrays = _outcomes_from_arrays(events, outcomes, unit, as_of)
        if from_arrays is not None:
            return from_arrays
        lf = _events_of_paths(events, unit)
    else:
        lf = with_unit(as_events(events), unit)
    lf, fields = prepare_matches(
        lf,
        [m for o in outcomes for m in (o.did, o.did_not) if m is not None],
        owner="outcomes",
    )
    inactive = [o for o in outcomes if o.did is None and o.did_not is None]
    flags: list[nw.Expr] = []
    aggs: list[nw.Expr] = []
    for o in outcomes:
        rule = o.did if o.did is not None else o.did_not
        if rule is not None:
            flags.append(compile_match(rule, fields).cast(nw.Int64).alias(f"_f_{o.id}"))
            aggs.append(nw.col(f"_f_{o.id}").max().alias(f"_a_{o.id}"))
    if inactive:
        aggs.append(nw.col(TIME).max().alias("_last"))
    if flags:
        lf = lf.with_columns(*flags)
    if not aggs:
        return cache(lf.group_by(UNIT_ID).agg())  # a plain distinct (``unique`` is a window)
    # One pass over the events: one row per unit, read once per feature by the comparisons.
    per_unit = cache(lf.group_by(UNIT_ID).agg(*aggs))
    if as_of is None and inactive:
        # The latest event of all is the latest of the units' last events: no second pass.
        as_of = collect_rows(per_unit.select(nw.col("_last").max().alias("t")))[0]["t"]
    finals: list[nw.Expr] = []
    for o in outcomes:
        if o.did is not None or o.did_not is not None:
            hit = nw.col(f"_a_{o.id}") == 1
            finals.append((hit if o.did is not None else ~hit).alias(o.id))
        else:
            assert o.inactive_days is not None
            if as_of is None:
                finals.append(nw.lit(False).alias(o.id))
            else:
                cutoff = _inactive_cutoff(as_of, o.inactive_days)
                finals.append((nw.col("_last") <= nw.lit(cutoff)).alias(o.id))
    return per_unit.select(UNIT_ID, *finals)


def _events_of_paths(p: Any, unit: Unit) -> nw.LazyFrame[Any]:
    """The events of a :class:`~journeylens.analytics._common.Paths` with their ``unit_id``:
    the events its arrays were sorted from when it has them and the same unit (the path
    frame's rows, without building the frame from the arrays), else its path frame."""
    if p.events is not None and p.unit == unit:
        # unit_id is set and never null there (the customer id column may not be: the
        # sort restores it from unit_id, so a rule reading it needs the frame's Paths).
        events: nw.LazyFrame[Any] = p.events
        return events
    return with_unit(p.frame, unit)


def _inactive_cutoff(as_of: datetime, days: int) -> datetime:
    """The latest last-event time of a unit inactive for ``days`` days at ``as_of``: a unit is
    inactive when its last event is at or before it (Python's datetime arithmetic, also on
    an aware ``as_of``: both paths of :func:`evaluate_outcomes` compute it here)."""
    return as_of - timedelta(days=days)


def _names_only(rule: MatchRule) -> bool:
    """Whether a match rule tests the event name and nothing else (no source, channel,
    ``where``)."""
    return (
        rule.event is not None and rule.source is None and rule.channel is None and not rule.where
    )


def _outcomes_from_arrays(
    p: Any, outcomes: Sequence[Outcome], unit: Unit, as_of: datetime | None
) -> nw.LazyFrame[Any] | None:
    """:func:`evaluate_outcomes` of a path frame read off its sorted arrays — the same rows,
    one per path, as the engine's group-by of the path frame's events — or None when they
    do not hold what the rules read, and the caller reads the events.

    Readable: arrays of the asked ``unit``; ``did`` / ``did_not`` rules on the event name
    only, with the event name as the paths' label (per path: any row whose label code the
    rule matches, :func:`_matched_codes`); ``inactive_days`` on a time of at most
    microsecond precision (``t_us`` exact) with ``as_of`` as zoned as the time column, so
    that ``last <= as_of − D days`` is an integer comparison of epoch microseconds. The
    result is an Arrow table on the events' connection (``unit_id`` and one boolean per
    outcome).
    """
    from journeylens.analytics._arrays import NONE
    from journeylens.engine.sorted import arrow_relation

    a, events = p.arrays, p.events
    if a is None or events is None or p.unit != unit:
        return None
    rules = [o.did if o.did is not None else o.did_not for o in outcomes]
    if any(r is not None and (p.label != EVENT or not _names_only(r)) for r in rules):
        return None
    inactive = any(r is None for r in rules)
    zone: tzinfo | None = None
    if inactive:
        time_type = events.collect_schema()[TIME]
        if not isinstance(time_type, nw.Datetime) or time_type.time_unit == "ns":
            return None  # ns times are floored in t_us: not exact at the cutoff
        if as_of is not None and (as_of.tzinfo is None) != (time_type.time_zone is None):
            return None  # a naive and a zoned time: the engine converts in its session zone
        if as_of is None and time_type.time_zone is not None:
            zone = _zone(time_type.time_zone)
            if zone is None:
                return None
    columns: dict[str, Any] = {UNIT_ID: a.unit_ids}
    for o, rule in zip(outcomes, rules, strict=True):
        if rule is None:
            continue
        assert rule.event is not None
        # lookup[NONE] (its last entry, as NONE is -1) answers an unlabelled row: no match.
        assert NONE == -1
        lookup = np.zeros(len(a.labels) + 1, dtype=bool)
        lookup[_matched_codes(a.labels, rule.event)] = True
        got = _paths_with(a.label, lookup, a.starts)
        columns[o.id] = got if o.did is not None else ~got
    if inactive:
        last = a.t_us[a.last_rows]
        if as_of is None and a.units:
            # The default of the group-by path: the latest time as the engine hands it back.
            as_of = _EPOCH + timedelta(microseconds=int(last.max()))
            if zone is not None:
                as_of = as_of.replace(tzinfo=UTC).astimezone(zone)
        for o, rule in zip(outcomes, rules, strict=True):
            if rule is not None:
                continue
            assert o.inactive_days is not None
            if as_of is None:
                columns[o.id] = np.zeros(a.units, dtype=bool)
            else:
                columns[o.id] = last <= _epoch_us(_inactive_cutoff(as_of, o.inactive_days))
    result = {UNIT_ID: columns[UNIT_ID]}
    for o in outcomes:
        result[o.id] = pa.array(columns[o.id], pa.bool_())
    return arrow_relation(events, pa.table(result))


def _paths_with(code: np.ndarray, lookup: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Per path (rows ``starts[u]:starts[u + 1]``, none empty), whether a row's code is one
    ``lookup`` holds True for (``lookup[code]``): any over each path, a block of rows at a
    time — the block's codes looked up, an OR per path piece in it, and the pieces of a
    path that crosses blocks OR-ed together — so no whole-length array is made (the lookup
    of int32 codes converts them to 64-bit indices first)."""
    from journeylens.analytics._arrays import BLOCK

    units = len(starts) - 1
    out = np.zeros(units, dtype=bool)
    rows = int(starts[-1])
    hit = np.empty(BLOCK, dtype=bool)
    for lo in range(0, rows, BLOCK):
        hi = min(lo + BLOCK, rows)
        got = hit[: hi - lo]
        np.take(lookup, code[lo:hi], out=got)
        # The paths with rows in the block: the one holding row lo, up to the last one
        # starting before hi; each one's piece begins at its start (the first at lo).
        first = int(np.searchsorted(starts, lo, side="right")) - 1
        end = int(np.searchsorted(starts, hi, side="left"))
        pieces = starts[first:end] - lo
        pieces[0] = 0
        out[first:end] |= np.logical_or.reduceat(got, pieces)
    return out


#: The epoch of naive times (read as UTC, as the arrays' ``t_us`` of a time without zone).
_EPOCH = datetime(1970, 1, 1)


def _epoch_us(moment: datetime) -> int:
    """``moment`` as integer epoch microseconds (a naive time read as UTC; an aware one as
    its instant), exactly."""
    since = moment - (_EPOCH if moment.tzinfo is None else _EPOCH.replace(tzinfo=UTC))
    return since // timedelta(microseconds=1)


def _zone(name: str) -> tzinfo | None:
    """The time zone the engine gives a zoned time of the column in (its session zone,
    which the schema names), or None when Python does not know that name."""
    from zoneinfo import ZoneInfo

    try:
        return ZoneInfo(name)
    except (ValueError, LookupError):  # ZoneInfoNotFoundError is a KeyError
        return None


def _matched_codes(labels: Sequence[str], names: str | Sequence[str]) -> list[int]:
    """The positions of the label texts that ``names`` match (:func:`_names_matcher`)."""
    matches = _names_matcher([names] if isinstance(names, str) else list(names))
    return [i for i, text in enumerate(labels) if matches(text)]


# -- populations --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Population:
    """Which units an analysis covers: a persona / segment rule, an attribute filter, a window.

    * ``segment``: a rule on customer attributes (a persona's ``segment``; see
      :meth:`for_persona`), evaluated on the ``customers`` frame passed to :meth:`apply`
      (one row per ``customer_id``; fields that are not columns are read from its JSON
      ``attributes`` column);
    * ``attributes``: exact-match filter ``{column: value}`` on the same frame;
    * ``start`` / ``end``: keep events with ``start <= occurred_at < end``.

    ``label`` names the population in reports ("all customers" when nothing is set).
    """

    segment: Rule | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    start: datetime | None = None
    end: datetime | None = None
    label: str = "all customers"

    @classmethod
    def for_persona(cls, persona: Persona, **kwargs: Any) -> Population:
        """The customers a persona's segment rule accepts (all customers when it has none)."""
        return cls(segment=persona.segment, label=f"persona {persona.id}", **kwargs)

    @property
    def needs_customers(self) -> bool:
        """Whether :meth:`apply` needs the customers attribute frame."""
        return self.segment is not None or bool(self.attributes)

    def apply(self, events: Any, customers: Any = None) -> nw.LazyFrame[Any]:
        """The events of this population (same engine as ``events``; ``customers`` too).

        >>> import polars as pl
        >>> from datetime import datetime
        >>> from journeylens.model import Condition
        >>> ev = pl.DataFrame({"customer_id": ["a", "b"], "event_name": ["x", "x"],
        ...     "occurred_at": [datetime(2024, 1, 1)] * 2, "seq": [1, 2]})
        >>> cu = pl.DataFrame({"customer_id": ["a", "b"], "plan": ["pro", "free"]})
        >>> pop = Population(segment=Condition(field="plan", value="pro"))
        >>> pop.apply(ev, cu).select("customer_id").collect().rows()
        [('a',)]
        """
        lf = as_events(events)
        if self.start is not None:
            lf = lf.filter(nw.col(TIME) >= nw.lit(self.start))
        if self.end is not None:
            lf = lf.filter(nw.col(TIME) < nw.lit(self.end))
        if not self.needs_customers:
            return lf
        if customers is None:
            raise AnalyticsError(
                f"population '{self.label}' filters on customer attributes: pass the customers frame"
            )
        cu = nw.from_native(customers) if not isinstance(customers, nw.LazyFrame) else customers
        if isinstance(cu, nw.DataFrame):
            cu = cu.lazy()
        if not isinstance(cu, nw.LazyFrame):
            raise AnalyticsError("customers must be a frame")
        names = cu.collect_schema().names()
        if CUSTOMER not in names:
            raise AnalyticsError(
                f"the customers frame needs a '{CUSTOMER}' column; it has: {', '.join(names)}"
            )
        fields = _Fields(frozenset(names), "attributes", "attributes.", self.label, True)
        conds: list[nw.Expr] = []
        rules: list[Rule] = []
        if self.segment is not None:
            rules.append(self.segment)
        for key, value in self.attributes.items():
            rules.append(Condition(field=key, op=Op.EQ, value=value))
        text, numeric = _json_keys(rules, fields)
        cu = extract_properties(cu, text, numeric_keys=numeric, column="attributes")
        fields = _Fields(
            frozenset(cu.collect_schema().names()), "attributes", "attributes.", self.label, True
        )
        conds = [compile_rule(r, fields) for r in rules]
        chosen = cu.filter(_all(conds)).select(nw.col(CUSTOMER).cast(nw.String)).unique()
        return lf.join(chosen, on=CUSTOMER, how="semi")
