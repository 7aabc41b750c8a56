"""The spreadsheet grid teams keep their maps in: lanes as rows, steps as columns.

The first column names the row (the lane); every further column is one step. The first
rows say which stage and step a column is; a stage's own fields sit in the first column
of the stage and stay blank in the rest (as merged cells export), so a new stage starts
where the ``stage`` row has a new value. The rows, top to bottom::

    stage, stage_name, stage_description, stage_goal, stage_expectations, stage_kpis,
    step, step_name, description, actions, thoughts, emotion, emotion_label, emotion_note,
    touchpoints, touchpoint_descriptions, match, pain_points, pain_point_evidence,
    opportunities, frontstage, backstage, support, owners, kpis, moment_of_truth,
    expected_duration, evidence, custom:<lane id> …

then a blank row and the map's own fields, one per row with the value in column B:
``map.id``, ``map.title``, ``map.description``, ``map.version``, ``map.status``,
``map.owner``, ``map.tags``, ``map.personas`` and, when set, ``map.scenario``,
``map.lanes``, ``map.kpis``, ``map.outcomes`` (JSON), ``map.created``, ``map.updated``.

Cells:

* a list (actions, owners, …) is one item per line. When that would be ambiguous (an item
  with a line break, an empty item, or a first item starting with ``[``) the cell is a
  JSON list instead;
* ``emotion`` is the score −2 … +2; ``moment_of_truth`` is its "why" (blank = none);
* touchpoints are ``id: name (channel)`` per line, `` [hidden]`` appended for a contact the
  customer does not see; ``match`` holds their match rules and
  ``touchpoint_descriptions`` their descriptions, each as a JSON object by touchpoint id;
* pain points are ``id: text [severity N]``; their evidence is in ``pain_point_evidence``
  (JSON by id); opportunities are ``id: text [impact I, effort E, status S, owner O]``;
  evidence is ``source (confidence): reference``;
* an item whose text has a line break makes its whole cell a JSON list of objects.

So the grid is lossless: ``from_csv(to_csv(m)) == m`` for every valid map. ``from_csv``
also reads what spreadsheets save: a UTF-8 BOM, Windows line ends, ``;`` or tab as the
separator (decided by the first row). Hand-made sheets may leave rows out (defaults apply), repeat a stage id in every column of the stage,
give only names (ids are then made from them) and write a pain point without ``id:`` or
severity. Errors name the row and column of the cell.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

from journeylens.formats.io import DocumentError, Issue, to_data, validate_data
from journeylens.formats.mermaid import slugify, unique_id
from journeylens.model import JourneyMap
from journeylens.model.errors import Loc

STAGE_ROWS = (
    "stage",
    "stage_name",
    "stage_description",
    "stage_goal",
    "stage_expectations",
    "stage_kpis",
)
STEP_ROWS = (
    "step",
    "step_name",
    "description",
    "actions",
    "thoughts",
    "emotion",
    "emotion_label",
    "emotion_note",
    "touchpoints",
    "touchpoint_descriptions",
    "match",
    "pain_points",
    "pain_point_evidence",
    "opportunities",
    "frontstage",
    "backstage",
    "support",
    "owners",
    "kpis",
    "moment_of_truth",
    "expected_duration",
    "evidence",
)
#: Map rows always written, then those written only when set (JSON for structured ones).
MAP_ROWS = ("id", "title", "description", "version", "status", "owner", "tags", "personas")
MAP_JSON_ROWS = ("scenario", "lanes", "kpis", "outcomes")
MAP_TEXT_ROWS = ("created", "updated")
CUSTOM_PREFIX = "custom:"

#: Plain text lists of a step and of a stage (row name → field name).
_STEP_LISTS = {
    "actions": "actions",
    "thoughts": "thoughts",
    "frontstage": "frontstage",
    "backstage": "backstage",
    "support": "support",
    "owners": "owners",
    "kpis": "kpis",
}
_STAGE_FIELDS = {
    "stage_description": "description",
    "stage_goal": "goal",
}
_STAGE_LISTS = {"stage_expectations": "expectations", "stage_kpis": "kpis"}


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


# -- writing ------------------------------------------------------------------------------


def _list_cell(items: list[str]) -> str:
    """Items one per line, or a JSON list when lines could not carry them exactly."""
    if not items:
        return ""
    if any("\n" in i or "\r" in i or i == "" for i in items) or items[0].startswith(("[", "{")):
        return _dumps(items)
    return "\n".join(items)


def _lines_or_json(items: list[dict[str, Any]], line: Callable[[dict[str, Any]], str]) -> str:
    """One readable line per item, or the items as JSON when a text has a line break."""
    if not items:
        return ""
    lines = [line(item) for item in items]
    if any("\n" in text or "\r" in text for text in lines):
        return _dumps(items)
    return "\n".join(lines)


def _touchpoint_line(tp: dict[str, Any]) -> str:
    hidden = " [hidden]" if tp.get("visible", True) is False else ""
    return f"{tp['id']}: {tp['name']} ({tp['channel']}){hidden}"


def _pain_line(pain: dict[str, Any]) -> str:
    return f"{pain['id']}: {pain['text']} [severity {pain.get('severity', 3)}]"


def _opportunity_line(opp: dict[str, Any]) -> str:
    tags = (
        f"impact {opp.get('impact', 3)}, effort {opp.get('effort', 3)}, "
        f"status {opp.get('status', 'idea')}"
    )
    if opp.get("owner"):
        tags += f", owner {opp['owner']}"
    return f"{opp['id']}: {opp['text']} [{tags}]"


def _evidence_line(ev: dict[str, Any]) -> str:
    head = f"{ev['source']} ({ev.get('confidence', 'medium')})"
    return f"{head}: {ev['reference']}" if ev.get("reference") else head


def _by_id(items: list[dict[str, Any]], key: str) -> str:
    """A JSON object of one field of the items that have it, by item id."""
    found = {item["id"]: item[key] for item in items if key in item}
    return _dumps(found) if found else ""


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _step_cells(step: dict[str, Any] | None, custom_lanes: list[str]) -> dict[str, str]:
    if step is None:
        return {}
    tps: list[dict[str, Any]] = step.get("touchpoints", [])
    pains: list[dict[str, Any]] = step.get("pain_points", [])
    tp_cell = _lines_or_json(tps, _touchpoint_line)
    pain_cell = _lines_or_json(pains, _pain_line)
    emotion = step.get("emotion")
    cells = {
        "step": step["id"],
        "step_name": step["name"],
        "description": step.get("description", ""),
        "emotion": _number(emotion["score"]) if emotion else "",
        "emotion_label": emotion.get("label", "") if emotion else "",
        "emotion_note": emotion.get("note", "") if emotion else "",
        "touchpoints": tp_cell,
        # Carried beside the readable lines, unless the cell is JSON and holds them itself.
        "touchpoint_descriptions": "" if tp_cell.startswith("[") else _by_id(tps, "description"),
        "match": "" if tp_cell.startswith("[") else _by_id(tps, "match"),
        "pain_points": pain_cell,
        "pain_point_evidence": "" if pain_cell.startswith("[") else _by_id(pains, "evidence"),
        "opportunities": _lines_or_json(step.get("opportunities", []), _opportunity_line),
        "moment_of_truth": step["moment_of_truth"]["why"] if "moment_of_truth" in step else "",
        "expected_duration": step.get("expected_duration", ""),
        "evidence": _lines_or_json(step.get("evidence", []), _evidence_line),
    }
    for row, name in _STEP_LISTS.items():
        cells[row] = _list_cell(step.get(name, []))
    custom = step.get("custom", {})
    for lane in custom_lanes:
        # "[]" keeps a lane the step lists as empty apart from one it does not list.
        cells[CUSTOM_PREFIX + lane] = _list_cell(custom[lane]) or "[]" if lane in custom else ""
    return cells


def to_csv(journey: JourneyMap) -> str:
    """The map as a CSV grid (see the module docstring); lossless, RFC 4180 quoting.

    >>> from journeylens.model import JourneyMap, Stage, Step
    >>> m = JourneyMap(id="m", title="Tea", stages=[Stage(id="s", name="Morning",
    ...     steps=[Step(id="t", name="Make tea", actions=["Boil", "Pour"])])])
    >>> print(to_csv(m).splitlines()[:9])
    ['stage,s', 'stage_name,Morning', 'stage_description,', 'stage_goal,', 'stage_expectations,', 'stage_kpis,', 'step,t', 'step_name,Make tea', 'description,']
    """
    data = to_data(journey)
    custom_lanes = [lane.id for lane in journey.lanes.custom]
    columns: list[dict[str, str]] = []
    for stage in data["stages"]:
        steps = stage.get("steps") or [None]
        for index, step in enumerate(steps):
            cells = _step_cells(step, custom_lanes)
            if index == 0:
                cells |= {
                    "stage": stage["id"],
                    "stage_name": stage["name"],
                    "stage_description": stage.get("description", ""),
                    "stage_goal": stage.get("goal", ""),
                    "stage_expectations": _list_cell(stage.get("expectations", [])),
                    "stage_kpis": _list_cell(stage.get("kpis", [])),
                }
            columns.append(cells)
    rows = [*STAGE_ROWS, *STEP_ROWS, *(CUSTOM_PREFIX + lane for lane in custom_lanes)]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for row in rows:
        writer.writerow([row, *(column.get(row, "") for column in columns)])
    writer.writerow([])
    for name in MAP_ROWS:
        value = data.get(name, "")
        if name in ("tags", "personas"):
            value = _list_cell(value or [])
        elif name == "version":
            value = str(journey.version)
        elif name == "status":
            value = journey.status.value
        writer.writerow([f"map.{name}", value])
    for name in MAP_JSON_ROWS:
        if name in data:
            writer.writerow([f"map.{name}", _dumps(data[name])])
    for name in MAP_TEXT_ROWS:
        if name in data:
            writer.writerow([f"map.{name}", data[name]])
    return out.getvalue()


# -- reading ------------------------------------------------------------------------------

_TOUCHPOINT = re.compile(
    r"^(?P<id>\S+?): (?P<name>.*) \((?P<channel>[A-Za-z_]+)\)(?P<hidden> \[hidden\])?$"
)
_PAIN = re.compile(r"^(?P<text>.*?)(?: \[severity (?P<severity>-?\d+)\])?$")
_OPPORTUNITY = re.compile(
    r"^(?P<text>.*) \[impact (?P<impact>-?\d+), effort (?P<effort>-?\d+), "
    r"status (?P<status>[A-Za-z_]+)(?:, owner (?P<owner>.*))?\]$"
)
_EVIDENCE = re.compile(
    r"^(?P<source>[A-Za-z_]+) \((?P<confidence>[A-Za-z_]+)\)(?:: (?P<reference>.*))?$"
)
_ID_PREFIX = re.compile(r"^(?P<id>[a-z0-9][a-z0-9_-]{0,63}): (?P<rest>.*)$")


def _column_name(index: int) -> str:
    """Spreadsheet column letters of a 1-based column number (1 → A, 28 → AB)."""
    name = ""
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(65 + rest) + name
    return name


class _Reader:
    """Turns grid cells into plain map data, recording each value's cell for error messages."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.issues: list[Issue] = []
        self.positions: dict[Loc, tuple[int, int]] = {(): (1, 1)}

    def error(self, row: int, col: int, path: str, message: str) -> None:
        self.issues.append(Issue(self.file, row, col, path, message))

    def at(self, loc: Loc, row: int, col: int) -> None:
        self.positions[loc] = (row, col)

    def json(self, text: str, kind: type, row: int, col: int, path: str, what: str) -> Any:
        """A JSON cell of the given type, or ``None`` with an issue."""
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            self.error(
                row, col, path, f"expected {what} as JSON: {exc.msg} at character {exc.pos + 1}"
            )
            return None
        if not isinstance(value, kind):
            self.error(row, col, path, f"expected {what} as JSON")
            return None
        return value

    def items(self, text: str, row: int, col: int, path: str) -> list[Any]:
        """A list cell: a JSON list, or one item per line."""
        if not text:
            return []
        if text.startswith(("[", "{")):
            value = self.json(text, list, row, col, path, "a list")
            return list(value) if value is not None else []
        return text.replace("\r\n", "\n").split("\n")

    def objects(
        self,
        text: str,
        row: int,
        col: int,
        path: str,
        parse: Callable[[str], dict[str, Any] | None],
        expected: str,
    ) -> list[dict[str, Any]]:
        """A cell of readable item lines (``parse`` each) or a JSON list of objects."""
        if not text:
            return []
        if text.startswith("["):
            value = self.json(text, list, row, col, path, "a list of objects")
            return value if value is not None else []
        out = []
        for line in text.replace("\r\n", "\n").split("\n"):
            item = parse(line)
            if item is None:
                self.error(row, col, path, f"expected {expected} (got {line!r})")
            else:
                out.append(item)
        return out


