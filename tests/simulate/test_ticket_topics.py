"""Support tickets carry the topic of the step they are about (issue 5).

On the online-course map, the get-help step's support touchpoints bind only tickets with
``category = course_help`` and the pre-sales chatbot only ``category = pre_sales``. A ticket
is either a visit to such a support touchpoint, or written *about* a visit elsewhere (after
a painful checkout, say). The simulator files each under the topic of its step: a ticket
about get-help (opened there, or about its help centre) is ``course_help``, one opened at the
pre-sales chatbot is ``pre_sales``, and one about any other step keeps its generic topic
(complaint, billing, technical, question), so it is not taken for a get-help visit.

The touchpoint a ticket is about is read back from its subject ("Problem with the Checkout
page"), which the simulator writes from the touchpoint's name.
"""

from __future__ import annotations

import re

import pytest
from tests.simulate.readers import Output

from journeylens.formats.io import find_personas, load_map
from journeylens.simulate.run import simulate
from journeylens.simulate.scenario import builtin_scenario
from journeylens.templates import create_from_template

GENERIC = {"complaint", "billing", "technical", "question"}
SUBJECT = re.compile(r"^(?:Question about the|Help needed with the|Problem with the|"
                     r"Complaint about the|The) (.+?)(?: is not working)?$")  # fmt: skip


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> tuple[Output, dict[str, str]]:
    root = tmp_path_factory.mktemp("topics")
    (root / "maps").mkdir()
    create_from_template("online-course", root / "maps")
    journey = load_map(root / "maps" / "online-course.journey.yaml")
    found = find_personas(root / "maps")
    scenario = builtin_scenario(journey.id)
    assert scenario is not None
    simulate(journey, [found[k][1] for k in sorted(found)], scenario, root / "raw", 3000,
             seed=5)  # fmt: skip
    step_of = {tp.name: st.id for _, st, tp in journey.iter_touchpoints()}
    return Output(root / "raw"), step_of


def test_every_ticket_is_filed_under_its_steps_topic(out: tuple[Output, dict[str, str]]) -> None:
    output, step_of = out
    seen: dict[str, set[str]] = {}
    for row in output.rows("support"):
        m = SUBJECT.match(row["subject"])
        assert m is not None, row["subject"]
        step = step_of[m.group(1)]
        seen.setdefault(step, set()).add(row["category"])
    assert seen.pop("get-help") == {"course_help"}
    assert seen.pop("ask-question") == {"pre_sales"}
    # Tickets about other steps exist (painful checkouts, lessons …) and keep their topic.
    assert len(seen) >= 3
    assert set().union(*seen.values()) <= GENERIC
