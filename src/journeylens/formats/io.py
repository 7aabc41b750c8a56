"""Load and save journey maps and personas as YAML or JSON — losslessly and canonically.

*Lossless*: ``load(save(m)) == m`` for every valid object. *Canonical*: saving writes keys
in the model's field order, leaves out values equal to their defaults, never wraps lines
and always uses the same indentation, so a one-field change is a one-line diff.

Errors name the file, the line and column, the path inside the document
(``stages[2].steps[0].emotion.score``) and what was expected; all of them are reported at
once (:class:`DocumentError`).
"""

from __future__ import annotations

import io
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar, cast, get_args

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.constructor import DuplicateKeyError, RoundTripConstructor
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.reader import ReaderError
from ruamel.yaml.scalarstring import LiteralScalarString

from journeylens.formats.messages import friendly, join_alternatives, unknown_field
from journeylens.model import (
    JOURNEYMAP_SCHEMA,
    PERSONA_SCHEMA,
    InvariantError,
    JourneyMap,
    Persona,
    format_loc,
)
from journeylens.model.errors import Loc
from journeylens.model.invariants import journey_invariants

M = TypeVar("M", bound=BaseModel)

#: Which model a ``schema:`` value stands for.
SCHEMAS: dict[str, type[BaseModel]] = {JOURNEYMAP_SCHEMA: JourneyMap, PERSONA_SCHEMA: Persona}
MAP_SUFFIXES = (".journey.yaml", ".journey.yml", ".journey.json")
PERSONA_SUFFIXES = (".persona.yaml", ".persona.yml", ".persona.json")


@dataclass(frozen=True)
class Issue:
    """One problem in one document: where it is and what was expected."""

    file: str
    line: int | None
    column: int | None
    path: str
    message: str

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}:{self.column or 1}"
        return f"{where}: {self.path or '(document)'}: {self.message}"

    def to_dict(self) -> dict[str, Any]:
        """The issue as plain JSON-ready data."""
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "path": self.path,
            "message": self.message,
        }


class DocumentError(Exception):
    """A document could not be loaded; ``issues`` lists every problem found."""

    def __init__(self, issues: list[Issue]) -> None:
        self.issues = issues
        super().__init__("\n".join(str(issue) for issue in issues))


# -- reading ----------------------------------------------------------------------------

Positions = dict[Loc, tuple[int, int]]


def _plain(node: Any, loc: Loc, positions: Positions) -> Any:
    """Convert ruamel's round-trip nodes to plain Python, recording 1-based positions."""
    if isinstance(node, CommentedMap):
        out: dict[str, Any] = {}
        for key, value in node.items():
            child = (*loc, str(key))
            try:
                line, col = node.lc.value(key)
                if line is None:
                    line, col = node.lc.key(key)
            except (KeyError, TypeError, AttributeError):
                line, col = node.lc.line, node.lc.col
            positions[child] = (line + 1, col + 1)
            out[str(key)] = _plain(value, child, positions)
        return out
    if isinstance(node, CommentedSeq):
        items: list[Any] = []
        for index, value in enumerate(node):
            child = (*loc, index)
            try:
                line, col = node.lc.item(index)
            except (KeyError, TypeError, AttributeError):
                line, col = node.lc.line, node.lc.col
            positions[child] = (line + 1, col + 1)
            items.append(_plain(value, child, positions))
        return items
    if isinstance(node, bool) or node is None:
        return node
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    if isinstance(node, str):
        return str(node)
    if isinstance(node, datetime | date):
        return node.isoformat()
    return node


class _TextTimestamps(RoundTripConstructor):
    """Reads unquoted dates and times as the text written, not as datetime objects.

    The model parses date-times itself (an impossible ``2024-13-45`` then becomes a
    located validation error instead of a crash), and a date typed into a text field
    keeps its exact spelling (``2024-1-5`` stays ``2024-1-5``).
    """

    def construct_number(self, node: Any) -> Any:
        """An int or float; a look-alike with no digits (``-_``, ``0x_``, ``._``), on which
        ruamel's number constructors crash, is the text written."""
        build = (
            RoundTripConstructor.construct_yaml_int
            if node.tag == "tag:yaml.org,2002:int"
            else RoundTripConstructor.construct_yaml_float
        )
        try:
            return build(self, node)
        except (IndexError, ValueError):
            return self.construct_yaml_str(node)