def _parse_touchpoint(line: str) -> dict[str, Any] | None:
    m = _TOUCHPOINT.match(line)
    if m is None:
        return None
    item: dict[str, Any] = {"id": m["id"], "name": m["name"], "channel": m["channel"]}
    if m["hidden"]:
        item["visible"] = False
    return item


def _split_id(line: str) -> tuple[str | None, str]:
    """``id: rest`` → (id, rest); (``None``, line) when the line does not start with an id."""
    m = _ID_PREFIX.match(line)
    return (m["id"], m["rest"]) if m is not None else (None, line)


def _records(records: Iterator[list[str]], reader: _Reader) -> Iterator[list[str]]:
    """The grid's rows; a row the csv module cannot read ends the grid with a located issue."""
    while True:
        try:
            yield next(records)
        except StopIteration:
            return
        except csv.Error as exc:
            line = getattr(records, "line_num", 0) or 1
            reader.error(line, 1, "", f"not valid CSV: {exc}")
            return


def _delimiter(text: str) -> str:
    """The separator used most in the first row: ``,``, or ``;`` / tab as some spreadsheets save.

    The first row of a written grid holds ids only, which contain none of them but ``,``.
    """
    first = text.split("\n", 1)[0]
    return max((",", ";", "\t"), key=first.count)


