"""``journeylens show``: a readable outline of a map or a persona."""

from __future__ import annotations

from pathlib import Path

from tests.cli.conftest import Runner

from journeylens.cli._show import emotion_bar

GOLDEN = Path(__file__).parent / "golden"


def test_map_outline_matches_golden_file(work: Path, run: Runner) -> None:
    result = run("show", "shop.journey.yaml")
    assert result.exit_code == 0
    assert result.stdout == (GOLDEN / "show-shop.txt").read_text(encoding="utf-8")


def test_outline_keeps_brackets_in_user_text(work: Path, run: Runner) -> None:
    # Rich markup must not swallow "[step 3]" from a pain point's text.
    result = run("show", "shop.journey.yaml")
    assert "pain: Payment page [step 3] is slow (severity 4/5, no evidence)" in result.stdout


def test_missing_persona_file_is_said_not_hidden(work: Path, run: Runner) -> None:
    (work / "ana.persona.yaml").unlink()
    result = run("show", "shop.journey.yaml")
    assert result.exit_code == 0
    assert "Persona: ana (not found beside the map)" in result.stdout


def test_persona_card(work: Path, run: Runner) -> None:
    result = run("show", "ana.persona.yaml")
    assert result.exit_code == 0
    assert result.stdout == ("Ana  (ana)\n├── generation: millennial\n└── channels: web, social\n")


def test_invalid_map_lists_errors_and_exits_one(work: Path, run: Runner) -> None:
    result = run("show", "broken.journey.yaml")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines()[-1] == "5 errors"


def test_emotion_bar_is_centred_on_neutral() -> None:
    assert emotion_bar(-2) == "████│    "
    assert emotion_bar(0.5) == "    │█   "
    assert emotion_bar(-0.5) == "   █│    "


def test_outline_shows_thoughts_owners_custom_lanes_and_duration(work: Path, run: Runner) -> None:
    (work / "lanes.journey.yaml").write_text(
        "id: lanes\n"
        "title: Lanes\n"
        "lanes:\n"
        "  custom:\n"
        "    - id: regulation\n"
        "      name: Regulation\n"
        "stages:\n"
        "  - id: s\n"
        "    name: S\n"
        "    steps:\n"
        "      - id: t\n"
        "        name: T\n"
        "        thoughts: [Is this safe?]\n"
        "        owners: [Web team, Legal]\n"
        "        expected_duration: 2d\n"
        "        custom:\n"
        "          regulation: [GDPR consent]\n",
        encoding="utf-8",
    )
    result = run("show", "lanes.journey.yaml")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[2:] == [
        "Stages",
        "└── 1. S",
        "    └── 1.1 T   (no emotion)",
        "        ├── thinks: Is this safe?",
        "        ├── owners: Web team; Legal",
        "        ├── Regulation: GDPR consent",
        "        └── expected duration: 2d",
    ]
