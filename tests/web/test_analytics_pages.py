"""The analytics pages (funnel, flows, planned vs actual, outcomes, survey) and the persona /
time filter of the map view, on a small workspace whose figures are computed by hand.

The shop: 40 customers c00 … c39; c00–c19 are on plan "pro", c20–c39 on "free".

- 2024-01-02: every customer views the site (stage Look, step view, touchpoint site);
- 2024-01-03: c00–c29 add to the cart (Cart / add / basket);
- 2024-01-04: c32–c35 open a newsletter (matches no touchpoint: 4 unbound events);
- 2024-01-05: c00–c19 and c30, c31 purchase (Buy / pay / checkout) — c30, c31 skip Cart;
- 2024-01-06: NPS answers (Buy / pay / survey): c00–c07 give 10, c08–c09 give 8,
  c10–c11 give 3, c30 gives 0 and c31 gives 10.

110 events in all (40 + 30 + 4 + 22 + 14). Outcome "converted" = did purchase (22 of 40).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from tests.web.conftest import World, sign_in

from journeylens.engine.workspace import Workspace
from journeylens.model import JourneyMap, Persona
from journeylens.store import models as sm
from journeylens.store import service
from journeylens.store.db import session_scope
from journeylens.web import pages_analytics
from journeylens.web.app import create_app
from journeylens.web.settings import make_settings

EVIL = '<img src=x onerror="alert(1)">'

MAP = {
    "id": "shop2",
    "title": "Shop two",
    "personas": ["pro", "free", "evil"],
    "stages": [
        {"id": "look", "name": "Look", "steps": [{"id": "view", "name": "View", "touchpoints": [
            {"id": "site", "name": "Site", "channel": "web", "match": [{"event": "page_view"}]}]}]},
        {"id": "cart", "name": "Cart", "steps": [{"id": "add", "name": "Add", "touchpoints": [
            {"id": "basket", "name": "Basket", "channel": "web",
             "match": [{"event": "add_to_cart"}]}]}]},
        {"id": "buy", "name": "Buy", "steps": [{"id": "pay", "name": "Pay", "touchpoints": [
            {"id": "checkout", "name": "Checkout", "channel": "web",
             "match": [{"event": "purchase"}]},
            {"id": "survey", "name": "Survey", "channel": "web",
             "match": [{"event": "nps_answer"}]}]}]},
    ],
    "outcomes": [{"id": "converted", "name": "Converted", "did": {"event": "purchase"}}],
}  # fmt: skip

PERSONAS = [
    {"id": "pro", "name": "Pro Paula", "segment": {"field": "plan", "value": "pro"}},
    {"id": "free", "name": "Free Fred", "segment": {"field": "plan", "value": "free"}},
    {"id": "evil", "name": EVIL, "segment": {"field": "plan", "value": "evil"}},
]

NPS = {**dict.fromkeys(range(8), 10.0), 8: 8.0, 9: 8.0, 10: 3.0, 11: 3.0, 30: 0.0, 31: 10.0}


def _events() -> list[tuple[str, str, dt.datetime, float | None]]:
    """(customer, event, time, NPS score) of the shop (module docstring)."""
    rows: list[tuple[str, str, dt.datetime, float | None]] = []
    day = {n: dt.datetime(2024, 1, n, 10) for n in range(1, 10)}
    for i in range(40):
        rows.append((f"c{i:02d}", "page_view", day[2], None))
    for i in range(30):
        rows.append((f"c{i:02d}", "add_to_cart", day[3], None))
    for i in range(32, 36):
        rows.append((f"c{i:02d}", "newsletter_open", day[4], None))
    for i in [*range(20), 30, 31]:
        rows.append((f"c{i:02d}", "purchase", day[5], None))
    for i, score in NPS.items():
        rows.append((f"c{i:02d}", "nps_answer", day[6], score))
    return rows


def workspace_with_shop(root: Path) -> Path:
    """An events workspace holding the shop's events and customers."""
    ws = Workspace.init(root)
    con = ws.store.connect()
    for seq, (customer, name, at, score) in enumerate(_events(), start=1):
        con.execute(
            "INSERT INTO events (event_id, occurred_at, seq, source, event_name, channel,"
            " customer_id, score, score_type, ingest_run)"
            " VALUES (?, ?, ?, 'test', ?, 'web', ?, ?, ?, 'r1')",
            [f"e{seq}", at, seq, name, customer, score, "nps" if score is not None else None],
        )
    for i in range(40):
        con.execute(
            "INSERT INTO customers (customer_id, identified, n_identities, plan)"
            " VALUES (?, true, 1, ?)",
            [f"c{i:02d}", "pro" if i < 20 else "free"],
        )
    con.close()
    return ws.root


