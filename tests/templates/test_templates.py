"""Built-in templates: every one validates, round-trips losslessly, creates loadable files."""

from __future__ import annotations

import fnmatch
from pathlib import Path

import pytest
from pydantic import ValidationError

from journeylens.formats.io import (
    check_persona_refs,
    dumps_json,
    dumps_yaml,
    find_personas,
    load_map,
    load_persona,
    parse_model,
)
from journeylens.model import (
    AllOf,
    AnyOf,
    Condition,
    JourneyMap,
    MatchRule,
    NotOf,
    Op,
    Persona,
    Rule,
)
from journeylens.model.lint import Severity, lint_map
from journeylens.templates import (
    TEMPLATE_NAMES,
    TemplateTargetExistsError,
    UnknownTemplateError,
    create_from_template,
    get_template,
    get_template_personas,
    list_templates,
)

STAGES = {
    "three-phase": ["Pre-purchase", "Purchase", "Post-purchase"],
    "five-stage": ["Awareness", "Consideration", "Purchase", "Retention", "Advocacy"],
    "digital-five-stage": ["Awareness", "Consideration", "Purchase", "Experience", "Loyalty"],
    "b2b-seven-phase": [
        "Inspiration",
        "Identify opportunity / need",
        "Research",
        "Shortlist & evaluate (demo)",
        "Decide & contract",
        "Implement & onboard",
        "Results & loyalty",
    ],
    "aida": ["Awareness", "Interest", "Decision", "Action"],
    "service-blueprint": ["Before the service", "During the service", "After the service"],
    "online-course": [
        "Awareness",
        "Consideration",
        "Purchase",
        "Experience (learning)",
        "Loyalty (advocacy)",
    ],
}


def test_template_list_names_stages_and_personas() -> None:
    infos = list_templates()
    assert [t.name for t in infos] == list(TEMPLATE_NAMES) == list(STAGES)
    assert {t.name: list(t.stage_names) for t in infos} == STAGES
    by_name = {t.name: t for t in infos}
    assert by_name["online-course"].persona_ids == ("maya", "robert")
    assert by_name["b2b-seven-phase"].persona_ids == ("ops-director",)
    for info in infos:
        assert info.title
        assert info.description
        assert "\n" not in info.description
        assert info.to_dict()["stage_names"] == list(info.stage_names)


def test_unknown_template_lists_valid_names() -> None:
    with pytest.raises(KeyError) as exc:
        get_template("seven-stage")
    assert isinstance(exc.value, UnknownTemplateError)
    assert str(exc.value) == (
        "unknown template 'seven-stage' (expected one of: three-phase, five-stage, "
        "digital-five-stage, b2b-seven-phase, aida, service-blueprint, online-course)"
    )


@pytest.mark.parametrize("name", TEMPLATE_NAMES)
def test_template_is_complete(name: str) -> None:
    m = get_template(name)
    assert m.id == name
    assert m.personas, "one point of view: the map names its persona"
    shipped = {p.id for p in get_template_personas(name)}
    assert set(m.personas) <= shipped
    for _stage, step in m.iter_steps():
        assert step.emotion is not None, step.id
        assert step.actions, step.id
    for stage in m.stages:
        assert any(step.touchpoints for step in stage.steps), stage.id
        assert stage.goal, stage.id
    # Touchpoints carry channels from the controlled vocabulary (enforced by the model).
    assert len(m.channels()) >= 3


@pytest.mark.parametrize("name", TEMPLATE_NAMES)
def test_template_has_no_lint_errors(name: str) -> None:
    personas = {p.id: p for p in get_template_personas(name)}
    findings = lint_map(get_template(name), personas)
    assert [f for f in findings if f.severity is Severity.ERROR] == []


@pytest.mark.parametrize("name", TEMPLATE_NAMES)
def test_every_template_is_lint_clean(name: str) -> None:
    # A template is a model of a good map: none of our own checklist rules warns about it
    # (4–12 steps per stage, something backed by data, …); only the info summaries remain.
    personas = {p.id: p for p in get_template_personas(name)}
    findings = lint_map(get_template(name), personas)
    assert [str(f) for f in findings if f.severity is not Severity.INFO] == []
    assert all(4 <= len(stage.steps) <= 12 for stage in get_template(name).stages)


