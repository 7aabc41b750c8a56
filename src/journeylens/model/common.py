"""Shared vocabulary of the domain model: ids, channels, durations, the base model."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints

#: An identifier: lower-case letters, digits, ``-`` and ``_``, starting with a letter or digit.
#: Ids are what references, diffs and analytics bind to, so they must be stable and readable.
ID_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"
Id = Annotated[str, StringConstraints(pattern=ID_PATTERN)]

#: A human duration: a number and a unit (``s`` seconds, ``m`` minutes, ``h`` hours, ``d`` days,
#: ``w`` weeks), e.g. ``30m``, ``2d``, ``1.5h``. Kept as text so files stay as people wrote them.
DURATION_PATTERN = r"^\d+(\.\d+)?(s|m|h|d|w)$"
Duration = Annotated[str, StringConstraints(pattern=DURATION_PATTERN)]

_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DURATION_RE = re.compile(DURATION_PATTERN)


def duration_seconds(value: str) -> float:
    """Return the number of seconds a :data:`Duration` string stands for.

    >>> duration_seconds("30m"), duration_seconds("1.5h"), duration_seconds("2d")
    (1800.0, 5400.0, 172800.0)
    """
    match = _DURATION_RE.match(value)
    if match is None:
        raise ValueError(f"{value!r} is not a duration like '30m', '2h', '7d'")
    return float(value[:-1]) * _UNIT_SECONDS[value[-1]]


class Channel(StrEnum):
    """Where a customer meets the brand: the controlled vocabulary of channels."""

    WEB = "web"
    APP = "app"
    EMAIL = "email"
    SOCIAL = "social"
    ADS = "ads"
    SEARCH = "search"
    STORE = "store"
    PHONE = "phone"
    LIVE_CHAT = "live_chat"
    CHATBOT = "chatbot"
    SMS = "sms"
    PRINT = "print"
    PARTNER = "partner"
    IN_PERSON = "in_person"
    OTHER = "other"


#: Channels that are a conversation with a person or bot rather than a medium the customer reads.
CONVERSATIONAL_CHANNELS = frozenset(
    {Channel.PHONE, Channel.LIVE_CHAT, Channel.CHATBOT, Channel.IN_PERSON, Channel.STORE}
)


class Model(BaseModel):
    """Base of every model class: unknown fields are errors, assignments are validated.

    ``extra="forbid"`` turns a misspelt key in a YAML file into an error that names it,
    instead of silently dropping the user's text.
    """

    model_config = ConfigDict(
        extra="forbid",
        validate_assignment=True,
        str_strip_whitespace=False,
        use_enum_values=False,
    )
