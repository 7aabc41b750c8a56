"""Compile a journey map, its personas and a scenario into plain arrays for the walk.

Each touchpoint becomes an :class:`Emitter`: which source (and so which file and shape)
its events go to, the event name, the channel, and property values that satisfy its match
rule. Steps, personas and effects become numpy arrays indexed by position, so the walk
never looks anything up by name.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from datetime import date

import numpy as np

from journeylens.model import Channel, JourneyMap, MatchRule, Persona, Touchpoint
from journeylens.model.persona import Generation
from journeylens.simulate.satisfy import FieldValues, UnsatisfiableRuleError, solve
from journeylens.simulate.scenario import Scenario, Where, Who

#: Source → (output folder, format name) — docs/sources.md.
SOURCES: dict[str, tuple[str, str]] = {
    "web": ("web", "segment"),
    "app": ("app", "ga4"),
    "sales": ("orders", "orders"),
    "ads": ("campaigns", "campaigns"),
    "loyalty": ("loyalty", "loyalty"),
    "survey": ("surveys", "surveys"),
    "social": ("social", "social"),
    "support": ("support", "support"),
}
SOURCE_LIST = tuple(SOURCES)
_ALIASES = {"orders": "sales", "campaigns": "ads", "surveys": "survey", "crm": "sales"}

ORDER_EVENTS = ("purchase", "order_placed", "order_cancelled", "order_refunded")
CAMPAIGN_INTERACTIONS = ("click", "impression", "send", "open", "unsubscribe")
LOYALTY_TYPES = ("earn", "enroll", "redeem", "tier_change")
SURVEY_TYPES = ("csat", "ces", "nps")
CAMPAIGN_CHANNELS = ("ads", "search", "social", "email", "sms", "print")
SUPPORT_CHANNELS = ("live_chat", "phone", "email", "chatbot")
GENERATIONS = tuple(g.value for g in Generation)
#: Birth years of each generation (first, last), for the CRM ``birth_year`` column.
GENERATION_YEARS = {
    "silent": (1928, 1945),
    "baby_boomer": (1946, 1964),
    "gen_x": (1965, 1980),
    "millennial": (1981, 1996),
    "gen_z": (1997, 2010),
    "gen_alpha": (2011, 2012),
}
#: Property keys each fixed-column source can carry (others have no column to go in).
_SOURCE_PROPS: dict[str, frozenset[str]] = {
    "sales": frozenset({"currency", "items", "status"}),
    "ads": frozenset({"campaign_id", "campaign_name"}),
    "loyalty": frozenset({"tier", "reason"}),
    "survey": frozenset({"touchpoint", "stage"}),
    "social": frozenset({"platform", "url", "likes"}),
    "support": frozenset({"category", "status"}),
}
_VALUE_SOURCES = frozenset({"sales", "ads", "loyalty"})
_DEFAULT_EVENT = {
    "web": "page_view",
    "app": "screen_view",
    "sales": "purchase",
    "ads": "campaign_click",
    "loyalty": "loyalty_earn",
    "survey": "csat_response",
    "social": "social_mention",
    "support": "ticket_opened",
}
_CHANNEL_SOURCE = {
    Channel.WEB: "web",
    Channel.APP: "app",
    Channel.EMAIL: "ads",
    Channel.SMS: "ads",
    Channel.PRINT: "ads",
    Channel.ADS: "ads",
    Channel.SEARCH: "ads",
    Channel.SOCIAL: "social",
    Channel.PHONE: "support",
    Channel.LIVE_CHAT: "support",
    Channel.CHATBOT: "support",
}
#: Event names that mean the customer signs up or logs in (the customer becomes identified).
IDENTIFY_EVENT = re.compile(
    r"sign(ed)?_?up|regist|log(ged)?_?in|account_created|create_account|identify"
)
#: Country names (as personas write their location) → ISO 3166 codes for the CRM export.
COUNTRY_CODES = {
    "germany": "DE", "austria": "AT", "switzerland": "CH", "france": "FR", "spain": "ES",
    "italy": "IT", "netherlands": "NL", "united kingdom": "GB", "uk": "GB", "england": "GB",
    "ireland": "IE", "united states": "US", "usa": "US", "canada": "CA", "india": "IN",
    "brazil": "BR", "japan": "JP", "australia": "AU", "poland": "PL", "sweden": "SE",
}  # fmt: skip


def country_code(location: str | None) -> str:
    """An ISO country code from a free-text location (``"Berlin, Germany"`` → ``DE``).

    >>> country_code("Leeds, United Kingdom"), country_code("FR"), country_code(None)
    ('GB', 'FR', 'DE')
    """
    if not location:
        return "DE"
    if re.fullmatch(r"[A-Z]{2}", location.strip()):
        return location.strip()
    low = location.lower()
    for name, code in sorted(COUNTRY_CODES.items(), key=lambda kv: -len(kv[0])):
        if re.search(rf"\b{re.escape(name)}\b", low):
            return code
    return "DE"


_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.:-]*$")


class PlanError(ValueError):
    """The map, personas or scenario cannot be simulated; the message names the culprit."""


def event_ok(source: str, name: str) -> bool:
    """Whether ``source``'s native shape can carry an event called ``name``."""
    if source in ("web", "app"):
        return _NAME.match(name) is not None
    if source == "sales":
        return name in ORDER_EVENTS
    if source == "ads":
        return name.removeprefix("campaign_") in CAMPAIGN_INTERACTIONS and name.startswith(
            "campaign_"
        )
    if source == "loyalty":
        return name.startswith("loyalty_") and name.removeprefix("loyalty_") in LOYALTY_TYPES
    if source == "survey":
        return name in {f"{t}_response" for t in SURVEY_TYPES}
    if source == "social":
        return name == "social_mention"
    return name in ("ticket_opened", "ticket_resolved")