@pytest.mark.parametrize(
    "name", ["three-phase", "five-stage", "b2b-seven-phase", "aida", "service-blueprint"]
)
def test_template_match_rules_follow_the_sources_contract(name: str) -> None:
    journey = get_template(name)
    bound = 0
    for stage, step, tp in journey.iter_touchpoints():
        for i, rule in enumerate(tp.match):
            _check_simulatable(rule, f"{name}: {stage.id}/{step.id}/{tp.id}.match[{i}]")
            bound += 1
    assert bound >= 5, "the template shows how touchpoints are bound to events"


@pytest.mark.parametrize("name", TEMPLATE_NAMES)
def test_template_round_trips_yaml_and_json(name: str) -> None:
    m = get_template(name)
    assert parse_model(dumps_yaml(m), JourneyMap) == m
    assert parse_model(dumps_json(m), JourneyMap) == m
    # Canonical: saving the reloaded map gives the same text.
    assert dumps_yaml(parse_model(dumps_yaml(m), JourneyMap)) == dumps_yaml(m)
    for p in get_template_personas(name):
        assert parse_model(dumps_yaml(p), Persona) == p
        assert parse_model(dumps_json(p), Persona) == p


def test_get_template_returns_fresh_objects() -> None:
    a = get_template("aida")
    a.title = "Changed"
    assert get_template("aida").title == "AIDA funnel: awareness, interest, decision, action"


@pytest.mark.parametrize("name", TEMPLATE_NAMES)
def test_create_from_template_writes_loadable_files(name: str, tmp_path: Path) -> None:
    dest = tmp_path / "mine.journey.yaml"
    written = create_from_template(name, dest, title="My map", map_id="mine")
    personas = get_template_personas(name)
    assert written == [dest] + [tmp_path / f"{p.id}.persona.yaml" for p in personas]
    m = load_map(dest)
    assert (m.id, m.title) == ("mine", "My map")
    assert m.stages == get_template(name).stages
    found = {pid: persona for pid, (_, persona) in find_personas(tmp_path).items()}
    assert check_persona_refs(m, dest, found) == []
    assert [load_persona(p) for p in written[1:]] == personas
    assert dest.read_text(encoding="utf-8") == dumps_yaml(m)  # canonical


def test_create_keeps_template_id_and_title_by_default(tmp_path: Path) -> None:
    create_from_template("three-phase", tmp_path / "x.journey.json")
    m = load_map(tmp_path / "x.journey.json")
    assert (m.id, m.title) == (
        "three-phase",
        "Three-phase journey: pre-purchase, purchase, post-purchase",
    )


def test_create_into_a_folder_names_the_file_after_the_id(tmp_path: Path) -> None:
    written = create_from_template("aida", tmp_path, map_id="funnel")
    assert [p.name for p in written] == ["funnel.journey.yaml", "prospect.persona.yaml"]


def test_create_refuses_to_overwrite_and_writes_nothing(tmp_path: Path) -> None:
    existing = tmp_path / "maya.persona.yaml"
    existing.write_text("mine", encoding="utf-8")
    with pytest.raises(TemplateTargetExistsError) as exc:
        create_from_template("online-course", tmp_path / "course.journey.yaml")
    assert isinstance(exc.value, FileExistsError)
    assert str(exc.value) == f"refusing to overwrite existing file(s): {existing}"
    assert exc.value.paths == [existing]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["maya.persona.yaml"]
    assert existing.read_text(encoding="utf-8") == "mine"


def test_create_rejects_a_bad_id(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="id"):
        create_from_template("aida", tmp_path / "a.journey.yaml", map_id="Not An Id")
    assert list(tmp_path.iterdir()) == []


def test_unknown_template_on_create(tmp_path: Path) -> None:
    with pytest.raises(UnknownTemplateError):
        create_from_template("nope", tmp_path / "a.journey.yaml")


