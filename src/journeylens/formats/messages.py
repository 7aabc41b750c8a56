"""Plain-language messages for pydantic validation errors.

Pydantic's messages are written for programmers (``String should match pattern
'^[a-z0-9][a-z0-9_-]{0,63}$'``). People editing a map file need to read what was expected
in their own terms (``expected an id: lower-case letters, digits, '-' and '_'``) and, for
a misspelt word, what they probably meant. Each message has the form
``expected <what> (got <value>)``, so several alternatives (a union type) join naturally:
``expected text or a list (got 5)``.
"""

from __future__ import annotations

import difflib
import re
from typing import Any, get_args

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails

from journeylens.model.common import DURATION_PATTERN, ID_PATTERN
from journeylens.model.rules import FIELD_PATTERN

#: What a value matching each pattern of the model looks like, in words.
PATTERN_WORDS: dict[str, str] = {
    ID_PATTERN: "an id: lower-case letters, digits, '-' and '_', starting with a letter or digit, "
    "at most 64 characters",
    DURATION_PATTERN: "a duration: a number and a unit s, m, h, d or w (like '30m', '2d', '1.5h')",
    FIELD_PATTERN: "a field name like 'event_name' or 'properties.path'",
}

#: Error types whose "expected" phrase does not depend on the error's context.
_FIXED: dict[str, str] = {
    "string_type": "text",
    "string_too_short": "non-empty text",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "list_type": "a list",
    "dict_type": "a mapping (key: value lines)",
    "model_type": "a mapping (key: value lines)",
    "model_attributes_type": "a mapping (key: value lines)",
    "none_required": "nothing (null)",
}

_QUOTED = re.compile(r"'([^']*)'")


def _number(value: Any) -> str:
    """``2.0`` → ``2``: bounds read better without a needless decimal."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


_BOUND_KEYS = ("ge", "gt", "le", "lt")


def _constraints(annotation: Any, metadata: list[Any]) -> tuple[dict[str, Any], bool]:
    """The numeric bounds of a field (also inside ``X | None``) and whether it is an int."""
    bounds: dict[str, Any] = {}
    is_int = annotation is int
    for meta in metadata:
        for key in _BOUND_KEYS:
            if getattr(meta, key, None) is not None:
                bounds[key] = getattr(meta, key)
    for arg in get_args(annotation):
        if isinstance(arg, FieldInfo):
            inner, _ = _constraints(None, arg.metadata)
            bounds |= inner
        elif arg is not None and arg is not type(None):
            inner, inner_int = _constraints(arg, list(getattr(arg, "__metadata__", ())))
            bounds |= inner
            is_int = is_int or inner_int
    return bounds, is_int


def _range_words() -> dict[str, str]:
    """Field name → "a number from -2 to 2", for every bounded number field of the model.

    Pydantic reports one side of a range (``less than or equal to 2``); people editing a
    file want both. Field names with bounds are unique across the model, so the name of
    the field that failed is enough to find them.
    """
    from journeylens import model

    words: dict[str, str] = {}
    for cls in vars(model).values():
        if not (isinstance(cls, type) and issubclass(cls, BaseModel)):
            continue
        for name, info in cls.model_fields.items():
            bounds, is_int = _constraints(info.annotation, info.metadata)
            low = [f"{_number(bounds[k])}" for k in ("ge",) if k in bounds]
            above = [f"above {_number(bounds[k])}" for k in ("gt",) if k in bounds]
            high = [_number(bounds[k]) for k in ("le",) if k in bounds]
            noun = "a whole number" if is_int else "a number"
            if low and high:
                words[name] = f"{noun} from {low[0]} to {high[0]}"
            elif above and high:
                words[name] = f"{noun} {above[0]} and at most {high[0]}"
    return words


_RANGES = _range_words()


def expected_phrase(err: ErrorDetails) -> str | None:
    """What the value should have been, in words; ``None`` when there is no better phrase."""
    kind = err["type"]
    ctx: dict[str, Any] = dict(err.get("ctx") or {})
    loc = err.get("loc") or ()
    field = loc[-1] if loc else None
    bound_error = kind in ("less_than_equal", "greater_than_equal", "less_than", "greater_than")
    if bound_error and isinstance(field, str) and field in _RANGES:
        return _RANGES[field]
    if kind in _FIXED:
        return _FIXED[kind]
    if kind == "string_pattern_mismatch":
        pattern = str(ctx.get("pattern", ""))
        return PATTERN_WORDS.get(pattern, f"text matching {pattern}")
    if kind == "enum":
        options = _QUOTED.findall(str(ctx.get("expected", "")))
        return "one of " + ", ".join(options)
    if kind == "literal_error":
        return str(ctx.get("expected", ""))
    if kind == "less_than_equal":
        return f"a number at most {_number(ctx.get('le'))}"
    if kind == "greater_than_equal":
        return f"a number at least {_number(ctx.get('ge'))}"
    if kind == "less_than":
        return f"a number below {_number(ctx.get('lt'))}"
    if kind == "greater_than":
        return f"a number above {_number(ctx.get('gt'))}"
    if kind == "too_short":
        return f"at least {ctx.get('min_length')} item(s)"
    if kind.startswith(("datetime_", "date_")):
        return "a date-time like 2024-01-31T09:00:00Z"
    return None


def suggestion(err: ErrorDetails) -> str:
    """`` — did you mean 'web'?`` for a misspelt choice, else the empty string."""
    if err["type"] != "enum" or not isinstance(err.get("input"), str):
        return ""
    options = _QUOTED.findall(str((err.get("ctx") or {}).get("expected", "")))
    close = difflib.get_close_matches(str(err["input"]).lower(), options, n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


def shown(value: Any) -> str:
    """A value as the user wrote it, short enough for one line."""
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def friendly(err: ErrorDetails) -> str:
    """One plain-language message for one pydantic error.

    >>> friendly({"type": "enum", "loc": ("channel",), "msg": "", "input": "webb",
    ...           "ctx": {"expected": "'web', 'app' or 'email'"}})
    "expected one of web, app, email (got 'webb'; did you mean 'web'?)"
    """
    kind = err["type"]
    if kind == "missing":
        return "required field is missing"
    if kind == "extra_forbidden":
        return "unknown field (check the spelling; see the JSON Schema for the allowed fields)"
    phrase = expected_phrase(err)
    if phrase is None:
        message = err["msg"].removeprefix("Value error, ")
        if "input" in err and not isinstance(err["input"], dict | list):
            message += f" (got {shown(err['input'])})"
        return message
    return f"expected {phrase} (got {shown(err.get('input'))}{suggestion(err)})"


def unknown_field(key: str, allowed: list[str]) -> str:
    """A misspelt or unknown key: what it may have meant and what is allowed there.

    >>> unknown_field("colour", ["id", "name", "color"])
    "unknown field 'colour' (did you mean 'color'? allowed here: id, name, color)"
    """
    if not allowed:
        return f"unknown field '{key}' (see the JSON Schema for the allowed fields)"
    close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
    hint = f"did you mean '{close[0]}'? " if close else ""
    return f"unknown field '{key}' ({hint}allowed here: {', '.join(allowed)})"


def join_alternatives(errors: list[ErrorDetails]) -> str:
    """One message for the failed branches of a union: ``expected text or a list (got 5)``."""
    phrases: list[str] = []
    for err in errors:
        phrase = expected_phrase(err)
        if phrase is None:
            return "; ".join(friendly(e) for e in errors)
        if phrase not in phrases:
            phrases.append(phrase)
    got = shown(errors[0].get("input"))
    return f"expected {' or '.join(phrases)} (got {got})"
