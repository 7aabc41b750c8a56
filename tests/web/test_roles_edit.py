"""The role matrix for the editor, persona, export, share-link and sync endpoints: every
endpoint × (anonymous, viewer, commenter, editor, owner, member of another workspace) is
allowed (2xx / 3xx) or exactly 401 / 403, and no answer outside acme carries its data.
Also: injection payloads in every new text field render escaped."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests.web.conftest import World
from tests.web.roles_helpers import MEMBERS, Endpoint, check_every_role, outsider
from tests.web.roles_helpers import form as _form
from tests.web.roles_helpers import get as _get
from tests.web.roles_helpers import map_version as _version
from tests.web.roles_helpers import owner_of as _owner

from journeylens.web.backend import Role

_n = itertools.count(1)


def _step(w: World) -> str:
    """A fresh step in stage awareness of map shop (made by the owner)."""
    sid = f"s{next(_n)}"
    from journeylens.formats.io import to_data
    from journeylens.model import JourneyMap

    stored = w.backend.get_map(_owner(w), w.ws, "shop")
    data = to_data(stored.journey)
    data["stages"][0]["steps"].append(
        {
            "id": sid,
            "name": sid,
            "touchpoints": [{"id": f"tp-{sid}", "name": "T", "channel": "web"}],
        }
    )
    w.backend.save_map(_owner(w), w.ws, JourneyMap.model_validate(data), stored.version)
    return sid


def _persona(w: World) -> str:
    from journeylens.model import Persona

    pid = f"p{next(_n)}"
    w.backend.create_persona(_owner(w), w.ws, Persona(id=pid, name="Pat"))
    return pid


def _with_step(path: str, fields: Callable[[World, str], dict[str, Any]]) -> Callable[..., Any]:
    def call(w: World, ws: int, c: TestClient, t: str) -> Any:
        sid = _step(w)
        return c.post(
            path.format(ws=ws),
            data={"csrf_token": t, "base_version": _version(w), **fields(w, sid)},
        )

    return call


def _with_persona(path: str, fields: Callable[[World], dict[str, Any]]) -> Callable[..., Any]:
    def call(w: World, ws: int, c: TestClient, t: str) -> Any:
        pid = _persona(w)
        return c.post(path.format(ws=ws, p=pid), data={"csrf_token": t, **fields(w)})

    return call


def _share_revoke(w: World, ws: int, c: TestClient, t: str) -> Any:
    link = w.backend.create_share(_owner(w), w.ws, "shop")
    return c.post(f"/w/{ws}/m/shop/shares/{link.id}/revoke", data={"csrf_token": t})


def _upload(w: World, ws: int, c: TestClient, t: str) -> Any:
    text = f"id: up{next(_n)}\ntitle: Up\nstages:\n  - id: a\n    name: A\n"
    return c.post(
        f"/w/{ws}/sync/upload",
        data={"csrf_token": t},
        files=[("files", ("up.journey.yaml", text.encode(), "application/yaml"))],
    )


ENDPOINTS = [
    Endpoint(
        "step add",
        Role.EDITOR,
        _form(
            "/w/{ws}/m/shop/edit/step/add",
            lambda w: {"base_version": _version(w), "stage_id": "awareness", "step_id": f"a{next(_n)}"},
        ),
    ),
    Endpoint("step move", Role.EDITOR, _with_step("/w/{ws}/m/shop/edit/step/move", lambda w, s: {"step_id": s, "stage_id": "advocacy"})),
    Endpoint("step delete", Role.EDITOR, _with_step("/w/{ws}/m/shop/edit/step/delete", lambda w, s: {"step_id": s})),
    Endpoint(
        "step reorder",
        Role.EDITOR,
        lambda w, ws, c, t: c.post(
            f"/w/{ws}/m/shop/edit/step/reorder",
            data={
                "csrf_token": t,
                "base_version": _version(w),
                "stage_id": "awareness",
                "order": ",".join(
                    s.id for s in w.backend.get_map(_owner(w), w.ws, "shop").journey.stages[0].steps
                ),
            },
        ),
    ),
    Endpoint(
        "step lanes",
        Role.EDITOR,
        _form(
            "/w/{ws}/m/shop/edit/step/lanes",
            lambda w: {"base_version": _version(w), "step_id": "see-ad", "frontstage": "Ads"},
        ),
    ),
    Endpoint(
        "touchpoint add",
        Role.EDITOR,
        _form(
            "/w/{ws}/m/shop/edit/touchpoint/add",
            lambda w: {"base_version": _version(w), "step_id": "see-ad", "tp_id": f"t{next(_n)}"},
        ),
    ),
    Endpoint(
        "touchpoint edit",
        Role.EDITOR,
        _form(
            "/w/{ws}/m/shop/edit/touchpoint",
            lambda w: {"base_version": _version(w), "tp_id": "ads", "match": "- event: ad_view"},
        ),
    ),
    Endpoint(
        "touchpoint delete",
        Role.EDITOR,
        _with_step("/w/{ws}/m/shop/edit/touchpoint/delete", lambda w, s: {"tp_id": f"tp-{s}"}),
    ),
    Endpoint("rule count", Role.EDITOR, _get("/w/{ws}/m/shop/edit/touchpoint/count?match=-%20event:%20x")),
    Endpoint("export png", Role.VIEWER, _get("/w/{ws}/m/shop/export.png")),
    Endpoint("export pdf", Role.VIEWER, _get("/w/{ws}/m/shop/export.pdf")),
    Endpoint("page shares", Role.EDITOR, _get("/w/{ws}/m/shop/shares")),
    Endpoint("form share expiry", Role.EDITOR, _form("/w/{ws}/m/shop/shares", lambda w: {"expires": "1d"})),
    Endpoint("form share revoke", Role.EDITOR, _share_revoke),
    Endpoint("page personas", Role.VIEWER, _get("/w/{ws}/personas")),
    Endpoint(
        "form persona create",
        Role.EDITOR,
        _form("/w/{ws}/personas", lambda w: {"persona_id": f"n{next(_n)}"}),
    ),
    Endpoint(
        "page persona",
        Role.VIEWER,
        lambda w, ws, c, t: c.get(f"/w/{ws}/personas/{_persona(w)}"),
    ),
    Endpoint(
        "form persona edit",
        Role.EDITOR,
        _with_persona("/w/{ws}/personas/{p}/edit", lambda w: {"base_version": 1, "name": "Pat 2"}),
    ),
    Endpoint("form persona restore", Role.EDITOR, _with_persona("/w/{ws}/personas/{p}/versions/1/restore", lambda w: {})),
    Endpoint("form persona delete", Role.EDITOR, _with_persona("/w/{ws}/personas/{p}/delete", lambda w: {})),
    Endpoint("api personas", Role.VIEWER, _get("/api/v1/workspaces/{ws}/personas")),
    Endpoint(
        "api persona create",
        Role.EDITOR,
        lambda w, ws, c, t: c.post(
            f"/api/v1/workspaces/{ws}/personas", json={"id": f"a{next(_n)}", "name": "A"},
            headers={"X-CSRF-Token": t},
        ),
    ),
    Endpoint("api persona", Role.VIEWER, lambda w, ws, c, t: c.get(f"/api/v1/workspaces/{ws}/personas/{_persona(w)}")),
    Endpoint(
        "api persona save",
        Role.EDITOR,
        lambda w, ws, c, t: c.put(
            f"/api/v1/workspaces/{ws}/personas/{(p := _persona(w))}?base_version=1",
            json={"id": p, "name": "Pat 2"}, headers={"X-CSRF-Token": t},
        ),
    ),
    Endpoint("api persona versions", Role.VIEWER, lambda w, ws, c, t: c.get(f"/api/v1/workspaces/{ws}/personas/{_persona(w)}/versions")),
    Endpoint(
        "api persona delete",
        Role.EDITOR,
        lambda w, ws, c, t: c.delete(
            f"/api/v1/workspaces/{ws}/personas/{_persona(w)}", headers={"X-CSRF-Token": t}
        ),
    ),
    Endpoint("page sync", Role.OWNER, _get("/w/{ws}/sync")),
    Endpoint("sync upload", Role.OWNER, _upload),
    Endpoint("sync zip", Role.OWNER, _get("/w/{ws}/sync/export.zip")),
    Endpoint("sync folder", Role.OWNER, _form("/w/{ws}/sync/folder", lambda w: {"direction": "export"})),
]  # fmt: skip


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.name)
def test_every_role_gets_allowed_or_401_403(world: World, endpoint: Endpoint) -> None:
    check_every_role(world, endpoint, ("Shop", "see-ad"), hidden_from=outsider)


OTHER_WS_CALLS = [
    ("step add", lambda ws, t: ("post", f"/w/{ws}/m/secret/edit/step/add", {"base_version": 1, "stage_id": "awareness", "step_id": "x"})),
    ("touchpoint edit", lambda ws, t: ("post", f"/w/{ws}/m/secret/edit/touchpoint", {"base_version": 1, "tp_id": "ads"})),
    ("rule count", lambda ws, t: ("get", f"/w/{ws}/m/secret/edit/touchpoint/count?match=-%20event:%20x", None)),
    ("png", lambda ws, t: ("get", f"/w/{ws}/m/secret/export.png", None)),
    ("pdf", lambda ws, t: ("get", f"/w/{ws}/m/secret/export.pdf", None)),
    ("report", lambda ws, t: ("get", f"/w/{ws}/m/secret/report.html", None)),
    ("shares", lambda ws, t: ("get", f"/w/{ws}/m/secret/shares", None)),
    ("share", lambda ws, t: ("post", f"/w/{ws}/m/secret/shares", {"expires": "1d"})),
    ("personas", lambda ws, t: ("get", f"/w/{ws}/personas", None)),
    ("api personas", lambda ws, t: ("get", f"/api/v1/workspaces/{ws}/personas", None)),
    ("persona create", lambda ws, t: ("post", f"/w/{ws}/personas", {"persona_id": "spy"})),
    ("sync", lambda ws, t: ("get", f"/w/{ws}/sync", None)),
    ("zip", lambda ws, t: ("get", f"/w/{ws}/sync/export.zip", None)),
    ("folder", lambda ws, t: ("post", f"/w/{ws}/sync/folder", {"direction": "export"})),
]  # fmt: skip


@pytest.mark.parametrize("case", OTHER_WS_CALLS, ids=lambda c: c[0])
def test_no_member_of_acme_reaches_the_other_workspace(world: World, case: Any) -> None:
    for who in MEMBERS:
        client, token = world.clients[who]
        method, path, data = case[1](world.other_ws, token)
        if method == "get":
            answer = client.get(path)
        else:
            answer = client.post(path, data={"csrf_token": token, **data})
        assert answer.status_code in (403, 404), (who, case[0], answer.status_code)
        assert "Top Secret" not in answer.text


PAYLOADS = ["<script>alert(1)</script>", '"><svg onload=alert(1)>']


@pytest.mark.parametrize("payload", PAYLOADS)
def test_injection_in_every_new_text_field_renders_escaped(world: World, payload: str) -> None:
    client, token = world.clients["owner"]
    ws = world.ws
    sid = f"x{next(_n)}"

    def post(path: str, **fields: Any) -> Any:
        return client.post(path, data={"csrf_token": token, **fields})

    assert post(
        f"/w/{ws}/m/shop/edit/step/add", base_version=_version(world), stage_id="awareness",
        step_id=sid, name=payload,
    ).status_code == 303  # fmt: skip
    lanes = dict.fromkeys(("description", "actions", "thoughts", "frontstage", "backstage", "support", "owners", "moment_of_truth", "emotion_label", "emotion_note"), payload)  # fmt: skip
    lanes["pain_points"] = f"- id: p{sid}\n  text: '{payload}'\n"
    lanes["opportunities"] = f"- id: o{sid}\n  text: '{payload}'\n  owner: '{payload}'\n"
    lanes["evidence"] = f"- source: data\n  reference: '{payload}'\n"
    answer = post(
        f"/w/{ws}/m/shop/edit/step/lanes", base_version=_version(world), step_id=sid, name=payload,
        **lanes,
    )  # fmt: skip
    assert answer.status_code == 303, answer.text
    assert post(
        f"/w/{ws}/m/shop/edit/touchpoint/add", base_version=_version(world), step_id=sid,
        tp_id=f"t{sid}", name=payload, description=payload,
        match=f"- event: '{payload}'\n",
    ).status_code == 303  # fmt: skip
    pid = f"inj{next(_n)}"
    assert post(f"/w/{ws}/personas", persona_id=pid, name=payload).status_code == 303
    persona_fields = dict.fromkeys(("summary", "quote", "age", "location", "occupation", "income_band", "values", "attitudes", "interests", "goals", "needs", "frustrations"), payload)  # fmt: skip
    edited = post(f"/w/{ws}/personas/{pid}/edit", base_version=1, name=payload, **persona_fields)
    assert edited.status_code == 303, edited.text
    bad_rule = client.get(f"/w/{ws}/m/shop/edit/touchpoint/count", params={"match": f"- {payload}"})
    pages = [
        client.get(f"/w/{ws}/m/shop/edit").text,
        client.get(f"/w/{ws}/m/shop").text,
        client.get(f"/w/{ws}/m/shop/shares").text,
        client.get(f"/w/{ws}/personas").text,
        client.get(f"/w/{ws}/personas/{pid}").text,
        client.get(f"/w/{ws}/personas/{pid}?version=1").text,
        bad_rule.text,
        post(f"/w/{ws}/personas", document=f"id: q\nname: {payload}\nshare: 5\n").text,
    ]
    for page in pages:
        assert "<script>alert" not in page
        assert "<svg onload" not in page
