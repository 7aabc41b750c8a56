"""Semantic diff of two versions of a journey map: what changed by meaning, not by line.

Elements are matched by id, so renaming a step is one "renamed" change rather than a
removed and an added step, and moving a step to another stage is one "moved" change.

What is detected:

* stages, steps, touchpoints, pain points, opportunities, KPIs, outcomes and custom lanes
  **added** or **removed**; **renamed** (same id, new ``name`` — or new ``text`` for pain
  points and opportunities); **moved** (a stage's position among the stages; a step to
  another stage or to another position; a touchpoint, pain point or opportunity to another
  step or position). Position changes are found with a longest common subsequence, so
  inserting one stage at the front does not "move" every other stage.
* every other field **changed**, with its value before and after: scalars (status,
  version, severity, channel, …), nested objects field by field (``emotion.score``,
  ``emotion.label``, ``scenario.kind``), match rules and evidence as a whole, and the items
  of text lanes (``actions``, ``thoughts``, ``owners``, tags, persona refs …) as items
  **added** / **removed**.

An element added or removed is one change whose ``after`` / ``before`` holds all of it;
the steps of a removed stage are not listed again (unless they moved elsewhere).

Order is the new map's order; a removed element is listed right after the element that
preceded it in the old map. The order is therefore stable for the same two inputs.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Container, Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from pydantic import BaseModel

from journeylens.model import JourneyMap, Stage, Step


class ChangeKind(StrEnum):
    """What happened to an element or a field."""

    ADDED = "added"
    REMOVED = "removed"
    RENAMED = "renamed"
    MOVED = "moved"
    CHANGED = "changed"


_SYMBOL = {
    ChangeKind.ADDED: "+",
    ChangeKind.REMOVED: "-",
    ChangeKind.RENAMED: "~",
    ChangeKind.MOVED: ">",
    ChangeKind.CHANGED: "~",
}


@dataclass(frozen=True)
class Change:
    """One difference between two maps.

    ``element`` is the type of the element it concerns (``map``, ``stage``, ``step``,
    ``touchpoint``, ``pain point``, ``opportunity``, ``KPI``, ``outcome``, ``custom lane``)
    and ``id`` its id. ``field`` is empty for a change of the element as a whole (added,
    removed, renamed, moved) and names the field otherwise (``emotion.score``,
    ``actions``). ``path`` locates it by ids: ``stages[buy].steps[pay].emotion.score``.
    ``before`` / ``after`` are plain JSON data (``None`` where there is no value).
    """

    kind: ChangeKind
    element: str
    id: str
    path: str
    field: str = ""
    before: Any = None
    after: Any = None

    def to_text(self) -> str:
        """The change as one human-readable line."""
        head = f"{_SYMBOL[self.kind]} {self.element} {self.id}:"
        if self.field:
            if self.kind is ChangeKind.ADDED:
                return f"{head} {self.field} added {_show(self.after)}"
            if self.kind is ChangeKind.REMOVED:
                return f"{head} {self.field} removed {_show(self.before)}"
            return f"{head} {self.field} {_show(self.before)} → {_show(self.after)}"
        if self.kind is ChangeKind.ADDED:
            return f"{head} added {_show(_label(self.after))}{_where(self.after)}"
        if self.kind is ChangeKind.REMOVED:
            return f"{head} removed {_show(_label(self.before))}{_where(self.before)}"
        if self.kind is ChangeKind.RENAMED:
            return f"{head} renamed {_show(self.before)} → {_show(self.after)}"
        return f"{head} moved from {_place(self.before)} to {_place(self.after)}"

    def to_dict(self) -> dict[str, Any]:
        """The change as plain JSON-ready data."""
        return {
            "kind": self.kind.value,
            "element": self.element,
            "id": self.id,
            "path": self.path,
            "field": self.field,
            "before": self.before,
            "after": self.after,
        }


def _show(value: Any) -> str:
    """A value in a change line: JSON, so strings are quoted and lists are bracketed."""
    return json.dumps(value, ensure_ascii=False)


def _label(data: Any) -> Any:
    """The human name of an added / removed element's data."""
    if isinstance(data, dict):
        element = data.get("element")
        if isinstance(element, dict):
            return element.get("name", element.get("text", element.get("id")))
    return data


def _where(data: Any) -> str:
    if isinstance(data, dict) and "at" in data:
        return f" at {_place(data['at'])}"
    return ""


