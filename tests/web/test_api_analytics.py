"""The analytics API (``/api/v1/.../live`` and ``/analytics/*``) on the hand-counted shop of
:mod:`tests.web.test_analytics_pages` (40 customers, 110 events; see its docstring): each
answer carries the figures computed by hand, and the same figures as the analytics
functions called directly on the same events with the same filter."""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from tests.web.conftest import World, sign_in
from tests.web.test_analytics_pages import MAP, NPS, PERSONAS, _nps, workspace_with_shop

from journeylens.analytics.binding import Population, bind, evaluate_outcomes
from journeylens.analytics.conformance import conformance
from journeylens.analytics.emotion import with_sentiment
from journeylens.analytics.livemap import compute_livemap
from journeylens.analytics.outcomes import compare_outcome
from journeylens.analytics.personas import with_personas
from journeylens.analytics.survey import survey_metrics
from journeylens.engine.frames import to_lazy
from journeylens.engine.workspace import Workspace
from journeylens.model import JourneyMap, Persona
from journeylens.store import models as sm
from journeylens.store import service
from journeylens.store.db import session_scope
from journeylens.web import api_analytics
from journeylens.web.app import create_app
from journeylens.web.settings import make_settings

JOURNEY = JourneyMap.model_validate(MAP)
PERSONA = {p["id"]: Persona.model_validate(p) for p in PERSONAS}


@dataclass
class Api:
    """The app over the shop's workspace, a viewer's client, the map's API URL and root."""

    app: FastAPI
    client: TestClient
    url: str
    root: Path


@pytest.fixture(scope="module")
def api(world: World, tmp_path_factory: pytest.TempPathFactory) -> Api:
    root = workspace_with_shop(tmp_path_factory.mktemp("api_analytics") / "ws")
    app = create_app(make_settings(root, "unused", secret_key="test-secret"), world.backend)
    with session_scope(world.backend.engine) as s:
        acme = service.get_workspace(s, "default")
        owner = s.get(sm.User, 1)
        assert owner is not None
        for persona in PERSONA.values():
            service.create_persona(s, acme, persona, owner)
        service.create_map(s, acme, owner, JOURNEY)
    client, _ = sign_in(app, "viewer@acme.test")
    return Api(app, client, f"/api/v1/workspaces/{world.ws}/maps/shop2", root)


@contextmanager
def direct(root: Path, persona: str | None = None) -> Iterator[tuple[Any, Any, Any]]:
    """The workspace's events as the library reads them: (all events, the scope's events
    bound to the map, the customers table), on one read-only connection."""
    store = Workspace.open(root).store
    con = store.connect(read_only=True)
    try:
        events = with_sentiment(to_lazy(store.events(con)))
        customers = con.table("customers")
        scoped = events
        if persona is not None:
            scoped = Population.for_persona(PERSONA[persona]).apply(events, customers)
        yield events, bind(scoped, JOURNEY), customers
    finally:
        con.close()


def plain(value: Any) -> Any:
    """``value`` as JSON gives it back (tuples → lists, NaN → null as the API sends)."""
    return json.loads(json.dumps(value, default=str).replace("NaN", "null"))


def ok(client: TestClient, url: str) -> Any:
    answer = client.get(url)
    assert answer.status_code == 200, answer.text[:500]
    return answer.json()


# -- live map and funnel ------------------------------------------------------------------


def test_live_map_is_the_map_views_figures(api: Api) -> None:
    body = ok(api.client, f"{api.url}/live")
    assert body["map_id"] == "shop2"
    assert body["version"] == 1
    assert body["scope"] == {
        "persona": None,
        "first_day": None,
        "last_day": None,
        "label": "all customers, all days",
    }
    live = body["live"]
    assert (live["units"], live["events"], live["unbound_events"]) == (40, 110, 4)
    assert [s["figures"]["reached"] for s in live["stages"]] == [40, 30, 22]
    assert live["outcome_rates"] == {"converted": 22 / 40}
    with direct(api.root) as (events, _bound, _customers):
        expected = compute_livemap(events, JOURNEY).to_dict()
    assert live == plain(expected)


