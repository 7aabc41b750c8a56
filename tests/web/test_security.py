"""Sessions, CSRF, API tokens, login rate limiting and escaping of user text."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from tests.web.conftest import PASSWORD, World, browser, csrf_of, sign_in

PAYLOADS = ("<script>alert(1)</script>", '"><svg onload=alert(1)>')


def test_session_cookie_is_httponly_and_samesite(world: World) -> None:
    client = browser(world.app)
    header = client.get("/signin").headers["set-cookie"]
    assert "HttpOnly" in header
    assert "SameSite=lax" in header
    assert "Secure" not in header  # only when settings.cookie_secure


def test_secure_flag_when_configured(world: World) -> None:
    from journeylens.web.app import create_app
    from journeylens.web.settings import WebSettings

    app = create_app(
        WebSettings(database_url="unused", secret_key="k", cookie_secure=True), world.backend
    )
    assert "Secure" in TestClient(app).get("/signin").headers["set-cookie"]


def test_signin_starts_a_new_session_with_a_new_csrf_token(world: World) -> None:
    client = browser(world.app)
    before = csrf_of(client.get("/signin").text)
    client.post(
        "/signin", data={"csrf_token": before, "email": "viewer@acme.test", "password": PASSWORD}
    )
    after = csrf_of(client.get("/workspaces").text)
    assert after != before


@pytest.mark.parametrize("token", [None, "wrong"])
def test_state_changing_form_without_the_csrf_token_is_rejected(
    world: World, token: str | None
) -> None:
    client, _ = world.clients["editor"]
    data = {"target": "map", "body": "forged"}
    if token is not None:
        data["csrf_token"] = token
    answer = client.post(f"/w/{world.ws}/m/shop/comments", data=data)
    assert answer.status_code == 403
    assert "CSRF" in answer.text
    owner = world.backend.user(1)
    assert owner is not None
    assert all(c.body != "forged" for c in world.backend.comments(owner, world.ws, "shop"))


def test_api_call_with_cookie_but_without_csrf_header_is_rejected(world: World) -> None:
    client, _ = world.clients["editor"]
    answer = client.post(
        f"/api/v1/workspaces/{world.ws}/maps/shop/comments", json={"target": "map", "body": "x"}
    )
    assert answer.status_code == 403
    assert answer.json()["field"] == "csrf_token"


def test_signin_form_needs_csrf_too(world: World) -> None:
    client = browser(world.app)
    answer = client.post("/signin", data={"email": "viewer@acme.test", "password": PASSWORD})
    assert answer.status_code == 403


def test_api_token_works_without_cookie_or_csrf_and_only_in_its_workspace(world: World) -> None:
    client, token = world.clients["editor"]
    made = client.post(
        "/api/v1/tokens",
        json={"name": "script", "workspace_id": world.ws, "scopes": ["read", "write"]},
        headers={"X-CSRF-Token": token},
    )
    assert made.status_code == 201
    secret = made.json()["token"]
    script = TestClient(world.app)
    bearer = {"Authorization": f"Bearer {secret}"}
    listed = script.get(f"/api/v1/workspaces/{world.ws}/maps", headers=bearer)
    assert listed.status_code == 200
    assert "shop" in [m["map_id"] for m in listed.json()]
    posted = script.post(
        f"/api/v1/workspaces/{world.ws}/maps/shop/comments",
        json={"target": "map", "body": "from a script"},
        headers=bearer,
    )
    assert posted.status_code == 201
    assert posted.json()["author"] == "Editor"
    assert (
        script.get(f"/api/v1/workspaces/{world.other_ws}/maps", headers=bearer).status_code == 403
    )


def test_read_only_token_cannot_write(world: World) -> None:
    client, token = world.clients["owner"]
    secret = client.post(
        "/api/v1/tokens",
        json={"name": "ro", "workspace_id": world.ws, "scopes": ["read"]},
        headers={"X-CSRF-Token": token},
    ).json()["token"]
    answer = TestClient(world.app).post(
        f"/api/v1/workspaces/{world.ws}/maps/shop/comments",
        json={"target": "map", "body": "nope"},
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert answer.status_code == 403
    assert "write" in answer.json()["reason"]


def test_unknown_bearer_token_is_401(world: World) -> None:
    answer = TestClient(world.app).get(
        "/api/v1/workspaces", headers={"Authorization": "Bearer jl_nonsense"}
    )
    assert answer.status_code == 401
    assert answer.json() == {
        "error": "Unauthorized",
        "field": "Authorization",
        "reason": "unknown or revoked API token",
    }


def test_forged_session_cookie_is_anonymous(world: World) -> None:
    client = TestClient(world.app, cookies={"jl_session": "forged.value"}, follow_redirects=False)
    assert client.get("/api/v1/workspaces").status_code == 401


def test_wrong_password_is_401_then_rate_limited(world: World) -> None:
    client = browser(world.app)
    token = csrf_of(client.get("/signin").text)
    codes = [
        client.post(
            "/signin",
            data={"csrf_token": token, "email": "commenter@acme.test", "password": "bad-guess"},
            headers={"accept": "application/json"},
        ).status_code
        for _ in range(6)
    ]
    assert codes == [401, 401, 401, 401, 401, 429]
    # Even the right password is refused while locked out.
    right = client.post(
        "/signin", data={"csrf_token": token, "email": "commenter@acme.test", "password": PASSWORD}
    )
    assert right.status_code == 429


def test_user_text_is_escaped_in_every_page(world: World) -> None:
    client, token = world.clients["owner"]
    ws = world.ws
    bad_script, bad_svg = PAYLOADS
    made = client.post(
        f"/w/{ws}/maps",
        data={"csrf_token": token, "template": "five-stage", "map_id": "xss", "title": bad_script},
    )
    assert made.status_code == 303
    version = client.get(f"/api/v1/workspaces/{ws}/maps/xss").json()["version"]
    saved = client.post(
        f"/w/{ws}/m/xss/edit/step",
        data={
            "csrf_token": token,
            "base_version": version,
            "step_id": "see-ad",
            "name": bad_svg,
            "description": bad_script,
            "actions": bad_svg,
            "thoughts": bad_script,
            "emotion": "1",
        },
    )
    assert saved.status_code == 303
    renamed = client.post(
        f"/w/{ws}/m/xss/edit/stage",
        data={
            "csrf_token": token,
            "base_version": version + 1,
            "action": "rename",
            "stage_id": "awareness",
            "name": bad_svg,
        },
    )
    assert renamed.status_code == 303
    commented = client.post(
        f"/w/{ws}/m/xss/comments",
        data={"csrf_token": token, "target": "step:see-ad", "body": bad_svg},
    )
    assert commented.status_code == 303
    pages = [
        f"/w/{ws}",
        f"/w/{ws}/m/xss",
        f"/w/{ws}/m/xss/edit",
        f"/w/{ws}/m/xss/versions",
        f"/w/{ws}/m/xss/panel?target=step:see-ad",
        f"/w/{ws}/m/xss/panel?target={bad_svg}",
        f"/w/{ws}/m/xss/export.svg",
    ]
    for page in pages:
        text = client.get(page).text
        assert "<script>alert" not in text, page
        assert "<svg onload" not in text, page
        assert '"><svg' not in text, page  # the quote never closes an attribute
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in client.get(f"/w/{ws}/m/xss").text


def test_signup_name_is_escaped(world: World) -> None:
    client = browser(world.app)
    token = csrf_of(client.get("/signup").text)
    answer = client.post(
        "/signup",
        data={
            "csrf_token": token,
            "email": "x@evil.test",
            "password": PASSWORD,
            "name": PAYLOADS[0],
        },
    )
    assert answer.status_code == 303
    page = client.get("/workspaces").text
    assert "<script>alert" not in page
    assert "&lt;script&gt;" in page


def test_second_signup_gets_no_workspace(world: World) -> None:
    client, _ = sign_in(world.app, "x@evil.test")
    assert client.get("/api/v1/workspaces").json() == []
