"""Readable terminal outlines of a journey map and of a persona (``journeylens show``).

Presentation only: every value comes straight from the model; nothing is computed here
beyond formatting.
"""

from __future__ import annotations

from collections.abc import Mapping

from rich.console import Group, RenderableType
from rich.markup import escape
from rich.text import Text
from rich.tree import Tree

from journeylens.model import JourneyMap, Persona, Step

#: Half-point cells on each side of the neutral line: ±2 fills four cells.
_HALF = 4


def emotion_bar(score: float) -> str:
    """A fixed-width bar for an emotion score on −2 … +2, centred on neutral (``│``).

    Each cell is half a point; negative scores grow to the left, positive to the right.

    >>> emotion_bar(-1.5)
    ' ███│    '
    >>> emotion_bar(2)
    '    │████'
    >>> emotion_bar(0)
    '    │    '
    """
    cells = min(_HALF, round(abs(score) * 2))
    if score < 0:
        return " " * (_HALF - cells) + "█" * cells + "│" + " " * _HALF
    return " " * _HALF + "│" + "█" * cells + " " * (_HALF - cells)


def _number(value: float) -> str:
    """A number as people write it: ``3628800`` → ``3,628,800``, ``0.04`` → ``0.04``.

    >>> _number(3628800.0), _number(0.04), _number(40.0)
    ('3,628,800', '0.04', '40')
    """
    return f"{int(value):,}" if float(value).is_integer() else f"{value:g}"


def _emotion_text(step: Step) -> Text:
    if step.emotion is None:
        return Text("   (no emotion)", style="dim")
    score = step.emotion.score
    colour = "red" if score < 0 else "green" if score > 0 else "yellow"
    text = Text("  ")
    text.append(emotion_bar(score), style=colour)
    text.append(f" {score:+g}" if score else "  0")
    if step.emotion.label:
        text.append(f" {step.emotion.label}", style="italic")
    return text


def _step_node(
    parent: Tree, number: str, step: Step, pad: int, custom_names: Mapping[str, str]
) -> None:
    head = Text(f"{number} ", style="bold")
    # Pad names so the emotion bars of a stage line up into a curve.
    head.append(step.name.ljust(pad - len(number) - 1))
    head.append_text(_emotion_text(step))
    node = parent.add(head)
    if step.moment_of_truth is not None:
        node.add(f"[bold magenta]★ moment of truth:[/] {escape(step.moment_of_truth.why)}")
    if step.actions:
        node.add(f"[cyan]does:[/] {escape('; '.join(step.actions))}")
    if step.thoughts:
        node.add(f"[cyan]thinks:[/] {escape('; '.join(step.thoughts))}")
    for tp in step.touchpoints:
        rules = f", {len(tp.match)} match rule(s)" if tp.match else ""
        hidden = ", not visible to the customer" if not tp.visible else ""
        node.add(
            f"[blue]touchpoint:[/] {escape(tp.name)} [dim]({tp.channel.value}{rules}{hidden})[/]"
        )
    for pain in step.pain_points:
        backed = "" if pain.evidence else ", no evidence"
        node.add(f"[red]pain:[/] {escape(pain.text)} [dim](severity {pain.severity}/5{backed})[/]")
    for opp in step.opportunities:
        node.add(
            f"[green]opportunity:[/] {escape(opp.text)} "
            f"[dim]({opp.status.value}, impact {opp.impact}/5, effort {opp.effort}/5)[/]"
        )
    lanes = [
        ("frontstage", step.frontstage),
        ("backstage", step.backstage),
        ("support", step.support),
        ("owners", step.owners),
        *((custom_names.get(lane, lane), items) for lane, items in step.custom.items()),
    ]
    for name, items in lanes:
        if items:
            node.add(f"[dim]{escape(name)}:[/] {escape('; '.join(items))}")
    if step.expected_duration:
        node.add(f"[dim]expected duration:[/] {step.expected_duration}")


