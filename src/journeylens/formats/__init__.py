"""Maps as code: YAML / JSON load and save, JSON Schema, semantic diff, Mermaid and CSV.

* :mod:`~journeylens.formats.io` — load / save ``*.journey.yaml`` and ``*.persona.yaml``
  (and JSON) losslessly and canonically, with located, plain-language errors;
* :mod:`~journeylens.formats.schema` — the JSON Schemas generated from the model;
* :mod:`~journeylens.formats.diff` — semantic diff of two versions of a map;
* :mod:`~journeylens.formats.mermaid` — Mermaid ``journey`` diagrams, both ways;
* :mod:`~journeylens.formats.csvgrid` — the spreadsheet grid (lanes × steps), both ways.
"""

from journeylens.formats.csvgrid import from_csv, to_csv
from journeylens.formats.diff import Change, ChangeKind, MapDiff, diff_maps
from journeylens.formats.io import (
    DocumentError,
    Issue,
    check_persona_refs,
    dumps_json,
    dumps_yaml,
    find_personas,
    load_any,
    load_map,
    load_persona,
    parse_model,
    save,
    to_data,
)
from journeylens.formats.mermaid import from_mermaid, to_mermaid

# formats.schema is not imported here: it runs as ``python -m journeylens.formats.schema``.

__all__ = [
    "Change",
    "ChangeKind",
    "DocumentError",
    "Issue",
    "MapDiff",
    "check_persona_refs",
    "diff_maps",
    "dumps_json",
    "dumps_yaml",
    "find_personas",
    "from_csv",
    "from_mermaid",
    "load_any",
    "load_map",
    "load_persona",
    "parse_model",
    "save",
    "to_csv",
    "to_data",
    "to_mermaid",
]
