"""The JSON Schemas of the file formats, generated from the pydantic model.

The model is the single source of truth; the schemas in ``schema/`` are generated from it
and checked in so editors (VS Code's YAML extension, JetBrains) can validate and complete
``*.journey.yaml`` and ``*.persona.yaml`` files without installing journeylens. A test
fails when the checked-in files drift from the model. Regenerate them with::

    python -m journeylens.formats.schema            # writes schema/ in the current folder
    python -m journeylens.formats.schema OUT_DIR

Versioning: a schema id ends in ``v1``. Adding an optional field keeps ``v1`` (old files
stay valid); anything that would reject or change the meaning of an existing file (a new
required field, a renamed or removed field, a narrower value range) makes ``v2``, with a
migration from ``v1`` in :mod:`journeylens.formats`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from journeylens.model import JourneyMap, Persona

#: Where the schemas are published; the ``$id`` of each is this base plus its file name.
SCHEMA_BASE_URL = "https://journeylens.dev/schema/"
JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"

#: file name → (model, title, description) of each schema.
SCHEMA_FILES: dict[str, tuple[type[BaseModel], str, str]] = {
    "journeymap.v1.json": (
        JourneyMap,
        "journeylens journey map (v1)",
        "The designed journey of one persona through one scenario: ordered stages of ordered "
        "steps, each step with its lanes (actions, thoughts, emotion, touchpoints, pain points, "
        "opportunities, frontstage, backstage, support, owners, KPIs, evidence). Stored as "
        "*.journey.yaml or *.journey.json.",
    ),
    "persona.v1.json": (
        Persona,
        "journeylens persona (v1)",
        "Who walks a journey: demographics, psychographics, goals, needs, frustrations, "
        "preferred channels and a segment rule on customer attributes. Stored as "
        "*.persona.yaml or *.persona.json and referenced from maps by id.",
    ),
}

#: Descriptions of fields whose meaning the field name alone does not say, by
#: (definition title, field name). Class docstrings already describe each definition.
FIELD_DESCRIPTIONS: dict[tuple[str, str], str] = {
    ("JourneyMap", "schema"): "What the file is; always 'journeylens/journeymap/v1'.",
    ("JourneyMap", "id"): "Stable id: lower-case letters, digits, '-' and '_'.",
    ("JourneyMap", "version"): "Version number of the map, raised by the team on each release.",
    ("JourneyMap", "personas"): "Ids of the personas whose point of view the map takes.",
    ("JourneyMap", "lanes"): "Which lanes show, in which order, and custom lanes.",
    ("JourneyMap", "kpis"): "KPI definitions, referenced by id from stages and steps.",
    ("JourneyMap", "outcomes"): "Outcome rules per unit (converted, churned, …).",
    ("JourneyMap", "stages"): "Ordered stages; at least one.",
    ("JourneyMap", "created"): "When the map was created (ISO 8601).",
    ("JourneyMap", "updated"): "When the map was last changed (ISO 8601).",
    ("Persona", "schema"): "What the file is; always 'journeylens/persona/v1'.",
    ("Persona", "id"): "Stable id: lower-case letters, digits, '-' and '_'.",
    ("Persona", "segment"): "Rule on customer attributes that finds this persona in the data.",
    ("Persona", "share"): "Expected share of customers (0 < share ≤ 1).",
    ("Stage", "expectations"): "What the customer expects here, ideally measurable.",
    ("Stage", "kpis"): "Ids of map KPIs measured at this stage.",
    ("Step", "actions"): "What the customer does.",
    ("Step", "thoughts"): "What the customer thinks or asks.",
    ("Step", "frontstage"): "What staff or systems do in view of the customer.",
    ("Step", "backstage"): "What staff do out of the customer's view.",
    ("Step", "support"): "Internal support processes and systems behind the step.",
    ("Step", "owners"): "Teams or people responsible for the step.",
    ("Step", "kpis"): "Ids of map KPIs measured at this step.",
    ("Step", "expected_duration"): "How long the step should take, e.g. '30m', '2d'.",
    ("Step", "custom"): "Items of custom lanes, by custom lane id.",
    ("Touchpoint", "visible"): "False for contacts the customer does not see.",
    ("Touchpoint", "match"): "An event is this touchpoint when any of these rules matches.",
    ("Emotion", "score"): "-2 (very negative) … +2 (very positive).",
    ("PainPoint", "severity"): "1 (minor) … 5 (blocks the journey).",
    ("Opportunity", "impact"): "1 (low) … 5 (high).",
    ("Opportunity", "effort"): "1 (low) … 5 (high).",
}


def _describe(definition: dict[str, Any]) -> None:
    """Add FIELD_DESCRIPTIONS to one object definition, in place."""
    title = definition.get("title", "")
    for name, prop in definition.get("properties", {}).items():
        text = FIELD_DESCRIPTIONS.get((title, name))
        if text is not None and "description" not in prop:
            prop["description"] = text


def schema_for(file_name: str) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of one file type, e.g. ``journeymap.v1.json``.

    >>> schema_for("persona.v1.json")["$id"]
    'https://journeylens.dev/schema/persona.v1.json'
    """
    model, title, description = SCHEMA_FILES[file_name]
    # Validation mode: the schema describes what a file may contain (defaults optional).
    body = model.model_json_schema(by_alias=True, mode="validation")
    _describe(body)
    for definition in body.get("$defs", {}).values():
        _describe(definition)
    head: dict[str, Any] = {
        "$schema": JSON_SCHEMA_DIALECT,
        "$id": SCHEMA_BASE_URL + file_name,
        "title": title,
        "description": description,
    }
    # Keys in a fixed order so the checked-in file only changes when the model does.
    return head | {k: v for k, v in body.items() if k not in head}


def generate_schemas() -> dict[str, dict[str, Any]]:
    """Every schema by file name: ``journeymap.v1.json`` and ``persona.v1.json``."""
    return {name: schema_for(name) for name in SCHEMA_FILES}


def schema_text(schema: dict[str, Any]) -> str:
    """The canonical text of a schema file (two-space indent, UTF-8, final newline)."""
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def write_schemas(directory: str | Path) -> list[Path]:
    """Write every schema into ``directory`` (created if needed); returns the paths written."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, schema in generate_schemas().items():
        path = out / name
        path.write_text(schema_text(schema), encoding="utf-8")
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    """Regenerate the schema files: ``python -m journeylens.formats.schema [DIR]``."""
    args = sys.argv[1:] if argv is None else argv
    for path in write_schemas(args[0] if args else "schema"):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
