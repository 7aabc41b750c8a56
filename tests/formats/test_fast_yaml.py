"""The fast YAML reader (libyaml with YAML 1.2 typing) gives exactly what the round-trip
reader gives, or steps aside (``None``) so the round-trip reader decides.

The round-trip reader is the reference: ``_parse`` returns its plain data. YAML 1.1
readers (PyYAML's default) read ``yes``/``no``/``on``/``off`` as booleans, ``012`` as octal
and ``1:30`` as 90; the canonical writer emits those unquoted (they are text in YAML 1.2),
so each is checked here.
"""

from __future__ import annotations

import math
from importlib import resources
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from tests.formats.strategies import journey_maps, personas

from journeylens.formats.io import _parse, dumps_yaml, fast_yaml, parse_model
from journeylens.model import JourneyMap, Persona
from journeylens.templates import TEMPLATE_NAMES


def reference(text: str) -> Any:
    """What the round-trip reader (with positions) makes of ``text``."""
    return _parse(text, "<test>")[0]


def same(a: Any, b: Any) -> bool:
    """Equal, with NaN equal to NaN and types compared (True is not 1, 1 is not 1.0)."""
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


# Plain scalars and the value YAML 1.2 (the round-trip reader) gives them, by hand.
TYPED: list[tuple[str, Any]] = [
    ("yes", "yes"),
    ("no", "no"),
    ("Yes", "Yes"),
    ("NO", "NO"),
    ("on", "on"),
    ("off", "off"),
    ("On", "On"),
    ("y", "y"),
    ("n", "n"),
    ("true", True),
    ("False", False),
    ("TRUE", True),
    ("null", None),
    ("~", None),
    ("Null", None),
    ("", None),
    ("12", 12),
    ("-3", -3),
    ("+7", 7),
    ("0", 0),
    ("1.5", 1.5),
    ("1e3", 1000.0),
    ("-2.", -2.0),
    (".5", 0.5),
    (".inf", math.inf),
    ("-.Inf", -math.inf),
    ("1:30", "1:30"),  # sexagesimal 90 in YAML 1.1
    ("190:20:30", "190:20:30"),
    ("1:30.5", "1:30.5"),
    ("2024-01-05", "2024-01-05"),  # dates stay the text written
    ("2024-01-05T10:00:00Z", "2024-01-05T10:00:00Z"),
    ("0x", "0x"),
    ("1.2.3", "1.2.3"),
    ("NaN", "NaN"),
    ("1E3", 1000.0),
    ("1.5e-3", 0.0015),
    ("+1.5", 1.5),
    ("_", "_"),  # ruamel types a scalar by its first character: `_` is text
    ("_1", "_1"),
    ("+", "+"),
    ("Norway", "Norway"),
]
# Spellings the round-trip reader keeps special forms of; the fast reader steps aside.
DECLINED = ["012", "007", "0o17", "0x1F", "0b101", "1_000", "3.14_15", "<<", "="]


@pytest.mark.parametrize(("scalar", "expected"), TYPED, ids=[s or "empty" for s, _ in TYPED])
def test_plain_scalars_are_typed_as_yaml_1_2(scalar: str, expected: Any) -> None:
    text = f"v: {scalar}\nlist: [{scalar}]\n"
    fast = fast_yaml(text)
    assert fast is not None
    assert same(fast["v"], expected)
    assert same(fast, reference(text))


@pytest.mark.parametrize("scalar", DECLINED)
def test_special_spellings_fall_back(scalar: str) -> None:
    assert fast_yaml(f"v: {scalar}\n") is None


