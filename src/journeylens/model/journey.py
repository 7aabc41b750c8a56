"""The journey map: one persona's designed journey through ordered stages and steps.

A :class:`JourneyMap` is the file format (``*.journey.yaml``) and the API schema at once.
Per step it holds every lane the seed articles name: customer actions, thoughts, emotion,
touchpoints, pain points, opportunities, the frontstage / backstage / support processes
behind the step, owners, KPIs, the moment of truth, the expected duration and evidence.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field, model_validator

from journeylens.model.common import Channel, Duration, Id, Model
from journeylens.model.errors import InvariantError
from journeylens.model.invariants import journey_invariants
from journeylens.model.rules import MatchRule

JOURNEYMAP_SCHEMA = "journeylens/journeymap/v1"

NonEmpty = Annotated[str, Field(min_length=1)]


class Status(StrEnum):
    """Life cycle of a map."""

    DRAFT = "draft"
    PUBLISHED = "published"
    ARCHIVED = "archived"


class ScenarioKind(StrEnum):
    """An as-is map shows today's journey; a to-be map shows the journey we want."""

    AS_IS = "as_is"
    TO_BE = "to_be"


class Scenario(Model):
    """What the map depicts. A to-be map may name the as-is map it improves on."""

    kind: ScenarioKind = ScenarioKind.AS_IS
    description: str = ""
    improves_on: Id | None = None


class Lane(StrEnum):
    """The standard lanes of a step, in their default top-to-bottom order.

    The line of visibility sits between ``frontstage`` and ``backstage`` (what the customer
    sees above it); the line of internal interaction between ``backstage`` and ``support``.
    """

    ACTIONS = "actions"
    TOUCHPOINTS = "touchpoints"
    THOUGHTS = "thoughts"
    EMOTION = "emotion"
    PAIN_POINTS = "pain_points"
    OPPORTUNITIES = "opportunities"
    FRONTSTAGE = "frontstage"
    BACKSTAGE = "backstage"
    SUPPORT = "support"
    OWNERS = "owners"
    KPIS = "kpis"
    EVIDENCE = "evidence"


DEFAULT_LANES: tuple[Lane, ...] = tuple(Lane)


class CustomLane(Model):
    """A lane the team adds (e.g. ``regulations``, ``devices``); steps fill it in ``custom``."""

    id: Id
    name: NonEmpty
    description: str = ""


class LaneConfig(Model):
    """Which lanes show, in which order. ``order`` may mix standard lanes and custom lane ids."""

    order: list[str] = Field(default_factory=lambda: [lane.value for lane in DEFAULT_LANES])
    custom: list[CustomLane] = Field(default_factory=list)


class EvidenceSource(StrEnum):
    """Where a claim comes from: research (interviews, studies), company data, or assumption."""

    RESEARCH = "research"
    DATA = "data"
    ASSUMPTION = "assumption"