def _native_events(source: str) -> list[str]:
    if source == "sales":
        return list(ORDER_EVENTS)
    if source == "ads":
        return [f"campaign_{i}" for i in CAMPAIGN_INTERACTIONS]
    if source == "loyalty":
        return [f"loyalty_{t}" for t in LOYALTY_TYPES]
    if source == "survey":
        return [f"{t}_response" for t in SURVEY_TYPES]
    if source == "social":
        return ["social_mention"]
    if source == "support":
        return ["ticket_opened", "ticket_resolved"]
    return [_DEFAULT_EVENT[source], "page_view", "screen_view"]


def _names(value: str | list[str] | None) -> list[str]:
    return [value] if isinstance(value, str) else list(value or [])


def _channels(value: Channel | list[Channel] | None) -> list[str]:
    if value is None:
        return []
    return [value.value] if isinstance(value, Channel) else [c.value for c in value]


@dataclass(frozen=True)
class Emitter:
    """What one touchpoint writes: source, event name, channel, and matching values."""

    touchpoint: str
    step: int
    stage: int
    source: str
    event: str
    channel: str
    props: tuple[tuple[str, FieldValues], ...]
    value: FieldValues | None
    score: FieldValues | None
    text: tuple[str, ...]


def _output_channel(source: str, tp: Touchpoint, wanted: list[str]) -> str | None:
    """The channel the source's row will carry, honouring the rule's channel if possible."""
    if source in ("web", "sales"):
        fixed = "web"
    elif source in ("app", "loyalty"):
        fixed = "app"
    elif source == "social":
        fixed = "social"
    else:
        allowed = {
            "ads": CAMPAIGN_CHANNELS,
            "support": SUPPORT_CHANNELS,
            "survey": tuple(c.value for c in Channel),
        }[source]
        for c in [*wanted, tp.channel.value]:
            if c in allowed:
                return c
        return allowed[0]
    return fixed if not wanted or fixed in wanted else None