def _place(value: Any) -> str:
    """``{"stage": "buy", "position": 2}`` → ``stage buy #2``; ``{"position": 2}`` → ``#2``."""
    if not isinstance(value, dict):
        return _show(value)
    parts = [f"{key} {value[key]}" for key in ("stage", "step") if key in value]
    parts.append(f"#{value.get('position')}")
    return " ".join(parts)


@dataclass(frozen=True)
class MapDiff:
    """All differences from ``old`` to ``new``, in map order."""

    old_id: str
    new_id: str
    changes: tuple[Change, ...] = field(default_factory=tuple)

    @property
    def is_empty(self) -> bool:
        """True when the two maps mean the same thing."""
        return not self.changes

    def to_text(self) -> str:
        """One line per change (empty text when there is none), ending with a newline."""
        return "".join(change.to_text() + "\n" for change in self.changes)

    def to_dict(self) -> dict[str, Any]:
        """The diff as plain JSON-ready data: the two map ids, counts by kind, every change."""
        counts = Counter(change.kind.value for change in self.changes)
        return {
            "old": self.old_id,
            "new": self.new_id,
            "counts": {kind.value: counts.get(kind.value, 0) for kind in ChangeKind},
            "changes": [change.to_dict() for change in self.changes],
        }


# -- comparing fields ----------------------------------------------------------------------

#: Map fields diffed as elements or structure rather than as values.
_MAP_STRUCTURE = frozenset({"stages", "kpis", "outcomes", "lanes", "id", "schema_"})


