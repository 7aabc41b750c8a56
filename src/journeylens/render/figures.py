"""The measured figures a journey map picture shows: plain frozen data, no analytics import.

The render layer sits beside analytics, not on top of it (ARCHITECTURE.md), so the live map
reaches the renderer as :class:`MapFigures`. Build one directly, from the documented dict
shape with :meth:`MapFigures.from_dict` (what ``LiveMap.to_dict()`` returns), or from any
object with a ``to_dict()`` method via :func:`figures_from`.

The dict shape (every key optional unless marked)::

    {
      "population": "all",                 # who was measured (all, a persona, a segment)
      "window": "2026-01-01 – 2026-03-31", # the time window, as text
      "units": 100000,                     # customers (or sessions) in scope
      "min_answers": 10,                   # survey values with fewer answers are hidden
      "stages": {"<stage id>": NODE, ...},
      "steps": {"<step id>": NODE, ...},
      "touchpoints": {"<touchpoint id>": NODE, ...},
      "confirmed_pain_points": ["<pain point id>", ...],
      "kpis": {"<kpi id>": 0.42, ...}      # measured KPI values, in the KPI's own unit
    }
    NODE = {
      "reached": 1234, "conversion": 0.45, "drop_off": 0.12,  # shares are 0 … 1
      "median_time_s": 5400.0,
      "nps": {"value": 32.0, "n": 240}, "csat": {"value": 81.0, "n": 120},
      "ces": {"value": 5.2, "n": 88}, "emotion": {"value": -0.8, "n": 214}
    }
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

#: METRICS.md: no survey value is shown for fewer answers than this.
DEFAULT_MIN_ANSWERS = 10


@dataclass(frozen=True)
class Measured:
    """A survey-based value with the number of answers behind it.

    ``value`` is ``None`` when the analytics withheld it (too few answers); the renderer
    also hides values whose ``n`` is below :attr:`MapFigures.min_answers`.
    """

    value: float | None
    n: int


@dataclass(frozen=True)
class NodeFigures:
    """What was measured at one stage, step or touchpoint.

    ``conversion`` is the step (or stage) conversion from the previous one and
    ``drop_off`` the share that reached it and not the next, both as shares 0 … 1;
    ``median_time_s`` the median time to get here in seconds; ``emotion`` the measured
    emotion on the map's −2 … +2 scale (METRICS.md, "Measured emotion").
    """

    reached: int | None = None
    conversion: float | None = None
    drop_off: float | None = None
    median_time_s: float | None = None
    nps: Measured | None = None
    csat: Measured | None = None
    ces: Measured | None = None
    emotion: Measured | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str) -> NodeFigures:
        """Read one NODE of the documented shape; errors name ``where`` and the field."""
        _only_keys(data, _NODE_KEYS, where)
        return cls(
            reached=_opt_int(data, "reached", where),
            conversion=_opt_float(data, "conversion", where),
            drop_off=_opt_float(data, "drop_off", where),
            median_time_s=_opt_float(data, "median_time_s", where),
            nps=_opt_measured(data, "nps", where),
            csat=_opt_measured(data, "csat", where),
            ces=_opt_measured(data, "ces", where),
            emotion=_opt_measured(data, "emotion", where),
        )


_NODE_KEYS = frozenset(
    {"reached", "conversion", "drop_off", "median_time_s", "nps", "csat", "ces", "emotion"}
)
_TOP_KEYS = frozenset(
    {
        "population",
        "window",
        "units",
        "min_answers",
        "stages",
        "steps",
        "touchpoints",
        "confirmed_pain_points",
        "kpis",
    }
)


@dataclass(frozen=True)
class MapFigures:
    """The measured side of a live map, keyed by the map's stage, step and touchpoint ids."""

    population: str = "all"
    window: str = ""
    units: int | None = None
    min_answers: int = DEFAULT_MIN_ANSWERS
    stages: Mapping[str, NodeFigures] = field(default_factory=dict)
    steps: Mapping[str, NodeFigures] = field(default_factory=dict)
    touchpoints: Mapping[str, NodeFigures] = field(default_factory=dict)
    confirmed_pain_points: frozenset[str] = frozenset()
    kpis: Mapping[str, float] = field(default_factory=dict)

    def shown(self, measured: Measured | None) -> bool:
        """Whether a survey value has enough answers to be drawn."""
        return (
            measured is not None and measured.value is not None and measured.n >= self.min_answers
        )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MapFigures:
        """Build figures from the documented dict shape (module docstring).

        Raises :class:`ValueError` naming the key path and what was expected.

        >>> f = MapFigures.from_dict({"units": 5, "steps": {"pay": {"reached": 3}}})
        >>> f.steps["pay"].reached, f.units
        (3, 5)
        """
        if not isinstance(data, Mapping):
            raise ValueError(f"figures: expected a mapping, got {type(data).__name__}")
        _only_keys(data, _TOP_KEYS, "figures")
        min_answers = _opt_int(data, "min_answers", "figures")
        confirmed = data.get("confirmed_pain_points", [])
        if not isinstance(confirmed, list | tuple | set | frozenset) or not all(
            isinstance(x, str) for x in confirmed
        ):
            raise ValueError("figures.confirmed_pain_points: expected a list of pain point ids")
        kpis = data.get("kpis", {})
        if not isinstance(kpis, Mapping):
            raise ValueError("figures.kpis: expected a mapping of KPI id to number")
        kpi_values: dict[str, float] = {}
        for key, value in kpis.items():
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"figures.kpis.{key}: expected a number, got {value!r}")
            kpi_values[str(key)] = float(value)
        return cls(
            population=str(data.get("population", "all")),
            window=str(data.get("window", "")),
            units=_opt_int(data, "units", "figures"),
            min_answers=DEFAULT_MIN_ANSWERS if min_answers is None else min_answers,
            stages=_nodes(data, "stages"),
            steps=_nodes(data, "steps"),
            touchpoints=_nodes(data, "touchpoints"),
            confirmed_pain_points=frozenset(confirmed),
            kpis=kpi_values,
        )


