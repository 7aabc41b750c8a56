"""Versioned schema migrations of the event store.

Each step is a file ``NNNN_name.sql`` in this package; ``schema_version`` records the steps
applied. Steps only ever get added, never edited, so a store created by any release can be
brought up to date by applying the missing steps in order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources

_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True, slots=True)
class Migration:
    """One numbered schema step."""

    version: int
    name: str
    sql: str


def migrations() -> list[Migration]:
    """All migration steps shipped with this release, in version order.

    >>> [m.version for m in migrations()][:1]
    [1]
    """
    steps = []
    for entry in resources.files(__package__).iterdir():
        match = _NAME.match(entry.name)
        if match:
            steps.append(Migration(int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    return sorted(steps, key=lambda m: m.version)
