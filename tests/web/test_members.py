"""The members page: list, add by email, change role, remove, and the last-owner guard
(the store's rules surfaced as 4xx with the field and the reason)."""

from __future__ import annotations

import itertools

from tests.web.conftest import PASSWORD, World, sign_in

from journeylens.store import models as sm
from journeylens.store import service
from journeylens.store.db import session_scope

_n = itertools.count(1)


def _account(world: World, name: str = "New Person") -> tuple[int, str]:
    """A fresh account (member of no workspace): its id and email."""
    email = f"person{next(_n)}@acme.test"
    with session_scope(world.backend.engine) as s:
        row = service.create_user(s, email, name, PASSWORD)
        return row.id, email


def _solo_workspace(world: World) -> tuple[int, int, str]:
    """A new workspace whose only member is a new owner: (workspace id, owner id, email)."""
    user_id, email = _account(world, "Solo Owner")
    with session_scope(world.backend.engine) as s:
        row = s.get(sm.User, user_id)
        assert row is not None
        ws = service.create_workspace(s, f"solo{next(_n)}", "Solo", row)
        return ws.id, user_id, email


def test_owner_sees_every_member_with_their_role(world: World) -> None:
    client, _ = world.clients["owner"]
    page = client.get(f"/w/{world.ws}/members")
    assert page.status_code == 200
    for name, email, role in (
        ("Olive Owner", "owner@acme.test", "owner"),
        ("Editor", "editor@acme.test", "editor"),
        ("Commenter", "commenter@acme.test", "commenter"),
        ("Viewer", "viewer@acme.test", "viewer"),
    ):
        assert f'<td class="name">{name}</td><td class="email">{email}</td>' in page.text
        row = page.text.split(f'<td class="email">{email}</td>', 1)[1].split("</tr>", 1)[0]
        assert f'<option value="{role}" selected>' in row
    assert "Otto Outsider" not in page.text


def test_add_change_and_remove_a_member(world: World) -> None:
    client, token = world.clients["owner"]
    user_id, email = _account(world, "Nora New")
    added = client.post(
        f"/w/{world.ws}/members", data={"csrf_token": token, "email": email, "role": "commenter"}
    )
    assert added.status_code == 303
    page = client.get(f"/w/{world.ws}/members").text
    row = page.split(f'id="member-{user_id}"', 1)[1].split("</tr>", 1)[0]
    assert "Nora New" in row
    assert '<option value="commenter" selected>' in row
    nora, _nora_token = sign_in(world.app, email)
    assert nora.get(f"/w/{world.ws}").status_code == 200

    changed = client.post(
        f"/w/{world.ws}/members/{user_id}/role", data={"csrf_token": token, "role": "editor"}
    )
    assert changed.status_code == 303
    row = client.get(f"/w/{world.ws}/members").text.split(f'id="member-{user_id}"', 1)[1]
    assert '<option value="editor" selected>' in row.split("</tr>", 1)[0]
    assert nora.get(f"/w/{world.ws}/m/shop/edit").status_code == 200  # editors may edit

    removed = client.post(f"/w/{world.ws}/members/{user_id}/remove", data={"csrf_token": token})
    assert removed.status_code == 303
    assert f'id="member-{user_id}"' not in client.get(f"/w/{world.ws}/members").text
    assert nora.get(f"/w/{world.ws}").status_code == 403


