"""The read path's caches never serve a stale or foreign map (SQLite and PostgreSQL).

The web app keeps parsed map versions (store: by content; web adapter: by version row)
and rendered SVGs (by version and its creation time). These tests change the map in every
way the app allows — save, restore, delete and create again under the same id, a second
workspace with the same map id — and check each read shows the new content at once, and
that access is still checked on every cached read.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient
from tests.web.conftest import BACKENDS, PASSWORD, drop_database, new_database, sign_in

from journeylens.store import models as sm
from journeylens.store import service
from journeylens.store.db import session_scope
from journeylens.web.app import create_app
from journeylens.web.backend import Forbidden, User
from journeylens.web.settings import make_settings
from journeylens.web.store_backend import StoreBackend


@dataclass
class Shop:
    """Workspace ``acme`` (owner, viewer; map ``shop`` "Shop") and workspace ``other``
    (owner ``otto``; its own map ``shop`` "Other shop")."""

    app: FastAPI
    backend: StoreBackend
    owner: User
    viewer: User
    otto: User
    ws: int
    other_ws: int


@pytest.fixture(params=BACKENDS)
def shop(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Shop]:
    saved = service.PASSWORD_HASHER
    service.PASSWORD_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    url, handle = new_database(request.param, tmp_path)
    backend = StoreBackend.connect(url)
    app = create_app(make_settings(tmp_path, url, secret_key="test-secret"), backend)
    try:
        owner = backend.sign_up("owner@acme.test", PASSWORD, "Olive Owner")
        viewer = backend.sign_up("viewer@acme.test", PASSWORD, "Vic Viewer")
        otto = backend.sign_up("otto@other.test", PASSWORD, "Otto Other")
        with session_scope(backend.engine) as s:
            acme = service.get_workspace(s, "default")
            owner_row = s.get(sm.User, owner.id)
            otto_row = s.get(sm.User, otto.id)
            viewer_row = s.get(sm.User, viewer.id)
            assert owner_row
            assert otto_row
            assert viewer_row
            service.add_member(s, acme, viewer_row, sm.Role.VIEWER)
            other = service.create_workspace(s, "other", "Other", otto_row)
            service.create_map(
                s, acme, owner_row, template="five-stage", map_id="shop", title="Shop"
            )
            service.create_map(
                s, other, otto_row, template="five-stage", map_id="shop", title="Other shop"
            )
            ids = (acme.id, other.id)
        yield Shop(app, backend, owner, viewer, otto, *ids)
    finally:
        service.PASSWORD_HASHER = saved
        backend.engine.dispose()
        drop_database(handle)


def _retitle(shop: Shop, title: str) -> int:
    """Save the map with a new title as the owner; the new version number."""
    current = shop.backend.get_map(shop.owner, shop.ws, "shop")
    changed = current.journey.model_copy(update={"title": title})
    return shop.backend.save_map(shop.owner, shop.ws, changed, current.version).version


def _svg(client: TestClient, ws: int, etag: str | None = None) -> tuple[int, str, str]:
    headers = {"If-None-Match": etag} if etag else {}
    answer = client.get(f"/api/v1/workspaces/{ws}/maps/shop/svg", headers=headers)
    return answer.status_code, answer.headers.get("etag", ""), answer.text


def test_a_version_is_parsed_once_and_a_new_version_is_seen_at_once(shop: Shop) -> None:
    first = shop.backend.get_map(shop.viewer, shop.ws, "shop")
    again = shop.backend.get_map(shop.viewer, shop.ws, "shop")
    assert again.journey is first.journey  # cached: the same parsed map
    assert (first.version, first.journey.title) == (1, "Shop")
    assert _retitle(shop, "Shop v2") == 2
    now = shop.backend.get_map(shop.viewer, shop.ws, "shop")
    assert (now.version, now.journey.title) == (2, "Shop v2")
    old = shop.backend.get_version(shop.viewer, shop.ws, "shop", 1)
    assert (old.version, old.journey.title) == (1, "Shop")


def test_restore_is_seen_at_once_as_a_new_version(shop: Shop) -> None:
    _retitle(shop, "Shop v2")
    assert shop.backend.get_map(shop.viewer, shop.ws, "shop").journey.title == "Shop v2"
    shop.backend.restore(shop.owner, shop.ws, "shop", 1)
    now = shop.backend.get_map(shop.viewer, shop.ws, "shop")
    assert (now.version, now.journey.title) == (3, "Shop")


def test_a_map_deleted_and_created_again_is_not_served_from_a_cache(shop: Shop) -> None:
    client, _csrf = sign_in(shop.app, "viewer@acme.test")
    assert "<h1>Shop</h1>" in client.get(f"/w/{shop.ws}/m/shop").text
    status, etag, svg = _svg(client, shop.ws)
    assert status == 200
    assert ">Shop<" in svg
    assert shop.backend.get_map(shop.viewer, shop.ws, "shop").journey.title == "Shop"
    with session_scope(shop.backend.engine) as s:
        acme = service.get_workspace(s, "default")
        owner_row = s.get(sm.User, shop.owner.id)
        assert owner_row is not None
        service.delete_map(s, acme, "shop")
        again = service.create_map(
            s, acme, owner_row, template="five-stage", map_id="shop", title="Shop again"
        )
        assert again.version == 1  # the same id and version number as the deleted map
    stored = shop.backend.get_map(shop.viewer, shop.ws, "shop")
    assert (stored.version, stored.journey.title) == (1, "Shop again")
    page = client.get(f"/w/{shop.ws}/m/shop").text
    assert "<h1>Shop again</h1>" in page
    assert ">Shop again<" in page
    status, new_etag, svg = _svg(client, shop.ws, etag)
    assert status == 200
    assert new_etag != etag
    assert ">Shop again<" in svg


def test_svg_etag_answers_304_until_the_map_changes(shop: Shop) -> None:
    client, _csrf = sign_in(shop.app, "viewer@acme.test")
    status, etag, svg = _svg(client, shop.ws)
    assert status == 200
    assert etag
    assert "<svg" in svg
    status, same, body = _svg(client, shop.ws, etag)
    assert (status, same, body) == (304, etag, "")
    _retitle(shop, "Shop v2")
    status, new_etag, svg = _svg(client, shop.ws, etag)
    assert status == 200
    assert new_etag != etag
    assert ">Shop v2<" in svg


def test_two_workspaces_with_the_same_map_id_never_share_a_cache_entry(shop: Shop) -> None:
    mine = shop.backend.get_map(shop.owner, shop.ws, "shop")
    theirs = shop.backend.get_map(shop.otto, shop.other_ws, "shop")
    assert (mine.version, theirs.version) == (1, 1)
    assert (mine.journey.title, theirs.journey.title) == ("Shop", "Other shop")
    olive, _ = sign_in(shop.app, "owner@acme.test")
    otto, _ = sign_in(shop.app, "otto@other.test")
    assert ">Shop<" in _svg(olive, shop.ws)[2]
    assert ">Other shop<" in _svg(otto, shop.other_ws)[2]
    assert "<h1>Other shop</h1>" in otto.get(f"/w/{shop.other_ws}/m/shop").text
    assert _svg(olive, shop.other_ws)[0] == 403  # a cached map is still access-checked


def test_access_is_checked_on_every_cached_read(shop: Shop) -> None:
    shop.backend.get_map(shop.viewer, shop.ws, "shop")  # now cached
    with pytest.raises(Forbidden):
        shop.backend.get_map(shop.otto, shop.ws, "shop")
    with session_scope(shop.backend.engine) as s:
        acme = service.get_workspace(s, "default")
        viewer_row = s.get(sm.User, shop.viewer.id)
        assert viewer_row is not None
        service.remove_member(s, acme, viewer_row)
    with pytest.raises(Forbidden):
        shop.backend.get_map(shop.viewer, shop.ws, "shop")
    with session_scope(shop.backend.engine) as s:
        owner_row = s.get(sm.User, shop.owner.id)
        assert owner_row is not None
        service.set_user_disabled(s, owner_row)
    with pytest.raises(Forbidden):
        shop.backend.get_map(shop.owner, shop.ws, "shop")


def test_readers_never_see_a_version_with_another_versions_content(shop: Shop) -> None:
    """Readers in threads while a writer saves: every answer's content matches its version
    number, and no reader ever goes back to an older version."""
    problems: list[str] = []
    done = threading.Event()

    def read() -> None:
        last = 0
        while not done.is_set():
            stored = shop.backend.get_map(shop.viewer, shop.ws, "shop")
            expected = "Shop" if stored.version == 1 else f"Shop v{stored.version}"
            if stored.journey.title != expected or stored.version < last:
                problems.append(f"version {stored.version}: {stored.journey.title!r} after {last}")
            last = stored.version

    readers = [threading.Thread(target=read) for _ in range(3)]
    for t in readers:
        t.start()
    try:
        for n in range(2, 12):
            assert _retitle(shop, f"Shop v{n}") == n
    finally:
        done.set()
        for t in readers:
            t.join()
    assert problems == []
    assert shop.backend.get_map(shop.viewer, shop.ws, "shop").version == 11


def test_a_new_version_is_rendered_once_however_many_readers_miss_at_once() -> None:
    import time

    from journeylens.web.pages import RenderCache

    cache = RenderCache()
    made: list[int] = []
    arrived = threading.Semaphore(0)

    def make() -> tuple[str, None]:
        made.append(1)
        for _ in range(8):  # hold the first render until every reader has asked
            arrived.acquire(timeout=5)
        time.sleep(0.2)  # and is waiting inside get_or_make
        return ("<svg/>", None)

    answers: list[str] = []

    def read() -> None:
        arrived.release()
        answers.append(cache.get_or_make(("k",), make)[0])

    readers = [threading.Thread(target=read) for _ in range(8)]
    for t in readers:
        t.start()
    for t in readers:
        t.join()
    assert made == [1]
    assert answers == ["<svg/>"] * 8
    assert cache.get_or_make(("k",), make) == ("<svg/>", None)  # a hit: nothing made
    assert made == [1]


def test_a_new_version_is_parsed_once_however_many_readers_miss_at_once(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Right after a save every reader asks for the new version at once: one parses it,
    the others wait for that parse and get the same map."""
    import time

    from journeylens.web import store_backend

    assert _retitle(shop, "Shop v2") == 2
    parses: list[int] = []
    arrived = threading.Semaphore(0)
    real_get_map = store_backend.sv.get_map

    def counting_get_map(*args: object, **kwargs: object) -> service.MapSnapshot:
        parses.append(1)
        for _ in range(6):  # hold the first parse until every reader has asked
            arrived.acquire(timeout=5)
        time.sleep(0.2)  # and is waiting for it
        return real_get_map(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(store_backend.sv, "get_map", counting_get_map)
    answers: list[tuple[int, str]] = []

    def read() -> None:
        arrived.release()
        got = shop.backend.get_map(shop.viewer, shop.ws, "shop")
        answers.append((got.version, got.journey.title))

    readers = [threading.Thread(target=read) for _ in range(6)]
    for t in readers:
        t.start()
    for t in readers:
        t.join()
    assert parses == [1]
    assert answers == [(2, "Shop v2")] * 6


def test_an_api_save_draws_the_new_version_before_its_readers_ask(shop: Shop) -> None:
    from journeylens.web.pages import RenderCache
    from journeylens.web.svg_cache import version_key

    client, token = sign_in(shop.app, "owner@acme.test")
    current = client.get(f"/api/v1/workspaces/{shop.ws}/maps/shop").json()
    doc = current["map"]
    doc["title"] = "Shop v2"
    url = f"/api/v1/workspaces/{shop.ws}/maps/shop?base_version={current['version']}"
    assert client.put(url, json=doc, headers={"X-CSRF-Token": token}).status_code == 200
    stored = shop.backend.get_map(shop.owner, shop.ws, "shop")
    assert stored.version == 2
    cache: RenderCache = shop.app.state.render_cache
    drawn = cache.get(("designed", shop.ws, *version_key(stored)))
    assert drawn is not None  # drawn after the answer, before any reader asked
    assert ">Shop v2<" in drawn[0]
    assert client.get(f"/api/v1/workspaces/{shop.ws}/maps/shop/svg").text == drawn[0]
