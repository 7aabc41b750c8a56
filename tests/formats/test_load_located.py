"""``load_map_located``: the map of :func:`load_map` and the locator of :func:`locate_paths`
from one parse of the file (what ``journeylens lint`` reads a map with)."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.formats.test_fast_yaml import TEMPLATE_FILES

from journeylens.formats.io import DocumentError, load_map, load_map_located, locate_paths
from journeylens.model.lint import lint_map

MAPS = [(n, t) for n, t in TEMPLATE_FILES if n.endswith(".journey.yaml")]


@pytest.mark.parametrize("text", [t for _, t in MAPS], ids=[n for n, _ in MAPS])
def test_same_map_and_places_as_load_then_locate(text: str, tmp_path: Path) -> None:
    path = tmp_path / "t.journey.yaml"
    path.write_text(text, encoding="utf-8")
    journey, where = load_map_located(path)
    assert journey == load_map(path)
    again = locate_paths(path)
    locs = [f.loc for f in lint_map(journey)] + [("stages", 0, "steps", 0), ("id",), ()]
    assert [where(loc) for loc in locs] == [again(loc) for loc in locs]


def test_places_counted_by_hand(tmp_path: Path) -> None:
    path = tmp_path / "m.journey.yaml"
    path.write_text("id: m\ntitle: M\nstages:\n  - id: a\n    name: A\n", encoding="utf-8")
    journey, where = load_map_located(path)
    assert journey.stages[0].name == "A"
    # line 4 is `  - id: a`: the stage's mapping starts at column 5; `name: A` at 5:11.
    assert where(("stages", 0)) == (4, 5)
    assert where(("stages", 0, "name")) == (5, 11)
    assert where(("stages", 0, "goal")) == (4, 5)  # not written: its nearest written ancestor
    assert where(()) == (1, 1)


@pytest.mark.parametrize(
    "text",
    [
        "id: m\ntitle: M\nstages:\n  - id: a\n    name: A\n    steps: 3\n",  # invalid field
        "id: m\ntitle: [M\n",  # not YAML
        "- id: m\n",  # not a mapping
    ],
    ids=["field", "syntax", "top-level"],
)
def test_an_invalid_file_raises_the_problems_load_map_raises(text: str, tmp_path: Path) -> None:
    path = tmp_path / "bad.journey.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DocumentError) as expected:
        load_map(path)
    with pytest.raises(DocumentError) as got:
        load_map_located(path)
    assert got.value.issues == expected.value.issues
    assert got.value.issues  # every case has at least one problem


def test_a_missing_file_is_a_document_error(tmp_path: Path) -> None:
    with pytest.raises(DocumentError) as got:
        load_map_located(tmp_path / "nope.journey.yaml")
    assert [i.message for i in got.value.issues] == ["file not found"]