@dataclass
class Shop:
    """The app over the shop's workspace, a viewer's client and the map's URL."""

    app: FastAPI
    client: TestClient
    url: str


@pytest.fixture(scope="module")
def shop(world: World, tmp_path_factory: pytest.TempPathFactory) -> Shop:
    root = workspace_with_shop(tmp_path_factory.mktemp("analytics") / "ws")
    app = create_app(make_settings(root, "unused", secret_key="test-secret"), world.backend)
    with session_scope(world.backend.engine) as s:
        acme = service.get_workspace(s, "default")
        owner = s.get(sm.User, 1)
        assert owner is not None
        for doc in PERSONAS:
            service.create_persona(s, acme, Persona.model_validate(doc), owner)
        service.create_map(s, acme, owner, JourneyMap.model_validate(MAP))
    client, _ = sign_in(app, "viewer@acme.test")
    return Shop(app, client, f"/w/{world.ws}/m/shop2")


def _table(page: str, marker: str = '<table class="chart-data">') -> str:
    assert marker in page, page[:2000]
    return page.split(marker, 1)[1].split("</table>", 1)[0]


def _row(*cells: str) -> str:
    return "<tr>" + "".join(f"<td>{c}</td>" for c in cells)


# -- funnel and the map view's filter ---------------------------------------------------------


def test_funnel_for_everyone_and_per_persona(shop: Shop) -> None:
    rows = _table(shop.client.get(f"{shop.url}/analytics").text)
    assert _row("Look", "40", "100.0%") in rows
    assert _row("Cart", "30", "75.0%", "75.0%") in rows
    assert _row("Buy", "22", "55.0%", "73.3%") in rows  # 22 / 30
    pro = _table(shop.client.get(f"{shop.url}/analytics?persona=pro").text)
    assert _row("Cart", "20", "100.0%", "100.0%") in pro
    assert _row("Buy", "20", "100.0%", "100.0%") in pro
    free = _table(shop.client.get(f"{shop.url}/analytics?persona=free").text)
    assert _row("Cart", "10", "50.0%", "50.0%") in free
    assert _row("Buy", "2", "10.0%", "20.0%") in free


def test_time_window_includes_both_days(shop: Shop) -> None:
    # 2024-01-03 … 2024-01-05: the carts and the purchases, no page views.
    rows = _table(shop.client.get(f"{shop.url}/analytics?from=2024-01-03&to=2024-01-05").text)
    assert _row("Look", "0") in rows
    assert _row("Cart", "30") in rows
    assert _row("Buy", "22") in rows
    # Up to 2024-01-04 the purchases of the 5th are out.
    rows = _table(shop.client.get(f"{shop.url}/analytics?from=2024-01-03&to=2024-01-04").text)
    assert _row("Buy", "0") in rows


