"""Maps as code: YAML / JSON load and save, JSON Schema, semantic diff, Mermaid and CSV."""

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

__all__ = [
    "DocumentError",
    "Issue",
    "check_persona_refs",
    "dumps_json",
    "dumps_yaml",
    "find_personas",
    "load_any",
    "load_map",
    "load_persona",
    "parse_model",
    "save",
    "to_data",
]
