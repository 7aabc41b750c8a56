"""The rule language: which events are a touchpoint, which customers are a persona.

Rules are data. They are validated here (operators take the right kind of value, regular
expressions compile) and evaluated later by the analytics layer, in the engine, as
expressions. One language serves both touchpoint match rules (conditions on event
columns and ``properties.*``) and persona segment rules (conditions on customer attributes).

YAML examples::

    match:                       # a touchpoint is any of these rules
      - event: [page_view, screen_view]
        source: web
        where:
          - {field: properties.path, op: glob, value: "/courses/*"}

    segment:                     # a persona is the customers this rule accepts
      all:
        - {field: generation, op: in, value: [millennial, gen_z]}
        - {field: country, op: eq, value: DE}
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Any

from pydantic import Discriminator, Field, Tag, field_validator, model_validator

from journeylens.model.common import Channel, Model

FIELD_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_\-]+)*$"


class Op(StrEnum):
    """Comparison operators of a :class:`Condition`."""

    EQ = "eq"
    NE = "ne"
    IN = "in"
    NOT_IN = "not_in"
    GLOB = "glob"
    REGEX = "regex"
    GT = "gt"
    GE = "ge"
    LT = "lt"
    LE = "le"
    EXISTS = "exists"
    MISSING = "missing"


NUMERIC_OPS = frozenset({Op.GT, Op.GE, Op.LT, Op.LE})
LIST_OPS = frozenset({Op.IN, Op.NOT_IN})
NO_VALUE_OPS = frozenset({Op.EXISTS, Op.MISSING})

Scalar = str | int | float | bool


class Condition(Model):
    """One test on one field: ``field op value``.

    ``field`` names an event column (``event_name``, ``source``, ``channel``, …), a property
    (``properties.path``) or, in a segment rule, a customer attribute (``generation``).
    ``glob`` uses shell wildcards (``*``, ``?``, ``[abc]``); ``regex`` is a Python / RE2-style
    regular expression searched anywhere in the value (anchor it with ``^…$`` for a full match).
    """

    field: Annotated[str, Field(pattern=FIELD_PATTERN)]
    op: Op = Op.EQ
    value: Scalar | list[Scalar] | None = None

    @model_validator(mode="after")
    def _value_fits_operator(self) -> Condition:
        op, value = self.op, self.value
        if op in NO_VALUE_OPS:
            if value is not None:
                raise ValueError(f"operator '{op}' takes no value")
        elif op in LIST_OPS:
            if not isinstance(value, list) or not value:
                raise ValueError(f"operator '{op}' expects a non-empty list of values")
        elif value is None or isinstance(value, list):
            raise ValueError(f"operator '{op}' expects a single value")
        elif op in NUMERIC_OPS:
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"operator '{op}' expects a number, got {value!r}")
        elif op in (Op.GLOB, Op.REGEX):
            if not isinstance(value, str):
                raise ValueError(f"operator '{op}' expects a text pattern, got {value!r}")
            if op is Op.REGEX:
                try:
                    re.compile(value)
                except re.error as exc:
                    raise ValueError(f"invalid regular expression {value!r}: {exc}") from exc
        return self


class AllOf(Model):
    """True when every rule inside is true."""

    all: Annotated[list[Rule], Field(min_length=1)]


class AnyOf(Model):
    """True when at least one rule inside is true."""

    any: Annotated[list[Rule], Field(min_length=1)]


class NotOf(Model):
    """True when the rule inside is false."""

    not_: Annotated[Rule, Field(alias="not")]

    model_config = Model.model_config | {"populate_by_name": True, "serialize_by_alias": True}


def _rule_kind(value: Any) -> str:
    if isinstance(value, dict):
        for key in ("all", "any", "not"):
            if key in value:
                return key
        return "condition"
    if isinstance(value, AllOf):
        return "all"
    if isinstance(value, AnyOf):
        return "any"
    if isinstance(value, NotOf):
        return "not"
    return "condition"


#: A boolean rule: a condition, or ``all`` / ``any`` / ``not`` of rules.
Rule = Annotated[
    Annotated[Condition, Tag("condition")]
    | Annotated[AllOf, Tag("all")]
    | Annotated[AnyOf, Tag("any")]
    | Annotated[NotOf, Tag("not")],
    Discriminator(_rule_kind),
]

AllOf.model_rebuild()
AnyOf.model_rebuild()
NotOf.model_rebuild()


class MatchRule(Model):
    """Which observed events are a touchpoint: every given part must hold (AND).

    ``event`` and ``source`` take one name or a list of names (any of them), and accept
    glob wildcards (``page_*``). ``where`` holds extra conditions on columns or properties.
    A rule with no parts at all would match every event, so at least one part is required.
    """

    event: str | list[str] | None = None
    source: str | list[str] | None = None
    channel: Channel | list[Channel] | None = None
    where: list[Rule] = Field(default_factory=list)

    @field_validator("event", "source")
    @classmethod
    def _names_not_blank(cls, value: str | list[str] | None) -> str | list[str] | None:
        names = [value] if isinstance(value, str) else value or []
        if isinstance(value, list) and not value:
            raise ValueError("expects at least one name")
        for name in names:
            if not name.strip():
                raise ValueError("names must not be blank")
        return value

    @model_validator(mode="after")
    def _not_empty(self) -> MatchRule:
        if self.event is None and self.source is None and self.channel is None and not self.where:
            raise ValueError("a match rule needs at least one of event, source, channel, where")
        return self


def rule_fields(rule: Rule) -> list[str]:
    """Every field a rule reads, in the order they appear (for linting and documentation)."""
    if isinstance(rule, Condition):
        return [rule.field]
    if isinstance(rule, AllOf):
        return [f for r in rule.all for f in rule_fields(r)]
    if isinstance(rule, AnyOf):
        return [f for r in rule.any for f in rule_fields(r)]
    return rule_fields(rule.not_)
