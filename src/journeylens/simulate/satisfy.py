"""Turn rules into concrete values: what must an event (or a customer) look like to match?

The simulator is generic over any valid map: a touchpoint's match rules say which events
are that touchpoint, so the simulator reads them backwards and writes events that match.
The same solver fills customer attributes (CRM export) from a persona's segment rule.

A rule is solved to a :class:`Solution`: for each field, a short list of candidate values
(every one of which satisfies every condition on that field) or a numeric interval.
Unsatisfiable rules raise :class:`UnsatisfiableRuleError` naming the field and the conflict.
"""

from __future__ import annotations

import fnmatch
import math
import re
from dataclasses import dataclass, field

from journeylens.model.rules import AllOf, Condition, NotOf, Op, Rule, Scalar

#: What a ``*`` in a glob pattern becomes (several, so values vary realistically).
GLOB_FILLERS = ("intro", "basics", "advanced")


class UnsatisfiableRuleError(ValueError):
    """No value can satisfy the conditions on one field."""


@dataclass(frozen=True)
class FieldValues:
    """Possible values of one field: candidates (text or numbers) or a numeric interval."""

    candidates: tuple[Scalar, ...] = ()
    low: float | None = None
    high: float | None = None
    integer: bool = False
    absent: bool = False

    def is_numeric(self) -> bool:
        """True when the field is described by an interval rather than candidates."""
        return not self.candidates and not self.absent


@dataclass(frozen=True)
class Solution:
    """Field → possible values; fields not named are unconstrained."""

    fields: dict[str, FieldValues] = field(default_factory=dict)


def _glob_examples(pattern: str) -> list[str]:
    """Concrete strings matching a shell glob (``*`` → a word, ``?`` → a letter)."""
    out = []
    for filler in GLOB_FILLERS:
        text = ""
        i = 0
        while i < len(pattern):
            ch = pattern[i]
            if ch == "*":
                text += filler
            elif ch == "?":
                text += "a"
            elif ch == "[":
                end = pattern.find("]", i + 1)
                if end == -1:
                    text += ch
                else:
                    body = pattern[i + 1 : end]
                    choice = body[1] if body.startswith(("!", "^")) and len(body) > 1 else body[:1]
                    if body.startswith(("!", "^")):
                        choice = "z" if "z" not in body else "y"
                    text += choice or "a"
                    i = end
            else:
                text += ch
            i += 1
        out.append(text)
    return list(dict.fromkeys(out))


def _regex_examples(pattern: str) -> list[str]:
    """Best-effort strings matching a regular expression (literal alternatives)."""
    out = []
    for alt in pattern.split("|"):
        text = alt.strip("^$").replace("\\.", ".").replace(".*", "").replace(".+", "x")
        text = re.sub(r"[()?+*]", "", text)
        out.append(text)
    return [t for t in dict.fromkeys(out) if t and re.search(pattern, t)]


def _holds(cond: Condition, value: Scalar | None) -> bool:
    """Whether ``value`` (None = field absent) satisfies one condition."""
    op, want = cond.op, cond.value
    if op is Op.EXISTS:
        return value is not None
    if op is Op.MISSING:
        return value is None
    if value is None:
        return op in (Op.NE, Op.NOT_IN)
    if op is Op.EQ:
        return value == want
    if op is Op.NE:
        return value != want
    if op is Op.IN:
        return isinstance(want, list) and value in want
    if op is Op.NOT_IN:
        return isinstance(want, list) and value not in want
    if op is Op.GLOB:
        return isinstance(value, str) and fnmatch.fnmatchcase(value, str(want))
    if op is Op.REGEX:
        return isinstance(value, str) and re.search(str(want), value) is not None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    number = float(value)
    bound = float(want)  # type: ignore[arg-type]
    return {
        Op.GT: number > bound,
        Op.GE: number >= bound,
        Op.LT: number < bound,
        Op.LE: number <= bound,
    }[op]


def _negate(cond: Condition) -> Condition | None:
    """The condition that holds exactly when ``cond`` does not (None for glob / regex)."""
    flip = {
        Op.EQ: Op.NE,
        Op.NE: Op.EQ,
        Op.IN: Op.NOT_IN,
        Op.NOT_IN: Op.IN,
        Op.GT: Op.LE,
        Op.LE: Op.GT,
        Op.GE: Op.LT,
        Op.LT: Op.GE,
        Op.EXISTS: Op.MISSING,
        Op.MISSING: Op.EXISTS,
    }
    if cond.op not in flip:
        return None
    return Condition(field=cond.field, op=flip[cond.op], value=cond.value)


