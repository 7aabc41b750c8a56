"""Bad files give clear errors: every mistake at once, each with file, line, column and path."""

from __future__ import annotations

from pathlib import Path

import pytest

from journeylens.formats import (
    DocumentError,
    Issue,
    check_persona_refs,
    find_personas,
    load_any,
    load_map,
    parse_model,
    save,
)
from journeylens.model import JourneyMap, Persona, Stage

DATA = Path(__file__).parent / "data"


def _issues(path: Path) -> list[tuple[int | None, int | None, str, str]]:
    with pytest.raises(DocumentError) as info:
        load_map(path)
    assert all(issue.file == str(path) for issue in info.value.issues)
    return [(i.line, i.column, i.path, i.message) for i in info.value.issues]


def test_five_mistakes_are_all_reported_with_line_and_column() -> None:
    assert _issues(DATA / "five-mistakes.journey.yaml") == [
        (
            2,
            5,
            "id",
            "expected an id: lower-case letters, digits, '-' and '_', starting with a letter "
            "or digit, at most 64 characters (got 'Course Map')",
        ),
        (11, 18, "stages[0].steps[0].emotion.score", "expected a number from -2 to 2 (got 3)"),
        (
            15,
            22,
            "stages[0].steps[0].touchpoints[0].channel",
            "expected one of web, app, email, social, ads, search, store, phone, live_chat, "
            "chatbot, sms, print, partner, in_person, other (got 'webb'; did you mean 'web'?)",
        ),
        (16, 9, "stages[1].id", "duplicate stage id 'discover' (first used at stages[0])"),
        (18, 12, "stages[1].kpis[0]", "stage 'discover' refers to unknown KPI 'nps'"),
    ]


def test_issue_text_names_file_line_column_and_path() -> None:
    issue = Issue("m.journey.yaml", 3, 7, "stages[0].name", "expected non-empty text (got '')")
    assert str(issue) == "m.journey.yaml:3:7: stages[0].name: expected non-empty text (got '')"
    assert (
        str(Issue("m.yaml", None, None, "", "file not found"))
        == "m.yaml: (document): file not found"
    )


def test_union_errors_become_one_message() -> None:
    text = "id: m\ntitle: M\nstages:\n  - id: s\n    name: S\n    steps:\n      - id: a\n        name: A\n        touchpoints:\n          - {id: t, name: T, channel: web, match: [{event: 5}]}\n"
    with pytest.raises(DocumentError) as info:
        parse_model(text, JourneyMap, "m.yaml")
    assert [str(i) for i in info.value.issues] == [
        "m.yaml:10:60: stages[0].steps[0].touchpoints[0].match[0].event: "
        "expected text or a list (got 5)"
    ]


@pytest.mark.parametrize(
    ("snippet", "path", "message"),
    [
        ("version: x", "version", "expected a whole number (got 'x')"),
        ("tags: 5", "tags", "expected a list (got 5)"),
        ("created: soon", "created", "expected a date-time like 2024-01-31T09:00:00Z (got 'soon')"),
        ("status: live", "status", "expected one of draft, published, archived (got 'live')"),
        ("title: ''", "title", "expected non-empty text (got '')"),
        (
            "colour: red",
            "colour",
            "unknown field 'colour' (allowed here: schema, id, title, description, version, "
            "status, owner, tags, personas, scenario, lanes, kpis, outcomes, stages, created, "
            "updated)",
        ),
        (
            "schema: journeylens/journeymap/v2",
            "schema",
            "expected 'journeylens/journeymap/v1' (got 'journeylens/journeymap/v2')",
        ),
    ],
)
def test_friendly_message_per_kind_of_mistake(snippet: str, path: str, message: str) -> None:
    lines = ["id: m", "title: M", "stages: [{id: s, name: S}]"]
    lines = [line for line in lines if line.split(":")[0] != snippet.split(":")[0]]
    text = "\n".join([snippet, *lines]) + "\n"
    with pytest.raises(DocumentError) as info:
        parse_model(text, JourneyMap, "m.yaml")
    assert [(i.line, i.path, i.message) for i in info.value.issues] == [(1, path, message)]


def test_missing_field_points_at_enclosing_mapping() -> None:
    with pytest.raises(DocumentError) as info:
        parse_model("id: m\ntitle: M\n", JourneyMap, "m.yaml")
    assert [str(i) for i in info.value.issues] == ["m.yaml:1:1: stages: required field is missing"]


def test_yaml_syntax_error_is_located() -> None:
    assert _issues(DATA / "syntax.journey.yaml") == [
        (
            4,
            1,
            "",
            "not valid YAML: found unexpected end of stream "
            "(while scanning a quoted scalar started at line 2, column 8)",
        )
    ]


def test_duplicate_key_is_located() -> None:
    assert _issues(DATA / "dupkey.journey.yaml") == [
        (
            6,
            5,
            "",
            'not valid YAML: found duplicate key "name" with value "B" (original value: "A") '
            "(while constructing a mapping started at line 4, column 5); "
            "each key may appear once per mapping",
        )
    ]


def test_not_utf8_names_line_and_byte() -> None:
    assert _issues(DATA / "latin1.journey.yaml") == [
        (2, 11, "", "not UTF-8 text: byte 0xe9 (invalid continuation byte); save the file as UTF-8")
    ]


