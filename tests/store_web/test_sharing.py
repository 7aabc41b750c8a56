"""Share links (secret once, SHA-256 stored, revocable, expiring) and scoped API tokens."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from journeylens.store import service
from journeylens.store.errors import Forbidden, NotFound, Unauthenticated
from journeylens.store.models import ApiToken, Role, Scope, ShareLink, User, Workspace


def test_share_link_resolves_to_the_current_map_and_stores_only_a_hash(
    session: Session, owner: User, ws: Workspace
) -> None:
    snap = service.create_map(session, ws, owner, template="three-phase", map_id="m")
    info, token = service.create_share_link(session, ws, "m", owner)
    assert (info.map_id, info.expires_at, info.revoked_at) == ("m", None, None)
    stored = session.scalars(select(ShareLink.token_hash)).all()
    assert stored == [hashlib.sha256(token.encode()).hexdigest()]
    assert token not in stored
    assert service.resolve_share_token(session, token).yaml == snap.yaml
    # A later version is what the link shows.
    edited = snap.journey.model_copy(update={"title": "Edited"})
    service.save_map(session, ws, edited, owner, 1)
    shared = service.resolve_share_token(session, token)
    assert (shared.version, shared.journey.title) == (2, "Edited")
    with pytest.raises(NotFound):
        service.resolve_share_token(session, token + "x")


def test_share_link_expiry_and_revocation(session: Session, owner: User, ws: Workspace) -> None:
    service.create_map(session, ws, owner, template="three-phase", map_id="m")
    expires = datetime(2030, 1, 1, tzinfo=UTC)
    info, token = service.create_share_link(session, ws, "m", owner, expires_at=expires)
    before = expires - timedelta(seconds=1)
    assert service.resolve_share_token(session, token, now=before).map_id == "m"
    with pytest.raises(NotFound, match="expired"):
        service.resolve_share_token(session, token, now=expires)
    _, token2 = service.create_share_link(session, ws, "m", owner)
    links = service.list_share_links(session, ws, "m")
    assert [link.expires_at for link in links] == [expires, None]
    service.revoke_share_link(session, ws, links[1].id)
    with pytest.raises(NotFound, match="revoked"):
        service.resolve_share_token(session, token2)
    assert service.list_share_links(session, ws, "m")[1].revoked_at is not None
    other = service.create_workspace(session, "beta", "Beta", owner)
    with pytest.raises(NotFound):
        service.revoke_share_link(session, other, info.id)


def test_api_token_scopes(session: Session, owner: User, ws: Workspace) -> None:
    info, secret = service.create_api_token(session, owner, ws, [Scope.INGEST, Scope.READ], "etl")
    assert secret.startswith("jl_")
    assert info.scopes == (Scope.READ, Scope.INGEST)
    assert session.scalars(select(ApiToken.token_hash)).all() == [service.hash_token(secret)]
    at = datetime(2026, 5, 1, tzinfo=UTC)
    user, token_ws, used = service.verify_api_token(session, secret, Scope.INGEST, now=at)
    assert (user.id, token_ws.slug, used.last_used_at) == (owner.id, "acme", at)
    assert service.verify_api_token(session, secret, Scope.READ)[0].id == owner.id
    with pytest.raises(Forbidden, match="lacks the 'write' scope"):
        service.verify_api_token(session, secret, Scope.WRITE)
    with pytest.raises(Unauthenticated):
        service.verify_api_token(session, "jl_not-a-token", Scope.READ)
    with pytest.raises(ValueError, match="scopes: expected"):
        service.create_api_token(session, owner, ws, [])
    service.set_user_disabled(session, owner)
    with pytest.raises(Unauthenticated, match="disabled"):
        service.verify_api_token(session, secret, Scope.READ)


def test_api_token_revocation_and_membership(session: Session, owner: User, ws: Workspace) -> None:
    ann = service.create_user(session, "ann@acme.test", "Ann", "ann-pass-1")
    service.add_member(session, ws, ann, Role.EDITOR)
    info, secret = service.create_api_token(session, ann, ws, [Scope.WRITE])
    assert service.verify_api_token(session, secret, Scope.WRITE)[0].id == ann.id
    with pytest.raises(NotFound):  # only the owner of a token revokes it
        service.revoke_api_token(session, owner, info.id)
    service.remove_member(session, ws, ann)
    with pytest.raises(Unauthenticated, match="no longer a member"):
        service.verify_api_token(session, secret, Scope.WRITE)
    service.add_member(session, ws, ann, Role.EDITOR)
    service.revoke_api_token(session, ann, info.id)
    with pytest.raises(Unauthenticated, match="revoked"):
        service.verify_api_token(session, secret, Scope.WRITE)
    assert service.list_api_tokens(session, ann)[0].revoked_at is not None
