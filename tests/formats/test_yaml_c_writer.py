"""libyaml writes the canonical YAML byte for byte as ruamel does, or steps aside.

``ruamel_dumps`` is the reference (the canonical writer of every earlier version);
:func:`journeylens.formats.yaml_c_writer.dumps` must give the same text or ``None``. The
strategies draw maps, personas and plain documents with the texts YAML writers get wrong
(``yes``, ``1.0``, ``: ``, ``#``, quotes, several lines, leading / trailing blanks, any
unicode) so each difference between the two emitters shows here.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.formats.strategies import TRICKY_STRINGS, journey_maps, personas

from journeylens.formats.io import dumps_yaml, parse_model, ruamel_dumps, to_data
from journeylens.formats.yaml_c_writer import _indent_sequences, dumps
from journeylens.model import JourneyMap
from journeylens.templates import TEMPLATE_NAMES, get_template

SLOW = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def check(data: dict[str, Any]) -> bool:
    """The C writer's text is ruamel's, or it declined; True when it wrote the document."""
    fast = dumps(data)
    if fast is not None:
        assert fast == ruamel_dumps(data)
    return fast is not None


@given(journey_maps())
@SLOW
def test_maps_are_written_as_ruamel_writes_them(journey: JourneyMap) -> None:
    check(to_data(journey))


@given(personas())
@SLOW
def test_personas_are_written_as_ruamel_writes_them(persona: Any) -> None:
    check(to_data(persona))


# Texts from every corner of unicode (control characters included: they must decline).
any_text = st.one_of(
    st.sampled_from(TRICKY_STRINGS),
    st.text(max_size=30),
    st.text(alphabet=" \n\t'\":#-|>!&*?,[]{}%@`~aZ09.é東🙂\u2028\x85\r\ufeff", max_size=12),
)
keys = st.one_of(st.from_regex(r"\A[a-z_][a-z0-9_-]{0,8}\Z"), st.sampled_from(TRICKY_STRINGS))
leaves = st.one_of(
    any_text,
    st.integers(),
    st.floats(),
    st.booleans(),
    st.none(),
)
documents = st.dictionaries(
    keys,
    st.recursive(
        leaves,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(keys, inner, max_size=3),
        max_leaves=12,
    ),
    max_size=4,
)


# Texts inside what the C writer covers (BMP, printable, no tab), so most documents drawn
# from these are written by it rather than declined: the comparison that matters.
covered_text = st.one_of(
    st.sampled_from([t for t in TRICKY_STRINGS if "\t" not in t and t.isprintable()]),
    st.text(
        alphabet=st.characters(
            max_codepoint=0xFFFD,
            blacklist_categories=("Cs", "Cc", "Co", "Cn", "Zl", "Zp"),
            whitelist_characters="\n",
        ),
        max_size=30,
    ),
    st.text(alphabet=" \n'\":#-|>!&*?,[]{}%@`~aZ09.é東—“", max_size=12),
    # Several lines of words, as descriptions are: written as | blocks.
    st.lists(st.from_regex(r"\A[a-z#:|>'-][a-z #:|'-]{0,6}[a-z]\Z"), min_size=2, max_size=4).map(
        "\n".join
    ),
)
covered_documents = st.dictionaries(
    keys,
    st.recursive(
        st.one_of(covered_text, st.integers(), st.floats(allow_nan=False, allow_infinity=False)),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(keys, inner, max_size=3),
        max_leaves=12,
    ),
    max_size=4,
)


# The shape of a map: lists of mappings whose texts (one or several lines) come before and
# after nested lists, as a step's description comes before its actions.
item = st.fixed_dictionaries(
    {"id": covered_text, "description": covered_text},
    optional={"actions": st.lists(covered_text, max_size=2), "name": covered_text},
)
map_shaped = st.fixed_dictionaries(
    {
        "stages": st.lists(
            st.fixed_dictionaries(
                {"description": covered_text, "steps": st.lists(item, max_size=2)},
                optional={"goal": covered_text},
            ),
            max_size=2,
        ),
        "title": covered_text,
    }
)


@given(map_shaped)
@settings(max_examples=600, deadline=None)
def test_map_shaped_documents_are_written_as_ruamel_writes_them(data: dict[str, Any]) -> None:
    check(data)


@given(covered_documents)
@settings(max_examples=600, deadline=None)
def test_covered_documents_are_written_as_ruamel_writes_them(data: dict[str, Any]) -> None:
    check(data)


@given(documents)
@settings(max_examples=600, deadline=None)
def test_plain_documents_are_written_as_ruamel_writes_them(data: dict[str, Any]) -> None:
    check(data)


@given(st.dictionaries(keys, any_text, min_size=1, max_size=3))
@settings(max_examples=600, deadline=None)
def test_texts_as_mapping_values(data: dict[str, str]) -> None:
    check(data)


@given(st.lists(any_text, min_size=1, max_size=3))
@settings(max_examples=400, deadline=None)
def test_texts_as_list_items(items: list[str]) -> None:
    check({"a": items, "b": [{"c": items, "d": "x"}]})


def test_every_template_takes_the_c_writer() -> None:
    # The point of the writer: real maps must not fall back (a silent loss of the speed).
    for name in TEMPLATE_NAMES:
        data = to_data(get_template(name))
        assert check(data), name


def test_dumps_yaml_reads_back_the_same_map() -> None:
    journey = get_template("online-course")
    assert parse_model(dumps_yaml(journey), JourneyMap) == journey


def test_declined_documents_by_hand() -> None:
    assert dumps({"a": None}) is None  # ruamel writes ``a:``: not covered
    assert dumps({"a": [[1]]}) is None  # a list in a list
    assert dumps({"a b": 1}) is None  # a key that is not an identifier
    assert dumps({"a": "tab\there"}) is None
    assert dumps({"a": float("inf")}) is None
    assert dumps({"a": " two\nlines"}) is None  # a block needing an indentation hint
    assert dumps({"a": "x" * 100_001}) is None  # near the line width: folding differs


def test_written_by_hand() -> None:
    # Hand-written expected text: YAML 1.2 typing (yes, 012 plain), ruamel's double quotes
    # for a quoted text holding ', lists indented under their key, a | block.
    data = {
        "id": "m",
        "flags": ["yes", "012", "true"],
        "quote": "it's: here",
        "plain": "it's fine",
        "n": 3,
        "x": 1.5,
        "ok": True,
        "stages": [{"id": "a", "steps": [{"id": "s", "actions": ["go"]}], "name": "A"}],
        "text": "line one\nline two",
        "empty": [],
    }
    expected = (
        "id: m\n"
        "flags:\n"
        "  - yes\n"
        "  - '012'\n"
        "  - 'true'\n"
        'quote: "it\'s: here"\n'
        "plain: it's fine\n"
        "n: 3\n"
        "x: 1.5\n"
        "ok: true\n"
        "stages:\n"
        "  - id: a\n"
        "    steps:\n"
        "      - id: s\n"
        "        actions:\n"
        "          - go\n"
        "    name: A\n"
        "text: |-\n"
        "  line one\n"
        "  line two\n"
        "empty: []\n"
    )
    assert dumps(data) == expected
    assert ruamel_dumps(data) == expected


def test_a_text_ending_in_a_bar_is_not_a_block_header() -> None:
    # "a - |" is plain text; read as a block header it swallowed the lines after it.
    data = {"a": [{"k": "a - |", "steps": [{"id": "s"}], "n": 1}], "b": "x |"}
    expected = "a:\n  - k: a - |\n    steps:\n      - id: s\n    n: 1\nb: x |\n"
    assert dumps(data) == expected
    assert ruamel_dumps(data) == expected


def test_a_block_in_a_list_item_ends_at_its_next_key() -> None:
    # A step's several-line description followed by its actions: the block's lines are
    # deeper than its key (two columns right of the dash), the next key is not.
    data = {"steps": [{"id": "s", "description": "one\n- two", "actions": ["go"]}]}
    expected = (
        "steps:\n  - id: s\n    description: |-\n      one\n      - two\n    actions:\n      - go\n"
    )
    assert dumps(data) == expected
    assert ruamel_dumps(data) == expected
    first = {"steps": [{"description": "p\nq", "actions": ["go"]}]}
    assert dumps(first) == ruamel_dumps(first)


def test_indent_sequences_keeps_block_lines() -> None:
    # A | block's lines move with their key and are not read as list items.
    text = "a:\n- t: |-\n    - not an item\n    x\n  u: 1\nb: 2\n"
    assert _indent_sequences(text) == (
        "a:\n  - t: |-\n      - not an item\n      x\n    u: 1\nb: 2\n"
    )
