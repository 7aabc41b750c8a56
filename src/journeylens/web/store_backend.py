"""The :class:`~journeylens.web.backend.Backend` over :mod:`journeylens.store`.

One database session (unit of work) per call; store errors become the web layer's errors
(:mod:`journeylens.web.backend`), which the app maps to HTTP status codes. Roles are
checked here with the store's ``require_role`` before every action.
"""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from sqlalchemy import bindparam, case, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from journeylens.formats.io import kind_of
from journeylens.model import JourneyMap, Persona
from journeylens.store import errors as se
from journeylens.store import models as sm
from journeylens.store import service as sv
from journeylens.store.db import make_engine, session_factory, upgrade
from journeylens.web.backend import (
    Comment,
    Conflict,
    Forbidden,
    InvalidInput,
    MapPage,
    MapSummary,
    Member,
    NotFound,
    PersonaSummary,
    RateLimited,
    Role,
    ShareLink,
    StaleVersion,
    StoredMap,
    StoredPersona,
    SyncResult,
    Unauthorized,
    User,
    VersionInfo,
    WorkspaceInfo,
)

DEFAULT_WORKSPACE = ("default", "Default workspace")

_ROLE = {
    sm.Role.VIEWER: Role.VIEWER,
    sm.Role.COMMENTER: Role.COMMENTER,
    sm.Role.EDITOR: Role.EDITOR,
    sm.Role.OWNER: Role.OWNER,
}


def _value_error(exc: ValueError) -> InvalidInput:
    # The store words value errors as "field: expected …".
    field, sep, reason = str(exc).partition(": ")
    if sep and " " not in field:
        return InvalidInput(reason, field=field)
    return InvalidInput(str(exc))


@contextmanager
def translated() -> Iterator[None]:
    """Turn the store's typed errors into the web layer's."""
    try:
        yield
    except se.StaleVersion as exc:
        changes = exc.diff.to_text().splitlines() if exc.diff is not None else []
        raise StaleVersion(exc.current_version, exc.base_version, changes) from None
    except se.InvalidMap as exc:
        issues = [{"field": i.path, "reason": i.message} for i in exc.issues]
        first = issues[0] if issues else {"field": "map", "reason": str(exc)}
        raise InvalidInput(first["reason"], field=first["field"], issues=issues) from None
    except se.NotFound as exc:
        raise NotFound(str(exc)) from None
    except se.Unauthenticated as exc:
        raise Unauthorized(str(exc)) from None
    except se.Forbidden as exc:
        raise Forbidden(str(exc), field="role") from None
    except se.RateLimited as exc:
        raise RateLimited(str(exc)) from None
    except se.Conflict as exc:
        raise Conflict(str(exc)) from None
    except ValueError as exc:
        raise _value_error(exc) from None


def _user(row: sm.User, token_ws: int | None = None, scopes: tuple[str, ...] = ()) -> User:
    return User(row.id, row.email, row.name, token_workspace=token_ws, token_scopes=scopes)


def _stored(snap: sv.MapSnapshot, names: dict[int, str]) -> StoredMap:
    return StoredMap(
        journey=snap.journey,
        version=snap.version,
        updated_at=snap.created_at,
        updated_by=names.get(snap.author_id, "") if snap.author_id else "",
    )


def _comment(c: sv.CommentInfo) -> Comment:
    target = (
        c.target_kind.value
        if c.target_kind is sm.TargetKind.MAP
        else (f"{c.target_kind.value}:{c.target_id}")
    )
    return Comment(
        id=c.id,
        target=target,
        author=c.author_name,
        body=c.body,
        created_at=c.created_at,
        resolved=c.resolved,
        mentions=tuple(str(m) for m in c.mentions),
    )