def compile_rule(tp: Touchpoint, rule: MatchRule, step: int, stage: int) -> Emitter:
    """An emitter whose events match ``rule``; :class:`PlanError` names the touchpoint."""
    sol = solve(list(rule.where)).fields
    where_events = sol.get("event_name")
    where_sources = sol.get("source")
    where_channels = sol.get("channel")
    sources = [_ALIASES.get(s, s) for s in _names(rule.source)]
    if where_sources is not None:
        sources = sources or [str(c) for c in where_sources.candidates]
    events = _names(rule.event)
    if where_events is not None and where_events.candidates:
        extra = [str(c) for c in where_events.candidates]
        events = [e for e in extra if not events or any(fnmatch.fnmatchcase(e, p) for p in events)]
    wanted_channels = _channels(rule.channel)
    if where_channels is not None and where_channels.candidates:
        wanted_channels = wanted_channels or [str(c) for c in where_channels.candidates]

    def candidates_for(source: str) -> list[str]:
        if not events:
            return [_DEFAULT_EVENT[source]]
        out = []
        for pattern in events:
            if any(ch in pattern for ch in "*?["):
                out += [n for n in _native_events(source) if fnmatch.fnmatchcase(n, pattern)]
                out += [pattern.replace("*", "view").replace("?", "x")]
            else:
                out.append(pattern)
        return [n for n in out if event_ok(source, n) and fnmatch_any(n, events)]

    if sources:
        expanded = [s for s in SOURCE_LIST if any(fnmatch.fnmatchcase(s, p) for p in sources)]
        order = expanded
    else:
        guess = [src for e in events if (src := _source_for_event(e)) is not None]
        order = [*guess, _CHANNEL_SOURCE.get(tp.channel, "web"), "web", "app"]
        for c in wanted_channels:
            order.insert(0, _CHANNEL_SOURCE.get(Channel(c), "web"))
    tried: list[str] = []
    for source in dict.fromkeys(order):
        names = candidates_for(source)
        channel = _output_channel(source, tp, wanted_channels)
        if not names or channel is None:
            tried.append(source)
            continue
        props: list[tuple[str, FieldValues]] = []
        value = score = None
        text: tuple[str, ...] = ()
        for name, values in sol.items():
            if name in ("event_name", "source", "channel"):
                continue
            if name.startswith("properties."):
                key = name.removeprefix("properties.")
                allowed = _SOURCE_PROPS.get(source)
                if allowed is not None and key not in allowed:
                    raise PlanError(
                        f"touchpoint '{tp.id}': source '{source}' has no column for '{name}' "
                        f"(it can carry properties {', '.join(sorted(allowed))})"
                    )
                props.append((key, values))
            elif name == "value" and source in _VALUE_SOURCES:
                value = values
            elif name == "score" and source == "survey":
                score = values
            elif name == "text" and source in ("survey", "social", "support"):
                text = tuple(str(c) for c in values.candidates)
            else:
                raise PlanError(
                    f"touchpoint '{tp.id}': the simulator cannot produce field '{name}' for "
                    f"source '{source}'"
                )
        return Emitter(
            tp.id, step, stage, source, names[0], channel, tuple(props), value, score, text
        )
    raise PlanError(
        f"touchpoint '{tp.id}': no source can emit an event matching its rule "
        f"(event {events or 'any'}, tried sources {', '.join(tried) or 'none'})"
    )


def fnmatch_any(name: str, patterns: list[str]) -> bool:
    """True when ``name`` matches one of ``patterns`` (or there are none)."""
    return not patterns or any(fnmatch.fnmatchcase(name, p) for p in patterns)


def _source_for_event(name: str) -> str | None:
    for source in ("sales", "ads", "loyalty", "survey", "social", "support"):
        if event_ok(source, name):
            return source
    return None


def compile_touchpoint(tp: Touchpoint, step: int, stage: int) -> Emitter:
    """The emitter of the first of the touchpoint's rules that can be satisfied."""
    if not tp.match:
        source = _CHANNEL_SOURCE.get(tp.channel, "web")
        channel = _output_channel(source, tp, []) or "web"
        return Emitter(
            tp.id, step, stage, source, _DEFAULT_EVENT[source], channel, (), None, None, ()
        )
    problems = []
    for rule in tp.match:
        try:
            return compile_rule(tp, rule, step, stage)
        except UnsatisfiableRuleError as exc:
            problems.append(f"touchpoint '{tp.id}': unsatisfiable match rule: {exc}")
        except PlanError as exc:
            problems.append(str(exc))
    raise PlanError("; ".join(problems))


