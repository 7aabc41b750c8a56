"""Hypothesis strategies for valid journey maps and personas, for any test that needs them.

Import them from other test folders with::

    from tests.formats.strategies import journey_maps, personas

Text fields mix free unicode text with strings that trip up naive YAML writers
(``yes``, ``1.0``, ``null``, ``2024-01-01``, ``#``, ``": "``, leading spaces, several lines),
so a round trip through a file format is tested where it is most likely to break. Ids are
unique within their scope and every reference (KPIs, outcomes, custom lanes) resolves, so
every drawn map is valid.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from hypothesis import strategies as st

from journeylens.model import (
    AllOf,
    AnyOf,
    Channel,
    Condition,
    Confidence,
    CustomLane,
    Demographics,
    Direction,
    Emotion,
    Evidence,
    EvidenceSource,
    Generation,
    JourneyMap,
    Kpi,
    KpiMetric,
    LaneConfig,
    MatchRule,
    MomentOfTruth,
    NotOf,
    Op,
    Opportunity,
    OpportunityStatus,
    Outcome,
    OutcomePolarity,
    PainPoint,
    Persona,
    Psychographics,
    Scenario,
    ScenarioKind,
    Stage,
    Status,
    Step,
    Touchpoint,
)
from journeylens.model.invariants import STANDARD_LANES
from journeylens.model.rules import Rule

#: Strings a YAML writer must quote or block-format to read them back as the same string.
TRICKY_STRINGS = (
    "yes",
    "No",
    "on",
    "off",
    "true",
    "False",
    "null",
    "~",
    "1.0",
    "1e3",
    "0x1F",
    "007",
    ".inf",
    "NaN",
    "2024-01-01",
    "2024-01-01T10:00:00Z",
    "12:30",
    "#",
    "a # not a comment",
    ": ",
    "key: value",
    "- item",
    "  leading spaces",
    "trailing spaces  ",
    "two\nlines",
    "  indented\nsecond line",
    "ends with newline\n",
    "\nstarts with newline",
    "tab\there",
    "'single'",
    '"double"',
    "{not: a map}",
    "[not, a, list]",
    "&anchor",
    "*alias",
    "!tag",
    "%directive",
    "@at",
    "`tick`",
    "|",
    ">",
    "Ünïcödé — “quotes” 東京 🙂",
)

_ID_START = "abcdefghijklmnopqrstuvwxyz0123456789"
_ID_REST = _ID_START + "-_"

#: Free text: any printable unicode plus newlines (no surrogates, no control characters).
free_text = st.text(
    alphabet=st.characters(
        blacklist_categories=("Cs", "Cc", "Zl", "Zp", "Co", "Cn"), whitelist_characters="\n"
    ),
    max_size=24,
)
text = st.one_of(st.sampled_from(TRICKY_STRINGS), free_text)
nonempty_text = text.filter(lambda s: len(s) > 0)
short_lists = st.lists(text, max_size=3)


class _IdPool:
    """Hands out ids unique within one scope: a drawn id already used gets a suffix."""

    def __init__(self) -> None:
        self.used: set[str] = set()

    def take(self, candidate: str) -> str:
        ident, n = candidate, 2
        while ident in self.used:
            ident = f"{candidate[:58]}-{n}"
            n += 1
        self.used.add(ident)
        return ident


raw_ids = st.builds(
    lambda first, rest: first + rest,
    st.sampled_from(_ID_START),
    st.text(alphabet=_ID_REST, max_size=10),
)


def _id(draw: st.DrawFn, pool: _IdPool) -> str:
    return pool.take(draw(raw_ids))


scalars = st.one_of(
    text,
    st.integers(min_value=-(10**6), max_value=10**6),
    st.floats(allow_nan=False, allow_infinity=False, width=64),
    st.booleans(),
)
field_names = st.from_regex(r"\A(properties\.)?[a-z_][a-z0-9_]{0,8}\Z")


@st.composite
def conditions(draw: st.DrawFn) -> Condition:
    """A condition whose value fits its operator."""
    op = draw(st.sampled_from(list(Op)))
    value: Any
    if op in (Op.EXISTS, Op.MISSING):
        value = None
    elif op in (Op.IN, Op.NOT_IN):
        value = draw(st.lists(scalars, min_size=1, max_size=3))
    elif op in (Op.GT, Op.GE, Op.LT, Op.LE):
        value = draw(
            st.one_of(st.integers(-1000, 1000), st.floats(allow_nan=False, allow_infinity=False))
        )
    elif op is Op.REGEX:
        value = draw(st.sampled_from(["^/courses/", "a+b", r"\d{3}", "(x|y)$"]))
    elif op is Op.GLOB:
        value = draw(st.sampled_from(["/courses/*", "page_?", "*[ab]*"]))
    else:
        value = draw(scalars)
    return Condition(field=draw(field_names), op=op, value=value)


rules: st.SearchStrategy[Rule] = st.recursive(
    conditions(),
    lambda inner: st.one_of(
        st.builds(AllOf, all=st.lists(inner, min_size=1, max_size=2)),
        st.builds(AnyOf, any=st.lists(inner, min_size=1, max_size=2)),
        st.builds(lambda r: NotOf(**{"not": r}), inner),
    ),
    max_leaves=3,
)

names = st.from_regex(r"\A[a-z_]{1,8}\*?\Z")
name_or_names = st.one_of(names, st.lists(names, min_size=1, max_size=2))


@st.composite
def match_rules(draw: st.DrawFn) -> MatchRule:
    """A match rule with at least one part."""
    event = draw(st.none() | name_or_names)
    source = draw(st.none() | name_or_names)
    channel = draw(
        st.none()
        | st.sampled_from(list(Channel))
        | st.lists(st.sampled_from(list(Channel)), min_size=1, max_size=2)
    )
    where = draw(st.lists(rules, max_size=2))
    if event is None and source is None and channel is None and not where:
        event = "page_view"
    return MatchRule(event=event, source=source, channel=channel, where=where)


evidence = st.builds(
    Evidence,
    source=st.sampled_from(list(EvidenceSource)),
    reference=text,
    confidence=st.sampled_from(list(Confidence)),
)
durations = st.builds(
    lambda n, frac, unit: f"{n}{frac}{unit}",
    st.integers(0, 500),
    st.sampled_from(["", ".5", ".25"]),
    st.sampled_from(list("smhdw")),
)
emotions = st.builds(
    Emotion,
    score=st.one_of(
        st.sampled_from([-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0]),
        st.floats(min_value=-2, max_value=2, allow_nan=False),
    ),
    label=text,
    note=text,
)
one_to_five = st.integers(1, 5)


class _Scopes:
    """The id pools of one map: one per kind, as the model's uniqueness rule says."""

    def __init__(self) -> None:
        self.stage, self.step, self.touchpoint = _IdPool(), _IdPool(), _IdPool()
        self.pain, self.opportunity = _IdPool(), _IdPool()