def from_csv(text: str, file: str = "<text>") -> JourneyMap:
    """A map from a CSV grid; :class:`DocumentError` lists every bad cell by row and column.

    >>> m = from_csv("stage_name,Morning,\\nstep_name,Make tea,Drink\\nemotion,1,2\\n"
    ...              "\\nmap.title,Tea\\n")
    >>> m.id, [(s.id, s.name, s.emotion.score) for s in m.stages[0].steps]
    ('tea', [('make-tea', 'Make tea', 1.0), ('drink', 'Drink', 2.0)])
    """
    reader = _Reader(file)
    rows: dict[str, tuple[int, list[str]]] = {}
    map_cells: dict[str, tuple[int, str]] = {}
    width = 0
    text = text.removeprefix("\ufeff")  # spreadsheets often save UTF-8 with a BOM
    records = csv.reader(io.StringIO(text), delimiter=_delimiter(text))
    for number, raw in enumerate(_records(records, reader), start=1):
        record = [cell.replace("\r\n", "\n") for cell in raw]
        if not record or not any(cell.strip() for cell in record):
            continue
        name = record[0].strip()
        if name.startswith("map."):
            key = name.removeprefix("map.")
            if key not in (*MAP_ROWS, *MAP_JSON_ROWS, *MAP_TEXT_ROWS):
                reader.error(number, 1, "", f"unknown map row '{name}'")
            elif any(cell for cell in record[2:]):
                reader.error(number, 3, "", f"'{name}' takes one value, in column B")
            else:
                map_cells[key] = (number, record[1] if len(record) > 1 else "")
            continue
        if name not in STAGE_ROWS and name not in STEP_ROWS and not name.startswith(CUSTOM_PREFIX):
            known = ", ".join((*STAGE_ROWS, *STEP_ROWS))
            reader.error(
                number,
                1,
                "",
                f"unknown row '{name}' (expected one of {known}, custom:<lane id> or map.<field>)",
            )
            continue
        if name in rows:
            reader.error(
                number, 1, "", f"row '{name}' appears twice (first in row {rows[name][0]})"
            )
            continue
        rows[name] = (number, record[1:])
        width = max(width, len(record) - 1)
    data = _map_data(reader, map_cells)
    data["stages"] = _stages(reader, rows, width, data)
    try:
        return validate_data(data, JourneyMap, reader.positions, file, reader.issues)
    except DocumentError as exc:
        # Line and column are the grid's row and column; name the cell as a spreadsheet does.
        raise DocumentError([_with_cell(issue) for issue in exc.issues]) from None