_TextTimestamps.add_constructor(
    "tag:yaml.org,2002:timestamp", RoundTripConstructor.construct_yaml_str
)
_TextTimestamps.add_constructor("tag:yaml.org,2002:int", _TextTimestamps.construct_number)
_TextTimestamps.add_constructor("tag:yaml.org,2002:float", _TextTimestamps.construct_number)


def _parse(text: str, file: str) -> tuple[Any, Positions]:
    """Parse YAML (JSON is YAML too) into plain data plus a position index."""
    yaml = YAML(typ="rt")
    yaml.Constructor = _TextTimestamps
    try:
        node = yaml.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        col = mark.column + 1 if mark is not None else None
        problem = exc.problem or str(exc)
        cmark = exc.context_mark
        if exc.context and cmark is not None and cmark is not mark:
            # Where the broken construct began (an unclosed quote, the mapping that
            # holds a duplicate key) is often the line the user has to fix.
            problem += (
                f" ({exc.context} started at line {cmark.line + 1}, column {cmark.column + 1})"
            )
        if isinstance(exc, DuplicateKeyError):
            problem += "; each key may appear once per mapping"
        kind = "JSON" if text.lstrip().startswith("{") else "YAML"
        raise DocumentError([Issue(file, line, col, "", f"not valid {kind}: {problem}")]) from None
    except ReaderError as exc:
        # A character YAML does not allow (control characters): say which and where.
        before = text[: max(exc.position, 0)]
        line = before.count("\n") + 1
        col = len(before) - (before.rfind("\n") + 1) + 1
        char = f"U+{exc.character:04X}" if isinstance(exc.character, int) else repr(exc.character)
        raise DocumentError(
            [Issue(file, line, col, "", f"not valid YAML: character {char} is not allowed")]
        ) from None
    except YAMLError as exc:  # pragma: no cover - every other YAML error is a marked one
        raise DocumentError([Issue(file, None, None, "", f"not valid YAML: {exc}")]) from None
    positions: Positions = {(): (1, 1)}
    return _plain(node, (), positions), positions


def _locate(
    data: Any, loc: tuple[Any, ...], positions: Positions
) -> tuple[str, int | None, int | None]:
    """Map a pydantic error location onto the document: (path, line, column).

    Pydantic's locations contain union tags (``condition``, ``list[str]``) that are not part
    of the document; they are dropped by walking the data. A missing field keeps its name
    in the path and points at the enclosing mapping.
    """
    path: list[str | int] = []
    node = data
    for index, part in enumerate(loc):
        in_map = isinstance(node, dict) and isinstance(part, str) and part in node
        in_seq = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if in_map or in_seq:
            node = node[part]
            path.append(part)
        elif index == len(loc) - 1 and isinstance(node, dict) and isinstance(part, str):
            path.append(part)
    probe: Loc = tuple(path)
    while probe not in positions and probe:
        probe = probe[:-1]
    line, col = positions.get(probe, (None, None))
    return format_loc(tuple(path)), line, col


def _is_branch(data: Any, loc: tuple[Any, ...]) -> bool:
    """Whether a location passes through a union tag (``event.list[str]``) absent from the data."""
    node = data
    for index, part in enumerate(loc):
        in_map = isinstance(node, dict) and isinstance(part, str) and part in node
        in_seq = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if in_map or in_seq:
            node = node[part]
        elif index < len(loc) - 1 or not isinstance(node, dict):
            return True
    return False


def _data_path(data: Any, loc: tuple[Any, ...]) -> Loc:
    """The parts of a pydantic location that exist in the data (union tags dropped)."""
    path: list[str | int] = []
    node = data
    for index, part in enumerate(loc):
        in_map = isinstance(node, dict) and isinstance(part, str) and part in node
        in_seq = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if in_map or in_seq:
            node = node[part]
            path.append(part)
        elif index == len(loc) - 1 and isinstance(node, dict) and isinstance(part, str):
            path.append(part)
    return tuple(path)


