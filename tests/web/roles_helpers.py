"""The shared pieces of the role matrices (tests/web/test_roles*.py): who asks, what an
endpoint is, how to call it, and the two checks every matrix makes.

* :func:`check_every_role` — every caller of :data:`WHO` calls the endpoint in acme: signed
  out → 401; the other workspace's owner → 403 (an endpoint about no workspace allows
  it); a member → ``allowed`` from the endpoint's least role up, 403 below; and the
  answers to the callers ``hidden_from`` names carry none of ``secrets``.
* :func:`check_other_workspace` — every member of acme calls the endpoint in the other
  workspace: 403 or 404, and none of ``secrets`` in the answer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient
from tests.web.conftest import World, browser, csrf_of

from journeylens.web.backend import Role, User

RANK = {
    "viewer": Role.VIEWER,
    "commenter": Role.COMMENTER,
    "editor": Role.EDITOR,
    "owner": Role.OWNER,
}
#: Every caller of the matrix: signed out, each role of acme, the owner of the other workspace.
WHO = ("anonymous", "viewer", "commenter", "editor", "owner", "outsider")
#: The members of acme.
MEMBERS = ("viewer", "commenter", "editor", "owner")
#: What "allowed" means unless a matrix says otherwise: any 2xx or 3xx.
ALLOWED = range(200, 400)

Call = Callable[[World, int, TestClient, str], Any]


@dataclass(frozen=True)
class Endpoint:
    """One endpoint: how to call it in workspace ``ws`` and the least role it needs."""

    name: str
    minimum: Role
    call: Call
    scoped: bool = True  # False: not about one workspace (e.g. the user's own list)


def client_of(w: World, who: str) -> tuple[TestClient, str]:
    """The client of ``who`` and its CSRF token (a signed-out client gets a valid token:
    only the sign-in is missing)."""
    if who == "anonymous":
        client = browser(w.app)
        return client, csrf_of(client.get("/signin").text)
    return w.clients[who]


def owner_of(w: World) -> User:
    """Acme's owner (the first account)."""
    owner = w.backend.user(1)
    assert owner is not None
    return owner


def map_version(w: World) -> int:
    """The latest version of acme's map ``shop``."""
    return w.backend.get_map(owner_of(w), w.ws, "shop").version


def get(path: str) -> Call:
    """A GET of ``path`` (``{ws}`` stands for the workspace)."""
    return lambda w, ws, c, t: c.get(path.format(ws=ws))


def form(path: str, data: Callable[[World], dict[str, Any]]) -> Call:
    """A form POST of ``path`` with the CSRF token and the fields ``data`` gives."""
    return lambda w, ws, c, t: c.post(path.format(ws=ws), data={"csrf_token": t, **data(w)})


def expected_answers(who: str, endpoint: Endpoint, allowed: range = ALLOWED) -> set[int] | range:
    """The status codes ``who`` may get from ``endpoint`` in acme."""
    if who == "anonymous":
        return {401}
    if who == "outsider":
        return {403} if endpoint.scoped else allowed
    return allowed if RANK[who] >= endpoint.minimum else {403}


def outsider(who: str, endpoint: Endpoint) -> bool:
    """``hidden_from``: the other workspace's owner."""
    return who == "outsider"


def outsider_of_scoped(who: str, endpoint: Endpoint) -> bool:
    """``hidden_from``: the other workspace's owner, for an endpoint about one workspace."""
    return who == "outsider" and endpoint.scoped


def signed_out_or_outsider(who: str, endpoint: Endpoint) -> bool:
    """``hidden_from``: a signed-out caller and the other workspace's owner."""
    return who in ("anonymous", "outsider")


def not_allowed(who: str, endpoint: Endpoint) -> bool:
    """``hidden_from``: every caller the endpoint refuses."""
    return who in ("anonymous", "outsider") or RANK[who] < endpoint.minimum


def check_every_role(
    w: World,
    endpoint: Endpoint,
    secrets: tuple[str, ...],
    hidden_from: Callable[[str, Endpoint], bool],
    allowed: range = ALLOWED,
) -> None:
    """Each caller of :data:`WHO` gets what :func:`expected_answers` says; the callers
    ``hidden_from`` names see none of ``secrets``."""
    for who in WHO:
        client, token = client_of(w, who)
        answer = endpoint.call(w, w.ws, client, token)
        assert answer.status_code in expected_answers(who, endpoint, allowed), (
            who,
            endpoint.name,
            answer.status_code,
            answer.text[:300],
        )
        if hidden_from(who, endpoint):
            for secret in secrets:
                assert secret not in answer.text, (who, endpoint.name, secret)


def check_other_workspace(w: World, endpoint: Endpoint, *secrets: str) -> None:
    """No member of acme reaches the endpoint in the other workspace or sees ``secrets``."""
    for who in MEMBERS:
        client, token = w.clients[who]
        answer = endpoint.call(w, w.other_ws, client, token)
        assert answer.status_code in (403, 404), (who, endpoint.name, answer.status_code)
        for secret in secrets:
            assert secret not in answer.text, (who, endpoint.name, secret)
