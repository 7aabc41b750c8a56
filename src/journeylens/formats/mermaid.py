"""Mermaid ``journey`` diagrams, both ways.

Mermaid (https://mermaid.js.org/syntax/userJourney.html) draws a user journey from::

    journey
      title Buying an online course
      section Discover
        Search for a course: 3: maya
        Compare courses: 2: maya, Marketing

A ``section`` is a stage, a task a step, the number the step's feeling on Mermaid's
1 (bad) … 5 (good) scale and the names after it the actors. journeylens maps its
emotion score −2 … +2 to ``score + 3`` and back.

What Mermaid cannot express, and so an export leaves out (an import cannot bring back):
ids (an import makes them from names), descriptions other than the map's, every lane
except emotion (actions, thoughts, touchpoints, pain points, opportunities, frontstage /
backstage / support, KPIs, evidence …), emotion labels and notes, KPIs, outcomes,
personas as such, status and version. A step without an emotion is drawn at 3 (neutral)
and comes back with an emotion of 0. A blank name is drawn as the element's id. Actors are the step's owners, else the map's
persona ids; an import makes them the step's owners. Line breaks in names become
spaces, and ``:``, ``#`` and ``;`` (which end a name in Mermaid's grammar; ``,`` too in an actor) are
written as entity codes (``#58;``, ``#35;``, ``#59;``, ``#44;``), which Mermaid draws as the
characters; so is the first letter of a name that would read as a keyword (``title …``).
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Context, Decimal, InvalidOperation

from pydantic import ValidationError

from journeylens.formats.io import DocumentError, Issue
from journeylens.model import Emotion, JourneyMap, Stage, Step

#: Characters that end a name or an actor in Mermaid's journey grammar, and their codes.
_ESCAPES = {"#": "#35;", ":": "#58;", ";": "#59;", ",": "#44;"}
_ENTITY = re.compile(r"#(\d+);")
_INDENT = "  "
#: Decimal arithmetic wide enough to shift any float by 3 without rounding.
_EXACT = Context(prec=800)


#: A line starting like this is not a task: a name that does is escaped at its first letter.
_KEYWORD = re.compile(r"^(title\s|section\s|acc(Title|Descr)\s*:|%%)")
_ACC = re.compile(r"^acc(Title|Descr)\s*:")


def _escape(text: str, fallback: str, *, actor: bool = False) -> str:
    """Text safe inside a task line (commas matter only in the actor list).

    A blank name cannot be drawn, so ``fallback`` (the element's id) stands in for it.
    """
    out = " ".join(text.split())  # line breaks and runs of blanks → one space
    if not out:
        out = fallback
    special = "#:;," if actor else "#:;"
    out = "".join(_ESCAPES[c] if c in special else c for c in out)  # one pass: no re-escaping
    if _KEYWORD.match(out):
        out = f"#{ord(out[0])};{out[1:]}"
    return out


def _unescape(text: str) -> str:
    return _ENTITY.sub(lambda m: chr(int(m.group(1))), text).strip()


def _score(value: float) -> str:
    """Emotion −2 … +2 → Mermaid 1 … 5, written as an integer when it is one.

    Decimal arithmetic on the shortest text of the float, so reading the score back and
    subtracting 3 gives exactly the same float (``0.3`` → ``3.3`` → ``0.3``).
    """
    # Enough digits for any float: 0.1 + 3 is exact, and so is 5e-324 + 3.
    shifted = _EXACT.add(Decimal(repr(float(value))), 3)
    if shifted == shifted.to_integral_value():
        return str(int(shifted))
    return format(_EXACT.normalize(shifted), "f")


def to_mermaid(journey: JourneyMap) -> str:
    """The map as a Mermaid ``journey`` diagram (see the module docstring for what it keeps).

    >>> from journeylens.model import Emotion, JourneyMap, Stage, Step
    >>> m = JourneyMap(id="m", title="Tea", personas=["me"], stages=[Stage(id="s",
    ...     name="Morning", steps=[Step(id="t", name="Make tea", emotion=Emotion(score=2))])])
    >>> print(to_mermaid(m), end="")
    journey
      title Tea
      section Morning
        Make tea: 5: me
    """
    lines = ["journey", f"{_INDENT}title {_escape(journey.title, journey.id)}"]
    if journey.description.strip():
        lines.append(f"{_INDENT}accDescr: {_escape(journey.description, '')}")
    for stage in journey.stages:
        lines.append(f"{_INDENT}section {_escape(stage.name, stage.id)}")
        for step in stage.steps:
            score = _score(step.emotion.score) if step.emotion is not None else "3"
            actors = [a for a in (step.owners or journey.personas) if a.strip()]
            task = f"{_INDENT * 2}{_escape(step.name, step.id)}: {score}"
            if actors:
                task += ": " + ", ".join(_escape(a, "", actor=True) for a in actors)
            lines.append(task)
    return "\n".join(lines) + "\n"


# -- import -------------------------------------------------------------------------------


def slugify(name: str, fallback: str = "item") -> str:
    """An id made from a name: ASCII lower case, other characters → ``-``, ≤ 64 characters.

    >>> slugify("Check out — Zahlung (Kärtchen)")
    'check-out-zahlung-kartchen'
    """
    ascii_text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:64].strip("-")
    return slug or fallback


def unique_id(name: str, used: set[str], fallback: str) -> str:
    """:func:`slugify` made unique among ``used`` with ``-2``, ``-3`` …; added to ``used``."""
    base = slugify(name, fallback)
    ident, n = base, 2
    while ident in used:
        suffix = f"-{n}"
        ident = base[: 64 - len(suffix)] + suffix
        n += 1
    used.add(ident)
    return ident


def _fail(file: str, issues: list[Issue]) -> DocumentError:
    return DocumentError(sorted(issues, key=lambda i: (i.line or 0, i.column or 0)))


def from_mermaid(text: str, file: str = "<text>") -> JourneyMap:
    """A map from a Mermaid ``journey`` diagram; :class:`DocumentError` lists every bad line.

    Sections become stages, tasks steps (ids made from names, unique), the 1 … 5 score the
    emotion ``score − 3``, the actors the step's owners. Comment lines (``%%``), ``accTitle``
    and blank lines are skipped; ``accDescr`` becomes the map's description.

    >>> m = from_mermaid("journey\\n title Tea\\n section Morning\\n  Make tea: 5: me\\n")
    >>> m.title, m.stages[0].id, m.stages[0].steps[0].id, m.stages[0].steps[0].emotion.score
    ('Tea', 'morning', 'make-tea', 2.0)
    """
    issues: list[Issue] = []
    title, description = "", ""
    stages: list[tuple[str, list[Step]]] = []
    stage_ids: set[str] = set()
    step_ids: set[str] = set()
    seen_header = False
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        column = len(raw) - len(raw.lstrip()) + 1
        if not line or line.startswith("%%"):
            continue
        if not seen_header:
            if line != "journey":
                issues.append(
                    Issue(file, number, column, "", f"expected 'journey' first (got {line!r})")
                )
                raise _fail(file, issues)
            seen_header = True
            continue
        keyword, _, rest = line.partition(" ")
        if keyword == "title":
            title = _unescape(rest)
        elif keyword == "section":
            name = _unescape(rest)
            if not name:
                issues.append(Issue(file, number, column, "", "a section needs a name"))
                continue
            stages.append((name, []))
        elif _ACC.match(line):
            head, _, value = line.partition(":")
            if head.strip() == "accDescr":
                description = _unescape(value)
        else:
            step = _task(line, number, column, file, step_ids, issues)
            if step is None:
                continue
            if not stages:
                issues.append(
                    Issue(
                        file,
                        number,
                        column,
                        "",
                        "a task before the first section (expected 'section <stage name>' first)",
                    )
                )
                continue
            stages[-1][1].append(step)
    if not seen_header:
        issues.append(Issue(file, 1, 1, "", "empty diagram (expected 'journey' first)"))
    elif not stages and not issues:
        issues.append(Issue(file, None, None, "", "no sections (expected 'section <name>')"))
    if issues:
        raise _fail(file, issues)
    title = title or "Imported journey"
    try:
        return JourneyMap(
            id=slugify(title, "journey"),
            title=title,
            description=description,
            stages=[
                Stage(id=unique_id(name, stage_ids, "stage"), name=name, steps=steps)
                for name, steps in stages
            ],
        )
    except ValidationError as exc:  # pragma: no cover - the parser builds valid parts only
        raise _fail(file, [Issue(file, None, None, "", str(exc))]) from None


def _task(
    line: str, number: int, column: int, file: str, step_ids: set[str], issues: list[Issue]
) -> Step | None:
    """One ``name: score: actors`` line as a step, or ``None`` with an issue recorded."""
    expected = "expected '<step name>: <score 1-5>: <actors>'"
    parts = line.split(":")
    name = _unescape(parts[0])
    if len(parts) < 2 or not name:
        issues.append(Issue(file, number, column, "", f"{expected} (got {line!r})"))
        return None
    if len(parts) > 3:
        issues.append(
            Issue(
                file,
                number,
                column,
                "",
                f"{expected}; write ':' inside a name as '#58;' (got {line!r})",
            )
        )
        return None
    score_text = parts[1].strip()
    score_column = column + len(parts[0]) + 1 + (len(parts[1]) - len(parts[1].lstrip()))
    try:
        score = Decimal(score_text)
    except InvalidOperation:
        score = Decimal("NaN")
    if not score.is_finite() or not 1 <= score <= 5:
        issues.append(
            Issue(
                file,
                number,
                score_column,
                "",
                f"expected a score from 1 to 5 (got {score_text!r})",
            )
        )
        return None
    actors = [_unescape(a) for a in parts[2].split(",")] if len(parts) == 3 else []
    return Step(
        id=unique_id(name, step_ids, "step"),
        name=name,
        emotion=Emotion(score=float(_EXACT.subtract(score, 3))),
        owners=[a for a in actors if a],
    )