@st.composite
def steps(draw: st.DrawFn, scopes: _Scopes, kpi_ids: list[str], lane_ids: list[str]) -> Step:
    """A step with any subset of its lanes filled."""
    ref_kpis = draw(st.lists(st.sampled_from(kpi_ids), max_size=2)) if kpi_ids else []
    custom = (
        draw(st.dictionaries(st.sampled_from(lane_ids), short_lists, max_size=2))
        if lane_ids
        else {}
    )
    return Step(
        id=_id(draw, scopes.step),
        name=draw(nonempty_text),
        description=draw(text),
        actions=draw(short_lists),
        thoughts=draw(short_lists),
        emotion=draw(st.none() | emotions),
        touchpoints=[
            Touchpoint(
                id=_id(draw, scopes.touchpoint),
                name=draw(nonempty_text),
                channel=draw(st.sampled_from(list(Channel))),
                visible=draw(st.booleans()),
                description=draw(text),
                match=draw(st.lists(match_rules(), max_size=2)),
            )
            for _ in range(draw(st.integers(0, 2)))
        ],
        pain_points=[
            PainPoint(
                id=_id(draw, scopes.pain),
                text=draw(nonempty_text),
                severity=draw(one_to_five),
                evidence=draw(st.lists(evidence, max_size=1)),
            )
            for _ in range(draw(st.integers(0, 2)))
        ],
        opportunities=[
            Opportunity(
                id=_id(draw, scopes.opportunity),
                text=draw(nonempty_text),
                owner=draw(text),
                status=draw(st.sampled_from(list(OpportunityStatus))),
                impact=draw(one_to_five),
                effort=draw(one_to_five),
            )
            for _ in range(draw(st.integers(0, 2)))
        ],
        frontstage=draw(short_lists),
        backstage=draw(short_lists),
        support=draw(short_lists),
        owners=draw(short_lists),
        kpis=ref_kpis,
        moment_of_truth=draw(st.none() | st.builds(MomentOfTruth, why=nonempty_text)),
        expected_duration=draw(st.none() | durations),
        evidence=draw(st.lists(evidence, max_size=2)),
        custom=custom,
    )


