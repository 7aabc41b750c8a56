"""Ingestion plans: how the rows of one source file become canonical rows, as SQL pieces.

A :class:`Plan` says how to read a file (``reader``), which intermediate fields to parse
from each raw row (``parse``), which checks send a row to quarantine (``checks``, first
failing check wins) and which canonical rows a good row emits (``emits``: one for most
formats, several for orders and support tickets). :mod:`journeylens.events.runner` turns a
plan into one DuckDB statement per file; nothing here touches data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from journeylens.events.schema import ADAPTER_COLUMNS, CRM_COLUMNS, Reason
from journeylens.events.sql import lit

ReaderKind = Literal["csv", "jsonl", "parquet"]
Target = Literal["events", "crm"]

#: Columns a plan emits for the ``crm`` target (besides ``customer_id``).
CRM_TARGET_COLUMNS: tuple[str, ...] = (
    "customer_id",
    *(c.name for c in CRM_COLUMNS),
    "attributes",
)


@dataclass(frozen=True, slots=True)
class Check:
    """A quarantine rule: when ``condition`` holds, the row is bad for ``reason``.

    ``field`` names the offending field, ``value`` is SQL giving its offending value and
    ``expected`` says, for a person, what a good value looks like.
    """

    condition: str
    reason: Reason
    field: str
    value: str
    expected: str

    def as_struct(self) -> str:
        """The SQL struct literal recorded in quarantine for this check."""
        return (
            f"{{'reason': {lit(self.reason.value)}, 'field': {lit(self.field)}, "
            f"'value': CAST({self.value} AS VARCHAR), 'expected': {lit(self.expected)}}}"
        )


@dataclass(frozen=True, slots=True)
class Emit:
    """One canonical row a good source row produces, when ``keep`` holds.

    ``columns`` maps every target column to a SQL expression over the parsed fields.
    """

    columns: dict[str, str]
    keep: str = "TRUE"


@dataclass(frozen=True, slots=True)
class Plan:
    """Everything needed to ingest one file of a format (see module docstring)."""

    format: str
    reader: ReaderKind
    parse: list[tuple[str, str]]
    checks: list[Check]
    emits: list[Emit]
    target: Target = "events"
    #: CSV only: columns that must be in the header (else the file is not this format).
    required_columns: tuple[str, ...] = ()
    #: CSV only: reader options (delimiter, quote) — bound as parameters.
    csv_options: dict[str, str] = field(default_factory=dict)
    #: Extra named parameters the SQL pieces refer to (user values of a mapping file).
    params: dict[str, object] = field(default_factory=dict)

    def target_columns(self) -> tuple[str, ...]:
        """Column names every emit must define."""
        return ADAPTER_COLUMNS if self.target == "events" else CRM_TARGET_COLUMNS

    def __post_init__(self) -> None:
        wanted = set(self.target_columns())
        for emit in self.emits:
            missing = wanted - emit.columns.keys()
            extra = emit.columns.keys() - wanted
            if missing or extra:
                raise ValueError(
                    f"plan {self.format}: emit columns differ from the target: "
                    f"missing {sorted(missing)}, unexpected {sorted(extra)}"
                )