def _model_types(annotation: Any) -> list[type[BaseModel]]:
    """The model classes an annotation can hold (inside lists, unions, ``Annotated``)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    found: list[type[BaseModel]] = []
    for arg in get_args(annotation):
        found.extend(t for t in _model_types(arg) if t not in found)
    return found


def _fields_at(model: type[BaseModel], data: Any, parts: Loc) -> list[str]:
    """The field names (as written in files) of the object at ``parts`` inside ``data``."""
    candidates: list[type[BaseModel]] = [model]
    node = data
    for part in parts:
        node = node[part]
        if isinstance(part, int):
            continue  # a list item has the list's item types
        nxt: list[type[BaseModel]] = []
        for cls in candidates:
            for name, info in cls.model_fields.items():
                if part in (name, info.alias):
                    nxt.extend(t for t in _model_types(info.annotation) if t not in nxt)
        candidates = nxt
    if not candidates:
        return []
    # Several candidates (a rule: condition, all, any, not): the one sharing most keys.
    keys = set(node) if isinstance(node, dict) else set()

    def names(cls: type[BaseModel]) -> list[str]:
        return [info.alias or name for name, info in cls.model_fields.items()]

    best = max(candidates, key=lambda cls: len(keys & set(names(cls))))
    return names(best)


def _issues_from(
    exc: ValidationError,
    data: Any,
    positions: Positions,
    file: str,
    prefix: Loc = (),
    model: type[BaseModel] | None = None,
) -> list[Issue]:
    issues: list[Issue] = []
    # A value that fits no member of a union fails once per member; those errors are
    # gathered by place and reported as one "expected A or B" message.
    branches: dict[tuple[str, int | None, int | None], list[ErrorDetails]] = {}
    for err in exc.errors():
        loc = (*prefix, *err["loc"])
        cause = (err.get("ctx") or {}).get("error")
        if isinstance(cause, InvariantError):
            for sub_loc, message in cause.problems:
                path, line, col = _locate(data, (*loc, *sub_loc), positions)
                issues.append(Issue(file, line, col, path, message))
            continue
        path, line, col = _locate(data, loc, positions)
        if err["type"] == "extra_forbidden" and model is not None:
            parts = _data_path(data, loc)
            allowed = _fields_at(model, data, parts[:-1])
            message = unknown_field(str(parts[-1]) if parts else "", allowed)
            issues.append(Issue(file, line, col, path, message))
        elif _is_branch(data, loc):
            branches.setdefault((path, line, col), []).append(err)
        else:
            issues.append(Issue(file, line, col, path, friendly(err)))
    for (path, line, col), errs in branches.items():
        message = friendly(errs[0]) if len(errs) == 1 else join_alternatives(errs)
        issues.append(Issue(file, line, col, path, message))
    issues.sort(key=lambda i: (i.line or 0, i.column or 0))
    return issues


class _DuplicateKeyError(ValueError):
    pass


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [key for key, _ in pairs]
    if len(set(keys)) != len(keys):
        raise _DuplicateKeyError
    return dict(pairs)


def _fast_json(text: str) -> Any:
    """JSON text read by the C parser, or ``None`` when it is not plain, valid JSON.

    The YAML reader that records positions is pure Python and slow; a valid JSON file
    does not need positions unless validation fails, and then it is read again.
    """
    if not text.lstrip().startswith("{"):
        return None
    try:
        return json.loads(text, object_pairs_hook=_no_duplicates)
    except (ValueError, RecursionError):
        return None


# -- the fast YAML path ------------------------------------------------------------------
#
# ruamel's round-trip reader (above) is pure Python: several seconds for a large map. A
# valid file needs no positions, so it is first read by libyaml (PyYAML's C parser) with the
# YAML 1.2 rules the round-trip reader and the canonical writer use, not PyYAML's YAML 1.1
# ones: `yes`, `no`, `on`, `off`, `y` stay text, `012` is not octal, `1:30` is not 90.
# Every plain scalar is typed by the patterns of ruamel's own 1.2 resolver; a scalar that
# ruamel would read in a way we do not copy exactly (0o17, 0x1f, 1_000, 007, `<<`, `=`), an
# explicit tag, a duplicate key, a non-text key, a %YAML directive or any
# parse error makes the fast path give up, and the round-trip reader decides.


class _NotFastError(Exception):
    """The fast reader cannot promise the round-trip reader's result; use that one."""


