"""The journey-mapping checklist of the seed articles, as lint rules over a valid map.

Validation (the model's invariants) says whether a map *is* a map; lint says whether it is a
*good* one: a persona is set, the journey has a beginning, middle and end, each stage has
touchpoints, every step has an emotion, 4–12 action steps per stage, pain points carry
evidence, the map says what is backed by company data and what is assumption,
opportunities exist, channels cover more than one medium, and more (see :data:`RULES`).

Pure: no I/O. Personas are passed in (the caller loads the persona files beside the map).

Severities: ``error`` — the map cannot serve its purpose (no persona, an unknown persona);
``warning`` — a checklist item is missing; ``info`` — a summary or a suggestion.

>>> from journeylens.model import JourneyMap
>>> m = JourneyMap.model_validate({"id": "m", "title": "M", "stages": [{"id": "s", "name": "S"}]})
>>> [f.rule for f in lint_map(m)][:3]
['persona-set', 'begin-middle-end', 'stage-has-touchpoints']
>>> lint_map(m)[2].loc
('stages', 0)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum

from journeylens.model.errors import Loc, format_loc
from journeylens.model.journey import EvidenceSource, JourneyMap, ScenarioKind
from journeylens.model.persona import Persona

#: The recommended range of action steps per stage ("most often you will have from four to
#: twelve action steps" for each phase of the journey).
MIN_STEPS_PER_STAGE = 4
MAX_STEPS_PER_STAGE = 12
#: A journey needs a beginning, a middle and an end: at least this many stages.
MIN_STAGES = 3


class Severity(StrEnum):
    """How much a finding matters; only ``error`` makes ``journeylens lint`` exit 1."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True)
class LintRule:
    """One checklist item: its id, its severity, and what it checks (with the article's why)."""

    id: str
    severity: Severity
    description: str

    def to_dict(self) -> dict[str, str]:
        """Plain data for ``--format json`` listings."""
        return {"id": self.id, "severity": str(self.severity), "description": self.description}


@dataclass(frozen=True)
class LintFinding:
    """One broken checklist item at one place in the map.

    ``path`` is a document path such as ``stages[1].steps[0]`` (empty for the whole map);
    ``loc`` is the same place as parts (``("stages", 1, "steps", 0)``), which the formats
    layer turns into a line and column of the file (the model does no I/O).
    """

    rule: str
    severity: Severity
    path: str
    message: str
    loc: Loc = ()

    def to_dict(self) -> dict[str, str]:
        """Plain data for ``--format json``."""
        return {
            "rule": self.rule,
            "severity": str(self.severity),
            "path": self.path,
            "message": self.message,
        }

    def __str__(self) -> str:
        where = f"{self.path}: " if self.path else ""
        return f"{where}{self.severity} [{self.rule}] {self.message}"