class HasToDict(Protocol):
    """Anything that can describe itself as the documented figures dict (e.g. a LiveMap)."""

    def to_dict(self) -> Mapping[str, Any]:
        """The figures as the documented dict shape."""
        ...


LIVEMAP_SCHEMA = "journeylens/livemap/v1"


def figures_from(source: MapFigures | Mapping[str, Any] | HasToDict | None) -> MapFigures | None:
    """Accept figures as :class:`MapFigures`, a dict of the documented shape, a LiveMap
    dict (``schema: journeylens/livemap/v1``), or an object with ``to_dict()`` returning
    either; ``None`` stays ``None`` (the designed map alone)."""
    if source is None or isinstance(source, MapFigures):
        return source
    data = source if isinstance(source, Mapping) else source.to_dict()
    if data.get("schema") == LIVEMAP_SCHEMA:
        return figures_from_livemap(data)
    return MapFigures.from_dict(data)


def figures_from_livemap(
    data: Mapping[str, Any], *, min_answers: int = DEFAULT_MIN_ANSWERS
) -> MapFigures:
    """Adapt ``LiveMap.to_dict()`` (the analytics result) to :class:`MapFigures`.

    Reads by key, so render does not import analytics (layer rule); a missing key raises
    :class:`ValueError` naming it.
    """

    def node(figs: Mapping[str, Any], where: str) -> NodeFigures:
        def survey(key: str) -> Measured | None:
            raw = figs.get(key)
            if raw is None:
                return None
            return Measured(raw.get("value"), int(raw.get("n", 0)))

        try:
            emotion_n = int(figs.get("emotion_n") or 0)
            return NodeFigures(
                reached=figs["reached"],
                conversion=figs.get("conversion"),
                drop_off=figs.get("drop_off"),
                median_time_s=figs.get("median_time_s"),
                nps=survey("nps"),
                csat=survey("csat"),
                ces=survey("ces"),
                emotion=Measured(figs.get("measured_emotion"), emotion_n) if emotion_n else None,
            )
        except (KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"livemap {where}: missing or malformed figure ({exc})") from exc

    stages: dict[str, NodeFigures] = {}
    steps: dict[str, NodeFigures] = {}
    touchpoints: dict[str, NodeFigures] = {}
    for stage in data.get("stages", []):
        stages[stage["id"]] = node(stage["figures"], f"stage {stage['id']}")
        for step in stage.get("steps", []):
            steps[step["id"]] = node(step["figures"], f"step {step['id']}")
            for tp in step.get("touchpoints", []):
                touchpoints[tp["id"]] = node(tp["figures"], f"touchpoint {tp['id']}")
    start = data.get("window_start") or data.get("data_start")
    end = data.get("window_end") or data.get("data_end")
    window = f"{str(start)[:10]} – {str(end)[:10]}" if start or end else ""
    return MapFigures(
        population=str(data.get("population", "all")),
        window=window.replace("None", "…"),
        units=data.get("units"),
        min_answers=min_answers,
        stages=stages,
        steps=steps,
        touchpoints=touchpoints,
    )


# -- reading helpers: every error names the key path and the expected type --------------


def _only_keys(data: Mapping[str, Any], allowed: frozenset[str], where: str) -> None:
    unknown = sorted(str(k) for k in data if k not in allowed)
    if unknown:
        raise ValueError(
            f"{where}: unknown key(s) {', '.join(unknown)}; expected some of "
            + ", ".join(sorted(allowed))
        )


def _opt_int(data: Mapping[str, Any], key: str, where: str) -> int | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{where}.{key}: expected a whole number, got {value!r}")
    return value


def _opt_float(data: Mapping[str, Any], key: str, where: str) -> float | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{where}.{key}: expected a number, got {value!r}")
    return float(value)


def _opt_measured(data: Mapping[str, Any], key: str, where: str) -> Measured | None:
    value = data.get(key)
    if value is None:
        return None
    path = f"{where}.{key}"
    if not isinstance(value, Mapping):
        raise ValueError(f"{path}: expected {{'value': number or null, 'n': count}}")
    _only_keys(value, frozenset({"value", "n"}), path)
    n = _opt_int(value, "n", path)
    if n is None:
        raise ValueError(f"{path}.n: expected the number of answers")
    return Measured(_opt_float(value, "value", path), n)


def _nodes(data: Mapping[str, Any], key: str) -> dict[str, NodeFigures]:
    raw = data.get(key, {})
    if not isinstance(raw, Mapping):
        raise ValueError(f"figures.{key}: expected a mapping of id to figures")
    out: dict[str, NodeFigures] = {}
    for node_id, node in raw.items():
        where = f"figures.{key}.{node_id}"
        if not isinstance(node, Mapping):
            raise ValueError(f"{where}: expected a mapping of figures")
        out[str(node_id)] = NodeFigures.from_dict(node, where)
    return out