def _ruamel_12_resolvers() -> dict[str, list[tuple[str, Any]]]:
    """ruamel's YAML 1.2 implicit resolvers by the first character of a scalar, in the
    order ruamel tries them (the source of truth for what a plain scalar is)."""
    from ruamel.yaml.resolver import implicit_resolvers

    table: dict[str, list[tuple[str, Any]]] = {}
    for versions, tag, regexp, first in implicit_resolvers:
        if (1, 2) in versions:
            for char in first:
                table.setdefault(char, []).append((str(tag), regexp))
    return table


_RESOLVERS_12 = _ruamel_12_resolvers()
# The spellings whose value is plain int() / float() of the text, as ruamel computes it.
_PLAIN_INT = re.compile(r"[-+]?(?:0|[1-9][0-9]*)")
_PLAIN_FLOAT = re.compile(r"[-+]?[0-9]+(?:\.[0-9]*)?(?:[eE][-+]?[0-9]+)?|[-+]?\.[0-9]+")
_SPECIAL_FLOATS = {
    ".inf": math.inf,
    ".Inf": math.inf,
    ".INF": math.inf,
    "+.inf": math.inf,
    "+.Inf": math.inf,
    "+.INF": math.inf,
    "-.inf": -math.inf,
    "-.Inf": -math.inf,
    "-.INF": -math.inf,
    ".nan": math.nan,
    ".NaN": math.nan,
    ".NAN": math.nan,
}
# Tags the fast reader gives untagged nodes; an explicit tag (even !!str, which the
# round-trip reader keeps as a tagged scalar) has no constructor there and declines.
_STR = "journeylens:quoted"
_SEQ = "journeylens:seq"
_MAP = "journeylens:map"
_PLAIN = "journeylens:plain"  # an untagged plain scalar, typed by _plain_scalar


def _plain_scalar(value: str) -> Any:
    """The value of an untagged plain scalar under YAML 1.2, as the round-trip reader
    (with dates kept as text) gives it after :func:`_plain`.

    >>> [_plain_scalar(v) for v in ["yes", "no", "on", "True", "~", "", "12", "-3", "1.5e3"]]
    ['yes', 'no', 'on', True, None, None, 12, -3, 1500.0]
    >>> [_plain_scalar(v) for v in ["1:30", "2024-01-05", "0x", "1.2.3", ".inf"]]
    ['1:30', '2024-01-05', '0x', '1.2.3', inf]
    """
    resolvers = _RESOLVERS_12.get(value[:1], [])
    tag = next((t for t, rx in resolvers if rx.match(value)), "tag:yaml.org,2002:str")
    kind = tag.rpartition(":")[2]
    if kind == "null":
        return None
    if kind == "bool":
        return value.lower() == "true"
    if kind == "float":
        if value in _SPECIAL_FLOATS:
            return _SPECIAL_FLOATS[value]
        if _PLAIN_FLOAT.fullmatch(value):
            return float(value)
        raise _NotFastError(value)
    if kind == "int":
        if _PLAIN_INT.fullmatch(value):
            return int(value)
        raise _NotFastError(value)
    if kind not in ("str", "timestamp"):  # merge key `<<`, value key `=`: not copied here
        raise _NotFastError(value)
    return value


def _fast_loader() -> type[Any] | None:
    """A libyaml parser whose composer tags untagged nodes for :func:`_build` (None when
    PyYAML has no C parser: then every document takes the round-trip reader)."""
    try:
        from yaml.cyaml import CParser
        from yaml.nodes import ScalarNode, SequenceNode
    except ImportError:  # pragma: no cover - PyYAML is a dependency; its C part may be absent
        return None

    class Composer(CParser):  # type: ignore[misc]
        def descend_resolver(self, parent: Any, index: Any) -> None:
            pass  # path resolvers are not used

        def ascend_resolver(self) -> None:
            pass

        def resolve(self, kind: type[Any], value: Any, implicit: tuple[bool, bool]) -> str:
            # Called by the C composer only for nodes without an explicit tag.
            if kind is ScalarNode:
                return _PLAIN if implicit[0] else _STR
            return _SEQ if kind is SequenceNode else _MAP

    return Composer