def test_file_not_found_and_folder(tmp_path: Path) -> None:
    assert _issues(tmp_path / "nope.journey.yaml") == [(None, None, "", "file not found")]
    assert _issues(tmp_path) == [(None, None, "", "is a folder, expected a file")]


def test_top_level_must_be_a_mapping() -> None:
    with pytest.raises(DocumentError) as info:
        parse_model("- a\n- b\n", JourneyMap, "m.yaml")
    assert (
        str(info.value)
        == "m.yaml:1:1: (document): expected a mapping at the top of the document, got list"
    )


def test_bom_and_crlf_are_read(tmp_path: Path) -> None:
    path = tmp_path / "m.journey.yaml"
    path.write_bytes(b"\xef\xbb\xbfid: m\r\ntitle: M\r\nstages: [{id: s, name: S}]\r\n")
    assert load_map(path).title == "M"


def test_persona_refs_are_checked_against_persona_files(tmp_path: Path) -> None:
    save(Persona(id="maya", name="Maya"), tmp_path / "maya.persona.yaml")
    journey = JourneyMap(
        id="m", title="M", personas=["maya", "rob"], stages=[Stage(id="s", name="S")]
    )
    map_path = save(journey, tmp_path / "m.journey.yaml")
    personas = find_personas(tmp_path)
    assert list(personas) == ["maya"]
    assert isinstance(load_any(tmp_path / "maya.persona.yaml"), Persona)
    assert [str(i) for i in check_persona_refs(journey, map_path, personas)] == [
        f"{map_path}:6:5: personas[1]: persona 'rob' not found "
        "(expected a rob.persona.yaml beside the map)"
    ]
    assert (
        check_persona_refs(journey.model_copy(update={"personas": ["maya"]}), map_path, personas)
        == []
    )


def test_json_file_errors_are_located_too() -> None:
    text = '{"id": "m",\n "id": "n", "title": "T", "stages": [{"id": "s", "name": "S"}]}'
    with pytest.raises(DocumentError) as info:
        parse_model(text, JourneyMap, "m.journey.json")
    assert [str(i) for i in info.value.issues] == [
        'm.journey.json:2:2: (document): not valid JSON: found duplicate key "id" with value "n" '
        '(original value: "m") (while constructing a mapping started at line 1, column 1); '
        "each key may appear once per mapping"
    ]
    with pytest.raises(DocumentError) as info:
        parse_model('{"id": "M", "title": "T",\n "stages": []}', JourneyMap, "m.json")
    assert [(i.line, i.column, i.path) for i in info.value.issues] == [
        (1, 8, "id"),
        (2, 12, "stages"),
    ]


def test_range_messages_give_both_bounds() -> None:
    text = (
        "id: m\ntitle: M\nstages:\n  - id: s\n    name: S\n    steps:\n      - id: a\n"
        "        name: A\n        pain_points: [{id: p, text: t, severity: 9}]\n"
    )
    with pytest.raises(DocumentError) as info:
        parse_model(text, JourneyMap, "m.yaml")
    assert [i.message for i in info.value.issues] == ["expected a whole number from 1 to 5 (got 9)"]
    with pytest.raises(DocumentError) as info:
        parse_model("id: ana\nname: Ana\nshare: 2\n", Persona, "ana.persona.yaml")
    assert [str(i) for i in info.value.issues] == [
        "ana.persona.yaml:3:8: share: expected a number above 0 and at most 1 (got 2)"
    ]


def test_control_character_and_impossible_date_are_located() -> None:
    with pytest.raises(DocumentError) as info:
        parse_model("id: m\ntitle: a\x1fb\n", JourneyMap, "m.yaml")
    assert [str(i) for i in info.value.issues] == [
        "m.yaml:2:9: (document): not valid YAML: character U+001F is not allowed"
    ]
    with pytest.raises(DocumentError) as info:
        parse_model(
            "id: m\ntitle: T\ncreated: 2024-13-45\nstages: [{id: s, name: S}]\n",
            JourneyMap,
            "m.yaml",
        )
    assert [str(i) for i in info.value.issues] == [
        "m.yaml:3:10: created: expected a date-time like 2024-01-31T09:00:00Z (got '2024-13-45')"
    ]


def test_unquoted_date_in_a_text_field_keeps_its_spelling() -> None:
    journey = parse_model("id: m\ntitle: 2024-1-5\nstages: [{id: s, name: S}]\n", JourneyMap)
    assert journey.title == "2024-1-5"


def test_unknown_fields_suggest_the_field_meant_at_any_depth() -> None:
    text = (
        "id: m\ntitle: T\nstages:\n  - id: s\n    name: S\n    steps:\n      - id: a\n"
        "        name: A\n        emotion: {score: 1, lable: x}\n        touchpoints:\n"
        "          - {id: t, name: T, channel: web, match: [{where: [{all: [{field: b, valu: 1}]}]}]}\n"
    )
    with pytest.raises(DocumentError) as info:
        parse_model(text, JourneyMap, "m.yaml")
    assert [(i.path, i.message) for i in info.value.issues] == [
        (
            "stages[0].steps[0].emotion.lable",
            "unknown field 'lable' (did you mean 'label'? allowed here: score, label, note)",
        ),
        (
            "stages[0].steps[0].touchpoints[0].match[0].where[0].all[0].valu",
            "unknown field 'valu' (did you mean 'value'? allowed here: field, op, value)",
        ),
    ]