def test_map_view_recomputes_for_the_persona_and_window(shop: Shop) -> None:
    page = shop.client.get(shop.url).text
    assert "Live: 40 customers, 110 events, 2024-01-02 – 2024-01-06" in page
    pro = shop.client.get(f"{shop.url}?persona=pro").text
    assert "Live: 20 customers, 72 events" in pro  # 20 + 20 + 20 + 12 answers
    assert '<option value="pro" selected>Pro Paula</option>' in pro
    assert "Showing persona Pro Paula (pro), all days" in pro
    # The panel links keep the filter, and the panel's figures follow it.
    assert "panel?target=step:add&amp;persona=pro" in pro
    assert f'href="{shop.url}/analytics?persona=pro"' in pro  # the nav keeps it too
    free = shop.client.get(f"{shop.url}/panel?target=step:add&persona=free").text
    assert '<dd class="reached">10</dd>' in free
    window = shop.client.get(f"{shop.url}?from=2024-01-03&to=2024-01-04").text
    # 30 carts by c00–c29 and 4 newsletters by c32–c35.
    assert "Live: 34 customers, 34 events, 2024-01-03 – 2024-01-04" in window


def test_persona_without_customers_says_so(shop: Shop) -> None:
    page = shop.client.get(f"{shop.url}/analytics/flows?persona=evil").text
    assert "No events for persona" in page


# -- flows, planned vs actual ---------------------------------------------------------------


def test_flows_between_stages(shop: Shop) -> None:
    page = shop.client.get(f"{shop.url}/analytics/flows").text
    assert "Flows between stages" in page
    table = _table(page, '<table class="data" id="flows-table">')
    assert _row("Look", "Cart", "30", "30", "yes") in table
    assert _row("Cart", "Buy", "20", "20", "yes") in table
    assert _row("Look", "Buy", "2", "2", "no") in table
    assert "N = 40 journeys" in page
    pro = _table(
        shop.client.get(f"{shop.url}/analytics/flows?persona=pro").text,
        '<table class="data" id="flows-table">',
    )
    assert _row("Look", "Cart", "20", "20", "yes") in pro
    assert "<td>Look</td><td>Buy</td>" not in pro


def test_planned_vs_actual(shop: Shop) -> None:
    page = shop.client.get(f"{shop.url}/analytics/planned").text
    shares = _table(page)
    assert _row("journeys in the designed order (fitness)", "100.0%", "40", "40") in shares
    assert _row("journeys that go back (backtracks)", "0.0%", "0", "40") in shares
    assert _row("events no touchpoint matches (unbound)", "3.6%", "4", "110") in shares
    assert _row("skipped “Cart”", "5.0%", "2", "40") in shares
    skips = _table(page, 'id="planned-skips">')
    # 22 journeys reached Buy, beyond Cart; 2 of them (c30, c31) without Cart.
    assert _row("Cart", "2", "5.0%", "22", "9.1%") in skips
    undesigned = _table(page, 'id="planned-undesigned">')
    assert _row("stage", "Look", "Buy", "2", "2") in undesigned
    assert _row("step", "View", "Pay", "2", "2") in undesigned
    free = _table(shop.client.get(f"{shop.url}/analytics/planned?persona=free").text)
    # c30, c31 of the 20 free customers skip the cart.
    assert _row("skipped “Cart”", "10.0%", "2", "20") in free


# -- outcomes ----------------------------------------------------------------------------------