def _json(value: Any) -> Any:
    """Plain JSON data of a field value (models dumped the way files are written)."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    if isinstance(value, list):
        return [_json(v) for v in value]
    if isinstance(value, dict):
        return {k: _json(v) for k, v in value.items()}
    if isinstance(value, StrEnum):
        return value.value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def _is_plain_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str | int | float | bool) for v in value)


def _same_shape_models(before: Any, after: Any) -> bool:
    """Two lists of models of the same length and types, pairwise (compared item by item)."""
    return (
        isinstance(before, list)
        and isinstance(after, list)
        and len(before) == len(after)
        and all(
            isinstance(b, BaseModel) and type(b) is type(a)
            for b, a in zip(before, after, strict=True)
        )
    )


class _Differ:
    """Collects the changes of one comparison."""

    def __init__(self) -> None:
        self.changes: list[Change] = []

    def add(self, change: Change) -> None:
        self.changes.append(change)

    def fields(
        self,
        element: str,
        ident: str,
        path: str,
        old: BaseModel,
        new: BaseModel,
        skip: Iterable[str] = (),
        prefix: str = "",
    ) -> None:
        """Changes of every field of ``old`` → ``new`` except ``skip``, in field order."""
        skipped = set(skip)
        for name, info in type(new).model_fields.items():
            if name in skipped:
                continue
            label = prefix + (info.alias or name)
            before, after = getattr(old, name), getattr(new, name)
            if before == after:
                continue
            self.value(element, ident, path, label, before, after)

    def value(
        self, element: str, ident: str, path: str, label: str, before: Any, after: Any
    ) -> None:
        """Changes of one field value: nested objects field by field, text lists by item."""
        full = f"{path}.{label}" if path else label
        if isinstance(before, BaseModel) and type(before) is type(after):
            self.fields(element, ident, path, before, after, prefix=f"{label}.")
            return
        if isinstance(before, dict) and isinstance(after, dict):
            for key in [*before, *(k for k in after if k not in before)]:
                if before.get(key) != after.get(key):
                    self.value(
                        element,
                        ident,
                        path,
                        f"{label}.{key}",
                        before.get(key, []),
                        after.get(key, []),
                    )
            return
        if _same_shape_models(before, after):
            # Match rules, evidence …: compare item by item so the line names the one
            # value that changed (``match[0].where[1].value``), not the whole list.
            for index, (b, a) in enumerate(zip(before, after, strict=True)):
                if b != a:
                    self.value(element, ident, path, f"{label}[{index}]", b, a)
            return
        if _is_plain_list(before) and _is_plain_list(after):
            old_items, new_items = _json(before), _json(after)
            gone = Counter(old_items) - Counter(new_items)
            came = Counter(new_items) - Counter(old_items)
            if not gone and not came:  # same items, new order: one change with both orders
                self.add(
                    Change(ChangeKind.CHANGED, element, ident, full, label, old_items, new_items)
                )
                return
            for item in old_items:
                if gone[item] > 0:
                    gone[item] -= 1
                    self.add(Change(ChangeKind.REMOVED, element, ident, full, label, before=item))
            for item in new_items:
                if came[item] > 0:
                    came[item] -= 1
                    self.add(Change(ChangeKind.ADDED, element, ident, full, label, after=item))
            return
        self.add(
            Change(ChangeKind.CHANGED, element, ident, full, label, _json(before), _json(after))
        )


# -- comparing elements --------------------------------------------------------------------


def _lcs(a: Sequence[str], b: Sequence[str]) -> set[str]:
    """The ids on a longest common subsequence of ``a`` and ``b`` (those did not move)."""
    table = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(len(a) - 1, -1, -1):
        for j in range(len(b) - 1, -1, -1):
            table[i][j] = (
                table[i + 1][j + 1] + 1 if a[i] == b[j] else max(table[i + 1][j], table[i][j + 1])
            )
    keep, i, j = set(), 0, 0
    while i < len(a) and j < len(b):
        if a[i] == b[j]:
            keep.add(a[i])
            i, j = i + 1, j + 1
        elif table[i + 1][j] >= table[i][j + 1]:
            i += 1
        else:
            j += 1
    return keep


def _merged(
    old_ids: Sequence[str], new_ids: Sequence[str], present: Container[str]
) -> list[tuple[str, bool]]:
    """New ids in order, each removed old id right after its old predecessor.

    An old id is removed when it is not in ``present`` (the ids anywhere in the new map;
    one that moved to another container is reported there instead). Returns ``(id,
    removed)`` pairs; a removed id with no surviving predecessor goes first, so the list
    is stable for the same inputs.
    """
    after: dict[str | None, list[str]] = {}
    anchor: str | None = None
    new_set = set(new_ids)
    for ident in old_ids:
        if ident in new_set:
            anchor = ident
        elif ident not in present:
            after.setdefault(anchor, []).append(ident)
    out: list[tuple[str, bool]] = [(i, True) for i in after.get(None, [])]
    for ident in new_ids:
        out.append((ident, False))
        out.extend((i, True) for i in after.get(ident, []))
    return out


@dataclass(frozen=True)
class _Kind:
    """How one kind of element is diffed: its name, its label field and its list field."""

    element: str
    label: str
    attr: str


_TOUCHPOINT = _Kind("touchpoint", "name", "touchpoints")
_PAIN = _Kind("pain point", "text", "pain_points")
_OPPORTUNITY = _Kind("opportunity", "text", "opportunities")
_STEP_CHILDREN = (_TOUCHPOINT, _PAIN, _OPPORTUNITY)


#: id → (step id, position in the step, element), over the whole map.
_Index = dict[str, tuple[str, int, Any]]
#: For each step child list name: (index of the old map, index of the new map).
_Indexes = dict[str, tuple[_Index, _Index]]


def _index(journey: JourneyMap, kind: _Kind) -> _Index:
    """Map-wide index of a step child kind: id → (step id, position, element)."""
    out: _Index = {}
    for _, step in journey.iter_steps():
        for pos, item in enumerate(getattr(step, kind.attr)):
            out[item.id] = (step.id, pos, item)
    return out


def _flat_elements(
    d: _Differ, kind: _Kind, path: str, old: Sequence[Any], new: Sequence[Any]
) -> None:
    """Diff a flat list of elements that cannot move between containers (KPIs, outcomes)."""
    old_by: dict[str, Any] = {e.id: e for e in old}
    new_by: dict[str, Any] = {e.id: e for e in new}
    new_ids = list(new_by)
    common_old = [i for i in old_by if i in new_by]
    stay = _lcs(common_old, [i for i in new_ids if i in old_by])
    for ident, removed in _merged(list(old_by), new_ids, new_by):
        here = f"{path}[{ident}]"
        if removed:
            old_item = old_by[ident]
            pos = list(old_by).index(ident) + 1
            d.add(_whole(ChangeKind.REMOVED, kind, ident, here, old_item, {"position": pos}))
            continue
        item = new_by[ident]
        pos = new_ids.index(ident) + 1
        if ident not in old_by:
            d.add(_whole(ChangeKind.ADDED, kind, ident, here, item, {"position": pos}))
            continue
        before = old_by[ident]
        if ident not in stay:
            old_pos = list(old_by).index(ident) + 1
            d.add(
                Change(
                    ChangeKind.MOVED,
                    kind.element,
                    ident,
                    here,
                    "",
                    {"position": old_pos},
                    {"position": pos},
                )
            )
        _renamed_and_fields(d, kind, ident, here, before, item, ())


def _whole(
    kind_: ChangeKind, kind: _Kind, ident: str, path: str, item: BaseModel, at: dict[str, Any]
) -> Change:
    """An element added or removed as a whole: its data and where it was / is."""
    data = {"element": _json(item), "at": at}
    if kind_ is ChangeKind.ADDED:
        return Change(kind_, kind.element, ident, path, after=data)
    return Change(kind_, kind.element, ident, path, before=data)


def _renamed_and_fields(
    d: _Differ,
    kind: _Kind,
    ident: str,
    path: str,
    old: BaseModel,
    new: BaseModel,
    children: Iterable[str],
) -> None:
    before, after = getattr(old, kind.label), getattr(new, kind.label)
    if before != after:
        d.add(Change(ChangeKind.RENAMED, kind.element, ident, path, "", before, after))
    d.fields(kind.element, ident, path, old, new, skip={"id", kind.label, *children})


_STAGE = _Kind("stage", "name", "stages")
_STEP = _Kind("step", "name", "steps")
_KPI = _Kind("KPI", "name", "kpis")
_OUTCOME = _Kind("outcome", "name", "outcomes")
_LANE = _Kind("custom lane", "name", "custom")


def diff_maps(old: JourneyMap, new: JourneyMap) -> MapDiff:
    """Every semantic difference from ``old`` to ``new`` (see the module docstring).

    >>> from journeylens.model import JourneyMap, Stage, Step
    >>> a = JourneyMap(id="m", title="M", stages=[Stage(id="s", name="S", steps=[
    ...     Step(id="pay", name="Pay")])])
    >>> b = a.model_copy(deep=True)
    >>> b.stages[0].steps[0].name = "Pay now"
    >>> print(diff_maps(a, b).to_text(), end="")
    ~ step pay: renamed "Pay" → "Pay now"
    """
    d = _Differ()
    # The map's own fields (title, status, version, tags, personas, scenario, …).
    d.fields("map", new.id, "", old, new, skip=_MAP_STRUCTURE)
    if old.id != new.id:
        d.add(Change(ChangeKind.CHANGED, "map", new.id, "id", "id", old.id, new.id))
    if old.lanes.order != new.lanes.order:
        d.value("map", new.id, "", "lanes.order", old.lanes.order, new.lanes.order)
    _flat_elements(d, _LANE, "lanes.custom", old.lanes.custom, new.lanes.custom)
    _flat_elements(d, _KPI, "kpis", old.kpis, new.kpis)
    _flat_elements(d, _OUTCOME, "outcomes", old.outcomes, new.outcomes)
    _stages(d, old, new)
    return MapDiff(old.id, new.id, tuple(d.changes))


def _stages(d: _Differ, old: JourneyMap, new: JourneyMap) -> None:
    old_stages = {s.id: s for s in old.stages}
    new_stages = {s.id: s for s in new.stages}
    old_order, new_order = list(old_stages), list(new_stages)
    stay = _lcs(
        [i for i in old_order if i in new_stages], [i for i in new_order if i in old_stages]
    )
    old_steps = {
        step.id: (stage.id, pos, step)
        for stage in old.stages
        for pos, step in enumerate(stage.steps)
    }
    new_step_ids = {step.id for _, step in new.iter_steps()}
    indexes = {kind.attr: (_index(old, kind), _index(new, kind)) for kind in _STEP_CHILDREN}
    for ident, removed in _merged(old_order, new_order, new_stages):
        path = f"stages[{ident}]"
        if removed:
            pos = old_order.index(ident) + 1
            gone = old_stages[ident].model_copy(
                update={"steps": [s for s in old_stages[ident].steps if s.id not in new_step_ids]}
            )
            d.add(_whole(ChangeKind.REMOVED, _STAGE, ident, path, gone, {"position": pos}))
            continue
        stage = new_stages[ident]
        pos = new_order.index(ident) + 1
        if ident not in old_stages:
            d.add(
                _whole(
                    ChangeKind.ADDED,
                    _STAGE,
                    ident,
                    path,
                    _without_moved_steps(stage, old_steps),
                    {"position": pos},
                )
            )
        else:
            if ident not in stay:
                old_pos = old_order.index(ident) + 1
                d.add(
                    Change(
                        ChangeKind.MOVED,
                        "stage",
                        ident,
                        path,
                        "",
                        {"position": old_pos},
                        {"position": pos},
                    )
                )
            _renamed_and_fields(d, _STAGE, ident, path, old_stages[ident], stage, ("steps",))
        _steps(d, old_stages.get(ident), stage, old_steps, new_step_ids, indexes)


def _without_moved_steps(stage: Stage, old_steps: dict[str, tuple[str, int, Step]]) -> Stage:
    """A new stage's data for its "added" change: steps that moved in are reported as moves."""
    return stage.model_copy(update={"steps": [s for s in stage.steps if s.id not in old_steps]})