#: The rule catalogue, in the order findings are reported.
RULES: tuple[LintRule, ...] = (
    LintRule(
        "persona-set",
        Severity.ERROR,
        "The map names the persona it is for (personas: [id]); identify the persona you are "
        "mapping before anything else.",
    ),
    LintRule(
        "persona-known",
        Severity.ERROR,
        "Every persona the map names is among the personas given (the persona files beside "
        "the map). Checked only when personas are given.",
    ),
    LintRule(
        "one-point-of-view",
        Severity.WARNING,
        "The map is for exactly one persona: a single point of view per map builds a strong "
        "and clear narrative. Make one map per persona instead.",
    ),
    LintRule(
        "begin-middle-end",
        Severity.WARNING,
        f"The journey has a clear beginning, middle and end: at least {MIN_STAGES} stages.",
    ),
    LintRule(
        "stage-has-touchpoints",
        Severity.WARNING,
        "Each stage has at least one touchpoint in one of its steps.",
    ),
    LintRule(
        "stage-has-goal",
        Severity.WARNING,
        "Each stage states its goal (what the persona, or the business, wants from it).",
    ),
    LintRule(
        "steps-per-stage",
        Severity.WARNING,
        f"Each stage has {MIN_STEPS_PER_STAGE}–{MAX_STEPS_PER_STAGE} action steps, the "
        "articles' recommended range (counted per stage, since action steps are documented "
        "for each phase).",
    ),
    LintRule(
        "step-has-emotion",
        Severity.WARNING,
        "Every step documents the customer's emotion (score −2 … +2).",
    ),
    LintRule(
        "pain-points-exist",
        Severity.WARNING,
        "The map documents pain points, frustrations and barriers somewhere.",
    ),
    LintRule(
        "pain-point-evidence",
        Severity.WARNING,
        "Every pain point says what backs it: research, company data or assumption.",
    ),
    LintRule(
        "opportunities-exist",
        Severity.WARNING,
        "The map contains opportunities for innovation and improvement.",
    ),
    LintRule(
        "multi-channel",
        Severity.WARNING,
        "The touchpoints cover more than one medium (at least two different channels), "
        "following the journey across all channels.",
    ),
    LintRule(
        "persona-channels",
        Severity.WARNING,
        "Each channel the persona prefers has a touchpoint on the map (different generations "
        "meet the brand on different channels). Checked only when personas are given.",
    ),
    LintRule(
        "to-be-names-as-is",
        Severity.WARNING,
        "A to-be map names the as-is map it improves on (scenario.improves_on).",
    ),
    LintRule(
        "backed-by-data",
        Severity.WARNING,
        "Something on the map is based on company data: a touchpoint with match rules or "
        "evidence whose source is data.",
    ),
    LintRule(
        "evidence-vs-assumption",
        Severity.INFO,
        "Summary of what is backed by company data (touchpoints bound to events by match "
        "rules; steps and pain points with data or research evidence) and what is assumption.",
    ),
    LintRule(
        "emotion-highs-lows",
        Severity.INFO,
        "Like a story, the journey has highs and lows: the designed emotions are not all equal.",
    ),
    LintRule(
        "moment-of-truth",
        Severity.INFO,
        "At least one step is marked as a moment of truth (the interactions that shape how the "
        "customer sees the brand).",
    ),
    LintRule(
        "owners-set",
        Severity.INFO,
        "Every step names its owners or teams, so each department knows its role.",
    ),
    LintRule(
        "quantified-expectations",
        Severity.INFO,
        "The map has quantifiable expectations: a KPI with a target or a step with an expected "
        "duration (e.g. time to completion).",
    ),
    LintRule(
        "backstage-documented",
        Severity.INFO,
        "Some step documents what happens behind the line of visibility: backstage actions or "
        "support processes.",
    ),
)

RULES_BY_ID: dict[str, LintRule] = {rule.id: rule for rule in RULES}


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _names(ids: list[str], limit: int = 5) -> str:
    shown = ", ".join(f"'{i}'" for i in ids[:limit])
    return shown + (f" and {len(ids) - limit} more" if len(ids) > limit else "")


Check = Callable[[JourneyMap, Mapping[str, Persona] | None], Iterator[tuple[Loc, str]]]


def _persona_set(m: JourneyMap, _p: Mapping[str, Persona] | None) -> Iterator[tuple[Loc, str]]:
    if not m.personas:
        yield (
            ("personas",),
            "no persona set: name the persona this map is for (personas: [<persona id>])",
        )


def _persona_known(
    m: JourneyMap, personas: Mapping[str, Persona] | None
) -> Iterator[tuple[Loc, str]]:
    if personas is None:
        return
    for i, pid in enumerate(m.personas):
        if pid not in personas:
            known = ", ".join(sorted(personas)) or "none"
            yield (("personas", i), f"unknown persona '{pid}' (known personas: {known})")


def _one_point_of_view(
    m: JourneyMap, _p: Mapping[str, Persona] | None
) -> Iterator[tuple[Loc, str]]:
    if len(m.personas) > 1:
        yield (
            ("personas",),
            f"the map is for {len(m.personas)} personas ({_names(m.personas)}): keep one "
            "point of view per map and make one map per persona",
        )


def _begin_middle_end(m: JourneyMap, _p: Mapping[str, Persona] | None) -> Iterator[tuple[Loc, str]]:
    if len(m.stages) < MIN_STAGES:
        yield (
            ("stages",),
            f"the journey has {_plural(len(m.stages), 'stage')}; give it a beginning, a middle "
            f"and an end (at least {MIN_STAGES} stages)",
        )


def _stage_has_touchpoints(
    m: JourneyMap, _p: Mapping[str, Persona] | None
) -> Iterator[tuple[Loc, str]]:
    for s, stage in enumerate(m.stages):
        if not any(step.touchpoints for step in stage.steps):
            yield (("stages", s), f"stage '{stage.id}' has no touchpoints")


def _stage_has_goal(m: JourneyMap, _p: Mapping[str, Persona] | None) -> Iterator[tuple[Loc, str]]:
    for s, stage in enumerate(m.stages):
        if not stage.goal.strip():
            yield (("stages", s), f"stage '{stage.id}' has no goal")