@dataclass(frozen=True)
class PersonaPlan:
    """A persona's share and the CRM attribute values that satisfy its segment rule."""

    id: str
    share: float
    generations: tuple[str, ...]
    countries: tuple[str, ...]
    plans: tuple[str, ...]
    preferred: frozenset[str]
    drop_factor: float
    mobile_share: float
    #: Multipliers of the scenario-wide drop / loop / backtrack / skip for this persona.
    walk_factors: tuple[float, float, float, float] = (1.0, 1.0, 1.0, 1.0)


WALK_NAMES = ("drop", "loop", "backtrack", "skip")
_OLDER = frozenset({"silent", "baby_boomer"})
_YOUNGER = frozenset({"gen_z", "gen_alpha"})


def persona_defaults(p: Persona) -> tuple[float, float, float, float]:
    """Multipliers of the scenario-wide (drop, loop, backtrack, skip) for a persona that
    declares no probabilities of its own, derived from what the persona file says.

    Each listed frustration (up to four) makes dropping 5 % likelier; older generations
    (silent, baby boomer) repeat and go back more often (×1.25) and skip less (×0.8);
    younger ones (gen Z, alpha) the other way round (×0.85 and ×1.25).

    >>> from journeylens.model import Persona
    >>> persona_defaults(Persona(id="a", name="A", frustrations=["slow", "ads"],
    ...                          demographics={"generation": "baby_boomer"}))
    (1.1, 1.25, 1.25, 0.8)
    """
    drop = round(1.0 + 0.05 * min(len(p.frustrations), 4), 6)
    gen = p.demographics.generation.value if p.demographics.generation else None
    if gen in _OLDER:
        return (drop, 1.25, 1.25, 0.8)
    if gen in _YOUNGER:
        return (drop, 0.85, 0.85, 1.25)
    return (drop, 1.0, 1.0, 1.0)


def compile_persona(p: Persona, scenario: Scenario) -> PersonaPlan:
    """Solve the persona's segment rule into CRM attribute candidates."""
    fields: dict[str, FieldValues] = {}
    if p.segment is not None:
        try:
            fields = solve([p.segment]).fields
        except UnsatisfiableRuleError as exc:
            raise PlanError(f"persona '{p.id}': segment rule cannot be satisfied: {exc}") from None
    crm = {"generation", "country", "plan", "birth_year", "email", "first_name", "signup_date"}
    for name in fields:
        if name not in crm:
            raise PlanError(
                f"persona '{p.id}': segment field '{name}' is not a CRM column the simulator "
                f"writes (expected one of {', '.join(sorted(crm))})"
            )

    def texts(name: str, default: tuple[str, ...]) -> tuple[str, ...]:
        f = fields.get(name)
        return tuple(str(c) for c in f.candidates) if f and f.candidates else default

    gens = texts("generation", ())
    if not gens and p.demographics.generation is not None:
        gens = (p.demographics.generation.value,)
    gens = tuple(g for g in gens if g in GENERATIONS) or ("gen_x", "millennial", "gen_z")
    behaviour = scenario.behaviour.personas.get(p.id)
    return PersonaPlan(
        id=p.id,
        share=p.share or 0.0,
        generations=gens,
        countries=texts("country", (country_code(p.demographics.location),)),
        plans=texts("plan", ("monthly", "yearly")),
        preferred=frozenset(c.value for c in p.preferred_channels),
        drop_factor=behaviour.drop_factor if behaviour else 1.0,
        mobile_share=(
            behaviour.mobile_share
            if behaviour and behaviour.mobile_share is not None
            else scenario.behaviour.mobile_share
        ),
        walk_factors=persona_defaults(p),
    )