def test_outcome_comparison(shop: Shop) -> None:
    page = shop.client.get(f"{shop.url}/analytics/outcomes").text
    assert "Converted: 22 of 40 customers (base rate 55.0%)" in page
    # Basket: a = 20 converted with it, b = 2 without, c = 10 not converted with it, d = 8.
    a, b, c, d = 20, 2, 10, 8
    odds = (a + 0.5) * (d + 0.5) / ((b + 0.5) * (c + 0.5))
    half = 1.96 * math.sqrt(sum(1 / (x + 0.5) for x in (a, b, c, d)))
    low, high = math.exp(math.log(odds) - half), math.exp(math.log(odds) + half)
    lift = (a / (a + c)) / (22 / 40)
    table = _table(page, '<table class="data" id="outcome-table">')
    basket = table.split("<td>touchpoint</td><td>basket</td>", 1)[1].split("</tr>", 1)[0]
    assert basket.startswith(
        f"<td>30</td><td>20</td><td>66.7%</td><td>20.0%</td><td>{odds:.2f}</td>"
        f"<td>{low:.2f} … {high:.2f}</td><td>{lift:.2f}</td>"
    ), basket
    assert odds == pytest.approx(6.638, abs=1e-3)
    assert lift == pytest.approx(1.2121, abs=1e-4)
    checkout = table.split("<td>touchpoint</td><td>checkout</td>", 1)[1].split("</tr>", 1)[0]
    assert checkout.endswith("<td>too rare</td>")  # 22 customers < 25
    forest = _table(page)
    assert forest.index("touchpoint: basket") < forest.index("touchpoint: site")


def test_outcome_for_a_persona_changes_the_numbers(shop: Shop) -> None:
    page = shop.client.get(f"{shop.url}/analytics/outcomes?outcome=converted&persona=pro").text
    assert "Converted: 20 of 20 customers (base rate 100.0%)" in page
    assert "No touchpoint or channel was used by enough customers to test" in page


# -- survey ----------------------------------------------------------------------------------


def _nps(scores: list[float]) -> tuple[float, float, float]:
    n = len(scores)
    p = sum(s >= 9 for s in scores) / n
    d = sum(s <= 6 for s in scores) / n
    value = 100 * (p - d)
    se = 100 * math.sqrt((p + d - (p - d) ** 2) / n)
    return value, value - 1.96 * se, value + 1.96 * se


def test_survey_by_stage_and_persona(shop: Shop) -> None:
    page = shop.client.get(f"{shop.url}/analytics/survey").text
    value, low, high = _nps(list(NPS.values()))
    assert value == pytest.approx(100 * 6 / 14)  # 9 promoters, 3 detractors of 14
    assert _row("Buy", "NPS", f"{value:.1f}", f"{low:.1f} … {high:.1f}", "14") in _table(page)
    by_persona = _table(shop.client.get(f"{shop.url}/analytics/survey?by=persona").text)
    pro_value, pro_low, pro_high = _nps([NPS[i] for i in range(12)])
    assert pro_value == pytest.approx(50.0)
    assert _row("Pro Paula", "NPS", "50.0", f"{pro_low:.1f} … {pro_high:.1f}", "12") in by_persona
    assert _row("Free Fred", "NPS", "too few answers", "—", "2") in by_persona
    filtered = _table(shop.client.get(f"{shop.url}/analytics/survey?by=stage&persona=pro").text)
    assert _row("Buy", "NPS", "50.0") in filtered


# -- bad input, no events, injection, cache ---------------------------------------------------


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("persona=nobody", "persona"),
        ("from=2024-13-01", "from"),
        ("to=yesterday", "to"),
        ("from=2024-02-01&to=2024-01-01", "to"),
    ],
)
def test_bad_filter_is_422_naming_the_field(shop: Shop, query: str, field: str) -> None:
    for path in ("", "/panel?target=stage:look&", "/analytics", "/analytics/flows",
                 "/analytics/planned", "/analytics/outcomes", "/analytics/survey"):  # fmt: skip
        sep = "" if path.endswith("&") else "?"
        answer = shop.client.get(f"{shop.url}{path}{sep}{query}")
        assert answer.status_code == 422, (path, query, answer.status_code)
        assert f"<b>{field}</b>:" in answer.text
    api = shop.client.get(f"{shop.url}/analytics?{query}", headers={"accept": "application/json"})
    assert api.status_code == 422
    assert api.json()["field"] == field


def test_bad_outcome_and_grouping_are_422(shop: Shop) -> None:
    answer = shop.client.get(f"{shop.url}/analytics/outcomes?outcome=refunded")
    assert answer.status_code == 422
    assert "<b>outcome</b>:" in answer.text
    answer = shop.client.get(f"{shop.url}/analytics/survey?by=week")
    assert answer.status_code == 422
    assert "<b>by</b>:" in answer.text