def _steps(
    d: _Differ,
    old_stage: Stage | None,
    stage: Stage,
    old_steps: dict[str, tuple[str, int, Step]],
    new_step_ids: set[str],
    indexes: _Indexes,
) -> None:
    old_here = [s.id for s in old_stage.steps] if old_stage else []
    new_here = [s.id for s in stage.steps]
    same_stage = [i for i in new_here if i in old_here]
    stay = _lcs([i for i in old_here if i in same_stage], same_stage)
    for ident, removed in _merged(old_here, new_here, new_step_ids):
        path = f"stages[{stage.id}].steps[{ident}]"
        if removed:
            _, old_pos, old_step = old_steps[ident]
            at = {"stage": stage.id, "position": old_pos + 1}
            d.add(_whole(ChangeKind.REMOVED, _STEP, ident, path, old_step, at))
            continue
        step = next(s for s in stage.steps if s.id == ident)
        at = {"stage": stage.id, "position": new_here.index(ident) + 1}
        if ident not in old_steps:
            if old_stage is not None:  # steps of an added stage are part of its "added" line
                d.add(
                    _whole(
                        ChangeKind.ADDED,
                        _STEP,
                        ident,
                        path,
                        _without_moved_children(step, indexes),
                        at,
                    )
                )
            _children(d, None, step, path, indexes)
            continue
        old_stage_id, old_pos, old_step = old_steps[ident]
        if old_stage_id != stage.id or ident not in stay:
            before = {"stage": old_stage_id, "position": old_pos + 1}
            d.add(Change(ChangeKind.MOVED, "step", ident, path, "", before, at))
        _renamed_and_fields(d, _STEP, ident, path, old_step, step, [k.attr for k in _STEP_CHILDREN])
        _children(d, old_step, step, path, indexes)


