"""Server plumbing: the session middleware's headers and cookie, the worker factory of
``serve --workers N``, the handler-thread setting."""

from __future__ import annotations

from pathlib import Path

import anyio.to_thread
import pytest
from fastapi.testclient import TestClient
from tests.web.conftest import World, browser, sign_in

from journeylens.cli import serve
from journeylens.web.server import THREADS_ENV
from journeylens.web.session import COOKIE_NAME
from journeylens.web.session_middleware import SECURITY_HEADERS


def test_every_answer_carries_the_security_headers(world: World) -> None:
    client, _csrf = sign_in(world.app, "viewer@acme.test")
    answers = [
        client.get(f"/w/{world.ws}/m/shop"),  # a page
        client.get(f"/w/{world.ws}/m/nope"),  # an error page (404)
        client.get(f"/api/v1/workspaces/{world.other_ws}/maps/secret"),  # a JSON error (403)
    ]
    assert [a.status_code for a in answers] == [200, 404, 403]
    for answer in answers:
        for name, value in SECURITY_HEADERS.items():
            assert answer.headers[name] == value


def test_the_cookie_is_sent_only_when_the_session_changes(world: World) -> None:
    client = browser(world.app)
    first = client.get("/signin")
    assert COOKIE_NAME in first.headers["set-cookie"]  # a new visitor gets a session
    again = client.get("/signin")
    assert "set-cookie" not in again.headers  # same session: no cookie again


def test_the_worker_factory_builds_the_app_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'w.db'}"
    monkeypatch.setenv(serve._ENV_DATABASE, url)
    monkeypatch.setenv(serve._ENV_WORKSPACE, str(tmp_path))
    monkeypatch.setenv(serve._ENV_SECRET, "shared-secret")
    monkeypatch.setenv(serve._ENV_SECURE, "1")
    app = serve.app_from_env()
    assert app.state.settings.database_url == url
    assert app.state.settings.secret_key == "shared-secret"  # every worker signs alike
    assert app.state.settings.cookie_secure is True
    assert TestClient(app).get("/signin").status_code == 200
    app.state.backend.engine.dispose()


def test_the_handler_threads_follow_the_setting(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(THREADS_ENV, "3")
    seen: list[float] = []

    @world.app.get("/_test/threads")
    async def threads() -> dict[str, float]:
        seen.append(anyio.to_thread.current_default_thread_limiter().total_tokens)
        return {}

    with TestClient(world.app) as client:  # runs the lifespan, which sizes the pool
        assert client.get("/_test/threads").status_code == 200
    assert seen == [3]
