"""Bad input is a clear error, never a crash: importers only return a map or DocumentError."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from journeylens.formats import DocumentError, Issue, parse_model
from journeylens.formats.csvgrid import MAP_JSON_ROWS, MAP_ROWS, STAGE_ROWS, STEP_ROWS, from_csv
from journeylens.formats.mermaid import from_mermaid
from journeylens.model import JourneyMap


def _map_or_issues(load: Callable[[], JourneyMap], file: str) -> None:
    """``load`` returns a map, or raises DocumentError with located issues; nothing else."""
    try:
        result: JourneyMap | list[Issue] = load()
    except DocumentError as exc:
        result = exc.issues
    if isinstance(result, list):
        assert result
        assert all(issue.file == file and issue.message for issue in result)
    else:
        assert isinstance(result, JourneyMap)


FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

row_names = st.sampled_from(
    [*STAGE_ROWS, *STEP_ROWS, *(f"map.{r}" for r in (*MAP_ROWS, *MAP_JSON_ROWS)), "custom:x", "?"]
)
cells = st.one_of(
    st.sampled_from(
        [
            "",
            "a",
            "Bad Id",
            "-1",
            "9",
            "x: y (web)",
            "p: pain [severity 7]",
            "o: idea [impact 9, effort 1, status maybe]",
            "data (high): ref",
            "[1, 2]",
            '["a"]',
            "{}",
            '{"x": []}',
            "[{}]",
            "{not json",
            "5m",
            "published",
        ]
    ),
    st.text(max_size=12),
)
grids = st.lists(
    st.lists(cells, min_size=0, max_size=4).flatmap(
        lambda rest: row_names.map(lambda name: [name, *rest])
    ),
    max_size=14,
)


def _csv(rows: list[list[str]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()


@FUZZ
@given(grids)
def test_from_csv_returns_a_map_or_a_located_error(rows: list[list[str]]) -> None:
    _map_or_issues(lambda: from_csv(_csv(rows), "fuzz.csv"), "fuzz.csv")


mermaid_lines = st.one_of(
    st.sampled_from(
        ["journey", "title T", "section S", "  a: 3: x", "b: 9", "c", "d: 1: e: f", "%% c", ""]
    ),
    st.text(max_size=15),
)


@FUZZ
@given(st.lists(mermaid_lines, max_size=8))
def test_from_mermaid_returns_a_map_or_a_located_error(lines: list[str]) -> None:
    _map_or_issues(lambda: from_mermaid("\n".join(lines), "fuzz.mmd"), "fuzz.mmd")


yaml_snippets = st.one_of(
    st.sampled_from(
        [
            "id: m",
            "title: T",
            "stages: [{id: s, name: S}]",
            "stages: []",
            "stages:\n  - id: s\n    name: S\n    steps: [{id: a, name: A, emotion: {score: 9}}]",
            "kpis: [{id: k, name: K}, {id: k, name: L}]",
            "- x",
            "{",
            "id: m\nid: n",
            "created: 2024-13-45",
            "personas: [Bad]",
        ]
    ),
    st.text(max_size=20),
)


@FUZZ
@given(st.lists(yaml_snippets, max_size=5))
def test_parse_model_returns_a_map_or_a_located_error(parts: list[str]) -> None:
    _map_or_issues(lambda: parse_model("\n".join(parts), JourneyMap, "fuzz.yaml"), "fuzz.yaml")