# -- the flagship: online-course ---------------------------------------------------------

#: The event names each source produces (docs/sources.md); the simulator emits events from
#: the match rules, and ingestion yields these names, so the map must use exactly these.
SOURCE_EVENTS = {
    "web": {
        "page_view",
        "signed_up",
        "add_to_cart",
        "checkout_started",
        "trial_lesson_started",
        "lesson_completed",
        "quiz_submitted",
        "course_completed",
        "referral_sent",
    },
    "app": {"screen_view", "lesson_completed", "course_completed"},
    "sales": {"order_placed", "purchase", "order_refunded"},
    "ads": {"campaign_impression", "campaign_click", "campaign_open"},
    "survey": {"nps_response", "csat_response", "ces_response"},
    "support": {"ticket_opened", "ticket_resolved"},
    "social": {"social_mention"},
    "loyalty": {"loyalty_enroll", "loyalty_earn", "loyalty_redeem"},
}
SOURCE_CHANNELS = {
    "web": {"web"},
    "app": {"app"},
    "ads": {"social", "search", "print", "email", "ads", "sms"},
    "support": {"phone", "live_chat", "email", "chatbot"},
    "social": {"social"},
}
SIMPLE_FIELDS = {
    "properties.path",
    "properties.firebase_screen",
    "properties.campaign_id",
    "properties.category",
    "properties.touchpoint",
    "properties.stage",
}


def _names(value: str | list[str] | None) -> list[str]:
    return [value] if isinstance(value, str) else list(value or [])


def _conditions(rule: Rule) -> list[Condition]:
    if isinstance(rule, Condition):
        return [rule]
    if isinstance(rule, AllOf | AnyOf | NotOf):
        raise AssertionError(f"simulator-friendly rules use plain conditions, got {rule!r}")
    raise AssertionError(rule)


def _check_simulatable(rule: MatchRule, where: str) -> None:
    sources = _names(rule.source)
    assert len(sources) == 1, f"{where}: one source per rule"
    source = sources[0]
    events = _names(rule.event)
    assert events, f"{where}: an event name"
    assert set(events) <= SOURCE_EVENTS[source], f"{where}: {events} not from {source}"
    if rule.channel is not None:
        channels = rule.channel if isinstance(rule.channel, list) else [rule.channel]
        assert {str(c) for c in channels} <= SOURCE_CHANNELS[source], where
    for condition in (c for r in rule.where for c in _conditions(r)):
        assert condition.field in SIMPLE_FIELDS, f"{where}: {condition.field}"
        assert condition.op in (Op.EQ, Op.IN, Op.GLOB), where
        if condition.op is Op.GLOB:
            assert isinstance(condition.value, str)
            assert condition.value.count("*") == 1, where
            assert not set(condition.value) & set("?["), where


@pytest.fixture(scope="module")
def course() -> JourneyMap:
    return get_template("online-course")


def test_online_course_structure(course: JourneyMap) -> None:
    assert course.id == "online-course"
    assert course.personas == ["maya"]
    assert [s.id for s in course.stages] == [
        "awareness",
        "consideration",
        "purchase",
        "experience",
        "loyalty",
    ]
    assert [len(s.steps) for s in course.stages] == [4, 5, 4, 5, 4]
    for _stage, step in course.iter_steps():
        for lane in ("emotion", "thoughts", "actions", "owners", "frontstage", "backstage"):
            assert getattr(step, lane), (step.id, lane)
        assert step.expected_duration, step.id
        assert any(tp.match for tp in step.touchpoints), step.id
    assert {k.metric.value for k in course.kpis} >= {
        "conversion",
        "nps",
        "csat",
        "ces",
        "median_time",
        "outcome_rate",
    }
    churn = next(k for k in course.kpis if k.id == "churn-rate")
    assert (churn.outcome, churn.direction.value) == ("churned", "lower_is_better")
    moments = [step.id for _, step in course.iter_steps() if step.moment_of_truth]
    assert moments == ["pay", "first-lesson", "get-help"]