def _steps_per_stage(m: JourneyMap, _p: Mapping[str, Persona] | None) -> Iterator[tuple[Loc, str]]:
    for s, stage in enumerate(m.stages):
        n = len(stage.steps)
        if not MIN_STEPS_PER_STAGE <= n <= MAX_STEPS_PER_STAGE:
            yield (
                ("stages", s),
                f"stage '{stage.id}' has {_plural(n, 'step')}; "
                f"{MIN_STEPS_PER_STAGE}–{MAX_STEPS_PER_STAGE} action steps per stage is the "
                "recommended range",
            )


def _step_has_emotion(m: JourneyMap, _p: Mapping[str, Persona] | None) -> Iterator[tuple[Loc, str]]:
    for s, stage in enumerate(m.stages):
        for t, step in enumerate(stage.steps):
            if step.emotion is None:
                yield (("stages", s, "steps", t), f"step '{step.id}' has no emotion")


def _pain_points_exist(
    m: JourneyMap, _p: Mapping[str, Persona] | None
) -> Iterator[tuple[Loc, str]]:
    if not any(step.pain_points for _, step in m.iter_steps()):
        yield ((), "the map documents no pain points")


def _pain_point_evidence(
    m: JourneyMap, _p: Mapping[str, Persona] | None
) -> Iterator[tuple[Loc, str]]:
    for s, stage in enumerate(m.stages):
        for t, step in enumerate(stage.steps):
            for p, pain in enumerate(step.pain_points):
                if not pain.evidence:
                    yield (
                        ("stages", s, "steps", t, "pain_points", p),
                        f"pain point '{pain.id}' has no evidence "
                        "(say whether it comes from research, data or assumption)",
                    )


def _opportunities_exist(
    m: JourneyMap, _p: Mapping[str, Persona] | None
) -> Iterator[tuple[Loc, str]]:
    if not any(step.opportunities for _, step in m.iter_steps()):
        yield ((), "the map lists no opportunities")


def _multi_channel(m: JourneyMap, _p: Mapping[str, Persona] | None) -> Iterator[tuple[Loc, str]]:
    channels = m.channels()
    if len(channels) < 2:
        which = f"only '{channels[0]}'" if channels else "no channel"
        yield ((), f"the touchpoints use {which}; a journey crosses more than one channel")


def _persona_channels(
    m: JourneyMap, personas: Mapping[str, Persona] | None
) -> Iterator[tuple[Loc, str]]:
    if personas is None:
        return
    used = set(m.channels())
    for i, pid in enumerate(m.personas):
        persona = personas.get(pid)
        if persona is None:
            continue
        missing = [str(c) for c in persona.preferred_channels if c not in used]
        if missing:
            yield (
                ("personas", i),
                f"persona '{pid}' prefers {', '.join(missing)}, but no touchpoint is on "
                f"{'that channel' if len(missing) == 1 else 'those channels'}",
            )


def _to_be_names_as_is(
    m: JourneyMap, _p: Mapping[str, Persona] | None
) -> Iterator[tuple[Loc, str]]:
    if m.scenario.kind is ScenarioKind.TO_BE and m.scenario.improves_on is None:
        yield (
            ("scenario",),
            "a to-be map should name the as-is map it improves on (scenario.improves_on)",
        )


def _bound(m: JourneyMap) -> tuple[int, int]:
    tps = [tp for _, _, tp in m.iter_touchpoints()]
    return sum(1 for tp in tps if tp.match), len(tps)


def _backed_by_data(m: JourneyMap, _p: Mapping[str, Persona] | None) -> Iterator[tuple[Loc, str]]:
    bound, _ = _bound(m)
    with_data = any(
        e.source is EvidenceSource.DATA
        for _, step in m.iter_steps()
        for e in [*step.evidence, *(e for pain in step.pain_points for e in pain.evidence)]
    )
    if bound == 0 and not with_data:
        yield (
            (),
            "nothing on the map is backed by company data: bind touchpoints to events with "
            "match rules, or cite data as evidence",
        )


def _evidence_vs_assumption(
    m: JourneyMap, _p: Mapping[str, Persona] | None
) -> Iterator[tuple[Loc, str]]:
    backed = {EvidenceSource.DATA, EvidenceSource.RESEARCH}
    bound, n_tp = _bound(m)
    steps = [step for _, step in m.iter_steps()]
    steps_backed = sum(1 for step in steps if any(e.source in backed for e in step.evidence))
    pains = [pain for step in steps for pain in step.pain_points]
    pains_backed = sum(1 for pain in pains if any(e.source in backed for e in pain.evidence))
    yield (
        (),
        f"bound to data: {bound} of {_plural(n_tp, 'touchpoint')} have match rules; "
        f"backed by data or research: {steps_backed} of {_plural(len(steps), 'step')}, "
        f"{pains_backed} of {_plural(len(pains), 'pain point')}; the rest is assumption",
    )


