"""What the web layer asks of the store, as a typed protocol.

The web layer holds no logic: every page and API call goes through a :class:`Backend`.
:mod:`journeylens.web.store_backend` implements it over :mod:`journeylens.store`; tests may
pass any other implementation to :func:`journeylens.web.app.create_app`. The errors below
are what the web layer maps to HTTP status codes (see :mod:`journeylens.web.errors`).
"""

# ruff: noqa: N818  (HTTP-flavoured names: NotFound, Forbidden … read better than *Error)

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum
from pathlib import Path
from typing import Protocol

from journeylens.model import JourneyMap, Persona


class Role(IntEnum):
    """Workspace roles, ordered: each role can do everything the ones below it can."""

    VIEWER = 1
    COMMENTER = 2
    EDITOR = 3
    OWNER = 4


class BackendError(Exception):
    """Base of the errors a backend raises; ``field`` names the offending input if any."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class Unauthorized(BackendError):
    """Not signed in, or wrong credentials (401)."""


class Forbidden(BackendError):
    """Signed in but the role does not allow it (403)."""


class NotFound(BackendError):
    """No such object in this workspace (404); also used for objects of other workspaces."""


class Conflict(BackendError):
    """The request clashes with existing data, e.g. an email already registered (409)."""


class RateLimited(BackendError):
    """Too many attempts (429)."""


class PayloadTooLarge(BackendError):
    """An upload larger than the server accepts (413)."""


class InvalidInput(BackendError):
    """The input does not validate (422); ``field`` and the message say where and why,
    ``issues`` lists every problem as ``{"field": …, "reason": …}`` when there are several."""

    def __init__(
        self, message: str, *, field: str | None = None, issues: list[dict[str, str]] | None = None
    ) -> None:
        super().__init__(message, field=field)
        self.issues = issues or [{"field": field or "", "reason": message}]


class StaleVersion(BackendError):
    """An edit based on ``base_version`` while the map is at ``current_version`` (409)."""

    def __init__(self, current_version: int, base_version: int, changes: list[str]) -> None:
        super().__init__(
            f"the map changed since version {base_version}: it is now at version "
            f"{current_version}; reload and apply your edit again",
            field="base_version",
        )
        self.current_version = current_version
        self.base_version = base_version
        self.changes = changes


@dataclass(frozen=True)
class User:
    """A signed-in account. A caller authenticated by an API token acts only in the
    token's workspace (``token_workspace``) and with its ``token_scopes``."""

    id: int
    email: str
    name: str
    token_workspace: int | None = None
    token_scopes: tuple[str, ...] = ()


@dataclass(frozen=True)
class WorkspaceInfo:
    """A workspace as listed for a user, with that user's role in it."""

    id: int
    name: str
    role: Role


@dataclass(frozen=True)
class MapSummary:
    """One row of a workspace's map list."""

    map_id: str
    title: str
    status: str
    owner: str
    version: int
    updated_at: datetime
    updated_by: str


@dataclass(frozen=True)
class StoredMap:
    """A map at one version, with who saved it and when."""

    journey: JourneyMap
    version: int
    updated_at: datetime
    updated_by: str


@dataclass(frozen=True)
class VersionInfo:
    """One entry of a map's history."""

    version: int
    author: str
    created_at: datetime
    message: str


@dataclass(frozen=True)
class Comment:
    """A comment on a map element (``target`` is ``stage:ID``, ``step:ID`` or ``touchpoint:ID``)."""

    id: int
    target: str
    author: str
    body: str
    created_at: datetime
    resolved: bool
    mentions: tuple[str, ...]


@dataclass(frozen=True)
class MapPage:
    """Everything the map view and its side panel read from the store, from ONE
    transaction: who is asking, their role, the map's latest version, its comments and
    the versions of the workspace's personas the map lists (by persona id)."""

    user: User
    role: Role
    stored: StoredMap
    comments: list[Comment]
    persona_versions: dict[str, int]


@dataclass(frozen=True)
class ShareLink:
    """A read-only link to one map; ``token`` is the secret part of the URL (known only
    right after creation, empty otherwise)."""

    id: int
    token: str
    map_id: str
    expires_at: datetime | None
    revoked: bool