def test_online_course_outcomes(course: JourneyMap) -> None:
    got = {
        o.id: (
            o.polarity.value,
            o.did.event if o.did else None,
            o.did.source if o.did else None,
            o.inactive_days,
        )
        for o in course.outcomes
    }
    assert got == {
        "converted": ("positive", "purchase", "sales", None),
        "churned": ("negative", None, None, 60),
        "completed": ("positive", "course_completed", None, None),
        "refunded": ("negative", "order_refunded", "sales", None),
    }


def test_online_course_emotion_curve(course: JourneyMap) -> None:
    score = {step.id: step.emotion.score for _, step in course.iter_steps() if step.emotion}
    assert score["notice-course"] == 1  # curiosity
    assert score["check-pricing"] == -1  # doubt at pricing
    assert score["checkout"] == -1  # and at checkout
    assert score["first-lesson"] == 2  # joy
    assert min(score.values()) == score["get-help"] == -1.5  # frustration at getting help
    assert score["complete-course"] == 2  # pride at the certificate


def test_online_course_evidence_mix(course: JourneyMap) -> None:
    sources = {
        e.source.value
        for _, step in course.iter_steps()
        for pain in step.pain_points
        for e in pain.evidence
    }
    assert sources == {"data", "research", "assumption"}
    for _, step in course.iter_steps():
        for opp in step.opportunities:
            assert opp.owner, opp.id


def test_online_course_match_rules_follow_the_sources_contract(course: JourneyMap) -> None:
    for stage, step, tp in course.iter_touchpoints():
        for i, rule in enumerate(tp.match):
            _check_simulatable(rule, f"{stage.id}/{step.id}/{tp.id}.match[{i}]")
    for outcome in course.outcomes:
        if outcome.did is not None:
            assert set(_names(outcome.did.event)) <= set().union(*SOURCE_EVENTS.values())


def test_online_course_page_globs_do_not_overlap(course: JourneyMap) -> None:
    # Binding takes the first matching touchpoint in map order, so two page patterns must
    # never accept the same path (e.g. "/courses/*" would also swallow "/courses/x/pricing").
    patterns = [
        str(c.value)
        for _, _, tp in course.iter_touchpoints()
        for rule in tp.match
        for c in (c for r in rule.where for c in _conditions(r))
        if c.field == "properties.path"
    ]
    assert len(patterns) == len(set(patterns)) == 8
    for a in patterns:
        for b in patterns:
            if a != b:
                assert not fnmatch.fnmatchcase(b.replace("*", "x"), a), (a, b)


def test_online_course_personas() -> None:
    maya, robert = get_template_personas("online-course")
    assert (maya.id, robert.id) == ("maya", "robert")
    assert [str(c) for c in maya.preferred_channels] == ["social", "app", "live_chat", "email"]
    assert [str(c) for c in robert.preferred_channels] == ["print", "phone", "email", "web"]
    assert maya.segment == Condition(field="generation", op=Op.IN, value=["millennial", "gen_z"])
    assert robert.segment == Condition(field="generation", op=Op.IN, value=["baby_boomer", "gen_x"])
    assert (maya.share, robert.share) == (0.6, 0.4)
    for p in (maya, robert):
        assert p.demographics.generation is not None
        for part in ("quote", "goals", "needs", "frustrations"):
            assert getattr(p, part), (p.id, part)
        assert p.psychographics.values


def test_online_course_has_a_touchpoint_for_each_preferred_channel(course: JourneyMap) -> None:
    # The simulator draws customers from both personas, so Robert's channels must bind too.
    used = set(course.channels())
    for p in get_template_personas("online-course"):
        assert set(p.preferred_channels) <= used, p.id


def test_online_course_lint_is_clean(course: JourneyMap) -> None:
    personas = {p.id: p for p in get_template_personas("online-course")}
    findings = lint_map(course, personas)
    assert [f.rule for f in findings] == ["evidence-vs-assumption"]
    assert findings[0].message == (
        "bound to data: 40 of 41 touchpoints have match rules; backed by data or research: "
        "19 of 22 steps, 5 of 7 pain points; the rest is assumption"
    )