def _outcome(draw: st.DrawFn, ident: str) -> Outcome:
    kind = draw(st.sampled_from(["did", "did_not", "inactive_days"]))
    rule: dict[str, Any] = {
        kind: draw(st.integers(1, 365)) if kind == "inactive_days" else draw(match_rules())
    }
    return Outcome(
        id=ident,
        name=draw(nonempty_text),
        description=draw(text),
        polarity=draw(st.sampled_from(list(OutcomePolarity))),
        **rule,
    )


timestamps = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)


@st.composite
def journey_maps(draw: st.DrawFn, max_stages: int = 3, max_steps: int = 3) -> JourneyMap:
    """A valid journey map: unique ids per scope, resolving references, tricky text."""
    scopes = _Scopes()
    outcome_pool, kpi_pool, lane_pool = _IdPool(), _IdPool(), _IdPool()
    outcomes = [_outcome(draw, _id(draw, outcome_pool)) for _ in range(draw(st.integers(0, 2)))]
    outcome_ids = [o.id for o in outcomes]
    kpis = [
        Kpi(
            id=_id(draw, kpi_pool),
            name=draw(nonempty_text),
            metric=draw(st.sampled_from(list(KpiMetric))),
            description=draw(text),
            target=draw(st.none() | st.floats(-1e6, 1e6, allow_nan=False)),
            unit=draw(text),
            direction=draw(st.sampled_from(list(Direction))),
            owner=draw(text),
            outcome=draw(st.none() | st.sampled_from(outcome_ids)) if outcome_ids else None,
        )
        for _ in range(draw(st.integers(0, 2)))
    ]
    kpi_ids = [k.id for k in kpis]
    custom_lanes = [
        CustomLane(id=_id(draw, lane_pool), name=draw(nonempty_text), description=draw(text))
        for _ in range(draw(st.integers(0, 2)))
    ]
    lane_ids = [c.id for c in custom_lanes]
    order = draw(st.permutations([*STANDARD_LANES, *lane_ids]))
    order = order[: draw(st.integers(0, len(order)))]
    map_id = draw(raw_ids)
    stages = [
        Stage(
            id=_id(draw, scopes.stage),
            name=draw(nonempty_text),
            description=draw(text),
            goal=draw(text),
            expectations=draw(short_lists),
            kpis=draw(st.lists(st.sampled_from(kpi_ids), max_size=2)) if kpi_ids else [],
            steps=[
                draw(steps(scopes, kpi_ids, lane_ids))
                for _ in range(draw(st.integers(0, max_steps)))
            ],
        )
        for _ in range(draw(st.integers(1, max_stages)))
    ]
    improves_on = draw(st.none() | raw_ids)
    return JourneyMap(
        id=map_id,
        title=draw(nonempty_text),
        description=draw(text),
        version=draw(st.integers(1, 1000)),
        status=draw(st.sampled_from(list(Status))),
        owner=draw(text),
        tags=draw(short_lists),
        personas=draw(st.lists(raw_ids, max_size=2, unique=True)),
        scenario=Scenario(
            kind=draw(st.sampled_from(list(ScenarioKind))),
            description=draw(text),
            improves_on=None if improves_on == map_id else improves_on,
        ),
        lanes=LaneConfig(order=list(order), custom=custom_lanes),
        kpis=kpis,
        outcomes=outcomes,
        stages=stages,
        created=draw(st.none() | timestamps),
        updated=draw(st.none() | timestamps),
    )


@st.composite
def personas(draw: st.DrawFn) -> Persona:
    """A valid persona with tricky text and an optional segment rule."""
    return Persona(
        id=draw(raw_ids),
        name=draw(nonempty_text),
        summary=draw(text),
        quote=draw(text),
        demographics=Demographics(
            age=draw(st.none() | text),
            generation=draw(st.none() | st.sampled_from(list(Generation))),
            location=draw(st.none() | text),
            occupation=draw(st.none() | text),
            income_band=draw(st.none() | text),
        ),
        psychographics=Psychographics(
            values=draw(short_lists), attitudes=draw(short_lists), interests=draw(short_lists)
        ),
        goals=draw(short_lists),
        needs=draw(short_lists),
        frustrations=draw(short_lists),
        preferred_channels=draw(st.lists(st.sampled_from(list(Channel)), max_size=3)),
        segment=draw(st.none() | rules),
        share=draw(st.none() | st.floats(min_value=0.001, max_value=1.0)),
    )
