"""Share links through the API (create with an expiry, list, revoke; the link opens the map
signed out until revoked or expired) and the HTML report export for the map page's filter
(persona / window), as the PNG / PDF exports already were."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from tests.web.conftest import World, browser, sign_in
from tests.web.test_analytics_pages import MAP, PERSONAS, workspace_with_shop

from journeylens.model import JourneyMap, Persona
from journeylens.store import models as sm
from journeylens.store import service
from journeylens.store.db import session_scope
from journeylens.web.app import create_app
from journeylens.web.settings import make_settings


def test_create_list_and_revoke_share_links(world: World) -> None:
    client, token = world.clients["editor"]
    url = f"/api/v1/workspaces/{world.ws}/maps/shop/shares"
    headers = {"X-CSRF-Token": token}
    before = datetime.now(UTC)
    week = client.post(url, json={"expires_in_days": 7}, headers=headers)
    assert week.status_code == 201, week.text
    link = week.json()
    assert link["state"] == "live"
    assert link["map_id"] == "shop"
    expires = datetime.fromisoformat(link["expires_at"])
    assert before + timedelta(days=7) <= expires <= datetime.now(UTC) + timedelta(days=7)
    assert link["url"].endswith(f"/s/{link['token']}")
    forever = client.post(url, json={}, headers=headers).json()
    assert forever["expires_at"] is None
    dated = client.post(url, json={"expires_at": "2999-01-01T00:00:00"}, headers=headers).json()
    assert dated["expires_at"] == "2999-01-01T00:00:00Z"  # no zone given: UTC

    signed_out = browser(world.app)
    assert signed_out.get(f"/s/{link['token']}").status_code == 200
    listed = client.get(url).json()
    mine = {s["id"]: s for s in listed}
    assert {link["id"], forever["id"], dated["id"]} <= set(mine)
    assert "token" not in mine[link["id"]]  # the secret is shown only once

    revoked = client.post(f"{url}/{link['id']}/revoke", headers=headers)
    assert revoked.status_code == 200
    assert revoked.json()["state"] == "revoked"
    assert signed_out.get(f"/s/{link['token']}").status_code == 404
    assert {s["id"]: s["state"] for s in client.get(url).json()}[link["id"]] == "revoked"
    unknown = client.post(f"{url}/999999/revoke", headers=headers)
    assert unknown.status_code == 404
    assert unknown.json()["field"] == "link_id"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"expires_in_days": 0}, "expires_in_days"),
        ({"expires_in_days": "soon"}, "expires_in_days"),
        ({"expires_at": "2001-01-01T00:00:00Z"}, "expires_at"),
        ({"expires_at": "not a time"}, "expires_at"),
        ({"expires_in_days": 7, "expires_at": "2999-01-01T00:00:00Z"}, "expires_at"),
    ],
)
def test_a_bad_expiry_is_422_naming_the_field(
    world: World, body: dict[str, object], field: str
) -> None:
    client, token = world.clients["editor"]
    url = f"/api/v1/workspaces/{world.ws}/maps/shop/shares"
    answer = client.post(url, json=body, headers={"X-CSRF-Token": token})
    assert answer.status_code == 422, answer.text
    issues = answer.json().get("issues") or [answer.json()]
    assert issues[0]["field"] == field
    assert issues[0]["reason"]


def test_the_report_export_follows_the_persona_and_window(world: World, tmp_path: Path) -> None:
    root = workspace_with_shop(tmp_path / "ws")
    app = create_app(make_settings(root, "unused", secret_key="test-secret"), world.backend)
    with session_scope(world.backend.engine) as s:
        acme = service.get_workspace(s, "default")
        owner = s.get(sm.User, 1)
        assert owner is not None
        for doc in PERSONAS:
            service.create_persona(s, acme, Persona.model_validate(doc), owner)
        service.create_map(s, acme, owner, JourneyMap.model_validate({**MAP, "id": "rep"}))
    client, _ = sign_in(app, "viewer@acme.test")
    url = f"/w/{world.ws}/m/rep/report.html"
    everyone = client.get(url)
    assert everyone.status_code == 200, everyone.text[:300]
    assert "<strong>40</strong>customers in scope" in everyone.text.replace("\n", "")
    pro = client.get(url + "?persona=pro")
    assert pro.status_code == 200
    text = pro.text.replace("\n", "")
    assert "<strong>20</strong>customers in scope" in text  # Pro Paula's 20 customers
    assert "persona pro" in text
    window = client.get(url + "?from=2024-01-03&to=2024-01-04").text.replace("\n", "")
    assert "<strong>34</strong>customers in scope" in window  # 30 carts, 4 newsletters
    empty = client.get(url + "?persona=evil")
    assert empty.status_code == 409
    assert "none for persona" in empty.text
    bad = client.get(url + "?from=never", headers={"accept": "application/json"})
    assert bad.status_code == 422
    assert bad.json()["field"] == "from"