def _without_moved_children(
    step: Step,
    indexes: _Indexes,
) -> Step:
    update = {
        kind.attr: [c for c in getattr(step, kind.attr) if c.id not in indexes[kind.attr][0]]
        for kind in _STEP_CHILDREN
    }
    return step.model_copy(update=update)


def _children(
    d: _Differ,
    old_step: Step | None,
    step: Step,
    path: str,
    indexes: _Indexes,
) -> None:
    """Touchpoints, pain points and opportunities of one step (they may move between steps)."""
    for kind in _STEP_CHILDREN:
        old_index, new_index = indexes[kind.attr]
        old_here = [c.id for c in getattr(old_step, kind.attr)] if old_step else []
        new_here = [c.id for c in getattr(step, kind.attr)]
        same = [i for i in new_here if i in old_here]
        stay = _lcs([i for i in old_here if i in same], same)
        for ident, removed in _merged(old_here, new_here, new_index):
            here = f"{path}.{kind.attr}[{ident}]"
            if removed:
                _, old_pos, old_item = old_index[ident]
                at = {"step": step.id, "position": old_pos + 1}
                d.add(_whole(ChangeKind.REMOVED, kind, ident, here, old_item, at))
                continue
            item = getattr(step, kind.attr)[new_here.index(ident)]
            at = {"step": step.id, "position": new_here.index(ident) + 1}
            if ident not in old_index:
                if old_step is not None:  # children of an added step are part of its line
                    d.add(_whole(ChangeKind.ADDED, kind, ident, here, item, at))
                continue
            old_step_id, old_pos, old_item = old_index[ident]
            if old_step_id != step.id or ident not in stay:
                before = {"step": old_step_id, "position": old_pos + 1}
                d.add(Change(ChangeKind.MOVED, kind.element, ident, here, "", before, at))
            _renamed_and_fields(d, kind, ident, here, old_item, item, ())
