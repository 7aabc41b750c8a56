"""The documentation lists every lint rule (with its severity) and every template."""

from __future__ import annotations

from pathlib import Path

import pytest

from journeylens.model.lint import RULES, LintRule
from journeylens.templates import TEMPLATE_NAMES

DOC = Path(__file__).resolve().parents[2] / "docs" / "usage" / "templates.md"


@pytest.mark.parametrize("rule", RULES, ids=[r.id for r in RULES])
def test_rule_table_row_matches_the_catalogue(rule: LintRule) -> None:
    row = f"| `{rule.id}` | {rule.severity} | {rule.description} |"
    assert row in DOC.read_text(encoding="utf-8")


@pytest.mark.parametrize("name", TEMPLATE_NAMES)
def test_template_is_documented(name: str) -> None:
    assert f"| `{name}` |" in DOC.read_text(encoding="utf-8")
