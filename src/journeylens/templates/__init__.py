"""Built-in journey map templates, shipped as real ``*.journey.yaml`` / ``*.persona.yaml`` files.

Each template lives in ``journeylens/templates/data/<name>/``: one ``<name>.journey.yaml``
and the persona files the map is for (plus, for ``online-course``, a second persona of
another generation that the simulator also draws customers from). The files are package
data, read with :mod:`importlib.resources`, so they work from a wheel or a zip as well as
from a source checkout.

>>> [t.name for t in list_templates()][:3]
['three-phase', 'five-stage', 'digital-five-stage']
>>> [stage.name for stage in get_template("aida").stages]
['Awareness', 'Interest', 'Decision', 'Action']
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from journeylens.formats.io import parse_model, save
from journeylens.model import JourneyMap, Persona

#: Template names in the order they are listed (simplest first, the worked example last).
TEMPLATE_NAMES: tuple[str, ...] = (
    "three-phase",
    "five-stage",
    "digital-five-stage",
    "b2b-seven-phase",
    "aida",
    "service-blueprint",
    "online-course",
)

MAP_SUFFIX = ".journey.yaml"
PERSONA_SUFFIX = ".persona.yaml"


class UnknownTemplateError(KeyError):
    """A template name that does not exist; the message lists the valid names."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(name)

    def __str__(self) -> str:
        return f"unknown template '{self.name}' (expected one of: {', '.join(TEMPLATE_NAMES)})"


class TemplateTargetExistsError(FileExistsError):
    """Creating from a template would overwrite files that already exist."""

    def __init__(self, paths: list[Path]) -> None:
        self.paths = paths
        names = ", ".join(str(p) for p in paths)
        super().__init__(f"refusing to overwrite existing file(s): {names}")
        # Callers that print ``exc.filename`` (as for any FileExistsError) name every file.
        self.filename = names

    def __str__(self) -> str:
        return str(self.args[0])


@dataclass(frozen=True)
class TemplateInfo:
    """What ``journeylens templates`` lists: one line per template.

    ``persona_ids`` holds every persona shipped with the template: first those the map
    is for (``map.personas``), then the others shipped beside it (e.g. ``robert`` for the
    online-course map, whose point of view is ``maya``).
    """

    name: str
    title: str
    description: str
    persona_ids: tuple[str, ...]
    stage_names: tuple[str, ...]

    def to_dict(self) -> dict[str, object]:
        """Plain data for ``--format json``."""
        return {
            "name": self.name,
            "title": self.title,
            "description": self.description,
            "persona_ids": list(self.persona_ids),
            "stage_names": list(self.stage_names),
        }


def _folder(name: str) -> Traversable:
    if name not in TEMPLATE_NAMES:
        raise UnknownTemplateError(name)
    return resources.files(__package__).joinpath("data", name)


def _read(entry: Traversable) -> str:
    return entry.read_text(encoding="utf-8")


@cache
def _parsed_map(name: str) -> JourneyMap:
    entry = _folder(name).joinpath(name + MAP_SUFFIX)
    return parse_model(_read(entry), JourneyMap, f"<template {name}>/{entry.name}")


@cache
def _parsed_personas(name: str) -> tuple[Persona, ...]:
    folder = _folder(name)
    found = {
        p.id: p
        for p in (
            parse_model(_read(entry), Persona, f"<template {name}>/{entry.name}")
            for entry in folder.iterdir()
            if entry.name.endswith(PERSONA_SUFFIX)
        )
    }
    order = [pid for pid in _parsed_map(name).personas if pid in found]
    order += sorted(pid for pid in found if pid not in order)
    return tuple(found[pid] for pid in order)


def get_template(name: str) -> JourneyMap:
    """The template's journey map (a fresh object on every call; safe to modify)."""
    # Parsed once (YAML parsing with positions is the slow part), copied on every call.
    return _parsed_map(name).model_copy(deep=True)


def get_template_personas(name: str) -> list[Persona]:
    """Every persona shipped with the template: the map's own first, then the others by id."""
    return [p.model_copy(deep=True) for p in _parsed_personas(name)]


def _one_line(text: str) -> str:
    return text.strip().splitlines()[0].strip() if text.strip() else ""


def template_info(name: str) -> TemplateInfo:
    """The listing entry of one template."""
    journey = get_template(name)
    return TemplateInfo(
        name=name,
        title=journey.title,
        description=_one_line(journey.description),
        persona_ids=tuple(p.id for p in get_template_personas(name)),
        stage_names=tuple(stage.name for stage in journey.stages),
    )


def list_templates() -> list[TemplateInfo]:
    """Every built-in template, in :data:`TEMPLATE_NAMES` order."""
    return [template_info(name) for name in TEMPLATE_NAMES]


def create_from_template(
    name: str, dest: Path, title: str | None = None, map_id: str | None = None
) -> list[Path]:
    """Write a new map from a template, and its persona files beside it; return the paths.

    ``dest`` is the map file to write (``.json`` for JSON, YAML otherwise) or an existing
    folder, in which case the file is ``<map id>.journey.yaml`` inside it. The map's id is
    ``map_id`` if given, else the template's; ``title`` replaces the template's title.
    Personas are written as ``<persona id>.persona.yaml`` beside the map. A bad ``map_id``
    or an empty ``title`` raises pydantic's ``ValidationError`` (a ``ValueError``).
    Nothing is written if any target file exists (:class:`TemplateTargetExistsError`).
    """
    journey = get_template(name)
    dest = Path(dest)
    new_id = map_id or journey.id
    if dest.is_dir():
        dest = dest / f"{new_id}{MAP_SUFFIX}"
    updates: dict[str, object] = {"id": new_id}
    if title is not None:
        updates["title"] = title
    # Re-validate rather than model_copy(update=...): a bad id or empty title is an error here.
    data = journey.model_dump(by_alias=True)
    data.update(updates)
    journey = JourneyMap.model_validate(data)

    personas = get_template_personas(name)
    targets = [dest] + [dest.parent / f"{p.id}{PERSONA_SUFFIX}" for p in personas]
    existing = [p for p in targets if p.exists()]
    if existing:
        raise TemplateTargetExistsError(existing)
    written = [save(journey, dest)]
    written += [save(p, target) for p, target in zip(personas, targets[1:], strict=True)]
    return written


__all__ = [
    "TEMPLATE_NAMES",
    "TemplateInfo",
    "TemplateTargetExistsError",
    "UnknownTemplateError",
    "create_from_template",
    "get_template",
    "get_template_personas",
    "list_templates",
    "template_info",
]