def test_live_map_for_a_persona_and_a_window(api: Api) -> None:
    pro = ok(api.client, f"{api.url}/live?persona=pro")
    assert pro["scope"]["label"] == "persona Pro Paula (pro), all days"
    assert (pro["live"]["units"], pro["live"]["events"]) == (20, 72)  # 20 + 20 + 20 + 12
    with direct(api.root) as (events, _bound, customers):
        expected = compute_livemap(
            events,
            JOURNEY,
            population=Population.for_persona(PERSONA["pro"]),
            customers=customers,
        ).to_dict()
    assert pro["live"] == plain(expected)
    window = ok(api.client, f"{api.url}/live?from=2024-01-03&to=2024-01-04")
    # 30 carts by c00–c29 and 4 newsletters by c32–c35; both days included.
    assert (window["live"]["units"], window["live"]["events"]) == (34, 34)
    assert window["live"]["window_start"] == "2024-01-03T00:00:00"
    assert window["live"]["window_end"] == "2024-01-05T00:00:00"


def test_funnel_through_the_stages(api: Api) -> None:
    body = ok(api.client, f"{api.url}/analytics/funnel")
    assert (body["units"], body["events"]) == (40, 110)
    stages = {s["stage_id"]: s for s in body["stages"]}
    assert [s["stage_id"] for s in body["stages"]] == ["look", "cart", "buy"]
    assert [(s["name"], s["reached"]) for s in body["stages"]] == [
        ("Look", 40),
        ("Cart", 30),
        ("Buy", 22),
    ]
    assert stages["cart"]["share_of_units"] == pytest.approx(30 / 40)
    assert stages["buy"]["share_of_units"] == pytest.approx(22 / 40)
    assert stages["buy"]["conversion_from_start"] == pytest.approx(22 / 40)
    assert stages["buy"]["step_conversion"] == pytest.approx(22 / 30)  # as the funnel page
    assert stages["look"]["step_conversion"] == pytest.approx(40 / 40)  # reached 1 / all units
    assert stages["cart"]["conversion_from_start"] == pytest.approx(30 / 40)
    # The live map's conversion: the share of the stage's customers who went on.
    assert stages["look"]["conversion"] == pytest.approx(32 / 40)  # 30 carts + 2 buy directly
    assert stages["cart"]["conversion"] == pytest.approx(20 / 30)
    assert stages["buy"]["conversion"] is None  # nothing lies beyond the last stage
    free = ok(api.client, f"{api.url}/analytics/funnel?persona=free")
    # c20–c39: c20–c29 add to the cart, c30 and c31 buy.
    assert [s["reached"] for s in free["stages"]] == [20, 10, 2]


# -- flows, planned vs actual ---------------------------------------------------------------


def test_flows_between_stages(api: Api) -> None:
    body = ok(api.client, f"{api.url}/analytics/flows")
    assert body["size"] == {"units": 40, "events": 110}
    assert body["paths"] == 40
    assert body["stages"] == ["look", "cart", "buy"]
    moves = {(f["source"], f["target"]): f for f in body["flows"]}
    assert {k: (f["paths"], f["transitions"], f["designed"]) for k, f in moves.items()} == {
        ("look", "cart"): (30, 30, True),
        ("cart", "buy"): (20, 20, True),
        ("look", "buy"): (2, 2, False),  # c30, c31 skip the cart
    }
    assert moves[("look", "buy")]["source_name"] == "Look"
    with direct(api.root) as (_events, bound, _customers):
        edges = [e for e in conformance(bound, JOURNEY).edges if e.level == "stage"]
    observed = {(e.source, e.target): (e.paths, e.transitions) for e in edges if e.transitions}
    assert {k: (f["paths"], f["transitions"]) for k, f in moves.items()} == observed


def test_planned_vs_actual(api: Api) -> None:
    body = ok(api.client, f"{api.url}/analytics/planned")
    c = body["conformance"]
    assert (c["paths"], c["events"], c["unbound_events"]) == (40, 110, 4)
    assert c["fitness"] == 1.0
    assert c["backtrack_paths"] == 0
    cart = next(s for s in c["skips"] if s["stage"] == "cart")
    # 22 journeys reached Buy beyond Cart; c30 and c31 of them without Cart.
    assert (cart["skipped"], cart["reached_later"]) == (2, 22)
    assert cart["share"] == pytest.approx(2 / 40)
    assert body["names"]["cart"] == "Cart"
    with direct(api.root) as (_events, bound, _customers):
        assert c == plain(conformance(bound, JOURNEY).to_dict())
    free = ok(api.client, f"{api.url}/analytics/planned?persona=free")
    assert free["size"] == {"units": 20, "events": 20 + 10 + 4 + 2 + 2}
    with direct(api.root, "free") as (_events, bound, _customers):
        assert free["conformance"] == plain(conformance(bound, JOURNEY).to_dict())


# -- outcomes, survey -------------------------------------------------------------------------


