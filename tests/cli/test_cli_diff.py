"""``journeylens diff``: a semantic diff of two versions of a map."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.conftest import Runner

# shop-v2 renames step see-ad, lowers the checkout emotion from -1.5 to -1, adds an email
# receipt touchpoint at checkout and drops the one-click opportunity.
EXPECTED_TEXT = (
    '~ step see-ad: renamed "See an ad" → "Sees an ad"\n'
    "~ step checkout: emotion.score -1.5 → -1.0\n"
    '+ touchpoint receipt: added "Email receipt" at step checkout #2\n'
    '- opportunity one-click: removed "One-click payment" at step checkout #1\n'
)


def test_text_diff(work: Path, run: Runner) -> None:
    result = run("diff", "shop.journey.yaml", "shop-v2.journey.yaml")
    assert result.exit_code == 0
    assert result.stdout == EXPECTED_TEXT


def test_json_diff(work: Path, run: Runner) -> None:
    result = run("diff", "shop.journey.yaml", "shop-v2.journey.yaml", "--format", "json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["counts"] == {"added": 1, "removed": 1, "renamed": 1, "moved": 0, "changed": 1}
    assert [(c["kind"], c["element"], c["id"]) for c in data["changes"]] == [
        ("renamed", "step", "see-ad"),
        ("changed", "step", "checkout"),
        ("added", "touchpoint", "receipt"),
        ("removed", "opportunity", "one-click"),
    ]


def test_exit_code_option(work: Path, run: Runner) -> None:
    differ = run("diff", "shop.journey.yaml", "shop-v2.journey.yaml", "--exit-code")
    assert differ.exit_code == 1
    same = run("diff", "shop.journey.yaml", "shop.journey.yaml", "--exit-code")
    assert same.exit_code == 0
    assert same.stdout == "no differences\n"


def test_invalid_side_lists_its_errors(work: Path, run: Runner) -> None:
    result = run("diff", "shop.journey.yaml", "broken.journey.yaml")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines()[-1] == "5 errors"
