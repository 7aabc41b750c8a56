"""The scenario file: how simulated customers behave and which effects are planted.

A scenario is YAML (``*.scenario.yaml``), validated with pydantic; errors name the file,
line, field and what was expected (the same loader as journey maps). Example::

    schema: journeylens/scenario/v1
    behaviour: {drop: 0.12, loop: 0.05, churn: 0.25}
    effects:
      - kind: friction
        id: mobile-checkout
        where: {step: checkout}
        who: {device_type: [mobile]}
        when: {start: 2026-02-02, end: 2026-02-22}
        drop_factor: 3

Every effect has ``where`` (a step or touchpoint id), ``who`` (personas, generations,
device types; empty = everyone), ``when`` (a date range; empty = the whole window) and
its size. The ground truth repeats each effect with the size realised in the data.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, model_validator

from journeylens.formats.io import DocumentError, Issue, parse_model
from journeylens.model.common import Channel, Id, Model
from journeylens.model.persona import Generation

SCENARIO_SCHEMA = "journeylens/scenario/v1"

Probability = Annotated[float, Field(ge=0, le=1)]
Factor = Annotated[float, Field(gt=0, le=100)]


def _room(values: list[float | None], where: str) -> None:
    """Raise when the given transition probabilities leave no room to continue."""
    total = sum(v for v in values if v is not None)
    if total > 0.95:
        raise ValueError(
            f"{where}drop + loop + backtrack + skip = {total:.3g} must leave room to "
            "continue (expected ≤ 0.95)"
        )


class StepBehaviour(Model):
    """Per-step overrides of the walk probabilities (any left out keep the default)."""

    drop: Probability | None = None
    loop: Probability | None = None
    backtrack: Probability | None = None
    skip: Probability | None = None

    @model_validator(mode="after")
    def _room_to_continue(self) -> StepBehaviour:
        _room([self.drop, self.loop, self.backtrack, self.skip], "")
        return self


class PersonaBehaviour(Model):
    """How one persona walks: transition probabilities for every step (``drop``, ``loop``,
    ``backtrack``, ``skip``), per step (``steps``), ``drop_factor`` scaling every drop-off
    probability, and the share of browser visits on a phone.

    A probability not given here falls back to ``behaviour.steps`` then to a default
    derived from the persona (see :func:`journeylens.simulate.plan.persona_defaults`).
    """

    drop_factor: Factor = 1.0
    mobile_share: Probability | None = None
    drop: Probability | None = None
    loop: Probability | None = None
    backtrack: Probability | None = None
    skip: Probability | None = None
    steps: dict[str, StepBehaviour] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _room_to_continue(self) -> PersonaBehaviour:
        _room([self.drop, self.loop, self.backtrack, self.skip], "")
        return self


class Behaviour(Model):
    """How customers walk the map (defaults chosen to look like a real funnel).

    At each visited step a customer drops (leaves the journey), loops (repeats the step),
    backtracks (goes one step back), skips (jumps over the next step) or continues.
    """

    drop: Probability = 0.12
    loop: Probability = 0.05
    backtrack: Probability = 0.03
    skip: Probability = 0.02
    same_session: Probability = 0.7
    session_gap_seconds: Annotated[float, Field(gt=0)] = 90.0
    revisit_days: Annotated[float, Field(gt=0)] = 2.5
    churn: Probability = 0.3
    #: Mean days (exponential) a churning customer keeps using the product after the
    #: journey before going quiet for good; 0 = stops right after it.
    churn_after_days: Annotated[float, Field(ge=0, le=120)] = 0.0
    retention_days: Annotated[float, Field(gt=0, le=30)] = 9.0
    survey_rate: Probability = 0.04
    ticket_rate: Probability = 0.01
    social_rate: Probability = 0.01
    guest_share: Probability = 0.1
    mobile_share: Probability = 0.45
    good_share: Probability = 0.6
    #: Background campaigns: a newsletter (campaign ``weekly-digest``) sent to every
    #: identified customer this often while they are active (0 = none), opened at
    #: ``newsletter_open_rate``; display-ad impressions (campaign ``brand-display``) shown
    #: to visitors, on average ``ad_impressions`` per customer (0 = none).
    newsletter_every_days: Annotated[float, Field(ge=0)] = 7.0
    newsletter_open_rate: Probability = 0.25
    ad_impressions: Annotated[float, Field(ge=0, le=50)] = 1.5
    steps: dict[str, StepBehaviour] = Field(default_factory=dict)
    personas: dict[str, PersonaBehaviour] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _room_to_continue(self) -> Behaviour:
        _room([self.drop, self.loop, self.backtrack, self.skip], "")
        return self


class Where(Model):
    """Where an effect acts: one step or one touchpoint (by id)."""

    step: Id | None = None
    touchpoint: Id | None = None

    @model_validator(mode="after")
    def _one(self) -> Where:
        if (self.step is None) == (self.touchpoint is None):
            raise ValueError("give exactly one of step, touchpoint")
        return self


class Who(Model):
    """Which customers an effect touches; every given list must contain the customer."""

    personas: list[Id] = Field(default_factory=list)
    generations: list[Generation] = Field(default_factory=list)
    device_type: list[Literal["mobile", "desktop"]] = Field(default_factory=list)


class When(Model):
    """A date range, both ends included; either end open."""

    start: date | None = None
    end: date | None = None

    @model_validator(mode="after")
    def _ordered(self) -> When:
        if self.start is not None and self.end is not None and self.end < self.start:
            raise ValueError("end is before start")
        return self


class _Effect(Model):
    id: Id
    description: str = ""
    who: Who = Field(default_factory=Who)
    when: When = Field(default_factory=When)


class Friction(_Effect):
    """Friction at a step: drop-off ×``drop_factor``, tickets ×``ticket_factor``, painful
    experiences (low CSAT, angry comments) for ``painful_share`` of the affected visits."""

    kind: Literal["friction"]
    where: Where
    drop_factor: Factor = 3.0
    ticket_factor: Factor = 4.0
    painful_share: Probability = 0.7


class Pain(_Effect):
    """A pain point: customers who hit it (``hit_rate`` of visits; a support ticket is
    opened) churn at ×``churn_factor`` the base rate after the journey."""

    kind: Literal["pain"]
    where: Where
    hit_rate: Probability = 1.0
    churn_factor: Factor = 2.0


class MomentOfTruth(_Effect):
    """A step whose experience decides retention: a bad experience (``bad_share``) makes
    churn ×``churn_factor``; it shows in a CSAT survey asked at ``survey_rate``."""

    kind: Literal["moment_of_truth"]
    where: Where
    bad_share: Probability = 0.3
    churn_factor: Factor = 3.0
    survey_rate: Probability = 0.5


class ChannelLift(_Effect):
    """Customers exposed to ``channel`` (a campaign touch, ``exposure`` share) pass the
    gate step ``where`` at ×``lift`` the rate of the unexposed."""

    kind: Literal["channel_lift"]
    where: Where
    channel: Literal["ads", "search", "social", "email", "sms", "print"]
    exposure: Probability = 0.3
    lift: Factor = 1.6
    campaign: Id = "always-on"


class ChannelPreference(_Effect):
    """Customers in ``who`` choose touchpoints (and ticket / campaign channels) on these
    channels ×weight more often (e.g. younger on social and live chat)."""

    kind: Literal["channel_preference"]
    channels: dict[Channel, Factor]


class Incident(_Effect):
    """An error event (``event``) at a touchpoint on some days: emitted with ``rate`` per
    visit in ``when`` (``base_rate`` otherwise); affected visits drop ×``drop_factor``."""

    kind: Literal["incident"]
    where: Where
    event: Id = "error_shown"
    rate: Probability = 0.5
    base_rate: Probability = 0.01
    drop_factor: Factor = 1.5


class Seasonality(_Effect):
    """Weekly cycle of arrivals: one weight per weekday, Monday first."""

    kind: Literal["seasonality"]
    weekly: Annotated[list[Annotated[float, Field(ge=0)]], Field(min_length=7, max_length=7)]


class CampaignSpike(_Effect):
    """A campaign multiplying arrivals ×``factor`` during ``when``; arrivals then come via
    a campaign click on ``channel`` (UTM campaign ``campaign``)."""

    kind: Literal["campaign_spike"]
    factor: Factor = 3.0
    channel: Literal["ads", "search", "social", "email", "sms", "print"] = "ads"
    campaign: Id = "spring-sale"


Effect = Annotated[
    Friction
    | Pain
    | MomentOfTruth
    | ChannelLift
    | ChannelPreference
    | Incident
    | Seasonality
    | CampaignSpike,
    Field(discriminator="kind"),
]


class Scenario(Model):
    """Walk behaviour and planted effects for one simulation."""

    schema_: Annotated[Literal["journeylens/scenario/v1"], Field(alias="schema")] = (
        "journeylens/scenario/v1"
    )
    description: str = ""
    behaviour: Behaviour = Field(default_factory=Behaviour)
    effects: list[Effect] = Field(default_factory=list)

    model_config = Model.model_config | {"populate_by_name": True, "serialize_by_alias": True}

    @model_validator(mode="after")
    def _unique_ids(self) -> Scenario:
        seen: set[str] = set()
        for effect in self.effects:
            if effect.id in seen:
                raise ValueError(f"duplicate effect id '{effect.id}'")
            seen.add(effect.id)
        return self


def parse_scenario(text: str, file: str = "<scenario>") -> Scenario:
    """Parse scenario YAML; :class:`~journeylens.formats.io.DocumentError` lists every problem.

    >>> parse_scenario("effects: []").behaviour.drop
    0.12
    """
    return parse_model(text, Scenario, file)


def load_scenario(path: str | Path) -> Scenario:
    """Load a ``*.scenario.yaml`` file (errors carry file, line, field, expectation)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise DocumentError([Issue(str(p), None, None, "", f"cannot read: {exc}")]) from None
    return parse_scenario(text, str(p))


_BUILTIN = Path(__file__).parent / "scenarios"


def builtin_scenario(map_id: str) -> Scenario | None:
    """The default scenario shipped for a built-in map (e.g. ``online-course``), if any."""
    p = _BUILTIN / f"{map_id}.scenario.yaml"
    return load_scenario(p) if p.exists() else None
