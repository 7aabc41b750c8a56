"""Deterministic sample figures for render tests: a made-up live map of any journey."""

from __future__ import annotations

import os
from pathlib import Path

from journeylens.model import JourneyMap
from journeylens.render.figures import MapFigures, Measured, NodeFigures

GOLDEN_DIR = Path(__file__).parents[1] / "golden" / "render"

#: Set JOURNEYLENS_UPDATE_GOLDEN=1 to rewrite the golden files after an intended change.
UPDATE_GOLDEN = os.environ.get("JOURNEYLENS_UPDATE_GOLDEN") == "1"


def sample_figures(journey: JourneyMap) -> MapFigures:
    """Figures shaped like a live map: reach falls 15% per step, every third step has too
    few survey answers (so the measured curve shows a gap), the first pain point of each
    stage is confirmed by data."""
    steps: dict[str, NodeFigures] = {}
    touchpoints: dict[str, NodeFigures] = {}
    reached = 100_000
    for index, (_, step) in enumerate(journey.iter_steps()):
        few = index % 3 == 2
        n = 4 if few else 120 + 10 * index
        emotion = Measured(None if few else ((index * 7) % 9 - 4) / 2.5, n)
        steps[step.id] = NodeFigures(
            reached=reached,
            conversion=0.85,
            drop_off=0.15,
            median_time_s=600.0 * (index + 1),
            nps=Measured(None if few else 30.0 - 5 * index, n),
            csat=Measured(None if few else 80.0, n),
            emotion=emotion,
        )
        for tp in step.touchpoints:
            touchpoints[tp.id] = NodeFigures(reached=reached // 2)
        reached = int(reached * 0.85)
    stages = {
        stage.id: NodeFigures(reached=steps[stage.steps[0].id].reached, conversion=0.7)
        for stage in journey.stages
        if stage.steps
    }
    confirmed = frozenset(
        stage.steps[0].pain_points[0].id
        for stage in journey.stages
        if stage.steps and stage.steps[0].pain_points
    )
    return MapFigures(
        population="all",
        window="2026-01-01 – 2026-03-31",
        units=100_000,
        stages=stages,
        steps=steps,
        touchpoints=touchpoints,
        confirmed_pain_points=confirmed,
    )
