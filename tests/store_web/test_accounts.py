"""Users, sign-in with rate limiting, workspaces, members and roles."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from journeylens.store import service
from journeylens.store.errors import Conflict, Forbidden, NotFound, RateLimited, Unauthenticated
from journeylens.store.models import LoginAttempt, Role, User, Workspace


def test_create_user_stores_an_argon2_hash_and_a_lower_case_email(session: Session) -> None:
    user = service.create_user(session, " Ann@Example.ORG ", "Ann", "secret-pass")
    assert user.email == "ann@example.org"
    assert user.password_hash.startswith("$argon2id$")
    assert "secret-pass" not in user.password_hash
    assert service.get_user_by_email(session, "ANN@example.org").id == user.id
    assert service.get_user(session, user.id).name == "Ann"


def test_create_user_rejects_duplicates_and_bad_input(session: Session) -> None:
    service.create_user(session, "ann@example.org", "Ann", "secret-pass")
    with pytest.raises(Conflict, match="already registered"):
        service.create_user(session, "ANN@example.org", "Ann 2", "secret-pass")
    with pytest.raises(ValueError, match="email: expected"):
        service.create_user(session, "not-an-email", "X", "secret-pass")
    with pytest.raises(ValueError, match="password: expected at least 8"):
        service.create_user(session, "bo@example.org", "Bo", "short")
    with pytest.raises(NotFound):
        service.get_user_by_email(session, "nobody@example.org")


def test_authenticate_and_set_password(session: Session) -> None:
    user = service.create_user(session, "ann@example.org", "Ann", "secret-pass")
    assert service.authenticate(session, "ann@example.org", "secret-pass").id == user.id
    with pytest.raises(Unauthenticated, match="wrong email or password"):
        service.authenticate(session, "ann@example.org", "wrong-pass")
    with pytest.raises(Unauthenticated):
        service.authenticate(session, "nobody@example.org", "secret-pass")
    service.set_password(session, user, "new-secret-pass")
    with pytest.raises(Unauthenticated):
        service.authenticate(session, "ann@example.org", "secret-pass")
    assert service.authenticate(session, "ann@example.org", "new-secret-pass").id == user.id
    service.set_user_disabled(session, user)
    with pytest.raises(Unauthenticated):
        service.authenticate(session, "ann@example.org", "new-secret-pass")


def test_five_failures_lock_the_email_for_the_window(session: Session) -> None:
    service.create_user(session, "ann@example.org", "Ann", "secret-pass")
    t0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    for i in range(5):
        with pytest.raises(Unauthenticated):
            service.authenticate(session, "ann@example.org", "bad", now=t0 + timedelta(seconds=i))
    session.commit()
    # Locked: even the right password is refused, until 15 minutes after the first failure.
    with pytest.raises(RateLimited) as info:
        service.authenticate(
            session, "ann@example.org", "secret-pass", now=t0 + timedelta(minutes=1)
        )
    assert info.value.retry_after == t0 + timedelta(minutes=15)
    later = t0 + timedelta(minutes=15, seconds=5)
    with pytest.raises(Unauthenticated):  # the window has passed: counted again, not locked
        service.authenticate(session, "ann@example.org", "bad", now=later)
    # The five old failures were pruned; only the new one is kept.
    assert session.scalars(select(LoginAttempt.at)).all() == [later]
    assert service.authenticate(session, "ann@example.org", "secret-pass", now=later)
    # A success clears the count: four more failures do not lock.
    for _ in range(4):
        with pytest.raises(Unauthenticated):
            service.authenticate(session, "ann@example.org", "bad", now=later)
    assert service.authenticate(session, "ann@example.org", "secret-pass", now=later)


def test_twenty_failures_from_one_address_lock_that_address(session: Session) -> None:
    t0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    service.create_user(session, "ann@example.org", "Ann", "secret-pass")
    for i in range(20):
        with pytest.raises(Unauthenticated):
            service.authenticate(session, f"guess{i}@example.org", "x", ip="10.0.0.9", now=t0)
    with pytest.raises(RateLimited):
        service.authenticate(session, "ann@example.org", "secret-pass", ip="10.0.0.9", now=t0)
    # Another address is not affected.
    assert service.authenticate(session, "ann@example.org", "secret-pass", ip="10.0.0.8", now=t0)


def test_workspaces_members_and_roles(session: Session, owner: User, ws: Workspace) -> None:
    ed = service.create_user(session, "ed@acme.test", "Ed Editor", "editor-pass")
    vi = service.create_user(session, "vi@acme.test", "Vi Viewer", "viewer-pass")
    service.add_member(session, ws, ed, Role.EDITOR)
    service.add_member(session, ws, vi, Role.VIEWER)
    with pytest.raises(Conflict):
        service.add_member(session, ws, vi, Role.EDITOR)
    assert [(m.name, m.role) for m in service.list_members(session, ws)] == [
        ("Ed Editor", Role.EDITOR),
        ("Olive Owner", Role.OWNER),
        ("Vi Viewer", Role.VIEWER),
    ]
    other = service.create_workspace(session, "beta", "Beta", ed)
    assert [(w.slug, r) for w, r in service.list_workspaces(session, ed)] == [
        ("acme", Role.EDITOR),
        ("beta", Role.OWNER),
    ]
    assert service.list_workspaces(session, vi)[0][0].slug == "acme"
    assert service.role_of(session, vi, other) is None
    service.change_role(session, ws, vi, Role.COMMENTER)
    assert service.role_of(session, vi, ws) == Role.COMMENTER
    service.remove_member(session, ws, vi)
    assert service.role_of(session, vi, ws) is None
    with pytest.raises(NotFound):
        service.remove_member(session, ws, vi)
    assert service.get_workspace(session, "beta").id == other.id
    with pytest.raises(NotFound):
        service.get_workspace(session, "gamma")
    with pytest.raises(Conflict):
        service.create_workspace(session, "acme", "Again", ed)
    with pytest.raises(ValueError, match="slug: expected"):
        service.create_workspace(session, "Bad Slug", "X", ed)


def test_the_last_owner_cannot_leave(session: Session, owner: User, ws: Workspace) -> None:
    with pytest.raises(Conflict, match="last owner"):
        service.change_role(session, ws, owner, Role.EDITOR)
    with pytest.raises(Conflict, match="last owner"):
        service.remove_member(session, ws, owner)
    second = service.create_user(session, "sam@acme.test", "Sam", "second-pass")
    service.add_member(session, ws, second, Role.OWNER)
    service.change_role(session, ws, owner, Role.EDITOR)
    assert service.role_of(session, owner, ws) == Role.EDITOR


ORDER = [Role.VIEWER, Role.COMMENTER, Role.EDITOR, Role.OWNER]


@pytest.mark.parametrize("have", ORDER)
@pytest.mark.parametrize("need", ORDER)
def test_require_role_matrix(
    session: Session, owner: User, ws: Workspace, have: Role, need: Role
) -> None:
    member = service.create_user(session, "m@acme.test", "Member", "member-pass")
    if have == Role.OWNER:
        service.add_member(session, ws, member, Role.OWNER)
    else:
        service.add_member(session, ws, member, have)
    if ORDER.index(have) >= ORDER.index(need):
        assert service.require_role(session, member, ws, need) == have
    else:
        with pytest.raises(Forbidden) as info:
            service.require_role(session, member, ws, need)
        assert info.value.needed == need.value


def test_require_role_for_strangers_and_anonymous(
    session: Session, owner: User, ws: Workspace
) -> None:
    stranger = service.create_user(session, "x@other.test", "Stranger", "stranger-pass")
    with pytest.raises(Forbidden):
        service.require_role(session, stranger, ws, Role.VIEWER)
    with pytest.raises(Unauthenticated):
        service.require_role(session, None, ws, Role.VIEWER)
    service.set_user_disabled(session, owner)
    with pytest.raises(Forbidden):
        service.require_role(session, owner, ws, Role.VIEWER)
