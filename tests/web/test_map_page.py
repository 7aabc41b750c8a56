"""The map view reads the store in ONE transaction, with the same answers as before.

The map page and its side panel used five backend calls (the session's user, the map, the
personas, the comments, the role), each its own transaction. ``Backend.map_page`` reads
them together; these tests pin the transaction count and that every refusal is what the
separate checks said: 401 signed out / deleted / disabled, 403 for a non-member, 404 for
an unknown map; and that the cached element list follows each new version and filter.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import event
from tests.web.conftest import BACKENDS, PASSWORD, drop_database, new_database, sign_in

from journeylens.store import models as sm
from journeylens.store import service
from journeylens.store.db import session_scope
from journeylens.web.app import create_app
from journeylens.web.settings import make_settings
from journeylens.web.store_backend import StoreBackend


@pytest.fixture(params=BACKENDS)
def site(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[FastAPI, int]]:
    """The app with workspace ``default`` (owner Olive, viewer Vic, map ``shop``) and
    an outsider (Otto, own workspace); the default workspace's id."""
    saved = service.PASSWORD_HASHER
    service.PASSWORD_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    url, handle = new_database(request.param, tmp_path)
    backend = StoreBackend.connect(url)
    app = create_app(make_settings(tmp_path, url, secret_key="test-secret"), backend)
    try:
        owner = backend.sign_up("owner@acme.test", PASSWORD, "Olive Owner")
        backend.sign_up("viewer@acme.test", PASSWORD, "Vic Viewer")
        backend.sign_up("otto@other.test", PASSWORD, "Otto Other")
        with session_scope(backend.engine) as s:
            acme = service.get_workspace(s, "default")
            viewer = service.get_user_by_email(s, "viewer@acme.test")
            service.add_member(s, acme, viewer, sm.Role.VIEWER)
            owner_row = s.get(sm.User, owner.id)
            assert owner_row is not None
            service.create_map(
                s, acme, owner_row, template="five-stage", map_id="shop", title="Shop"
            )
            ws = acme.id
        yield app, ws
    finally:
        service.PASSWORD_HASHER = saved
        backend.engine.dispose()
        drop_database(handle)


@contextmanager
def transactions(app: FastAPI) -> Iterator[list[int]]:
    """Count the database transactions begun inside the block (one item per BEGIN)."""
    engine = app.state.backend.engine
    begun: list[int] = []

    def on_begin(_conn: object) -> None:
        begun.append(1)

    event.listen(engine, "begin", on_begin)
    try:
        yield begun
    finally:
        event.remove(engine, "begin", on_begin)


def test_a_map_page_is_one_transaction(site: tuple[FastAPI, int]) -> None:
    app, ws = site
    client, _csrf = sign_in(app, "viewer@acme.test")
    assert client.get(f"/w/{ws}/m/shop").status_code == 200  # warm: slug, render
    with transactions(app) as begun:
        page = client.get(f"/w/{ws}/m/shop")
        panel = client.get(f"/w/{ws}/m/shop/panel", params={"target": "stage:awareness"})
    assert page.status_code == 200
    assert panel.status_code == 200
    assert len(begun) == 2  # one for the page, one for the panel (were 5 each)
    assert "<h1>Shop</h1>" in page.text
    assert "Vic Viewer" in page.text  # the user came from the same transaction


def test_refusals_are_as_before(site: tuple[FastAPI, int]) -> None:
    app, ws = site
    viewer, _ = sign_in(app, "viewer@acme.test")
    otto, _ = sign_in(app, "otto@other.test")
    signed_out = TestClient(app, follow_redirects=False)
    assert signed_out.get(f"/w/{ws}/m/shop").status_code == 401
    assert otto.get(f"/w/{ws}/m/shop").status_code == 403
    assert viewer.get(f"/w/{ws}/m/nothing").status_code == 404
    assert viewer.get(f"/w/{ws + 999}/m/shop").status_code == 403  # no such workspace
    with session_scope(app.state.backend.engine) as s:
        service.set_user_disabled(s, service.get_user_by_email(s, "viewer@acme.test"))
    assert viewer.get(f"/w/{ws}/m/shop").status_code == 401  # disabled: as signed out
    assert viewer.get(f"/w/{ws}/m/shop/panel", params={"target": "map"}).status_code == 401


def test_the_element_list_follows_each_version_and_filter(site: tuple[FastAPI, int]) -> None:
    app, ws = site
    owner, csrf = sign_in(app, "owner@acme.test")
    first = owner.get(f"/w/{ws}/m/shop").text
    assert ">Awareness</a>" in first
    assert "panel?target=stage:awareness&amp;" not in first  # no filter: nothing appended
    answer = owner.post(
        f"/w/{ws}/m/shop/edit/stage",
        data={
            "csrf_token": csrf,
            "base_version": "1",
            "action": "rename",
            "stage_id": "awareness",
            "name": "Noticing <us>",
        },
    )
    assert answer.status_code == 303
    second = owner.get(f"/w/{ws}/m/shop").text
    assert ">Noticing &lt;us&gt;</a>" in second  # version 2's names, escaped
    assert ">Awareness</a>" not in second
    windowed = owner.get(f"/w/{ws}/m/shop", params={"from": "2026-01-01"}).text
    # The filter's query rides on every element link (escaped & in the attribute).
    assert "panel?target=stage:awareness&amp;from=2026-01-01" in windowed