def test_without_events_every_page_says_so(world: World) -> None:
    client, _ = world.clients["viewer"]
    for tab in ("", "/flows", "/planned", "/outcomes", "/survey"):
        page = client.get(f"/w/{world.ws}/m/shop/analytics{tab}")
        assert page.status_code == 200
        assert "No events in this workspace" in page.text or "defines no outcomes" in page.text


def test_persona_names_and_ids_are_escaped(shop: Shop) -> None:
    page = shop.client.get(f"{shop.url}?persona=evil").text
    assert EVIL not in page
    assert "&lt;img src=x onerror=" in page
    for path in ("/analytics?persona=evil", "/analytics/survey?by=persona"):
        assert EVIL not in shop.client.get(shop.url + path).text
    payload = '"><script>alert(1)</script>'
    answer = shop.client.get(shop.url + "/analytics/flows", params={"persona": payload})
    assert answer.status_code == 422
    assert "<script>alert(1)" not in answer.text
    answer = shop.client.get(shop.url + "/analytics/outcomes", params={"outcome": payload})
    assert answer.status_code == 422
    assert "<script>alert(1)" not in answer.text


def test_pages_are_cached_per_filter(shop: Shop, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    original = pages_analytics.flows_view

    def counting(bound: object, journey: JourneyMap) -> object:
        calls.append(journey.id)
        return original(bound, journey)  # type: ignore[arg-type]

    monkeypatch.setattr(pages_analytics, "flows_view", counting)
    url = f"{shop.url}/analytics/flows?from=2024-01-01"
    first = shop.client.get(url).text
    assert shop.client.get(url).text == first
    assert len(calls) == 1  # the second view is a cache hit
    shop.client.get(f"{shop.url}/analytics/flows?from=2024-01-02")
    assert len(calls) == 2  # another window is another entry


def test_map_view_scores_each_distinct_text_once(
    shop: Shop, world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from journeylens.analytics import emotion

    root = Workspace.init(tmp_path / "texts")
    con = root.store.connect()
    text = "Great, friendly and fast service!"
    for seq, customer in enumerate(("a", "b"), start=1):
        con.execute(
            "INSERT INTO events (event_id, occurred_at, seq, source, event_name, customer_id,"
            " text, ingest_run) VALUES (?, ?, ?, 'test', 'page_view', ?, ?, 'r1')",
            [f"t{seq}", dt.datetime(2024, 1, 1, seq), seq, customer, text],
        )
    con.close()
    scored: list[str] = []
    original = emotion.vader_compound

    def counting(texts: object) -> list[float]:
        items = list(texts)  # type: ignore[call-overload]
        scored.extend(items)
        return original(items)

    monkeypatch.setattr(emotion, "vader_compound", counting)
    app = create_app(make_settings(root.root, "unused", secret_key="test-secret"), world.backend)
    client, _ = sign_in(app, "viewer@acme.test")
    panel = client.get(f"/w/{world.ws}/m/shop2/panel?target=step:view").text
    # One distinct text scored once (not once per row and level): the with_sentiment path.
    assert scored == [text]
    signal = 2 * original([text])[0]  # measured emotion: VADER compound × 2
    assert f"<dd>{signal:.2f} (n=2)</dd>" in panel


def test_an_analytics_error_is_a_message_not_a_500(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    from journeylens.analytics import AnalyticsError

    def failing(bound: object, journey: JourneyMap) -> object:
        raise AnalyticsError("planned vs actual needs bound events with column(s) stage_id")

    monkeypatch.setattr(pages_analytics, "planned_view", failing)
    answer = shop.client.get(f"{shop.url}/analytics/planned?from=2024-01-06")
    assert answer.status_code == 200
    assert "needs bound events with column(s) stage_id" in answer.text