def _build(node: Any) -> Any:
    """Plain data from a composed node; :class:`_NotFastError` for an explicit tag, a
    duplicate or non-text key, or a scalar typed differently by the round-trip reader.
    (Building from nodes directly is ~2× faster than PyYAML's generic constructor.)"""
    tag = node.tag
    if tag == _PLAIN:
        return _plain_scalar(node.value)
    if tag == _STR:
        return node.value
    if tag == _SEQ:
        return [_build(item) for item in node.value]
    if tag == _MAP:
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = _build(key_node)
            if not isinstance(key, str) or key in out:
                raise _NotFastError(f"key {key!r}")
            out[key] = _build(value_node)
        return out
    raise _NotFastError(f"tag {tag}")


_FAST_LOADER = _fast_loader()


def fast_yaml(text: str) -> Any:
    """YAML text read by libyaml with YAML 1.2 typing, or ``None`` when the fast reader
    cannot promise exactly what the round-trip reader gives (see the notes above).

    >>> fast_yaml("id: m\\nflag: yes\\nn: 12\\nwhen: 2024-01-05\\ntags: [on, off]\\n")
    {'id': 'm', 'flag': 'yes', 'n': 12, 'when': '2024-01-05', 'tags': ['on', 'off']}
    >>> fast_yaml("mode: 0o17\\n") is None, fast_yaml("a: 1\\na: 2\\n") is None
    (True, True)
    """
    if _FAST_LOADER is None or text.startswith("%") or "\n%" in text:
        return None  # a directive (%YAML 1.1) changes the rules
    from yaml import YAMLError

    composer = _FAST_LOADER(text)
    try:
        node = composer.get_single_node()
        return None if node is None else _build(node)
    except (_NotFastError, YAMLError, RecursionError, ValueError):
        return None
    finally:
        composer.dispose()


def parse_model(text: str, model: type[M], file: str = "<text>") -> M:
    """Parse YAML or JSON text into ``model``, raising :class:`DocumentError` on any problem.

    A valid document is read by a C parser (JSON, else libyaml with YAML 1.2 rules); only
    a document that fails there or in validation is read again by the slow round-trip
    reader, which records where every node is, so each error keeps its file:line:col.
    """
    fast = _fast_json(text)
    if fast is None:
        fast = fast_yaml(text)
    if isinstance(fast, dict):
        try:
            return model.model_validate(fast)
        except ValidationError:
            pass  # read again below, with positions, to locate every problem
    data, positions = _parse(text, file)
    return validate_data(_mapping(data, file), model, positions, file)


def _mapping(data: Any, file: str) -> dict[str, Any]:
    """The document's top level, which must be a mapping (:class:`DocumentError` if not)."""
    if not isinstance(data, dict):
        raise DocumentError(
            [
                Issue(
                    file,
                    1,
                    1,
                    "",
                    f"expected a mapping at the top of the document, got {type(data).__name__}",
                )
            ]
        )
    return data


def validate_data(
    data: dict[str, Any],
    model: type[M],
    positions: dict[Loc, tuple[int, int]],
    file: str = "<text>",
    extra: list[Issue] | None = None,
) -> M:
    """Build ``model`` from plain data; :class:`DocumentError` lists every problem.

    ``positions`` maps document paths (``("stages", 0, "name")``) to (line, column); an
    error is reported at its path's nearest located ancestor. Importers that are not
    YAML (the CSV grid) fill it with their own coordinates. ``extra`` holds problems the
    caller found before validation; they are reported together with the model's.
    """
    issues = list(extra or [])
    try:
        result = model.model_validate(data)
    except ValidationError as exc:
        issues.extend(_issues_from(exc, data, positions, file, model=model))
        if model is JourneyMap and not _has_invariant_error(exc):
            # Field errors stop pydantic before the cross-object checks; run them on the
            # raw data so every mistake in the file is reported in one go.
            for loc, message in journey_invariants(data):
                path, line, col = _locate(data, loc, positions)
                issues.append(Issue(file, line, col, path, message))
        issues.sort(key=lambda i: (i.line or 0, i.column or 0))
        raise DocumentError(issues) from None
    if issues:
        raise DocumentError(sorted(issues, key=lambda i: (i.line or 0, i.column or 0)))
    return result