def test_bad_member_requests_get_4xx_with_field_and_reason(world: World) -> None:
    client, token = world.clients["owner"]
    unknown = client.post(
        f"/w/{world.ws}/members",
        data={"csrf_token": token, "email": "nobody@acme.test", "role": "viewer"},
    )
    assert unknown.status_code == 422
    assert "<b>email</b>: no account with the email &#39;nobody@acme.test&#39;" in unknown.text
    twice = client.post(
        f"/w/{world.ws}/members",
        data={"csrf_token": token, "email": "viewer@acme.test", "role": "viewer"},
    )
    assert twice.status_code == 409
    assert "viewer@acme.test is already a member" in twice.text
    _user_id, email = _account(world)
    bad_role = client.post(
        f"/w/{world.ws}/members", data={"csrf_token": token, "email": email, "role": "admin"}
    )
    assert bad_role.status_code == 422
    assert "<b>role</b>: expected one of viewer, commenter, editor, owner, got &#39;admin&#39;" in (
        bad_role.text
    )
    no_role = client.post(f"/w/{world.ws}/members", data={"csrf_token": token, "email": email})
    assert no_role.status_code == 422
    # A user who is not a member here (the outsider) is unknown to this workspace: 404.
    outsider_id = world.backend.sign_in("outsider@other.test", PASSWORD, "test").id
    for path, data in (
        (f"/w/{world.ws}/members/{outsider_id}/role", {"role": "viewer"}),
        (f"/w/{world.ws}/members/{outsider_id}/remove", {}),
        (f"/w/{world.ws}/members/999999/remove", {}),
    ):
        answer = client.post(path, data={"csrf_token": token, **data})
        assert answer.status_code == 404, path
        assert "Otto" not in answer.text
    missing_csrf = client.post(f"/w/{world.ws}/members", data={"email": email, "role": "viewer"})
    assert missing_csrf.status_code == 403


def test_the_last_owner_can_neither_step_down_nor_leave(world: World) -> None:
    ws, owner_id, email = _solo_workspace(world)
    client, token = sign_in(world.app, email)
    down = client.post(
        f"/w/{ws}/members/{owner_id}/role", data={"csrf_token": token, "role": "editor"}
    )
    assert down.status_code == 409
    assert f"{email} is the last owner of" in down.text
    leave = client.post(f"/w/{ws}/members/{owner_id}/remove", data={"csrf_token": token})
    assert leave.status_code == 409
    page = client.get(f"/w/{ws}/members").text
    assert '<option value="owner" selected>' in page  # nothing changed

    # With a second owner the first may step down, and then no longer manage members.
    second_id, second_email = _account(world, "Second Owner")
    assert (
        client.post(
            f"/w/{ws}/members", data={"csrf_token": token, "email": second_email, "role": "owner"}
        ).status_code
        == 303
    )
    stepped = client.post(
        f"/w/{ws}/members/{owner_id}/role", data={"csrf_token": token, "role": "editor"}
    )
    assert stepped.status_code == 303
    assert stepped.headers["location"] == f"/w/{ws}"
    assert client.get(f"/w/{ws}/members").status_code == 403
    second, second_token = sign_in(world.app, second_email)
    alone = second.post(f"/w/{ws}/members/{second_id}/remove", data={"csrf_token": second_token})
    assert alone.status_code == 409  # the last owner again
    gone = second.post(f"/w/{ws}/members/{owner_id}/remove", data={"csrf_token": second_token})
    assert gone.status_code == 303
    assert client.get(f"/w/{ws}").status_code == 403


def test_member_names_are_escaped(world: World) -> None:
    client, token = world.clients["owner"]
    _user_id, email = _account(world, '<script>alert("m")</script>')
    client.post(
        f"/w/{world.ws}/members", data={"csrf_token": token, "email": email, "role": "viewer"}
    )
    page = client.get(f"/w/{world.ws}/members").text
    assert '<script>alert("m")</script>' not in page
    assert "&lt;script&gt;alert(&#34;m&#34;)&lt;/script&gt;" in page


def test_the_workspace_page_links_data_for_all_and_members_for_owners(world: World) -> None:
    for who in ("owner", "editor", "commenter", "viewer"):
        page = world.clients[who][0].get(f"/w/{world.ws}").text
        assert f'<a href="/w/{world.ws}/data">Data</a>' in page
        assert (f'<a href="/w/{world.ws}/members">Members</a>' in page) == (who == "owner")