def _conjunctions(rule: Rule, negated: bool = False) -> list[list[tuple[Condition, bool]]]:
    """The rule as alternatives (OR) of condition lists (AND); bool = condition negated."""
    if isinstance(rule, Condition):
        if negated:
            neg = _negate(rule)
            return [[(neg, False)]] if neg is not None else [[(rule, True)]]
        return [[(rule, False)]]
    if isinstance(rule, NotOf):
        return _conjunctions(rule.not_, not negated)
    parts = rule.all if isinstance(rule, AllOf) else rule.any
    conjunctive = isinstance(rule, AllOf) != negated
    branches = [_conjunctions(r, negated) for r in parts]
    if not conjunctive:
        return [alt for b in branches for alt in b]
    out: list[list[tuple[Condition, bool]]] = [[]]
    for b in branches:
        out = [left + right for left in out for right in b][:64]
    return out


def _solve_field(name: str, conds: list[tuple[Condition, bool]]) -> FieldValues:
    def ok(value: Scalar | None) -> bool:
        return all(_holds(c, value) != neg for c, neg in conds)

    positive: list[Scalar] = []
    numeric = False
    low, high = -math.inf, math.inf
    low_open = high_open = False
    integer = True
    for c, neg in conds:
        if neg:
            continue
        if c.op is Op.EQ and c.value is not None and not isinstance(c.value, list):
            positive.append(c.value)
        elif c.op is Op.IN and isinstance(c.value, list):
            positive.extend(c.value)
        elif c.op is Op.GLOB:
            positive.extend(_glob_examples(str(c.value)))
        elif c.op is Op.REGEX:
            positive.extend(_regex_examples(str(c.value)))
        elif c.op in (Op.GT, Op.GE, Op.LT, Op.LE):
            numeric = True
            bound = float(c.value)  # type: ignore[arg-type]
            if isinstance(c.value, float) and not c.value.is_integer():
                integer = False
            if c.op in (Op.GT, Op.GE) and bound >= low:
                low, low_open = bound, c.op is Op.GT
            if c.op in (Op.LT, Op.LE) and bound <= high:
                high, high_open = bound, c.op is Op.LT
    if positive:
        found = tuple(v for v in dict.fromkeys(positive) if ok(v))
        if not found:
            raise UnsatisfiableRuleError(f"no value of '{name}' satisfies every condition on it")
        return FieldValues(candidates=found)
    if numeric:
        lo = low if low != -math.inf else (high - 100 if high != math.inf else 0.0)
        hi = high if high != math.inf else lo + 100
        if integer:
            lo_i = math.floor(lo) + 1 if low_open else math.ceil(lo)
            hi_i = math.ceil(hi) - 1 if high_open else math.floor(hi)
            picks = list(range(lo_i, hi_i + 1))[:1000]
            if picks and all(ok(v) for v in (picks[0], picks[-1])):
                return FieldValues(low=float(picks[0]), high=float(picks[-1]), integer=True)
        eps = (hi - lo) * 1e-3
        lo_f, hi_f = lo + (eps if low_open else 0.0), hi - (eps if high_open else 0.0)
        if lo_f > hi_f or not ok(lo_f) or not ok(hi_f):
            raise UnsatisfiableRuleError(f"the numeric conditions on '{name}' leave no value")
        return FieldValues(low=lo_f, high=hi_f, integer=False)
    if ok(None):
        return FieldValues(absent=True)
    for guess in ("other", "yes", 1):
        if ok(guess):
            return FieldValues(candidates=(guess,))
    raise UnsatisfiableRuleError(f"cannot find a value for '{name}' that satisfies its conditions")


def solve(rules: list[Rule]) -> Solution:
    """Values that make every rule in ``rules`` true (all of them, AND).

    For an ``any`` the first satisfiable branch is taken, so the output is deterministic.

    >>> from journeylens.model.rules import Condition
    >>> s = solve([Condition(field="properties.path", op="glob", value="/courses/*")])
    >>> s.fields["properties.path"].candidates
    ('/courses/intro', '/courses/basics', '/courses/advanced')
    >>> solve([Condition(field="value", op="gt", value=10)]).fields["value"].low
    11.0
    """
    alternatives: list[list[tuple[Condition, bool]]] = [[]]
    for rule in rules:
        alternatives = [a + b for a in alternatives for b in _conjunctions(rule)][:64]
    last: UnsatisfiableRuleError | None = None
    for alt in alternatives:
        by_field: dict[str, list[tuple[Condition, bool]]] = {}
        for cond, neg in alt:
            by_field.setdefault(cond.field, []).append((cond, neg))
        try:
            return Solution({name: _solve_field(name, conds) for name, conds in by_field.items()})
        except UnsatisfiableRuleError as exc:
            last = exc
    raise last or UnsatisfiableRuleError("the rule cannot be satisfied")