# The queries of every page view, built once: building a SQLAlchemy statement costs
# more than running it on SQLite.
_ACCESS = (
    select(sm.User, sm.Workspace, sm.Membership.role)
    .join(sm.Membership, sm.Membership.user_id == sm.User.id)
    .join(sm.Workspace, sm.Workspace.id == sm.Membership.workspace_id)
    .where(sm.User.id == bindparam("user"), sm.Membership.workspace_id == bindparam("ws"))
)
_ENABLED_USER = select(sm.User.id, sm.User.email, sm.User.name).where(
    sm.User.id == bindparam("user"), sm.User.disabled.is_(False)
)
#: The version row wanted: ``number`` 0 means the map's current version.
_VERSION_ROW = (
    select(sm.MapVersion.id, sm.MapVersion.number, sm.MapVersion.created_at)
    .join(sm.Map, sm.Map.id == sm.MapVersion.map_pk)
    .where(
        sm.Map.workspace_id == bindparam("ws"),
        sm.Map.map_id == bindparam("map"),
        sm.MapVersion.number
        == case((bindparam("number") == 0, sm.Map.current_version), else_=bindparam("number")),
    )
)


class StoreBackend:
    """The store at one database, as the web app's backend."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = session_factory(engine)
        self._versions: dict[tuple[int, str, int, int, datetime], StoredMap] = {}
        self._lock = threading.Lock()
        self._making: dict[tuple[int, str, int, int, datetime], threading.Lock] = {}

    @classmethod
    def connect(cls, database_url: str) -> StoreBackend:
        """Open (and migrate to the latest schema) the database at ``database_url``."""
        engine = make_engine(database_url)
        upgrade(engine)
        return cls(engine)

    @contextmanager
    def _session(self) -> Iterator[Session]:
        with self._sessions() as session, translated():
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    # -- helpers ---------------------------------------------------------------------------

    def _names(self, session: Session, ids: list[int | None]) -> dict[int, str]:
        wanted = {i for i in ids if i is not None}
        if not wanted:
            return {}
        rows = session.execute(select(sm.User.id, sm.User.name).where(sm.User.id.in_(wanted)))
        return {row.id: row.name for row in rows}

    def _ws(
        self,
        session: Session,
        user: User,
        workspace_id: int,
        minimum: sm.Role,
        *,
        write: bool = False,
    ) -> tuple[sm.User, sm.Workspace]:
        """The user row and workspace after checking membership, role and token limits."""
        row, ws, _role = self._access(session, user, workspace_id, minimum, write=write)
        return row, ws

    def _access(
        self,
        session: Session,
        user: User,
        workspace_id: int,
        minimum: sm.Role,
        *,
        write: bool = False,
    ) -> tuple[sm.User, sm.Workspace, sm.Role]:
        """:meth:`_ws` plus the user's role: the rules of ``require_role`` in ONE query.

        Every page and API call starts here, so user, workspace and membership come back
        in one joined row (it was four queries); only a refusal looks further, to tell a
        deleted account (401) from a non-member (403).
        """
        found = session.execute(_ACCESS, {"user": user.id, "ws": workspace_id}).one_or_none()
        if found is None and session.get(sm.User, user.id) is None:
            raise Unauthorized("sign in first", field="session")
        # The same answer for "no such workspace" and "not a member": ids do not leak.
        not_member = Forbidden(f"you are not a member of workspace {workspace_id}", field="role")
        if user.token_workspace is not None and user.token_workspace != workspace_id:
            raise not_member
        if found is None or found[0].disabled:
            raise not_member
        row, ws, role_text = found
        if write and user.token_workspace is not None and "write" not in user.token_scopes:
            raise Forbidden("this token lacks the 'write' scope", field="Authorization")
        role = sm.Role(role_text)
        if role.rank < minimum.rank:
            raise Forbidden(str(se.Forbidden(minimum.value)), field="role")  # as require_role
        return row, ws, role

    # -- accounts ------------------------------------------------------------------------

    def sign_up(self, email: str, password: str, name: str) -> User:
        """Create the account; the first one becomes owner of the default workspace."""
        with self._session() as session:
            first = session.scalar(select(func.count()).select_from(sm.User)) == 0
            row = sv.create_user(session, email, name, password)
            if first:
                slug, title = DEFAULT_WORKSPACE
                sv.create_workspace(session, slug, title, row)
            return _user(row)

    def sign_in(self, email: str, password: str, client: str) -> User:
        """Check credentials; a failure is committed so the rate limit counts it."""
        with self._sessions() as session, translated():
            try:
                row = sv.authenticate(session, email, password, client)
            except se.Unauthenticated:
                session.commit()
                raise
            session.commit()
            return _user(row)

    def user(self, user_id: int) -> User | None:
        """The enabled account with this id (asked on every signed-in request: plain
        columns from a prebuilt statement, no ORM object)."""
        with self._session() as session:
            row = session.execute(_ENABLED_USER, {"user": user_id}).one_or_none()
            return User(row.id, row.email, row.name) if row is not None else None

    def user_for_token(self, token: str) -> User | None:
        """The account behind a live API token, limited to the token's workspace/scopes."""
        with self._sessions() as session:
            try:
                row, ws, info = sv.verify_api_token(session, token, sm.Scope.READ)
            except (se.Unauthenticated, se.Forbidden):
                return None
            session.commit()
            return _user(row, ws.id, tuple(s.value for s in info.scopes))

    def create_token(self, user: User, workspace_id: int, name: str, scopes: list[str]) -> str:
        """A new scoped API token (member of the workspace; viewer or above)."""
        with self._session() as session:
            row, ws = self._ws(session, user, workspace_id, sm.Role.VIEWER)
            try:
                wanted = [sm.Scope(s) for s in scopes]
            except ValueError:
                raise InvalidInput(
                    f"expected scopes among read, write, ingest, got {scopes}", field="scopes"
                ) from None
            _info, secret = sv.create_api_token(session, row, ws, wanted, name)
            return secret

    # -- workspaces and maps ----------------------------------------------------------------

    def workspaces(self, user: User) -> list[WorkspaceInfo]:
        """The user's workspaces (only the token's one for a token caller)."""
        with self._session() as session:
            row = session.get(sm.User, user.id)
            if row is None:
                return []
            return [
                WorkspaceInfo(ws.id, ws.name, _ROLE[role])
                for ws, role in sv.list_workspaces(session, row)
                if user.token_workspace is None or ws.id == user.token_workspace
            ]

    def role(self, user: User, workspace_id: int) -> Role:
        """The user's role in the workspace."""
        with self._session() as session:
            _row, _ws, role = self._access(session, user, workspace_id, sm.Role.VIEWER)
            return _ROLE[role]

    def list_maps(self, user: User, workspace_id: int) -> list[MapSummary]:
        """The workspace's maps."""
        with self._session() as session:
            _row, ws = self._ws(session, user, workspace_id, sm.Role.VIEWER)
            return [
                MapSummary(
                    m.map_id,
                    m.title,
                    m.status,
                    m.owner_name,
                    m.current_version,
                    m.updated_at,
                    m.updated_by_name,
                )
                for m in sv.list_maps(session, ws)
            ]

    def get_map(self, user: User, workspace_id: int, map_id: str) -> StoredMap:
        """The latest version of a map."""
        return self.get_version(user, workspace_id, map_id, 0)

    def get_version(self, user: User, workspace_id: int, map_id: str, version: int) -> StoredMap:
        """One version of a map (0 = the latest).

        A saved version never changes, so answers are kept (bounded) by the version row's
        identity: one light query finds which row is wanted (its id and creation time, so
        a map deleted and created again under the same id is not confused with the old
        one), and only a miss loads and parses the version.
        """
        with self._session() as session:
            _row, ws = self._ws(session, user, workspace_id, sm.Role.VIEWER)
            return self._version(session, ws, map_id, version)

    def _version(self, session: Session, ws: sm.Workspace, map_id: str, version: int) -> StoredMap:
        """:meth:`get_version` inside an open session, after the access check."""
        found = session.execute(
            _VERSION_ROW, {"ws": ws.id, "map": map_id, "number": version}
        ).one_or_none()
        if found is None:  # the store raises NotFound with its message
            snap = sv.get_map(session, ws, map_id, version or None)
            return _stored(snap, self._names(session, [snap.author_id]))
        key = (ws.id, map_id, found.number, found.id, found.created_at)
        with self._lock:
            cached = self._versions.get(key)
            if cached is not None:
                return cached
            making = self._making.setdefault(key, threading.Lock())
        # One thread per version parses it: right after a save every reader of the map asks
        # for the new version at once, and parsing it in each of them (GIL-bound) was the
        # readers' latency tail while writers saved.
        with making:
            with self._lock:
                cached = self._versions.get(key)
            if cached is not None:
                return cached
            try:
                snap = sv.get_map(session, ws, map_id, found.number)
                stored = _stored(snap, self._names(session, [snap.author_id]))
                with self._lock:
                    self._versions[key] = stored
                    if len(self._versions) > 256:
                        self._versions.pop(next(iter(self._versions)))
            finally:
                with self._lock:
                    self._making.pop(key, None)
            return stored

    def map_page(self, user: User | int, workspace_id: int, map_id: str) -> MapPage:
        """The map view's reads in ONE transaction (they were five: the session's user,
        the map, the role, the comments, the personas; each a pool checkout, BEGIN and
        COMMIT, and on a busy worker a wait for the GIL after every query)."""
        with self._session() as session:
            if isinstance(user, int):
                found = session.execute(_ACCESS, {"user": user, "ws": workspace_id}).one_or_none()
                if found is None or found[0].disabled:
                    # As the session's user check and then the access check would say:
                    # 401 for a deleted or disabled account, 403 for a non-member.
                    if session.execute(_ENABLED_USER, {"user": user}).one_or_none() is None:
                        raise Unauthorized("sign in first", field="session")
                    raise Forbidden(
                        f"you are not a member of workspace {workspace_id}", field="role"
                    )
                row, ws, role_text = found
                who, role = User(row.id, row.email, row.name), sm.Role(role_text)
            else:
                who = user
                _row, ws, role = self._access(session, user, workspace_id, sm.Role.VIEWER)
            stored = self._version(session, ws, map_id, 0)
            comments = [_comment(c) for c in sv.list_comments(session, ws, map_id)]
            versions: dict[str, int] = {}
            if stored.journey.personas:  # no query for a map that lists none
                versions = {p.persona_id: p.current_version for p in sv.list_personas(session, ws)}
            return MapPage(who, _ROLE[role], stored, comments, versions)

    def create_map(self, user: User, workspace_id: int, journey: JourneyMap) -> StoredMap:
        """A new map (editor or above)."""
        with self._session() as session:
            row, ws = self._ws(session, user, workspace_id, sm.Role.EDITOR, write=True)
            snap = sv.create_map(session, ws, row, journey)
            return _stored(snap, {row.id: row.name})

    def save_map(
        self, user: User, workspace_id: int, journey: JourneyMap, base_version: int
    ) -> StoredMap:
        """A new version from ``base_version`` (editor or above; 409 when stale)."""
        with self._session() as session:
            row, ws = self._ws(session, user, workspace_id, sm.Role.EDITOR, write=True)
            snap = sv.save_map(session, ws, journey, row, base_version, "edited in the browser")
            return _stored(snap, {row.id: row.name})

    def history(self, user: User, workspace_id: int, map_id: str) -> list[VersionInfo]:
        """Every version, newest first."""
        with self._session() as session:
            _row, ws = self._ws(session, user, workspace_id, sm.Role.VIEWER)
            return [
                VersionInfo(v.number, v.author_name, v.created_at, v.message)
                for v in sv.map_history(session, ws, map_id)
            ]

    def diff(self, user: User, workspace_id: int, map_id: str, old: int, new: int) -> list[str]:
        """The semantic diff between two versions, one change per line."""
        with self._session() as session:
            _row, ws = self._ws(session, user, workspace_id, sm.Role.VIEWER)
            return sv.diff_versions(session, ws, map_id, old, new).to_text().splitlines()

    def restore(self, user: User, workspace_id: int, map_id: str, version: int) -> StoredMap:
        """An old version saved again as the newest (editor or above)."""
        with self._session() as session:
            row, ws = self._ws(session, user, workspace_id, sm.Role.EDITOR, write=True)
            snap = sv.restore_map(session, ws, map_id, version, row)
            return _stored(snap, {row.id: row.name})

    # -- comments and share links -------------------------------------------------------------

    def comments(self, user: User, workspace_id: int, map_id: str) -> list[Comment]:
        """The map's comments."""
        with self._session() as session:
            _row, ws = self._ws(session, user, workspace_id, sm.Role.VIEWER)
            return [_comment(c) for c in sv.list_comments(session, ws, map_id)]

    def add_comment(
        self, user: User, workspace_id: int, map_id: str, target: str, body: str
    ) -> Comment:
        """A comment on ``map`` or ``stage:ID`` / ``step:ID`` / ``touchpoint:ID``."""
        kind_text, _, target_id = target.partition(":")
        try:
            kind = sm.TargetKind(kind_text)
        except ValueError:
            raise InvalidInput(
                f"expected map, stage:ID, step:ID or touchpoint:ID, got {target!r}", field="target"
            ) from None
        with self._session() as session:
            row, ws = self._ws(session, user, workspace_id, sm.Role.COMMENTER, write=True)
            return _comment(sv.add_comment(session, ws, map_id, row, body, kind, target_id))

    def set_resolved(
        self, user: User, workspace_id: int, map_id: str, comment_id: int, resolved: bool
    ) -> Comment:
        """Resolve or reopen (commenter or above); the comment must be on ``map_id``."""
        with self._session() as session:
            row, ws = self._ws(session, user, workspace_id, sm.Role.COMMENTER, write=True)
            if not any(c.id == comment_id for c in sv.list_comments(session, ws, map_id)):
                raise NotFound(f"no comment {comment_id} on map {map_id!r}")
            info = (
                sv.resolve_comment(session, ws, comment_id, row)
                if resolved
                else sv.reopen_comment(session, ws, comment_id)
            )
            return _comment(info)

    def create_share(
        self, user: User, workspace_id: int, map_id: str, expires_at: datetime | None = None
    ) -> ShareLink:
        """A new read-only link (editor or above), valid until ``expires_at`` if given."""
        with self._session() as session:
            row, ws = self._ws(session, user, workspace_id, sm.Role.EDITOR, write=True)
            info, secret = sv.create_share_link(session, ws, map_id, row, expires_at)
            return ShareLink(info.id, secret, info.map_id, info.expires_at, False)

    def revoke_share(self, user: User, workspace_id: int, link_id: int) -> None:
        """Revoke a link (editor or above)."""
        with self._session() as session:
            _row, ws = self._ws(session, user, workspace_id, sm.Role.EDITOR, write=True)
            sv.revoke_share_link(session, ws, link_id)

    def shared_map(self, token: str) -> StoredMap:
        """The map behind a live share link."""
        with self._session() as session:
            snap = sv.resolve_share_token(session, token)
            return _stored(snap, self._names(session, [snap.author_id]))

    # -- personas, share-link lists and folder sync -------------------------------------------

    def list_personas(self, user: User, workspace_id: int) -> list[PersonaSummary]:
        """The workspace's personas, by id."""
        with self._session() as session:
            _row, ws = self._ws(session, user, workspace_id, sm.Role.VIEWER)
            rows = sv.list_personas(session, ws)
            names = self._names(session, [p.updated_by for p in rows])
            return [
                PersonaSummary(
                    p.persona_id,
                    p.name,
                    p.current_version,
                    p.updated_at,
                    names.get(p.updated_by, "") if p.updated_by else "",
                )
                for p in rows
            ]

    def _stored_persona(self, session: Session, snap: sv.PersonaSnapshot) -> StoredPersona:
        names = self._names(session, [snap.author_id])
        return StoredPersona(
            persona=snap.persona,
            version=snap.version,
            current_version=snap.current_version,
            updated_at=snap.created_at,
            updated_by=names.get(snap.author_id, "") if snap.author_id else "",
        )

    def get_persona(
        self, user: User, workspace_id: int, persona_id: str, version: int = 0
    ) -> StoredPersona:
        """The persona at ``version`` (0: the latest)."""
        with self._session() as session:
            _row, ws = self._ws(session, user, workspace_id, sm.Role.VIEWER)
            snap = sv.get_persona(session, ws, persona_id, version or None)
            return self._stored_persona(session, snap)

    def create_persona(self, user: User, workspace_id: int, persona: Persona) -> StoredPersona:
        """A new persona (editor or above)."""
        with self._session() as session:
            row, ws = self._ws(session, user, workspace_id, sm.Role.EDITOR, write=True)
            return self._stored_persona(session, sv.create_persona(session, ws, persona, row))

    def save_persona(
        self, user: User, workspace_id: int, persona: Persona, base_version: int
    ) -> StoredPersona:
        """A new version from ``base_version`` (editor or above; 409 when stale)."""
        with self._session() as session:
            row, ws = self._ws(session, user, workspace_id, sm.Role.EDITOR, write=True)
            snap = sv.save_persona(session, ws, persona, row, base_version, "edited in the browser")
            return self._stored_persona(session, snap)

    def persona_history(self, user: User, workspace_id: int, persona_id: str) -> list[VersionInfo]:
        """Every version of the persona, newest first."""
        with self._session() as session:
            _row, ws = self._ws(session, user, workspace_id, sm.Role.VIEWER)
            return [
                VersionInfo(v.number, v.author_name, v.created_at, v.message)
                for v in sv.persona_history(session, ws, persona_id)
            ]

    def restore_persona(
        self, user: User, workspace_id: int, persona_id: str, version: int
    ) -> StoredPersona:
        """An old version saved again as the newest (editor or above)."""
        with self._session() as session:
            row, ws = self._ws(session, user, workspace_id, sm.Role.EDITOR, write=True)
            snap = sv.restore_persona(session, ws, persona_id, version, row)
            return self._stored_persona(session, snap)

    def delete_persona(self, user: User, workspace_id: int, persona_id: str) -> None:
        """Delete the persona with its versions (editor or above)."""
        with self._session() as session:
            _row, ws = self._ws(session, user, workspace_id, sm.Role.EDITOR, write=True)
            sv.delete_persona(session, ws, persona_id)

    def share_links(self, user: User, workspace_id: int, map_id: str) -> list[ShareLink]:
        """Every link of the map (editor or above); the secret is never shown again."""
        with self._session() as session:
            _row, ws = self._ws(session, user, workspace_id, sm.Role.EDITOR)
            return [
                ShareLink(i.id, "", i.map_id, i.expires_at, i.revoked_at is not None)
                for i in sv.list_share_links(session, ws, map_id)
            ]

    def import_files(
        self, user: User, workspace_id: int, files: list[tuple[str, str]]
    ) -> SyncResult:
        """Import uploaded map / persona files (owner): the store's folder import over a
        temporary folder, so every file is validated before anything is stored."""
        with self._session() as session:
            row, ws = self._ws(session, user, workspace_id, sm.Role.OWNER, write=True)
            with tempfile.TemporaryDirectory(prefix="jl-upload-") as tmp:
                originals: dict[str, str] = {}
                for i, (name, text) in enumerate(files):
                    # The folder import reads files by suffix: name each by what it holds
                    # (its schema key, else its suffix); never trust the uploaded path.
                    kind = "persona" if kind_of(Path(name), text) is Persona else "journey"
                    safe = f"{i:03d}-upload.{kind}.yaml"
                    originals[safe] = Path(name).name or "upload"
                    (Path(tmp) / safe).write_text(text, encoding="utf-8")
                try:
                    report = sv.sync_folder(session, ws, tmp, sv.SyncDirection.IMPORT, row)
                except se.InvalidMap as exc:
                    issues = [
                        {
                            "field": f"{originals.get(Path(i.file).name, 'upload')}"
                            + (f" line {i.line}" if i.line else "")
                            + f": {i.path or '(document)'}",
                            "reason": i.message,
                        }
                        for i in exc.issues
                    ]
                    first = issues[0] if issues else {"field": "file", "reason": str(exc)}
                    raise InvalidInput(
                        first["reason"], field=first["field"], issues=issues
                    ) from None
            return SyncResult(report.created, report.updated, report.unchanged, report.written)

    def export_files(self, user: User, workspace_id: int) -> list[tuple[str, str]]:
        """Every map and persona as canonical YAML files (owner)."""
        with self._session() as session:
            row, ws = self._ws(session, user, workspace_id, sm.Role.OWNER)
            with tempfile.TemporaryDirectory(prefix="jl-export-") as tmp:
                report = sv.sync_folder(session, ws, tmp, sv.SyncDirection.EXPORT, row)
                return [
                    (name, (Path(tmp) / name).read_text(encoding="utf-8"))
                    for name in report.written
                ]

    def sync_folder(
        self, user: User, workspace_id: int, folder: Path, direction: str
    ) -> SyncResult:
        """The store's :func:`~journeylens.store.service.sync_folder` (owner)."""
        try:
            way = sv.SyncDirection(direction)
        except ValueError:
            raise InvalidInput(
                f"expected import or export, got {direction!r}", field="direction"
            ) from None
        with self._session() as session:
            row, ws = self._ws(session, user, workspace_id, sm.Role.OWNER, write=True)
            report = sv.sync_folder(session, ws, folder, way, row)
            return SyncResult(report.created, report.updated, report.unchanged, report.written)

    def workspace_slug(self, workspace_id: int) -> str:
        """The workspace's slug, in one query (:class:`NotFound` for an unknown id)."""
        with self._session() as session:
            slug = session.scalar(select(sm.Workspace.slug).where(sm.Workspace.id == workspace_id))
            if slug is None:
                raise NotFound(f"no workspace {workspace_id}", field="workspace")
            return str(slug)

    # -- data ingestion and members (additions of the data-pages work) ---------------------

    def check_ingest(self, user: User, workspace_id: int) -> None:
        """Editor or above; a token caller also needs the ``ingest`` scope."""
        with self._session() as session:
            self._ws(session, user, workspace_id, sm.Role.EDITOR)
            if user.token_workspace is not None and "ingest" not in user.token_scopes:
                raise Forbidden("this token lacks the 'ingest' scope", field="Authorization")

    def members(self, user: User, workspace_id: int) -> list[Member]:
        """The workspace's members by name (owner)."""
        with self._session() as session:
            _row, ws = self._ws(session, user, workspace_id, sm.Role.OWNER)
            return [
                Member(m.user_id, m.email, m.name, _ROLE[m.role])
                for m in sv.list_members(session, ws)
            ]

    def _member_of(self, session: Session, ws: sm.Workspace, member_id: int) -> sm.User:
        target = session.get(sm.User, member_id)
        if target is None or sv.role_of(session, target, ws) is None:
            raise NotFound(f"no member {member_id} in this workspace")
        return target

    def add_member(self, user: User, workspace_id: int, email: str, role: str) -> Member:
        """Add the account with ``email`` (owner)."""
        wanted = _store_role(role)
        with self._session() as session:
            _row, ws = self._ws(session, user, workspace_id, sm.Role.OWNER, write=True)
            try:
                target = sv.get_user_by_email(session, email)
            except se.NotFound:
                raise InvalidInput(
                    f"no account with the email {email!r}: ask them to create one first",
                    field="email",
                ) from None
            sv.add_member(session, ws, target, wanted)
            return Member(target.id, target.email, target.name, _ROLE[wanted])

    def change_role(self, user: User, workspace_id: int, member_id: int, role: str) -> Member:
        """A member's new role (owner; the last owner cannot step down)."""
        wanted = _store_role(role)
        with self._session() as session:
            _row, ws = self._ws(session, user, workspace_id, sm.Role.OWNER, write=True)
            target = self._member_of(session, ws, member_id)
            sv.change_role(session, ws, target, wanted)
            return Member(target.id, target.email, target.name, _ROLE[wanted])

    def remove_member(self, user: User, workspace_id: int, member_id: int) -> None:
        """Remove a member (owner; never the last owner)."""
        with self._session() as session:
            _row, ws = self._ws(session, user, workspace_id, sm.Role.OWNER, write=True)
            sv.remove_member(session, ws, self._member_of(session, ws, member_id))


def _store_role(role: str) -> sm.Role:
    """The store's role named ``role`` (:class:`InvalidInput` naming the choices otherwise)."""
    try:
        return sm.Role(role)
    except ValueError:
        raise InvalidInput(
            f"expected one of viewer, commenter, editor, owner, got {role!r}", field="role"
        ) from None
