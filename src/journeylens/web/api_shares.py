"""JSON API of a map's share links: create one with an expiry, list them, revoke one.

The same links as the map's Share page (:mod:`journeylens.web.pages_exports`): a secret
token in the URL ``/s/<token>`` opens a read-only view of the map for anyone holding it,
until it expires or is revoked. Editor or above; the token is shown only in the answer to
its creation (the store keeps its hash).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from journeylens.web.api_models import ERRORS
from journeylens.web.backend import InvalidInput, NotFound, ShareLink
from journeylens.web.deps import CurrentUser, backend_of, csrf_protect
from journeylens.web.pages_exports import link_state

router = APIRouter(
    prefix="/api/v1", tags=["shares"], dependencies=[Depends(csrf_protect)], responses=ERRORS
)


class ShareIn(BaseModel):
    """A new link: valid for ``expires_in_days`` from now, or until ``expires_at`` (ISO
    8601; without a zone it is UTC); neither: it never expires. Not both."""

    expires_in_days: int | None = Field(default=None, ge=1, le=3650)
    expires_at: datetime | None = None


class ShareOut(BaseModel):
    """A share link: ``state`` is ``live``, ``expired`` or ``revoked``."""

    id: int
    map_id: str
    expires_at: datetime | None
    revoked: bool
    state: str


class ShareCreatedOut(ShareOut):
    """A new link with its secret ``token`` and ``url`` (shown only this once)."""

    token: str
    url: str


def share_out(link: ShareLink, now: datetime) -> ShareOut:
    """The API form of a link."""
    return ShareOut(
        id=link.id,
        map_id=link.map_id,
        expires_at=link.expires_at,
        revoked=link.revoked,
        state=link_state(link, now),
    )


def expiry_of(body: ShareIn, now: datetime) -> datetime | None:
    """The expiry instant asked for (422 naming the field for a past instant or both).

    >>> now = datetime(2026, 1, 10, 12, tzinfo=UTC)
    >>> expiry_of(ShareIn(expires_in_days=7), now)
    datetime.datetime(2026, 1, 17, 12, 0, tzinfo=datetime.timezone.utc)
    >>> expiry_of(ShareIn(expires_at=datetime(2026, 2, 1)), now)
    datetime.datetime(2026, 2, 1, 0, 0, tzinfo=datetime.timezone.utc)
    >>> expiry_of(ShareIn(), now) is None
    True
    """
    if body.expires_in_days is not None and body.expires_at is not None:
        raise InvalidInput("give expires_in_days or expires_at, not both", field="expires_at")
    if body.expires_in_days is not None:
        return now + timedelta(days=body.expires_in_days)
    if body.expires_at is None:
        return None
    at = body.expires_at if body.expires_at.tzinfo else body.expires_at.replace(tzinfo=UTC)
    if at <= now:
        raise InvalidInput(f"the expiry {at.isoformat()} is in the past", field="expires_at")
    return at.astimezone(UTC)


_SHARES = "/workspaces/{ws}/maps/{map_id}/shares"


@router.get(_SHARES)
def list_shares(request: Request, user: CurrentUser, ws: int, map_id: str) -> list[ShareOut]:
    """Every link of the map, oldest first, live, expired and revoked (editor or above)."""
    now = datetime.now(UTC)
    return [share_out(link, now) for link in backend_of(request).share_links(user, ws, map_id)]


@router.post(_SHARES, status_code=201)
def create_share(
    request: Request, user: CurrentUser, ws: int, map_id: str, body: ShareIn
) -> ShareCreatedOut:
    """A new read-only link to the map (editor or above); the token is shown only here."""
    now = datetime.now(UTC)
    link = backend_of(request).create_share(user, ws, map_id, expiry_of(body, now))
    return ShareCreatedOut(
        **share_out(link, now).model_dump(),
        token=link.token,
        url=str(request.url_for("shared", token=link.token)),
    )


@router.post(_SHARES + "/{link_id}/revoke")
def revoke_share(
    request: Request, user: CurrentUser, ws: int, map_id: str, link_id: int
) -> ShareOut:
    """Revoke one of the map's links: its URL stops working at once (editor or above)."""
    backend = backend_of(request)
    if not any(link.id == link_id for link in backend.share_links(user, ws, map_id)):
        raise NotFound(f"no share link {link_id} on map {map_id!r}", field="link_id")
    backend.revoke_share(user, ws, link_id)
    now = datetime.now(UTC)
    revoked = next(link for link in backend.share_links(user, ws, map_id) if link.id == link_id)
    return share_out(revoked, now)