@pytest.mark.parametrize(
    "text",
    [
        "a: 1\na: 2\n",  # duplicate key: the round-trip reader reports it
        "%YAML 1.1\n---\nv: yes\n",  # a directive changes the rules
        "v: !!int '12'\n",  # explicit tags: the round-trip reader keeps them
        "v: !!str true\n",
        "v: !custom x\n",
        "? [a, b]\n: c\n",  # a key that is not text
        "1: one\n",
        "a: [1, 2\n",  # not valid YAML
        "a: 1\n---\nb: 2\n",  # two documents
    ],
)
def test_what_the_fast_reader_declines(text: str) -> None:
    assert fast_yaml(text) is None


def test_quoted_text_stays_text() -> None:
    text = 'a: \'yes\'\nb: "12"\nc: "true"\nd: |\n  two\n  lines\ne: &x [1]\nf: *x\n'
    fast = fast_yaml(text)
    assert fast == {"a": "yes", "b": "12", "c": "true", "d": "two\nlines\n", "e": [1], "f": [1]}
    assert same(fast, reference(text))


def test_invalid_yaml_keeps_its_located_error() -> None:
    from journeylens.formats.io import DocumentError

    with pytest.raises(DocumentError) as err:
        parse_model("id: m\ntitle: [unclosed\n", JourneyMap, "m.journey.yaml")
    assert str(err.value).startswith("m.journey.yaml:3:1: ")


def test_canonical_writer_output_of_1_1_lookalikes_loads_as_written() -> None:
    words = ["yes", "no", "on", "off", "y", "NO", "1:30", "012", "0o17", "1_000", "~", "null"]
    journey = JourneyMap.model_validate(
        {
            "id": "m",
            "title": "on",
            "description": "no",
            "stages": [
                {
                    "id": f"s{i}",
                    "name": word,
                    "goal": word,
                    "steps": [{"id": f"t{i}", "name": word, "actions": [word, "yes"]}],
                }
                for i, word in enumerate(words)
            ],
        }
    )
    text = dumps_yaml(journey)
    assert "name: yes\n" in text  # written plain: text in YAML 1.2, True in YAML 1.1
    assert parse_model(text, JourneyMap) == journey
    fast = fast_yaml(text)
    # Quoted where YAML 1.2 needs it, so the fast reader can take the file.
    assert fast is not None
    assert same(fast, reference(text))


def _template_files() -> list[tuple[str, str]]:
    out = []
    for name in TEMPLATE_NAMES:
        folder = resources.files("journeylens.templates").joinpath("data", name)
        for entry in sorted(folder.iterdir(), key=lambda e: e.name):
            if entry.name.endswith((".journey.yaml", ".persona.yaml")):
                out.append((f"{name}/{entry.name}", entry.read_text(encoding="utf-8")))
    return out


TEMPLATE_FILES = _template_files()


@pytest.mark.parametrize("text", [t for _, t in TEMPLATE_FILES], ids=[n for n, _ in TEMPLATE_FILES])
def test_every_template_file_reads_the_same_fast(text: str) -> None:
    fast = fast_yaml(text)
    assert fast is not None
    assert same(fast, reference(text))


FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(journey_maps())
def test_generated_maps_read_the_same_fast(journey: JourneyMap) -> None:
    text = dumps_yaml(journey)
    fast = fast_yaml(text)
    assert fast is not None
    assert same(fast, reference(text))


@FAST
@given(personas())
def test_generated_personas_read_the_same_fast(persona: Persona) -> None:
    text = dumps_yaml(persona)
    fast = fast_yaml(text)
    assert fast is not None
    assert same(fast, reference(text))


@pytest.mark.parametrize("scalar", ["-_", "+_", "0x_", "0o_", "0b_", "._"])
def test_number_look_alikes_without_digits_are_text(scalar: str) -> None:
    # ruamel's number constructors crashed on these (IndexError): now they are the text.
    assert fast_yaml(f"v: {scalar}\n") is None
    assert reference(f"v: {scalar}\n") == {"v": scalar}
    text = f"id: m\ntitle: {scalar}\nstages:\n  - id: s\n    name: S\n"
    journey = parse_model(text, JourneyMap)
    assert journey.title == scalar
