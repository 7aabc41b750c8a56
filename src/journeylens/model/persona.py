"""Personas: who walks a journey, and the segment rule that finds them in the data."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field

from journeylens.model.common import Channel, Id, Model
from journeylens.model.rules import Rule

PERSONA_SCHEMA = "journeylens/persona/v1"


class Generation(StrEnum):
    """Generational cohort; channel habits differ by generation (print vs social, phone vs chat)."""

    SILENT = "silent"
    BABY_BOOMER = "baby_boomer"
    GEN_X = "gen_x"
    MILLENNIAL = "millennial"
    GEN_Z = "gen_z"
    GEN_ALPHA = "gen_alpha"


class Demographics(Model):
    """Who the persona is on paper. ``age`` is free text such as ``"28"`` or ``"25-34"``."""

    age: str | None = None
    generation: Generation | None = None
    location: str | None = None
    occupation: str | None = None
    income_band: str | None = None


class Psychographics(Model):
    """What the persona values and how they think."""

    values: list[str] = Field(default_factory=list)
    attitudes: list[str] = Field(default_factory=list)
    interests: list[str] = Field(default_factory=list)


class Persona(Model):
    """A simplified representation of a group of customers, stored as ``*.persona.yaml``.

    ``segment`` is a rule on customer attributes (``generation``, ``country``, ``plan`` …) so
    analytics can be cut by persona; ``share`` is the expected share of customers (used by
    the simulator and shown on the persona card).
    """

    schema_: Annotated[Literal["journeylens/persona/v1"], Field(alias="schema")] = (
        "journeylens/persona/v1"
    )
    id: Id
    name: Annotated[str, Field(min_length=1)]
    summary: str = ""
    quote: str = ""
    demographics: Demographics = Field(default_factory=Demographics)
    psychographics: Psychographics = Field(default_factory=Psychographics)
    goals: list[str] = Field(default_factory=list)
    needs: list[str] = Field(default_factory=list)
    frustrations: list[str] = Field(default_factory=list)
    preferred_channels: list[Channel] = Field(default_factory=list)
    segment: Rule | None = None
    share: Annotated[float, Field(gt=0, le=1)] | None = None

    model_config = Model.model_config | {"populate_by_name": True, "serialize_by_alias": True}