def _with_cell(issue: Issue) -> Issue:
    if issue.line is None or issue.column is None:
        return issue
    cell = f"{_column_name(issue.column)}{issue.line}"
    return replace(issue, message=f"{issue.message} (cell {cell})")


def _map_data(reader: _Reader, cells: dict[str, tuple[int, str]]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for key, (row, value) in cells.items():
        reader.at((key,), row, 2)
        if key in ("tags", "personas"):
            data[key] = reader.items(value, row, 2, key)
        elif key in MAP_JSON_ROWS:
            if value:
                kind = list if key in ("kpis", "outcomes") else dict
                parsed = reader.json(value, kind, row, 2, key, f"map {key}")
                if parsed is not None:
                    data[key] = parsed
        elif value != "" or key in ("id", "title"):
            data[key] = value
    if "id" not in data and data.get("title"):
        data["id"] = slugify(str(data["title"]), "journey")
    return data


def _stages(
    reader: _Reader, rows: dict[str, tuple[int, list[str]]], width: int, data: dict[str, Any]
) -> list[dict[str, Any]]:
    def cell(row: str, column: int) -> tuple[int, str]:
        number, values = rows.get(row, (0, []))
        return number, values[column] if column < len(values) else ""

    key_row = "stage" if "stage" in rows else "stage_name"
    if key_row not in rows:
        reader.error(
            1, 1, "stages", "expected a 'stage' or 'stage_name' row naming each column's stage"
        )
        return []
    stages: list[dict[str, Any]] = []
    stage_ids: set[str] = set()
    step_ids: set[str] = set()
    pain_ids: set[str] = set()
    opportunity_ids: set[str] = set()
    current = ""
    custom_rows = [r for r in rows if r.startswith(CUSTOM_PREFIX)]
    for column in range(width):
        col = column + 2  # spreadsheet column: A holds the row names
        key_number, key = cell(key_row, column)
        if key and key != current:
            current = key
            stage: dict[str, Any] = {"steps": []}
            s = len(stages)
            number, ident = cell("stage", column)
            _, name = cell("stage_name", column)
            stage["id"] = ident or unique_id(name, stage_ids, "stage")
            stage_ids.add(stage["id"])
            stage["name"] = name if "stage_name" in rows else stage["id"]
            reader.at(("stages", s), key_number, col)
            for row, field in (("stage", "id"), ("stage_name", "name")):
                if row in rows:
                    reader.at(("stages", s, field), rows[row][0], col)
            for row, field in _STAGE_FIELDS.items():
                number, value = cell(row, column)
                if value:
                    stage[field] = value
                    reader.at(("stages", s, field), number, col)
            for row, field in _STAGE_LISTS.items():
                number, value = cell(row, column)
                if value:
                    stage[field] = reader.items(value, number, col, f"stages[{s}].{field}")
                    reader.at(("stages", s, field), number, col)
            stages.append(stage)
        elif not stages:
            reader.error(
                key_number or 1,
                col,
                "stages",
                f"the first step column needs a value in the '{key_row}' row",
            )
            return []
        else:
            for row in (*_STAGE_FIELDS, *_STAGE_LISTS):
                number, value = cell(row, column)
                if value:
                    reader.error(
                        number,
                        col,
                        f"stages[{len(stages) - 1}]",
                        f"'{row}' belongs in the first column of the stage",
                    )
        step = _step(
            reader,
            cell,
            column,
            col,
            len(stages) - 1,
            len(stages[-1]["steps"]),
            step_ids,
            pain_ids,
            opportunity_ids,
            custom_rows,
        )
        if step is not None:
            stages[-1]["steps"].append(step)
    for stage in stages:
        if not stage["steps"]:
            del stage["steps"]
    return stages


def _step(
    reader: _Reader,
    cell: Callable[[str, int], tuple[int, str]],
    column: int,
    col: int,
    s: int,
    t: int,
    step_ids: set[str],
    pain_ids: set[str],
    opportunity_ids: set[str],
    custom_rows: list[str],
) -> dict[str, Any] | None:
    """The step in one column, or ``None`` when the column only holds a stage."""
    values = {row: cell(row, column) for row in (*STEP_ROWS, *custom_rows)}
    if not any(value for _, value in values.values()):
        return None
    base: Loc = ("stages", s, "steps", t)
    path = f"stages[{s}].steps[{t}]"
    step: dict[str, Any] = {}
    number, ident = values["step"]
    _, name = values["step_name"]
    if not ident and not name:
        reader.error(
            values["step"][0] or 1,
            col,
            path,
            "a step needs an id (row 'step') or a name (row 'step_name')",
        )
        return None
    step["id"] = ident or unique_id(name, step_ids, "step")
    step_ids.add(step["id"])
    step["name"] = name or step["id"]
    reader.at(base, number or values["step_name"][0], col)
    reader.at((*base, "id"), number, col)
    reader.at((*base, "name"), values["step_name"][0], col)

    def put(row: str, field: str, value: Any) -> None:
        step[field] = value
        reader.at((*base, field), values[row][0], col)

    for row in ("description", "expected_duration"):
        if values[row][1]:
            put(row, row, values[row][1])
    for row, field in _STEP_LISTS.items():
        number, value = values[row]
        if value:
            put(row, field, reader.items(value, number, col, f"{path}.{field}"))
    _emotion(reader, values, step, base, col, path)
    number, value = values["moment_of_truth"]
    if value:
        put("moment_of_truth", "moment_of_truth", {"why": value})
    number, value = values["touchpoints"]
    touchpoints = reader.objects(
        value, number, col, f"{path}.touchpoints", _parse_touchpoint, "'id: name (channel)'"
    )
    if touchpoints:
        put("touchpoints", "touchpoints", touchpoints)
    for row, field in (("touchpoint_descriptions", "description"), ("match", "match")):
        _attach(
            reader,
            values[row],
            touchpoints,
            field,
            col,
            f"{path}.touchpoints",
            (*base, "touchpoints"),
            "touchpoint",
        )
    number, value = values["pain_points"]
    pains = reader.objects(
        value,
        number,
        col,
        f"{path}.pain_points",
        lambda line: _parse_pain(line, pain_ids),
        "'id: text [severity N]'",
    )
    if pains:
        put("pain_points", "pain_points", pains)
    _attach(
        reader,
        values["pain_point_evidence"],
        pains,
        "evidence",
        col,
        f"{path}.pain_points",
        (*base, "pain_points"),
        "pain point",
    )
    number, value = values["opportunities"]
    opps = reader.objects(
        value,
        number,
        col,
        f"{path}.opportunities",
        lambda line: _parse_opportunity(line, opportunity_ids),
        "'id: text [impact I, effort E, status S, owner O]'",
    )
    if opps:
        put("opportunities", "opportunities", opps)
    number, value = values["evidence"]
    evidence = reader.objects(
        value, number, col, f"{path}.evidence", _parse_evidence, "'source (confidence): reference'"
    )
    if evidence:
        put("evidence", "evidence", evidence)
    custom: dict[str, Any] = {}
    for row in custom_rows:
        number, value = values[row]
        if value:
            custom[row.removeprefix(CUSTOM_PREFIX)] = reader.items(
                value, number, col, f"{path}.custom"
            )
            reader.at((*base, "custom", row.removeprefix(CUSTOM_PREFIX)), number, col)
    if custom:
        put(custom_rows[0], "custom", custom)
    return step


def _emotion(
    reader: _Reader,
    values: dict[str, tuple[int, str]],
    step: dict[str, Any],
    base: Loc,
    col: int,
    path: str,
) -> None:
    number, score_text = values["emotion"]
    label_row, label = values["emotion_label"]
    note_row, note = values["emotion_note"]
    if not score_text:
        if label or note:
            reader.error(
                label_row if label else note_row,
                col,
                f"{path}.emotion",
                "an emotion label or note needs a score in the 'emotion' row",
            )
        return
    emotion: dict[str, Any] = {}
    try:
        emotion["score"] = float(score_text)
    except ValueError:
        emotion["score"] = score_text  # the model reports it, at this cell
    if label:
        emotion["label"] = label
    if note:
        emotion["note"] = note
    step["emotion"] = emotion
    reader.at((*base, "emotion"), number, col)
    reader.at((*base, "emotion", "score"), number, col)
    reader.at((*base, "emotion", "label"), label_row, col)
    reader.at((*base, "emotion", "note"), note_row, col)


def _attach(
    reader: _Reader,
    cell_value: tuple[int, str],
    items: list[dict[str, Any]],
    field: str,
    col: int,
    path: str,
    loc: Loc,
    what: str,
) -> None:
    """Set ``field`` of items from a JSON object by item id (``match``, descriptions, evidence)."""
    number, text = cell_value
    if not text:
        return
    found = reader.json(text, dict, number, col, path, f"an object by {what} id")
    if found is None:
        return
    index = {item.get("id"): i for i, item in enumerate(items) if isinstance(item, dict)}
    for ident, value in found.items():
        if ident not in index:
            reader.error(number, col, path, f"{what} '{ident}' is not in this column")
            continue
        items[index[ident]][field] = value
        reader.at((*loc, index[ident], field), number, col)


def _parse_pain(line: str, used: set[str]) -> dict[str, Any] | None:
    ident, rest = _split_id(line)
    m = _PAIN.match(rest)
    if m is None:  # pragma: no cover - the pattern accepts any line
        return None
    item: dict[str, Any] = {"text": m["text"]}
    if m["severity"] is not None:
        item["severity"] = int(m["severity"])
    item["id"] = _register(ident, m["text"], used, "pain")
    return item


def _register(ident: str | None, text: str, used: set[str], fallback: str) -> str:
    """The given id, or one made from the text for a hand-written line without one."""
    if ident is not None:
        used.add(ident)
        return ident
    return unique_id(text, used, fallback)


def _parse_opportunity(line: str, used: set[str]) -> dict[str, Any] | None:
    ident, rest = _split_id(line)
    m = _OPPORTUNITY.match(rest)
    if m is None:
        return {"id": _register(ident, rest, used, "opportunity"), "text": rest}
    item: dict[str, Any] = {
        "id": _register(ident, m["text"], used, "opportunity"),
        "text": m["text"],
        "impact": int(m["impact"]),
        "effort": int(m["effort"]),
        "status": m["status"],
    }
    if m["owner"] is not None:
        item["owner"] = m["owner"]
    return item


def _parse_evidence(line: str) -> dict[str, Any] | None:
    m = _EVIDENCE.match(line)
    if m is None:
        return None
    item: dict[str, Any] = {"source": m["source"], "confidence": m["confidence"]}
    if m["reference"] is not None:
        item["reference"] = m["reference"]
    return item