@dataclass(frozen=True)
class Plan:
    """Everything the walk needs, as arrays indexed by step / touchpoint / persona."""

    journey: JourneyMap
    scenario: Scenario
    step_ids: tuple[str, ...]
    stage_ids: tuple[str, ...]
    step_stage: np.ndarray  # (S,) stage index
    emitters: tuple[Emitter, ...]
    tp_table: np.ndarray  # (S, K) primary touchpoint index per step slot, -1 = none
    followups: tuple[tuple[int, ...], ...]  # per step: survey touchpoints asked after a visit
    personas: tuple[PersonaPlan, ...]
    persona_p: np.ndarray  # (P,) shares summing to 1
    identify_step: np.ndarray  # (S,) bool
    conversion_step: int  # first step whose touchpoint is a purchase, -1 if none
    drop: np.ndarray  # (P, S) per persona and step, drop_factor included
    loop: np.ndarray  # (P, S)
    back: np.ndarray  # (P, S)
    skip: np.ndarray  # (P, S)
    start: date
    days: int


def _where_steps(plan_steps: tuple[str, ...], emitters: tuple[Emitter, ...], where: Where) -> int:
    if where.step is not None:
        if where.step not in plan_steps:
            raise PlanError(
                f"where.step: unknown step '{where.step}' (expected one of {', '.join(plan_steps)})"
            )
        return plan_steps.index(where.step)
    for e in emitters:
        if e.touchpoint == where.touchpoint:
            return e.step
    raise PlanError(f"where.touchpoint: unknown touchpoint '{where.touchpoint}'")


def build_plan(
    journey: JourneyMap, personas: list[Persona], scenario: Scenario, start: date, days: int
) -> Plan:
    """Compile map + personas + scenario; :class:`PlanError` names whatever cannot work."""
    steps = list(journey.iter_steps())
    step_ids = tuple(s.id for _, s in steps)
    stage_ids = tuple(s.id for s in journey.stages)
    if not steps:
        raise PlanError(f"map '{journey.id}' has no steps to walk")
    step_stage = np.array([stage_ids.index(st.id) for st, _ in steps], dtype=np.int16)
    emitters: list[Emitter] = []
    problems = []
    width = max(1, max(len(s.touchpoints) for _, s in steps))
    tp_table = np.full((len(steps), width), -1, dtype=np.int32)
    followups: list[tuple[int, ...]] = []
    for i, (stage, step) in enumerate(steps):
        mine: list[int] = []
        for tp in step.touchpoints:
            try:
                emitters.append(compile_touchpoint(tp, i, stage_ids.index(stage.id)))
                mine.append(len(emitters) - 1)
            except PlanError as exc:
                problems.append(str(exc))
        primary, after = _roles([emitters[j] for j in mine])
        for k, j in enumerate(primary):
            tp_table[i, k] = mine[j]
        followups.append(tuple(mine[j] for j in after))
    if problems:
        raise PlanError("\n".join(problems))
    b = scenario.behaviour
    for key in b.steps:
        if key not in step_ids:
            raise PlanError(f"scenario behaviour.steps names unknown step '{key}'")
    plans = [compile_persona(p, scenario) for p in personas] or [
        PersonaPlan(
            "anyone",
            1.0,
            ("gen_x", "millennial", "gen_z"),
            ("DE",),
            ("monthly",),
            frozenset(),
            1.0,
            b.mobile_share,
        )
    ]
    for key in b.personas:
        if key not in [p.id for p in plans]:
            raise PlanError(f"scenario behaviour.personas names unknown persona '{key}'")
    drop, loop, back, skip = _transitions(scenario, plans, step_ids)
    shares = np.array([p.share for p in plans], dtype=float)
    missing = shares == 0
    if missing.any():
        rest = max(0.0, 1.0 - shares.sum())
        shares[missing] = rest / missing.sum() if rest > 0 else 1.0 / len(plans)
    shares = shares / shares.sum()
    ident = np.zeros(len(steps), dtype=bool)
    for e in emitters:
        if IDENTIFY_EVENT.search(e.event):
            ident[e.step] = True
    conversion = -1
    for e in emitters:
        if e.event == "purchase":
            conversion = e.step
            break
    if not ident.any() and conversion >= 0:
        ident[conversion] = True  # checkout asks for an account when the map has no sign-up
    emit_t = tuple(emitters)
    for i, eff in enumerate(scenario.effects):
        where = getattr(eff, "where", None)
        try:
            if isinstance(where, Where):
                _where_steps(step_ids, emit_t, where)
            _check_who(eff.who, plans)
        except PlanError as exc:
            raise PlanError(f"scenario effects[{i}] (id '{eff.id}'): {exc}") from None
    return Plan(
        journey,
        scenario,
        step_ids,
        stage_ids,
        step_stage,
        emit_t,
        tp_table,
        tuple(followups),
        tuple(plans),
        shares,
        ident,
        conversion,
        drop,
        loop,
        back,
        skip,
        start,
        days,
    )