class Confidence(StrEnum):
    """How sure the team is of a claim."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class Evidence(Model):
    """What backs a claim: its source, a reference (study, dashboard, ticket query) and confidence."""

    source: EvidenceSource
    reference: str = ""
    confidence: Confidence = Confidence.MEDIUM


class Emotion(Model):
    """The designed emotion at a step on the −2 (very negative) … +2 (very positive) scale."""

    score: Annotated[float, Field(ge=-2, le=2)]
    label: str = ""
    note: str = ""


class PainPoint(Model):
    """A frustration or barrier at a step; severity 1 (minor) … 5 (blocks the journey)."""

    id: Id
    text: NonEmpty
    severity: Annotated[int, Field(ge=1, le=5)] = 3
    evidence: list[Evidence] = Field(default_factory=list)


class OpportunityStatus(StrEnum):
    """Where an improvement idea stands."""

    IDEA = "idea"
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    REJECTED = "rejected"


class Opportunity(Model):
    """An improvement idea at a step; impact and effort 1 (low) … 5 (high)."""

    id: Id
    text: NonEmpty
    owner: str = ""
    status: OpportunityStatus = OpportunityStatus.IDEA
    impact: Annotated[int, Field(ge=1, le=5)] = 3
    effort: Annotated[int, Field(ge=1, le=5)] = 3


class MomentOfTruth(Model):
    """Marks a step whose experience decides how the customer sees the brand, and why."""

    why: NonEmpty


class Touchpoint(Model):
    """A point of contact on a channel, and the rules that say which events it is.

    ``match`` is a list of :class:`~journeylens.model.rules.MatchRule`; an event is this
    touchpoint when any rule matches. ``visible`` is false for contacts the customer does
    not see (e.g. a back-office notification that is nonetheless recorded).
    """

    id: Id
    name: NonEmpty
    channel: Channel
    visible: bool = True
    description: str = ""
    match: list[MatchRule] = Field(default_factory=list)


class Step(Model):
    """One action step of a stage, with all its lanes."""

    id: Id
    name: NonEmpty
    description: str = ""
    actions: list[str] = Field(default_factory=list)
    thoughts: list[str] = Field(default_factory=list)
    emotion: Emotion | None = None
    touchpoints: list[Touchpoint] = Field(default_factory=list)
    pain_points: list[PainPoint] = Field(default_factory=list)
    opportunities: list[Opportunity] = Field(default_factory=list)
    frontstage: list[str] = Field(default_factory=list)
    backstage: list[str] = Field(default_factory=list)
    support: list[str] = Field(default_factory=list)
    owners: list[str] = Field(default_factory=list)
    kpis: list[Id] = Field(default_factory=list)
    moment_of_truth: MomentOfTruth | None = None
    expected_duration: Duration | None = None
    evidence: list[Evidence] = Field(default_factory=list)
    custom: dict[str, list[str]] = Field(default_factory=dict)


class Stage(Model):
    """A phase of the journey (awareness, consideration, …) with its goal and ordered steps."""

    id: Id
    name: NonEmpty
    description: str = ""
    goal: str = ""
    expectations: list[str] = Field(default_factory=list)
    kpis: list[Id] = Field(default_factory=list)
    steps: list[Step] = Field(default_factory=list)


class KpiMetric(StrEnum):
    """What a KPI measures; each maps to one definition in METRICS.md."""

    REACHED = "reached"
    CONVERSION = "conversion"
    DROP_OFF = "drop_off"
    MEDIAN_TIME = "median_time"
    NPS = "nps"
    CSAT = "csat"
    CES = "ces"
    MEASURED_EMOTION = "measured_emotion"
    OUTCOME_RATE = "outcome_rate"
    COUNT = "count"
    CUSTOM = "custom"


class Direction(StrEnum):
    """Whether more is better."""

    HIGHER_IS_BETTER = "higher_is_better"
    LOWER_IS_BETTER = "lower_is_better"


class Kpi(Model):
    """A key performance indicator defined once per map and referenced by stages and steps."""

    id: Id
    name: NonEmpty
    metric: KpiMetric = KpiMetric.CUSTOM
    description: str = ""
    target: float | None = None
    unit: str = ""
    direction: Direction = Direction.HIGHER_IS_BETTER
    owner: str = ""
    outcome: Id | None = None


class OutcomePolarity(StrEnum):
    """Whether an outcome is the good result (converted, retained) or the bad one (churned)."""

    POSITIVE = "positive"
    NEGATIVE = "negative"


class Outcome(Model):
    """A rule per unit: ``did`` (some event matches), ``did_not``, or ``inactive_days``.

    Exactly one of the three is given. ``inactive_days: 60`` means churned = no activity for
    60 days after the unit's last event (evaluated against the end of the data window).
    """

    id: Id
    name: NonEmpty
    description: str = ""
    polarity: OutcomePolarity = OutcomePolarity.POSITIVE
    did: MatchRule | None = None
    did_not: MatchRule | None = None
    inactive_days: Annotated[int, Field(gt=0)] | None = None

    @model_validator(mode="after")
    def _exactly_one_rule(self) -> Outcome:
        given = [
            name for name in ("did", "did_not", "inactive_days") if getattr(self, name) is not None
        ]
        if len(given) != 1:
            raise ValueError(
                "an outcome needs exactly one of did, did_not, inactive_days"
                + (f" (got {', '.join(given)})" if given else "")
            )
        return self


class JourneyMap(Model):
    """The designed journey of one persona through one scenario.

    Invariants checked on construction (all reported together): at least one stage; ids
    unique within their scope (stages, steps, touchpoints, pain points, opportunities, KPIs,
    outcomes, custom lanes); KPI and custom-lane references resolve; lane order names known
    lanes once each; a to-be map does not improve on itself.
    """

    schema_: Annotated[Literal["journeylens/journeymap/v1"], Field(alias="schema")] = (
        "journeylens/journeymap/v1"
    )
    id: Id
    title: NonEmpty
    description: str = ""
    version: Annotated[int, Field(ge=1)] = 1
    status: Status = Status.DRAFT
    owner: str = ""
    tags: list[str] = Field(default_factory=list)
    personas: list[Id] = Field(default_factory=list)
    scenario: Scenario = Field(default_factory=Scenario)
    lanes: LaneConfig = Field(default_factory=LaneConfig)
    kpis: list[Kpi] = Field(default_factory=list)
    outcomes: list[Outcome] = Field(default_factory=list)
    stages: list[Stage]
    created: datetime | None = None
    updated: datetime | None = None

    model_config = Model.model_config | {"populate_by_name": True, "serialize_by_alias": True}

    @model_validator(mode="after")
    def _invariants(self) -> JourneyMap:
        problems = journey_invariants(self.model_dump(by_alias=True, mode="json"))
        if problems:
            raise InvariantError(problems)
        return self

    # -- navigation helpers (pure, no I/O) -------------------------------------------------

    def iter_steps(self) -> Iterator[tuple[Stage, Step]]:
        """Every (stage, step) pair in map order."""
        for stage in self.stages:
            for step in stage.steps:
                yield stage, step

    def iter_touchpoints(self) -> Iterator[tuple[Stage, Step, Touchpoint]]:
        """Every (stage, step, touchpoint) triple in map order (the binding precedence order)."""
        for stage, step in self.iter_steps():
            for tp in step.touchpoints:
                yield stage, step, tp

    def stage(self, stage_id: str) -> Stage:
        """The stage with this id; ``KeyError`` names the id when there is none."""
        for stage in self.stages:
            if stage.id == stage_id:
                return stage
        raise KeyError(f"no stage '{stage_id}' in map '{self.id}'")

    def step(self, step_id: str) -> Step:
        """The step with this id; ``KeyError`` names the id when there is none."""
        for _, step in self.iter_steps():
            if step.id == step_id:
                return step
        raise KeyError(f"no step '{step_id}' in map '{self.id}'")

    def channels(self) -> list[Channel]:
        """The distinct channels of all touchpoints, in first-seen order."""
        out: list[Channel] = []
        for _, _, tp in self.iter_touchpoints():
            if tp.channel not in out:
                out.append(tp.channel)
        return out