@dataclass(frozen=True)
class Member:
    """A member of a workspace with their role."""

    user_id: int
    email: str
    name: str
    role: Role


class Backend(Protocol):
    """The store operations behind the web app. Every method checks the user's role and
    raises :class:`Forbidden` / :class:`NotFound` itself; objects of other workspaces are
    reported as :class:`NotFound` so their existence does not leak."""

    def sign_up(self, email: str, password: str, name: str) -> User:
        """Create an account; the first account becomes owner of a default workspace."""
        ...

    def sign_in(self, email: str, password: str, client: str) -> User:
        """Check credentials (rate limited per ``client`` and email)."""
        ...

    def user(self, user_id: int) -> User | None:
        """The account with this id, if it still exists."""
        ...

    def user_for_token(self, token: str) -> User | None:
        """The account an API token belongs to (``None`` if unknown or revoked)."""
        ...

    def create_token(self, user: User, workspace_id: int, name: str, scopes: list[str]) -> str:
        """A new API token for ``user`` in a workspace, with ``scopes`` (shown once)."""
        ...

    def workspaces(self, user: User) -> list[WorkspaceInfo]:
        """The workspaces ``user`` belongs to."""
        ...

    def role(self, user: User, workspace_id: int) -> Role:
        """The user's role in the workspace (:class:`NotFound` when not a member)."""
        ...

    def list_maps(self, user: User, workspace_id: int) -> list[MapSummary]:
        """The maps of a workspace (viewer or above)."""
        ...

    def get_map(self, user: User, workspace_id: int, map_id: str) -> StoredMap:
        """The latest version of a map (viewer or above)."""
        ...

    def create_map(self, user: User, workspace_id: int, journey: JourneyMap) -> StoredMap:
        """Add a new map (editor or above); :class:`Conflict` if the id is taken."""
        ...

    def save_map(
        self, user: User, workspace_id: int, journey: JourneyMap, base_version: int
    ) -> StoredMap:
        """Save a new version (editor or above); :class:`StaleVersion` if ``base_version``
        is not the latest."""
        ...

    def history(self, user: User, workspace_id: int, map_id: str) -> list[VersionInfo]:
        """Every version, newest first (viewer or above)."""
        ...

    def get_version(self, user: User, workspace_id: int, map_id: str, version: int) -> StoredMap:
        """One old version (viewer or above)."""
        ...

    def diff(self, user: User, workspace_id: int, map_id: str, old: int, new: int) -> list[str]:
        """The semantic diff from version ``old`` to ``new``, one change per line (viewer)."""
        ...

    def restore(self, user: User, workspace_id: int, map_id: str, version: int) -> StoredMap:
        """Save an old version again as the newest one (editor or above)."""
        ...

    def comments(self, user: User, workspace_id: int, map_id: str) -> list[Comment]:
        """The map's comments, oldest first (viewer or above)."""
        ...

    def map_page(self, user: User | int, workspace_id: int, map_id: str) -> MapPage:
        """What the map view shows (viewer or above). ``user`` is a signed-in session's
        user id, checked here (:class:`Unauthorized` when deleted or disabled, as
        :meth:`user` would), or an already checked token user."""
        ...

    def add_comment(
        self, user: User, workspace_id: int, map_id: str, target: str, body: str
    ) -> Comment:
        """Comment on an element (commenter or above)."""
        ...

    def set_resolved(
        self, user: User, workspace_id: int, map_id: str, comment_id: int, resolved: bool
    ) -> Comment:
        """Resolve or reopen a comment (commenter or above)."""
        ...

    def create_share(
        self, user: User, workspace_id: int, map_id: str, expires_at: datetime | None = None
    ) -> ShareLink:
        """A new read-only link (editor or above), valid until ``expires_at`` if given."""
        ...

    def revoke_share(self, user: User, workspace_id: int, link_id: int) -> None:
        """Revoke a link (editor or above)."""
        ...

    def shared_map(self, token: str) -> StoredMap:
        """The map behind a live share link (:class:`NotFound` if unknown, revoked or expired)."""
        ...

    def check_ingest(self, user: User, workspace_id: int) -> None:
        """Allow ingesting data into the workspace's events (editor or above; a token
        caller needs the ``ingest`` scope), else :class:`Forbidden`."""
        ...

    def members(self, user: User, workspace_id: int) -> list[Member]:
        """The workspace's members with their roles, by name (owner)."""
        ...

    def add_member(self, user: User, workspace_id: int, email: str, role: str) -> Member:
        """Make the account with ``email`` a member with ``role`` (owner); :class:`InvalidInput`
        for an unknown email or role, :class:`Conflict` if already a member."""
        ...

    def change_role(self, user: User, workspace_id: int, member_id: int, role: str) -> Member:
        """Give a member a new role (owner); :class:`Conflict` for the last owner."""
        ...

    def remove_member(self, user: User, workspace_id: int, member_id: int) -> None:
        """Remove a member (owner); :class:`Conflict` for the last owner."""
        ...

    # -- personas, share-link lists and folder sync --------------------------------------

    def list_personas(self, user: User, workspace_id: int) -> list[PersonaSummary]:
        """The workspace's personas, by id (viewer or above)."""
        ...

    def get_persona(
        self, user: User, workspace_id: int, persona_id: str, version: int = 0
    ) -> StoredPersona:
        """The persona at ``version`` (0: the latest; viewer or above)."""
        ...

    def create_persona(self, user: User, workspace_id: int, persona: Persona) -> StoredPersona:
        """A new persona (editor or above); :class:`Conflict` if the id is taken."""
        ...

    def save_persona(
        self, user: User, workspace_id: int, persona: Persona, base_version: int
    ) -> StoredPersona:
        """A new version (editor or above); :class:`StaleVersion` when ``base_version`` is old."""
        ...

    def persona_history(self, user: User, workspace_id: int, persona_id: str) -> list[VersionInfo]:
        """Every version of the persona, newest first (viewer or above)."""
        ...

    def restore_persona(
        self, user: User, workspace_id: int, persona_id: str, version: int
    ) -> StoredPersona:
        """Save an old version again as the newest one (editor or above)."""
        ...

    def delete_persona(self, user: User, workspace_id: int, persona_id: str) -> None:
        """Delete the persona and its versions (editor or above)."""
        ...

    def share_links(self, user: User, workspace_id: int, map_id: str) -> list[ShareLink]:
        """Every share link of the map, revoked and expired ones too (editor or above)."""
        ...

    def import_files(
        self, user: User, workspace_id: int, files: list[tuple[str, str]]
    ) -> SyncResult:
        """Import map / persona files given as (file name, text) (owner); all or nothing."""
        ...

    def export_files(self, user: User, workspace_id: int) -> list[tuple[str, str]]:
        """Every map and persona as (``<id>.journey.yaml`` / ``<id>.persona.yaml``, text) (owner)."""
        ...

    def sync_folder(
        self, user: User, workspace_id: int, folder: Path, direction: str
    ) -> SyncResult:
        """Copy maps and personas between the workspace and ``folder`` (``import`` or
        ``export``; owner)."""
        ...

    def workspace_slug(self, workspace_id: int) -> str:
        """The workspace's slug (:class:`NotFound` for an unknown id); no access check:
        call it after the page's own (it decides which event store the page reads)."""
        ...


# -- personas, share-link lists and folder sync (additions of the editor-completeness work) --


@dataclass(frozen=True)
class PersonaSummary:
    """One row of a workspace's persona list."""

    persona_id: str
    name: str
    version: int
    updated_at: datetime
    updated_by: str


@dataclass(frozen=True)
class StoredPersona:
    """A persona at one version, with who saved it and when."""

    persona: Persona
    version: int
    current_version: int
    updated_at: datetime
    updated_by: str


@dataclass(frozen=True)
class SyncResult:
    """What an import or a folder sync did, by map / persona id; ``written`` lists files."""

    created: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    written: tuple[str, ...] = ()