def test_outcome_comparison(api: Api) -> None:
    body = ok(api.client, f"{api.url}/analytics/outcomes")
    assert body["outcome"] == {"id": "converted", "name": "Converted"}
    assert body["outcomes"] == [{"id": "converted", "name": "Converted"}]
    comparison = body["comparison"]
    assert (comparison["units"], comparison["positive"]) == (40, 22)
    assert comparison["base_rate"] == pytest.approx(22 / 40)
    features = {(f["kind"], f["feature"]): f for f in comparison["features"]}
    basket = features[("touchpoint", "basket")]
    # a = 20 converted with the basket, b = 2 without, c = 10 not converted with it, d = 8.
    a, b, c, d = 20, 2, 10, 8
    assert (basket["a"], basket["b"], basket["c"], basket["d"]) == (a, b, c, d)
    odds = (a + 0.5) * (d + 0.5) / ((b + 0.5) * (c + 0.5))
    half = 1.96 * math.sqrt(sum(1 / (x + 0.5) for x in (a, b, c, d)))
    assert basket["odds_ratio"] == pytest.approx(odds)
    assert basket["or_low"] == pytest.approx(math.exp(math.log(odds) - half))
    assert basket["or_high"] == pytest.approx(math.exp(math.log(odds) + half))
    assert basket["lift"] == pytest.approx((a / (a + c)) / (22 / 40))
    assert features[("touchpoint", "checkout")]["flag"] == "too rare"  # 22 < 25 customers
    with direct(api.root) as (_events, bound, _customers):
        expected = compare_outcome(bound, evaluate_outcomes(bound, JOURNEY), "converted")
    assert comparison == plain(expected.to_dict())
    same = ok(api.client, f"{api.url}/analytics/outcomes?outcome=converted&persona=pro")
    assert (same["comparison"]["units"], same["comparison"]["positive"]) == (20, 20)


def test_survey_by_stage_and_by_persona(api: Api) -> None:
    body = ok(api.client, f"{api.url}/analytics/survey")
    assert body["by"] == "stage"
    buy = next(g for g in body["groups"] if g["group"] == "buy" and g["score_type"] == "nps")
    _value, low, high = _nps(list(NPS.values()))
    assert buy["label"] == "Buy"
    assert buy["n"] == 14
    assert buy["value"] == pytest.approx(100 * 6 / 14)  # 9 promoters, 3 detractors of 14
    assert (buy["low"], buy["high"]) == (pytest.approx(low), pytest.approx(high))
    with direct(api.root) as (_events, bound, _customers):
        rows = survey_metrics(bound, by="stage", journey_map=JOURNEY).rows
    assert [(g["group"], g["score_type"], g["n"], g["value"]) for g in body["groups"]] == [
        (r.group, r.score_type, r.n, r.value) for r in rows
    ]
    by_persona = ok(api.client, f"{api.url}/analytics/survey?by=persona")
    nps = {g["group"]: g for g in by_persona["groups"] if g["score_type"] == "nps"}
    assert (nps["pro"]["label"], nps["pro"]["n"], nps["pro"]["value"]) == ("Pro Paula", 12, 50.0)
    assert (nps["free"]["n"], nps["free"]["value"], nps["free"]["flag"]) == (
        2,
        None,
        "too few answers",
    )
    personas = list(PERSONA.values())
    with direct(api.root) as (_events, bound, customers):
        tagged = with_personas(bound, personas, customers)
        direct_rows = survey_metrics(tagged, by="persona").rows
    assert {(g["group"], g["score_type"], g["n"]) for g in by_persona["groups"]} == {
        (r.group, r.score_type, r.n) for r in direct_rows
    }


# -- bad input, no events, tokens, cache, OpenAPI ---------------------------------------------


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("persona=nobody", "persona"),
        ("from=2024-13-01", "from"),
        ("to=yesterday", "to"),
        ("from=2024-02-01&to=2024-01-01", "to"),
        ("outcome=refunded", "outcome"),
        ("by=week", "by"),
    ],
)
def test_bad_input_is_422_naming_the_field(api: Api, query: str, field: str) -> None:
    paths = ["/live", "/analytics/funnel", "/analytics/flows", "/analytics/planned"]
    paths += ["/analytics/outcomes", "/analytics/survey"]
    if field == "outcome":
        paths = ["/analytics/outcomes"]
    if field == "by":
        paths = ["/analytics/survey"]
    for path in paths:
        answer = api.client.get(f"{api.url}{path}?{query}")
        assert answer.status_code == 422, (path, answer.text)
        body = answer.json()
        assert body["error"] == "InvalidInput"
        assert body["field"] == field
        assert body["reason"]