def _has_invariant_error(exc: ValidationError) -> bool:
    return any(
        isinstance((err.get("ctx") or {}).get("error"), InvariantError) for err in exc.errors()
    )


def _read(path: Path) -> str:
    """The text of a file; :class:`DocumentError` when it is missing, unreadable or not UTF-8."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DocumentError([Issue(str(path), None, None, "", "file not found")]) from None
    except IsADirectoryError:
        raise DocumentError(
            [Issue(str(path), None, None, "", "is a folder, expected a file")]
        ) from None
    except OSError as exc:
        raise DocumentError(
            [Issue(str(path), None, None, "", f"cannot read: {exc.strerror}")]
        ) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        # Point at the offending byte so the user can find the stray Latin-1 / Windows char.
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise DocumentError(
            [
                Issue(
                    str(path),
                    line,
                    column,
                    "",
                    f"not UTF-8 text: byte 0x{raw[exc.start]:02x} ({exc.reason}); "
                    "save the file as UTF-8",
                )
            ]
        ) from None
    # Line endings are normalised the way YAML reads them; a BOM is not part of the text.
    return text.removeprefix("\ufeff").replace("\r\n", "\n")


def kind_of(path: Path, text: str | None = None) -> type[BaseModel]:
    """Which model a file holds: by its ``schema:`` key, else by its suffix (``.persona.yaml``)."""
    name = path.name.lower()
    if text is not None:
        data = _fast_json(text)
        if data is None:
            data = fast_yaml(text)
        if data is None:
            try:
                data, _ = _parse(text, str(path))
            except DocumentError:
                data = None
        if isinstance(data, dict) and isinstance(data.get("schema"), str):
            model = SCHEMAS.get(data["schema"])
            if model is not None:
                return model
    if name.endswith(PERSONA_SUFFIXES):
        return Persona
    return JourneyMap


def locate_paths(path: str | Path) -> Callable[[Loc], tuple[int | None, int | None]]:
    r"""A function giving the 1-based (line, column) of a document path in the file ``path``.

    The same locator that places validation errors: a path the file does not spell out
    (a field left at its default) is placed at its nearest written ancestor, the whole
    document at 1:1. A file that does not parse locates nothing: ``(None, None)``.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = Path(d, "m.journey.yaml")
    ...     _ = p.write_text("id: m\nstages:\n  - id: a\n    name: A\n", encoding="utf-8")
    ...     where = locate_paths(p)
    ...     where(("stages", 0, "name")), where(("stages", 0, "goal")), where(())
    ((4, 11), (3, 5), (1, 1))
    """
    p = Path(path)
    try:
        data, positions = _parse(_read(p), str(p))
    except DocumentError:
        return lambda _loc: (None, None)
    return _locator(data, positions)


def _locator(data: Any, positions: Positions) -> Callable[[Loc], tuple[int | None, int | None]]:
    def where(loc: Loc) -> tuple[int | None, int | None]:
        _, line, column = _locate(data, loc, positions)
        return line, column

    return where


def load_map(path: str | Path) -> JourneyMap:
    """Load a ``*.journey.yaml`` (or ``.json``) file; :class:`DocumentError` lists every problem."""
    p = Path(path)
    return parse_model(_read(p), JourneyMap, str(p))


def load_map_located(
    path: str | Path,
) -> tuple[JourneyMap, Callable[[Loc], tuple[int | None, int | None]]]:
    """:func:`load_map` and :func:`locate_paths` of the same file from one read and one parse.

    For a caller that places things in a valid map (``journeylens lint``): the reader that
    records positions runs once, where load-then-locate ran the fast reader and then it.
    The map and the problems of an invalid file are the same as :func:`load_map`'s.
    """
    p = Path(path)
    data, positions = _parse(_read(p), str(p))
    return validate_data(_mapping(data, str(p)), JourneyMap, positions, str(p)), _locator(
        data, positions
    )


def load_persona(path: str | Path) -> Persona:
    """Load a ``*.persona.yaml`` (or ``.json``) file; :class:`DocumentError` lists every problem."""
    p = Path(path)
    return parse_model(_read(p), Persona, str(p))


def load_any(path: str | Path) -> JourneyMap | Persona:
    """Load a map or a persona file, deciding by its ``schema:`` key or its suffix."""
    p = Path(path)
    text = _read(p)
    model = kind_of(p, text)
    return cast(JourneyMap | Persona, parse_model(text, model, str(p)))


def find_personas(directory: str | Path) -> dict[str, tuple[Path, Persona]]:
    """All persona files in a folder (not recursive), by persona id."""
    found: dict[str, tuple[Path, Persona]] = {}
    d = Path(directory)
    for suffix in PERSONA_SUFFIXES:
        for p in sorted(d.glob(f"*{suffix}")):
            persona = load_persona(p)
            found[persona.id] = (p, persona)
    return found


def check_persona_refs(
    journey: JourneyMap, path: str | Path, personas: dict[str, Any]
) -> list[Issue]:
    """Issues for persona ids the map names that are not among ``personas`` (by id).

    Personas live in their own files; a map refers to them by id. The line of each bad
    reference is looked up in the map file itself.
    """
    p = Path(path)
    missing = [(i, pid) for i, pid in enumerate(journey.personas) if pid not in personas]
    if not missing:
        return []
    try:
        data, positions = _parse(_read(p), str(p))
    except DocumentError:
        data, positions = {}, {}
    issues = []
    for i, pid in missing:
        where, line, col = _locate(data, ("personas", i), positions)
        issues.append(
            Issue(
                str(p),
                line,
                col,
                where,
                f"persona '{pid}' not found (expected a {pid}.persona.yaml beside the map)",
            )
        )
    return issues


# -- writing ----------------------------------------------------------------------------


def to_data(obj: BaseModel) -> dict[str, Any]:
    """The canonical plain-data form of a map or persona: field order, defaults left out.

    The ``schema`` key is always written first so a file says what it is.
    """
    data = obj.model_dump(mode="json", exclude_defaults=True, by_alias=True)
    schema = obj.model_dump(mode="json", include={"schema_"}, by_alias=True).get("schema")
    out: dict[str, Any] = {}
    if schema is not None:
        out["schema"] = schema
    out.update((k, v) for k, v in data.items() if k != "schema")
    return out


def _literal_multiline(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _literal_multiline(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_literal_multiline(v) for v in value]
    if isinstance(value, str) and "\n" in value and not value.endswith((" ", "\t")):
        return LiteralScalarString(value)
    return value


def dumps_yaml(obj: BaseModel) -> str:
    """Canonical YAML text of a map or persona.

    Written by libyaml when :mod:`journeylens.formats.yaml_c_writer` covers the document
    (the same bytes, ~10× less CPU: every saved version is written), else by ruamel.
    """
    from journeylens.formats.yaml_c_writer import dumps

    data = to_data(obj)
    fast = dumps(data)
    return fast if fast is not None else ruamel_dumps(data)


def ruamel_dumps(data: dict[str, Any]) -> str:
    """Canonical YAML text of plain data by ruamel: the reference writer."""
    yaml = YAML(typ="rt")
    yaml.width = 1_000_000  # never wrap: a one-field change stays a one-line diff
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.allow_unicode = True
    buf = io.StringIO()
    yaml.dump(_literal_multiline(data), buf)
    return buf.getvalue()


def dumps_json(obj: BaseModel) -> str:
    """Canonical JSON text of a map or persona (two-space indent, field order, UTF-8)."""
    return json.dumps(to_data(obj), indent=2, ensure_ascii=False) + "\n"


def save(obj: BaseModel, path: str | Path) -> Path:
    """Write a map or persona canonically; JSON for ``.json`` files, YAML otherwise."""
    p = Path(path)
    text = dumps_json(obj) if p.suffix.lower() == ".json" else dumps_yaml(obj)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text, encoding="utf-8")
    return p