def _roles(emitters: list[Emitter]) -> tuple[list[int], list[int]]:
    """Split a step's touchpoints into alternatives (one is chosen per visit) and surveys
    asked after the visit.

    Survey touchpoints beside other touchpoints are follow-ups, not alternatives. An
    ``order_placed`` beside a ``purchase`` is already written by the purchase's order row
    (created_at + paid_at), and a ``ticket_resolved`` by the ticket row's resolved_at, so
    neither is chosen on its own.
    """
    events = {e.event for e in emitters}
    primary: list[int] = []
    after: list[int] = []
    only_surveys = all(e.source == "survey" for e in emitters)
    for j, e in enumerate(emitters):
        if e.source == "survey" and not only_surveys:
            after.append(j)
        elif (e.event == "order_placed" and "purchase" in events) or (
            e.event == "ticket_resolved" and "ticket_opened" in events
        ):
            continue
        else:
            primary.append(j)
    return primary, after


def _check_who(who: Who, plans: list[PersonaPlan]) -> None:
    ids = [p.id for p in plans]
    for pid in who.personas:
        if pid not in ids:
            raise PlanError(
                f"who.personas: unknown persona '{pid}' (expected one of {', '.join(ids)})"
            )


def _transitions(
    scenario: Scenario, plans: list[PersonaPlan], step_ids: tuple[str, ...]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(drop, loop, backtrack, skip) per persona and step, shape (P, S).

    Most specific first: ``behaviour.personas.P.steps.S``, then ``behaviour.steps.S``,
    then ``behaviour.personas.P``, then the scenario-wide value × the persona's derived
    factor. ``drop_factor`` then scales the drop-off. :class:`PlanError` names the
    persona and step whose probabilities leave no room to continue.
    """
    b = scenario.behaviour
    out = np.zeros((4, len(plans), len(step_ids)))
    for pi, pp in enumerate(plans):
        own = b.personas.get(pp.id)
        if own is not None:
            for key in own.steps:
                if key not in step_ids:
                    raise PlanError(
                        f"scenario behaviour.personas.{pp.id}.steps names unknown step "
                        f"'{key}' (expected one of {', '.join(step_ids)})"
                    )
        for si, step in enumerate(step_ids):
            chain = [
                own.steps.get(step) if own is not None else None,
                b.steps.get(step),
                own,
            ]
            for k, name in enumerate(WALK_NAMES):
                value = next(
                    (v for c in chain if c is not None and (v := getattr(c, name)) is not None),
                    None,
                )
                out[k, pi, si] = (
                    float(value)
                    if value is not None
                    else float(getattr(b, name)) * pp.walk_factors[k]
                )
            total = float(out[:, pi, si].sum())
            if total > 0.95:
                raise PlanError(
                    f"scenario behaviour for persona '{pp.id}' at step '{step}': drop + loop "
                    f"+ backtrack + skip = {total:.3g} leaves no room to continue "
                    "(expected ≤ 0.95)"
                )
        out[0, pi] = np.minimum(out[0, pi] * pp.drop_factor, 0.97)
    out[2, :, 0] = 0.0  # nothing to go back to from the first step
    out[3, :, -1] = 0.0  # nothing to skip over at the last step
    return out[0], out[1], out[2], out[3]


def where_step(plan: Plan, where: Where) -> tuple[int, int]:
    """(step index, touchpoint index or -1) an effect's ``where`` points at."""
    step = _where_steps(plan.step_ids, plan.emitters, where)
    tp = -1
    if where.touchpoint is not None:
        tp = next(i for i, e in enumerate(plan.emitters) if e.touchpoint == where.touchpoint)
    return step, tp