def test_no_events_is_409_saying_so(api: Api, world: World) -> None:
    client, _ = world.clients["viewer"]  # the plain world's app: no event store
    for path in ("/live", "/analytics/funnel", "/analytics/flows", "/analytics/survey"):
        answer = client.get(f"/api/v1/workspaces/{world.ws}/maps/shop{path}")
        assert answer.status_code == 409, (path, answer.text)
        assert answer.json()["field"] == "events"
        assert "No events in this workspace" in answer.json()["reason"]
    # A persona whose rule matches nobody: the scope is empty.
    for path in ("/live", "/analytics/flows", "/analytics/planned"):
        answer = api.client.get(f"{api.url}{path}?persona=evil")
        assert answer.status_code == 409
        assert answer.json()["reason"].startswith("No events for persona")
    # A map without outcomes has nothing to compare.
    owner = world.backend.user(1)
    assert owner is not None
    bare = JourneyMap.model_validate({**MAP, "id": "bare", "outcomes": []})
    world.backend.create_map(owner, world.ws, bare)
    answer = api.client.get(f"/api/v1/workspaces/{world.ws}/maps/bare/analytics/outcomes")
    assert answer.status_code == 409
    assert answer.json() == {
        "error": "Conflict",
        "field": "outcome",
        "reason": "this map defines no outcomes: add one in the editor",
    }


def test_a_read_token_gets_the_figures_and_only_of_its_workspace(api: Api, world: World) -> None:
    owner = world.backend.user(1)
    assert owner is not None
    token = world.backend.create_token(owner, world.ws, "script", ["read"])
    bearer = TestClient(api.app)
    headers = {"Authorization": f"Bearer {token}"}
    body = bearer.get(f"{api.url}/analytics/funnel?persona=pro", headers=headers).json()
    assert [s["reached"] for s in body["stages"]] == [20, 20, 20]
    other = bearer.get(
        f"/api/v1/workspaces/{world.other_ws}/maps/secret/analytics/funnel", headers=headers
    )
    assert other.status_code == 403
    assert "Top Secret" not in other.text


def test_answers_are_cached_per_filter(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    original = api_analytics.planned_view

    def counting(bound: Any, journey: JourneyMap) -> Any:
        calls.append(journey.id)
        return original(bound, journey)

    monkeypatch.setattr(api_analytics, "planned_view", counting)
    url = f"{api.url}/analytics/planned?from=2024-01-02"
    first = ok(api.client, url)
    assert ok(api.client, url) == first
    assert calls == ["shop2"]  # the second call is a cache hit
    ok(api.client, f"{api.url}/analytics/planned?from=2024-01-03")
    assert calls == ["shop2", "shop2"]  # another window is another entry
    # A view the page has computed is read from the page's entry, and is the same.
    page_url = api.url.replace("/api/v1/workspaces/", "/w/").replace("/maps/", "/m/")
    page = api.client.get(f"{page_url}/analytics/planned?from=2024-01-04")
    assert page.status_code == 200
    shared = ok(api.client, f"{api.url}/analytics/planned?from=2024-01-04")
    assert calls == ["shop2", "shop2"]
    with direct(api.root) as (events, _bound, _customers):
        window = Population(start=dt.datetime(2024, 1, 4)).apply(events)
        assert shared["conformance"] == plain(conformance(bind(window, JOURNEY), JOURNEY).to_dict())


def test_the_openapi_document_says_what_comes_back(api: Api) -> None:
    doc = api.client.get("/api/v1/openapi.json").json()
    funnel = doc["paths"]["/api/v1/workspaces/{ws}/maps/{map_id}/analytics/funnel"]["get"]
    assert {p["name"] for p in funnel["parameters"]} == {"ws", "map_id", "persona", "from", "to"}
    schema = funnel["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema == {"$ref": "#/components/schemas/FunnelOut"}
    for status in ("401", "403", "409", "422"):  # the error body is documented too
        error = funnel["responses"][status]["content"]["application/json"]["schema"]
        assert error == {"$ref": "#/components/schemas/ErrorOut"}
    assert set(doc["components"]["schemas"]["ErrorOut"]["properties"]) == {
        "error",
        "field",
        "reason",
        "issues",
    }
    live = doc["components"]["schemas"]["LiveMapOut"]["properties"]["live"]
    assert live == {"$ref": "#/components/schemas/LiveMap"}
    figures = doc["components"]["schemas"]["Figures"]["properties"]
    assert {"reached", "conversion", "drop_off", "nps"} <= set(figures)
    outcomes = doc["paths"]["/api/v1/workspaces/{ws}/maps/{map_id}/analytics/outcomes"]["get"]
    assert "outcome" in {p["name"] for p in outcomes["parameters"]}
