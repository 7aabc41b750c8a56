"""Comments on maps, stages, steps and touchpoints: threads, @mentions, resolve / reopen."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from journeylens.store import service
from journeylens.store.errors import NotFound
from journeylens.store.models import Role, TargetKind, User, Workspace


@pytest.fixture
def team(session: Session, owner: User, ws: Workspace) -> tuple[User, User]:
    """Ann (editor) and Bo (commenter) join acme; the workspace gets map ``m``."""
    ann = service.create_user(session, "ann@acme.test", "Ann Lee", "ann-pass-1")
    bo = service.create_user(session, "bo@acme.test", "Bo", "bo-pass-12")
    service.add_member(session, ws, ann, Role.EDITOR)
    service.add_member(session, ws, bo, Role.COMMENTER)
    service.create_map(session, ws, owner, template="three-phase", map_id="m")
    return ann, bo


def test_comment_on_every_kind_of_target(
    session: Session, ws: Workspace, team: tuple[User, User]
) -> None:
    ann, bo = team
    on_map = service.add_comment(session, ws, "m", ann, "overall fine")
    on_stage = service.add_comment(session, ws, "m", bo, "long", TargetKind.STAGE, "purchase")
    on_step = service.add_comment(session, ws, "m", bo, "slow", TargetKind.STEP, "pay")
    on_tp = service.add_comment(session, ws, "m", ann, "broken", TargetKind.TOUCHPOINT, "cart")
    assert (on_map.target_kind, on_map.target_id) == (TargetKind.MAP, "")
    assert (on_tp.author_name, on_tp.resolved) == ("Ann Lee", False)
    everything = service.list_comments(session, ws, "m")
    assert [c.id for c in everything] == [on_map.id, on_stage.id, on_step.id, on_tp.id]
    assert [c.author_name for c in everything] == ["Ann Lee", "Bo", "Bo", "Ann Lee"]
    step_only = service.list_comments(session, ws, "m", TargetKind.STEP, "pay")
    assert [c.body for c in step_only] == ["slow"]
    assert service.list_comments(session, ws, "m", TargetKind.STEP, "add-to-cart") == []
    with pytest.raises(NotFound, match="has no step 'nope'"):
        service.add_comment(session, ws, "m", ann, "x", TargetKind.STEP, "nope")
    with pytest.raises(NotFound, match="has no touchpoint 'pay'"):
        service.add_comment(session, ws, "m", ann, "x", TargetKind.TOUCHPOINT, "pay")
    with pytest.raises(ValueError, match="body: expected"):
        service.add_comment(session, ws, "m", ann, "   ")


def test_replies_join_the_thread_and_its_target(
    session: Session, ws: Workspace, team: tuple[User, User]
) -> None:
    ann, bo = team
    root = service.add_comment(session, ws, "m", ann, "why?", TargetKind.STEP, "pay")
    reply = service.add_comment(session, ws, "m", bo, "because", parent_id=root.id)
    assert (reply.parent_id, reply.target_kind, reply.target_id) == (
        root.id,
        TargetKind.STEP,
        "pay",
    )
    thread = service.list_comments(session, ws, "m", TargetKind.STEP, "pay")
    assert [(c.body, c.parent_id) for c in thread] == [("why?", None), ("because", root.id)]
    with pytest.raises(NotFound, match="no comment 999"):
        service.add_comment(session, ws, "m", bo, "lost", parent_id=999)


def test_mentions_are_parsed_from_member_names_and_emails(
    session: Session, owner: User, ws: Workspace, team: tuple[User, User]
) -> None:
    ann, bo = team
    outsider = service.create_user(session, "zed@else.test", "Zed", "zed-pass-1")
    c = service.add_comment(
        session, ws, "m", owner, "@Ann Lee please check with @bo@acme.test; cc @Zed @Bob"
    )
    # Zed is not a member; "@Bob" is not "@Bo" (a mention ends at a word boundary).
    assert c.mentions == tuple(sorted([ann.id, bo.id]))
    assert outsider.id not in c.mentions
    assert service.list_comments(session, ws, "m")[0].mentions == c.mentions


def test_resolve_and_reopen(
    session: Session, owner: User, ws: Workspace, team: tuple[User, User]
) -> None:
    ann, _ = team
    c = service.add_comment(session, ws, "m", ann, "fix the copy")
    done = service.resolve_comment(session, ws, c.id, owner)
    assert done.resolved
    assert done.resolved_by == owner.id
    assert service.list_comments(session, ws, "m")[0].resolved_at is not None
    again = service.reopen_comment(session, ws, c.id)
    assert (again.resolved, again.resolved_by) == (False, None)
    other = service.create_workspace(session, "beta", "Beta", ann)
    with pytest.raises(NotFound):  # a comment is invisible from another workspace
        service.resolve_comment(session, other, c.id, ann)
