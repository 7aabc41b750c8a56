"""Errors raised by the model when an invariant between objects does not hold."""

from __future__ import annotations

Loc = tuple[str | int, ...]


class InvariantError(ValueError):
    """Several broken invariants at once, each with its location inside the document.

    Pydantic wraps it into a ``ValidationError``; the formats layer unwraps it (from the
    error's ``ctx``) to report every problem at its own path, line and column.
    """

    def __init__(self, problems: list[tuple[Loc, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{format_loc(loc)}: {msg}" for loc, msg in problems))


def format_loc(loc: Loc) -> str:
    """Render a location tuple as a document path: ``stages[2].steps[0].emotion.score``.

    >>> format_loc(("stages", 2, "steps", 0, "emotion", "score"))
    'stages[2].steps[0].emotion.score'
    """
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out