def map_outline(journey: JourneyMap, personas: Mapping[str, Persona]) -> RenderableType:
    """The outline of a map: header, personas, stages → steps with their lanes, KPIs, outcomes.

    ``personas`` are the persona files found beside the map, by id; ids the map names but
    that are not found are shown as ``(not found)``.
    """
    header = Text(journey.title, style="bold underline")
    scenario = journey.scenario.kind.value.replace("_", "-")
    header.append(
        f"  ({journey.id} · v{journey.version} · {journey.status.value} · {scenario})",
        style="dim",
    )
    parts: list[RenderableType] = [header]
    if journey.description:
        parts.append(Text(journey.description.strip()))
    for pid in journey.personas:
        persona = personas.get(pid)
        if persona is None:
            parts.append(Text(f"Persona: {pid} (not found beside the map)", style="yellow"))
            continue
        gen = persona.demographics.generation
        channels = ", ".join(c.value for c in persona.preferred_channels)
        details = "; ".join(
            part for part in (gen.value if gen else "", channels and f"prefers {channels}") if part
        )
        parts.append(Text(f"Persona: {persona.name} ({pid}{'; ' + details if details else ''})"))
    if not journey.personas:
        parts.append(Text("Persona: none set", style="yellow"))

    tree = Tree("[bold]Stages[/]")
    custom_names = {lane.id: lane.name for lane in journey.lanes.custom}
    pad = max(
        (
            len(f"{s}.{t} {step.name}")
            for s, stage in enumerate(journey.stages, start=1)
            for t, step in enumerate(stage.steps, start=1)
        ),
        default=0,
    )
    for s_index, stage in enumerate(journey.stages, start=1):
        label = f"[bold]{s_index}. {escape(stage.name)}[/]"
        if stage.goal:
            label += f" [dim]— goal: {escape(stage.goal)}[/]"
        stage_node = tree.add(label)
        for exp in stage.expectations:
            stage_node.add(f"[dim]expects:[/] {escape(exp)}")
        for t_index, step in enumerate(stage.steps, start=1):
            _step_node(stage_node, f"{s_index}.{t_index}", step, pad, custom_names)
        if not stage.steps:
            stage_node.add("[dim](no steps)[/]")
    parts.append(tree)

    if journey.kpis:
        kpis = Tree("[bold]KPIs[/]")
        for kpi in journey.kpis:
            target = ""
            if kpi.target is not None:
                target = f", target {_number(kpi.target)}" + (f" {kpi.unit}" if kpi.unit else "")
            kpis.add(f"{escape(kpi.name)} [dim]({kpi.metric.value}{target})[/]")
        parts.append(kpis)
    if journey.outcomes:
        outcomes = Tree("[bold]Outcomes[/]")
        for outcome in journey.outcomes:
            outcomes.add(f"{escape(outcome.name)} [dim]({outcome.polarity.value})[/]")
        parts.append(outcomes)
    return Group(*parts)


def persona_card(persona: Persona) -> RenderableType:
    """A persona as a short card: name, quote, demographics, goals, needs, frustrations, channels."""
    tree = Tree(Text(f"{persona.name}  ({persona.id})", style="bold underline"))
    if persona.summary:
        tree.add(escape(persona.summary))
    if persona.quote:
        tree.add(f"[italic]“{escape(persona.quote)}”[/]")
    demo = persona.demographics
    facts = [
        f"{name}: {value.value if hasattr(value, 'value') else value}"
        for name, value in (
            ("age", demo.age),
            ("generation", demo.generation),
            ("location", demo.location),
            ("occupation", demo.occupation),
            ("income", demo.income_band),
        )
        if value is not None
    ]
    if facts:
        tree.add(escape(" · ".join(facts)))
    for title, items in (
        ("goals", persona.goals),
        ("needs", persona.needs),
        ("frustrations", persona.frustrations),
    ):
        if items:
            branch = tree.add(f"[bold]{title}[/]")
            for item in items:
                branch.add(escape(item))
    if persona.preferred_channels:
        channels = ", ".join(c.value for c in persona.preferred_channels)
        tree.add(f"[bold]channels:[/] {channels}")
    if persona.segment is not None:
        tree.add("[dim]segment rule: set[/]")
    return tree
