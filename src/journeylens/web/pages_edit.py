"""The editor's remaining edits: steps (add, delete, reorder, move to another stage) and
touchpoints (add, edit, delete), every lane of
a step, touchpoint match rules with a live count of the events they match.

Each edit loads the map's latest document, changes it as plain data and saves it through
the model (:func:`journeylens.web.api.parse_map`), so a bad value answers 422 with the same
message as ``journeylens validate`` (``stages[1].steps[0].touchpoints[0].match[0]…``) and a
stale ``base_version`` answers 409. The live count calls
:func:`journeylens.analytics.rule_count.count_rule_matches`; nothing is computed here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

import yaml
from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response
from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from journeylens.formats.io import to_data
from journeylens.model import Channel, JourneyMap
from journeylens.web.api import parse_map
from journeylens.web.backend import Forbidden, InvalidInput, Role, User
from journeylens.web.deps import CurrentUser, backend_of, csrf_protect
from journeylens.web.map_edits import (
    detach_step,
    find_stage,
    find_step,
    find_touchpoint,
    load,
    save,
)
from journeylens.web.pages import render
from journeylens.web.workspace_store import events_root

router = APIRouter(dependencies=[Depends(csrf_protect)], include_in_schema=False)

_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)

#: Channels offered in the touchpoint forms.
CHANNELS = [c.value for c in Channel]


# -- helpers ------------------------------------------------------------------------------


def parse_yaml_field(text: str, field: str, empty: Any = None) -> Any:
    """Plain data from a YAML (or JSON) text field; ``empty`` for a blank field.

    A syntax error is a 422 naming the field and the line:

    >>> parse_yaml_field("- event: purchase", "match")
    [{'event': 'purchase'}]
    >>> parse_yaml_field("  ", "match", [])
    []
    >>> try:
    ...     parse_yaml_field("- event: [a", "match")
    ... except InvalidInput as exc:
    ...     print(exc.field, "|", exc.message[:30])
    match | not valid YAML at line 1: expe
    """
    if not text.strip():
        return empty
    try:
        return YAML(typ="safe", pure=True).load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise InvalidInput(f"not valid YAML{where}: {exc.problem}", field=field) from None
    except YAMLError as exc:
        raise InvalidInput(f"not valid YAML: {exc}", field=field) from None


def yaml_text(value: Any) -> str:
    """``value`` (plain data) as block YAML for a textarea; empty text for an empty value.

    >>> print(yaml_text([{"event": "purchase", "source": "web"}]), end="")
    - event: purchase
      source: web
    >>> yaml_text([])
    ''
    """
    if value in (None, [], {}):
        return ""
    # libyaml's emitter: ruamel's pure-Python one took ~0.5 s for a 40-touchpoint editor.
    # Its output is YAML 1.1-safe (ambiguous words quoted), so the 1.2 reader reads it back.
    text: str = yaml.dump(
        value, Dumper=_DUMPER, default_flow_style=False, sort_keys=False, allow_unicode=True
    )
    return text


def lines(text: str | None) -> list[str] | None:
    """The non-blank lines of a textarea, stripped (``None`` when the field was not sent)."""
    if text is None:
        return None
    return [line.strip() for line in text.splitlines() if line.strip()]


def require_editor(request: Request, user: User, ws: int) -> None:
    """403 unless the user may edit maps in the workspace."""
    if backend_of(request).role(user, ws) < Role.EDITOR:
        raise Forbidden("editing needs the 'editor' role in the workspace", field="role")


@dataclass(frozen=True)
class EditorMap:
    """The map an editor route works on: who asks, and the workspace and map of the
    route's path.

    Resolving it checks nothing beyond FastAPI's own parameter validation, so the checks
    keep their order: CSRF (router) 403, sign-in 401, every bad field 422 (path first,
    then ``base_version``, then the route's own fields), and only then, in :meth:`load`,
    the role 403 and the unknown map 404.
    """

    request: Request
    user: User
    ws: int
    map_id: str

    def load(self) -> dict[str, Any]:
        """The map's latest version as plain data; 403 unless the user is an editor."""
        require_editor(self.request, self.user, self.ws)
        return load(self.request, self.user, self.ws, self.map_id)


@dataclass(frozen=True)
class MapEdit(EditorMap):
    """An edit of the route's map, built on version ``base_version`` (a form field)."""

    base_version: int

    def save(self, data: dict[str, Any]) -> Response:
        """Save ``data`` as the version after ``base_version`` (409 when stale)."""
        return save(self.request, self.user, self.ws, self.map_id, self.base_version, data)


def _editor_map(request: Request, user: CurrentUser, ws: int, map_id: str) -> EditorMap:
    return EditorMap(request, user, ws, map_id)


def _edit(
    target: Annotated[EditorMap, Depends(_editor_map)], base_version: Annotated[int, Form()]
) -> MapEdit:
    return MapEdit(target.request, target.user, target.ws, target.map_id, base_version)


#: A route parameter: the map of the route's path, for reading (the live rule count).
Target = Annotated[EditorMap, Depends(_editor_map)]
#: A route parameter: the map of the route's path and the ``base_version`` form field.
Edit = Annotated[MapEdit, Depends(_edit)]


def _order(given: str, current: list[str], field: str = "order") -> list[str]:
    ids = [part.strip() for part in given.split(",") if part.strip()]
    if sorted(ids) != sorted(current):
        raise InvalidInput(
            f"expected each of {', '.join(current) or '(none)'} exactly once, got "
            f"{', '.join(ids) or '(none)'}",
            field=field,
        )
    return ids


# -- steps --------------------------------------------------------------------------------


@router.post("/w/{ws}/m/{map_id}/edit/step/add")
def add_step(
    edit: Edit,
    stage_id: Annotated[str, Form()],
    step_id: Annotated[str, Form()],
    name: Annotated[str, Form()] = "",
) -> Response:
    """Add a step at the end of a stage (the model checks the id's form and uniqueness)."""
    data = edit.load()
    stage = find_stage(data, stage_id)
    stage.setdefault("steps", []).append({"id": step_id.strip(), "name": name or step_id})
    return edit.save(data)


@router.post("/w/{ws}/m/{map_id}/edit/step/delete")
def delete_step(
    edit: Edit,
    step_id: Annotated[str, Form()],
) -> Response:
    """Delete a step with its lanes and touchpoints."""
    data = edit.load()
    step = find_step(data, step_id)
    detach_step(data, step)
    return edit.save(data)


@router.post("/w/{ws}/m/{map_id}/edit/step/reorder")
def reorder_steps(
    edit: Edit,
    stage_id: Annotated[str, Form()],
    order: Annotated[str, Form()],
) -> Response:
    """Put a stage's steps in ``order`` (their ids, comma separated; each exactly once)."""
    data = edit.load()
    stage = find_stage(data, stage_id)
    steps = stage.setdefault("steps", [])
    ids = _order(order, [s["id"] for s in steps])
    stage["steps"] = [next(s for s in steps if s["id"] == i) for i in ids]
    return edit.save(data)


@router.post("/w/{ws}/m/{map_id}/edit/step/move")
def move_step(
    edit: Edit,
    step_id: Annotated[str, Form()],
    stage_id: Annotated[str, Form()],
) -> Response:
    """Move a step, with its lanes and touchpoints, to the end of another stage."""
    data = edit.load()
    step = find_step(data, step_id)
    target = find_stage(data, stage_id)
    detach_step(data, step)
    target.setdefault("steps", []).append(step)
    return edit.save(data)


@router.post("/w/{ws}/m/{map_id}/edit/step/lanes")
def edit_lanes(
    edit: Edit,
    step_id: Annotated[str, Form()],
    name: Annotated[str | None, Form()] = None,
    description: Annotated[str | None, Form()] = None,
    actions: Annotated[str | None, Form()] = None,
    thoughts: Annotated[str | None, Form()] = None,
    emotion: Annotated[float | None, Form()] = None,
    emotion_label: Annotated[str | None, Form()] = None,
    emotion_note: Annotated[str | None, Form()] = None,
    emotion_none: Annotated[str | None, Form()] = None,
    frontstage: Annotated[str | None, Form()] = None,
    backstage: Annotated[str | None, Form()] = None,
    support: Annotated[str | None, Form()] = None,
    owners: Annotated[str | None, Form()] = None,
    kpis: Annotated[str | None, Form()] = None,
    moment_of_truth: Annotated[str | None, Form()] = None,
    expected_duration: Annotated[str | None, Form()] = None,
    pain_points: Annotated[str | None, Form()] = None,
    opportunities: Annotated[str | None, Form()] = None,
    evidence: Annotated[str | None, Form()] = None,
    custom: Annotated[str | None, Form()] = None,
    fields_sent: Annotated[str, Form()] = "",
) -> Response:
    """Change any lane of a step; a field that is not sent stays as it is.

    Text lanes take one item per line; pain points, opportunities, evidence and custom
    lanes take YAML (the file format's own shape); ``moment_of_truth`` is its "why" (blank:
    not a moment of truth); ``emotion_none`` removes the emotion. ``fields_sent`` (a
    hidden field of the editor's form) lists the fields on the form: the form layer reads
    a blank field as a missing one, so a listed field that arrives missing was emptied.
    """
    data = edit.load()
    sent = set(fields_sent.split(","))

    def blank_if_sent(field: str, value: str | None) -> str | None:
        return "" if value is None and field in sent else value

    description = blank_if_sent("description", description)
    actions = blank_if_sent("actions", actions)
    thoughts = blank_if_sent("thoughts", thoughts)
    emotion_label = blank_if_sent("emotion_label", emotion_label)
    emotion_note = blank_if_sent("emotion_note", emotion_note)
    frontstage = blank_if_sent("frontstage", frontstage)
    backstage = blank_if_sent("backstage", backstage)
    support = blank_if_sent("support", support)
    owners = blank_if_sent("owners", owners)
    kpis = blank_if_sent("kpis", kpis)
    moment_of_truth = blank_if_sent("moment_of_truth", moment_of_truth)
    expected_duration = blank_if_sent("expected_duration", expected_duration)
    pain_points = blank_if_sent("pain_points", pain_points)
    opportunities = blank_if_sent("opportunities", opportunities)
    evidence = blank_if_sent("evidence", evidence)
    custom = blank_if_sent("custom", custom)
    step = find_step(data, step_id)
    if name is not None:
        step["name"] = name
    if description is not None:
        step["description"] = description
    for lane, text in (
        ("actions", actions),
        ("thoughts", thoughts),
        ("frontstage", frontstage),
        ("backstage", backstage),
        ("support", support),
        ("owners", owners),
        ("kpis", kpis),
    ):
        items = lines(text)
        if items is not None:
            step[lane] = items
    if emotion_none:
        step.pop("emotion", None)
    elif emotion is not None or emotion_label is not None or emotion_note is not None:
        current = dict(step.get("emotion") or {"score": 0})
        if emotion is not None:
            current["score"] = emotion
        if emotion_label is not None:
            current["label"] = emotion_label
        if emotion_note is not None:
            current["note"] = emotion_note
        step["emotion"] = current
    if moment_of_truth is not None:
        if moment_of_truth.strip():
            step["moment_of_truth"] = {"why": moment_of_truth.strip()}
        else:
            step.pop("moment_of_truth", None)
    if expected_duration is not None:
        if expected_duration.strip():
            step["expected_duration"] = expected_duration.strip()
        else:
            step.pop("expected_duration", None)
    for lane, text, empty in (
        ("pain_points", pain_points, []),
        ("opportunities", opportunities, []),
        ("evidence", evidence, []),
        ("custom", custom, {}),
    ):
        if text is not None:
            step[lane] = parse_yaml_field(text, lane, empty)
    return edit.save(data)


# -- touchpoints --------------------------------------------------------------------------


def _touchpoint_fields(
    tp: dict[str, Any],
    name: str | None,
    channel: str | None,
    description: str | None,
    match: str | None,
    visible: str | None,
    sent_visible: bool,
) -> None:
    if name is not None:
        tp["name"] = name
    if channel is not None:
        tp["channel"] = channel
    if description is not None:
        tp["description"] = description
    if sent_visible:
        tp["visible"] = bool(visible)
    if match is not None:
        tp["match"] = parse_yaml_field(match, "match", [])


@router.post("/w/{ws}/m/{map_id}/edit/touchpoint/add")
def add_touchpoint(
    edit: Edit,
    step_id: Annotated[str, Form()],
    tp_id: Annotated[str, Form()],
    name: Annotated[str, Form()] = "",
    channel: Annotated[str, Form()] = "web",
    description: Annotated[str, Form()] = "",
    match: Annotated[str, Form()] = "",
) -> Response:
    """Add a touchpoint to a step, with its match rules (YAML list; may be empty)."""
    data = edit.load()
    step = find_step(data, step_id)
    tp: dict[str, Any] = {"id": tp_id.strip(), "name": name or tp_id}
    _touchpoint_fields(tp, None, channel, description, match, None, False)
    step.setdefault("touchpoints", []).append(tp)
    return edit.save(data)


@router.post("/w/{ws}/m/{map_id}/edit/touchpoint/delete")
def delete_touchpoint(
    edit: Edit,
    tp_id: Annotated[str, Form()],
) -> Response:
    """Delete a touchpoint."""
    data = edit.load()
    step, tp = find_touchpoint(data, tp_id)
    step["touchpoints"].remove(tp)
    return edit.save(data)


@router.post("/w/{ws}/m/{map_id}/edit/touchpoint")
def edit_touchpoint(
    edit: Edit,
    tp_id: Annotated[str, Form()],
    name: Annotated[str | None, Form()] = None,
    channel: Annotated[str | None, Form()] = None,
    description: Annotated[str | None, Form()] = None,
    match: Annotated[str | None, Form()] = None,
    visible: Annotated[str | None, Form()] = None,
    visible_sent: Annotated[str | None, Form()] = None,
) -> Response:
    """Change a touchpoint's name, channel, description, visibility and match rules.

    ``visible_sent`` (a hidden field of the form) says the form carried the checkbox and
    the text fields, so an unchecked box (which browsers do not send) means "not visible"
    and a blank description or rule list (which the form layer reads as missing) means
    "empty".
    """
    data = edit.load()
    if visible_sent:
        description = "" if description is None else description
        match = "" if match is None else match
    _step, tp = find_touchpoint(data, tp_id)
    _touchpoint_fields(tp, name, channel, description, match, visible, bool(visible_sent))
    return edit.save(data)


@router.get("/w/{ws}/m/{map_id}/edit/touchpoint/count")
def count(
    target: Target,
    match: str = "",
    tp_id: str = "",
) -> Response:
    """HTMX fragment: how many events (and customers) the rules in ``match`` select.

    The rules are validated by the model in place of the touchpoint's own (or of a new
    touchpoint's), so the message is the one a save would give; a bad rule answers the
    message with status 200 so HTMX shows it while the user types.
    """
    data = target.load()
    context: dict[str, Any] = {"count": None, "problem": None, "no_events": False}
    try:
        rules_data = parse_yaml_field(match, "match", [])
        if tp_id:
            _step, tp = find_touchpoint(data, tp_id)
        else:  # a touchpoint being added: validate the rules on a stand-in touchpoint
            first = next((s for st in data["stages"] for s in st.get("steps", [])), None)
            if first is None:
                raise InvalidInput("add a step before adding touchpoints", field="step_id")
            tp = {"id": "new-touchpoint-0", "name": "new", "channel": "web"}
            first.setdefault("touchpoints", []).append(tp)
        tp["match"] = rules_data
        journey = parse_map(data)
    except InvalidInput as exc:
        context["problem"] = f"{exc.field}: {exc.message}" if exc.field else exc.message
        return render(target.request, "_rule_count.html", context)
    rules = next(t.match for _s, _st, t in journey.iter_touchpoints() if t.id == tp["id"])
    context["rules"] = len(rules)
    context["count"] = rule_count(target.request, target.ws, journey, rules)
    context["no_events"] = context["count"] is None
    return render(target.request, "_rule_count.html", context)


def rule_count(request: Request, ws: int, journey: JourneyMap, rules: list[Any]) -> Any:
    """The :class:`~journeylens.analytics.rule_count.RuleCount` of ``rules`` over the
    events of web workspace ``ws``, or ``None`` without a workspace or events."""
    from journeylens.analytics.binding import BindingError
    from journeylens.analytics.rule_count import count_rule_matches
    from journeylens.engine.store import StoreError
    from journeylens.engine.workspace import Workspace, WorkspaceError

    workspace = events_root(request, ws)
    if workspace is None:
        return None
    try:
        store = Workspace.open(workspace).store
        con = store.connect(read_only=True)
    except (WorkspaceError, StoreError):
        return None
    try:
        events = store.events(con)
        if not events.limit(1).fetchall():
            return None
        try:
            return count_rule_matches(events, rules)
        except BindingError as exc:  # a rule reads a column the events do not have
            raise InvalidInput(str(exc), field="match") from None
    finally:
        con.close()


# -- the editor page's extra context ------------------------------------------------------


def editor_context(journey: JourneyMap) -> dict[str, Any]:
    """What the editor template needs besides the map: channels and YAML texts per step
    and touchpoint (the structured lanes and the match rules as they would be typed)."""
    step_yaml: dict[str, dict[str, str]] = {}
    tp_yaml: dict[str, str] = {}
    for _stage, step in journey.iter_steps():
        plain = to_data(step)
        step_yaml[step.id] = {
            lane: yaml_text(plain.get(lane))
            for lane in ("pain_points", "opportunities", "evidence", "custom")
        }
        for tp in plain.get("touchpoints", []):
            tp_yaml[tp["id"]] = yaml_text(tp.get("match"))
    return {"channels": CHANNELS, "step_yaml": step_yaml, "tp_yaml": tp_yaml}