def _emotion_highs_lows(
    m: JourneyMap, _p: Mapping[str, Persona] | None
) -> Iterator[tuple[Loc, str]]:
    scores = {step.emotion.score for _, step in m.iter_steps() if step.emotion is not None}
    n = sum(1 for _, step in m.iter_steps() if step.emotion is not None)
    if n >= 2 and len(scores) == 1:
        yield (
            (),
            f"all {n} emotions score {next(iter(scores)):g}: the story has no highs and lows",
        )


def _moment_of_truth(m: JourneyMap, _p: Mapping[str, Persona] | None) -> Iterator[tuple[Loc, str]]:
    if not any(step.moment_of_truth for _, step in m.iter_steps()):
        yield ((), "no step is marked as a moment of truth")


def _owners_set(m: JourneyMap, _p: Mapping[str, Persona] | None) -> Iterator[tuple[Loc, str]]:
    missing = [step.id for _, step in m.iter_steps() if not step.owners]
    if missing:
        yield ((), f"{_plural(len(missing), 'step')} without owners: {_names(missing)}")


def _quantified_expectations(
    m: JourneyMap, _p: Mapping[str, Persona] | None
) -> Iterator[tuple[Loc, str]]:
    has_target = any(kpi.target is not None for kpi in m.kpis)
    has_duration = any(step.expected_duration for _, step in m.iter_steps())
    if not has_target and not has_duration:
        yield (
            (),
            "no quantifiable expectation: give a KPI a target or a step an expected duration",
        )


def _backstage_documented(
    m: JourneyMap, _p: Mapping[str, Persona] | None
) -> Iterator[tuple[Loc, str]]:
    if not any(step.backstage or step.support for _, step in m.iter_steps()):
        yield ((), "no step documents backstage actions or support processes")


_CHECKS: dict[str, Check] = {
    "persona-set": _persona_set,
    "persona-known": _persona_known,
    "one-point-of-view": _one_point_of_view,
    "begin-middle-end": _begin_middle_end,
    "stage-has-touchpoints": _stage_has_touchpoints,
    "stage-has-goal": _stage_has_goal,
    "steps-per-stage": _steps_per_stage,
    "step-has-emotion": _step_has_emotion,
    "pain-points-exist": _pain_points_exist,
    "pain-point-evidence": _pain_point_evidence,
    "opportunities-exist": _opportunities_exist,
    "multi-channel": _multi_channel,
    "persona-channels": _persona_channels,
    "to-be-names-as-is": _to_be_names_as_is,
    "backed-by-data": _backed_by_data,
    "evidence-vs-assumption": _evidence_vs_assumption,
    "emotion-highs-lows": _emotion_highs_lows,
    "moment-of-truth": _moment_of_truth,
    "owners-set": _owners_set,
    "quantified-expectations": _quantified_expectations,
    "backstage-documented": _backstage_documented,
}
assert set(_CHECKS) == set(RULES_BY_ID), "every rule in RULES has exactly one check"


def lint_map(
    map: JourneyMap,
    personas: Mapping[str, Persona] | None = None,
) -> list[LintFinding]:
    """Every checklist finding for ``map``, in :data:`RULES` order, then map order.

    ``personas`` (by id) enables the rules that need the persona files: ``persona-known``
    and ``persona-channels``; without it they are skipped. The ``evidence-vs-assumption``
    summary is always reported (as ``info``).
    """
    findings: list[LintFinding] = []
    for rule in RULES:
        for loc, message in _CHECKS[rule.id](map, personas):
            findings.append(LintFinding(rule.id, rule.severity, format_loc(loc), message, loc))
    return findings


def has_errors(findings: list[LintFinding]) -> bool:
    """Whether any finding is an error (what makes ``journeylens lint`` exit 1)."""
    return any(f.severity is Severity.ERROR for f in findings)


__all__ = [
    "MAX_STEPS_PER_STAGE",
    "MIN_STAGES",
    "MIN_STEPS_PER_STAGE",
    "RULES",
    "RULES_BY_ID",
    "LintFinding",
    "LintRule",
    "Severity",
    "has_errors",
    "lint_map",
]
