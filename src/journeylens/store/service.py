"""The store's service API: plain typed functions over a SQLAlchemy ``Session``.

The web app and scripts call these; they hold every rule of the store (versions,
optimistic concurrency, roles, tokens) so the web layer holds none. Conventions:

- Functions ``flush`` but never ``commit``: the caller owns the unit of work
  (``journeylens.store.db.session_scope`` or one session per request).
- Permission checks are explicit: call :func:`require_role` before acting for a user.
- Reads return frozen dataclasses (:class:`MapSnapshot`, :class:`CommentInfo` …), not ORM
  rows, so results stay valid after the session closes. ``User`` and ``Workspace`` rows are
  passed in and out as handles.
- Failures raise the typed errors of :mod:`journeylens.store.errors`.
"""

from __future__ import annotations

import functools
import hashlib
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from pydantic import ValidationError
from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from journeylens.formats.diff import MapDiff, diff_maps
from journeylens.formats.io import (
    MAP_SUFFIXES,
    PERSONA_SUFFIXES,
    DocumentError,
    Issue,
    dumps_json,
    dumps_yaml,
    parse_model,
)
from journeylens.model.journey import JourneyMap, Status
from journeylens.model.persona import Persona
from journeylens.store.errors import (
    Conflict,
    Forbidden,
    InvalidMap,
    NotFound,
    RateLimited,
    StaleVersion,
    Unauthenticated,
)
from journeylens.store.models import (
    ApiToken,
    Comment,
    LoginAttempt,
    Map,
    MapVersion,
    Membership,
    PersonaRow,
    PersonaVersion,
    Role,
    Scope,
    ShareLink,
    TargetKind,
    User,
    Workspace,
    utcnow,
)

# -- results ------------------------------------------------------------------------------


@dataclass(frozen=True)
class MapSummary:
    """One line of a workspace's map list: status, owner and last change."""

    map_id: str
    title: str
    status: str
    owner_id: int | None
    owner_name: str
    current_version: int
    updated_at: datetime
    updated_by: int | None
    updated_by_name: str


@dataclass(frozen=True)
class VersionInfo:
    """One entry of a map's or persona's history."""

    number: int
    author_id: int | None
    author_name: str
    created_at: datetime
    message: str


@dataclass(frozen=True)
class MapSnapshot:
    """A map at one version: its parsed content, canonical YAML and who saved it when.

    ``journey`` is shared by every snapshot of the same content (parsed once): read-only.
    """

    map_id: str
    workspace_id: int
    version: int
    current_version: int
    journey: JourneyMap
    yaml: str
    author_id: int | None
    created_at: datetime
    message: str


@dataclass(frozen=True)
class PersonaSummary:
    """One line of a workspace's persona list."""

    persona_id: str
    name: str
    current_version: int
    updated_at: datetime
    updated_by: int | None


@dataclass(frozen=True)
class PersonaSnapshot:
    """A persona at one version."""

    persona_id: str
    workspace_id: int
    version: int
    current_version: int
    persona: Persona
    yaml: str
    author_id: int | None
    created_at: datetime
    message: str


@dataclass(frozen=True)
class MemberInfo:
    """A workspace member and their role."""

    user_id: int
    email: str
    name: str
    role: Role


@dataclass(frozen=True)
class CommentInfo:
    """One comment; ``parent_id`` is set on replies, ``mentions`` are user ids."""

    id: int
    map_id: str
    target_kind: TargetKind
    target_id: str
    parent_id: int | None
    author_id: int | None
    author_name: str
    body: str
    mentions: tuple[int, ...]
    created_at: datetime
    resolved_at: datetime | None
    resolved_by: int | None

    @property
    def resolved(self) -> bool:
        """True once someone resolved the comment (and nobody reopened it)."""
        return self.resolved_at is not None


@dataclass(frozen=True)
class ShareLinkInfo:
    """A share link without its secret (the secret is shown once, at creation)."""

    id: int
    map_id: str
    created_by: int | None
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None


@dataclass(frozen=True)
class ApiTokenInfo:
    """An API token without its secret."""

    id: int
    name: str
    user_id: int
    workspace_id: int
    scopes: tuple[Scope, ...]
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None


class SyncDirection(StrEnum):
    """Which way :func:`sync_folder` copies: files into the store, or the store into files."""

    IMPORT = "import"
    EXPORT = "export"


@dataclass(frozen=True)
class SyncReport:
    """What :func:`sync_folder` did, by map / persona id (each tuple sorted)."""

    created: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    written: tuple[str, ...] = ()


def _flush_unique(session: Session, message: str) -> None:
    """Flush; a unique-constraint clash (a racing insert of the same key) is a :class:`Conflict`.

    The earlier check gives the friendly error in the common case; this one covers two
    requests creating the same thing at once. The session must then be rolled back.
    """
    try:
        session.flush()
    except IntegrityError:
        raise Conflict(message) from None


# -- users and passwords ------------------------------------------------------------------

#: The argon2id hasher (argon2-cffi's recommended parameters); tests swap in a cheaper one.
PASSWORD_HASHER = PasswordHasher()

#: Failed sign-ins allowed per email (and, ×4, per client address) within the window.
LOGIN_MAX_FAILURES = 5
LOGIN_WINDOW = timedelta(minutes=15)
MIN_PASSWORD_LENGTH = 8

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"password: expected at least {MIN_PASSWORD_LENGTH} characters")


def create_user(session: Session, email: str, name: str, password: str) -> User:
    """A new account; the email is stored lower-case and must be unused (else :class:`Conflict`)."""
    email = email.strip().lower()
    if not _EMAIL.match(email):
        raise ValueError(f"email: expected an address like name@example.org, got {email!r}")
    if not name.strip():
        raise ValueError("name: expected a non-empty name")
    _check_password(password)
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise Conflict(f"email {email!r} is already registered")
    user = User(email=email, name=name.strip(), password_hash=PASSWORD_HASHER.hash(password))
    session.add(user)
    _flush_unique(session, f"email {email!r} is already registered")
    return user


def get_user(session: Session, user_id: int) -> User:
    """The user with ``user_id`` (:class:`NotFound` otherwise)."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"no user with id {user_id}")
    return user


def get_user_by_email(session: Session, email: str) -> User:
    """The user registered with ``email`` (case-insensitive; :class:`NotFound` otherwise)."""
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise NotFound(f"no user with email {email!r}")
    return user


def set_password(session: Session, user: User, password: str) -> None:
    """Replace the user's password (argon2 hash)."""
    _check_password(password)
    user.password_hash = PASSWORD_HASHER.hash(password)
    session.flush()


def set_user_disabled(session: Session, user: User, disabled: bool = True) -> None:
    """Disable (or enable again) an account: a disabled user cannot sign in or use tokens."""
    user.disabled = disabled
    session.flush()


_DUMMY: dict[str, str] = {}


def _dummy_hash() -> str:
    # Per hasher, so a hasher swapped in (tests) verifies at its own cost.
    key = repr((PASSWORD_HASHER.time_cost, PASSWORD_HASHER.memory_cost))
    if key not in _DUMMY:
        _DUMMY[key] = PASSWORD_HASHER.hash(secrets.token_hex(16))
    return _DUMMY[key]


def _check_rate_limit(session: Session, email: str, ip: str, now: datetime) -> None:
    since = now - LOGIN_WINDOW
    by_email = select(LoginAttempt.at).where(LoginAttempt.email == email, LoginAttempt.at > since)
    times = list(session.scalars(by_email.order_by(LoginAttempt.at)))
    if len(times) >= LOGIN_MAX_FAILURES:
        raise RateLimited(times[-LOGIN_MAX_FAILURES] + LOGIN_WINDOW)
    if ip:
        by_ip = select(LoginAttempt.at).where(LoginAttempt.ip == ip, LoginAttempt.at > since)
        ip_times = list(session.scalars(by_ip.order_by(LoginAttempt.at)))
        if len(ip_times) >= 4 * LOGIN_MAX_FAILURES:
            raise RateLimited(ip_times[-4 * LOGIN_MAX_FAILURES] + LOGIN_WINDOW)


def authenticate(
    session: Session, email: str, password: str, ip: str = "", now: datetime | None = None
) -> User:
    """The user whose email and password match.

    Raises :class:`RateLimited` when the email (or client address ``ip``) had too many
    failed sign-ins within :data:`LOGIN_WINDOW` — checked before the password, so a
    locked-out guesser learns nothing — and :class:`Unauthenticated` for a wrong email or
    password or a disabled account. A failure is recorded (flushed) before raising: the
    caller must still commit so the rate limit counts it.
    """
    now = now or utcnow()
    email = email.strip().lower()
    # Failures older than the window no longer count: drop this email's, so the table
    # stays small even under a long guessing attack.
    session.execute(
        delete(LoginAttempt).where(
            LoginAttempt.email == email, LoginAttempt.at <= now - LOGIN_WINDOW
        )
    )
    _check_rate_limit(session, email, ip, now)
    user = session.scalar(select(User).where(User.email == email))
    # Verify against a stand-in hash when there is no such account, so an unknown email
    # takes as long as a wrong password (no account discovery by timing).
    stored = user.password_hash if user is not None else _dummy_hash()
    try:
        ok = PASSWORD_HASHER.verify(stored, password) and user is not None and not user.disabled
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok or user is None:
        session.add(LoginAttempt(email=email, ip=ip, at=now))
        session.flush()
        raise Unauthenticated("wrong email or password")
    if PASSWORD_HASHER.check_needs_rehash(user.password_hash):
        user.password_hash = PASSWORD_HASHER.hash(password)
    session.execute(delete(LoginAttempt).where(LoginAttempt.email == email))
    session.flush()
    return user


# -- workspaces and roles -----------------------------------------------------------------

_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,99}$")


def create_workspace(session: Session, slug: str, name: str, owner: User) -> Workspace:
    """A new workspace with ``owner`` as its first member (role owner)."""
    if not _SLUG.match(slug):
        raise ValueError(
            f"slug: expected lower-case letters, digits and '-' (1-100 characters), got {slug!r}"
        )
    if session.scalar(select(Workspace.id).where(Workspace.slug == slug)) is not None:
        raise Conflict(f"workspace {slug!r} already exists")
    ws = Workspace(slug=slug, name=name.strip() or slug)
    session.add(ws)
    _flush_unique(session, f"workspace {slug!r} already exists")
    session.add(Membership(workspace_id=ws.id, user_id=owner.id, role=Role.OWNER.value))
    session.flush()
    return ws


def get_workspace(session: Session, slug: str) -> Workspace:
    """The workspace with ``slug`` (:class:`NotFound` otherwise)."""
    ws = session.scalar(select(Workspace).where(Workspace.slug == slug))
    if ws is None:
        raise NotFound(f"no workspace {slug!r}")
    return ws


def list_workspaces(session: Session, user: User) -> list[tuple[Workspace, Role]]:
    """The workspaces ``user`` belongs to, with their role, by slug."""
    rows = session.execute(
        select(Workspace, Membership.role)
        .join(Membership, Membership.workspace_id == Workspace.id)
        .where(Membership.user_id == user.id)
        .order_by(Workspace.slug)
    )
    return [(ws, Role(role)) for ws, role in rows]


def role_of(session: Session, user: User | None, ws: Workspace) -> Role | None:
    """The user's role in ``ws``, or ``None`` when not a member (or anonymous / disabled)."""
    if user is None or user.disabled:
        return None
    role = session.scalar(
        select(Membership.role).where(
            Membership.workspace_id == ws.id, Membership.user_id == user.id
        )
    )
    return Role(role) if role is not None else None


def require_role(session: Session, user: User | None, ws: Workspace, minimum: Role) -> Role:
    """The user's role in ``ws`` if it is at least ``minimum``; :class:`Forbidden` otherwise.

    Anonymous callers (``user is None``) get :class:`Unauthenticated`.
    """
    if user is None:
        raise Unauthenticated("sign in first")
    role = role_of(session, user, ws)
    if role is None or role.rank < minimum.rank:
        raise Forbidden(minimum.value)
    return role


def list_members(session: Session, ws: Workspace) -> list[MemberInfo]:
    """Every member of ``ws`` with their role, by name."""
    rows = session.scalars(select(Membership).where(Membership.workspace_id == ws.id))
    members = [MemberInfo(m.user.id, m.user.email, m.user.name, Role(m.role)) for m in rows]
    return sorted(members, key=lambda m: (m.name.lower(), m.user_id))


def _membership(session: Session, ws: Workspace, user: User) -> Membership | None:
    return session.scalar(
        select(Membership).where(Membership.workspace_id == ws.id, Membership.user_id == user.id)
    )


def _owners(session: Session, ws: Workspace) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(Membership)
            .where(Membership.workspace_id == ws.id, Membership.role == Role.OWNER.value)
        )
        or 0
    )


def add_member(session: Session, ws: Workspace, user: User, role: Role) -> None:
    """Make ``user`` a member of ``ws`` with ``role`` (:class:`Conflict` if already one)."""
    if _membership(session, ws, user) is not None:
        raise Conflict(f"{user.email} is already a member of {ws.slug!r}")
    session.add(Membership(workspace_id=ws.id, user_id=user.id, role=Role(role).value))
    _flush_unique(session, f"{user.email} is already a member of {ws.slug!r}")


def change_role(session: Session, ws: Workspace, user: User, role: Role) -> None:
    """Give a member a new role; the last owner cannot step down (:class:`Conflict`)."""
    m = _membership(session, ws, user)
    if m is None:
        raise NotFound(f"{user.email} is not a member of {ws.slug!r}")
    if m.role == Role.OWNER.value and role != Role.OWNER and _owners(session, ws) == 1:
        raise Conflict(f"{user.email} is the last owner of {ws.slug!r}")
    m.role = Role(role).value
    session.flush()


def remove_member(session: Session, ws: Workspace, user: User) -> None:
    """Remove a member; the last owner cannot be removed (:class:`Conflict`)."""
    m = _membership(session, ws, user)
    if m is None:
        raise NotFound(f"{user.email} is not a member of {ws.slug!r}")
    if m.role == Role.OWNER.value and _owners(session, ws) == 1:
        raise Conflict(f"{user.email} is the last owner of {ws.slug!r}")
    session.delete(m)
    session.flush()


# -- maps ---------------------------------------------------------------------------------


def _user_names(session: Session, ids: Iterable[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = session.execute(select(User.id, User.name).where(User.id.in_(wanted)))
    return {row.id: row.name for row in rows}  # dict(Result) fails: Result has .keys()


# Statements of the read paths, built once: on SQLite building a SQLAlchemy statement
# costs about as much as running it, and these run on every map view.
_MAP_ROW = select(Map).where(Map.workspace_id == bindparam("ws"), Map.map_id == bindparam("map"))
_MAP_VERSION = select(MapVersion).where(
    MapVersion.map_pk == bindparam("map_pk"), MapVersion.number == bindparam("number")
)
#: A map's comments with their authors' names: one row per comment, or a single row
#: without a comment for a map that has none (no row: no such map).
_MAP_COMMENTS = (
    select(Map.id, Comment, User.name)
    .select_from(Map)
    .outerjoin(Comment, Comment.map_pk == Map.id)
    .outerjoin(User, User.id == Comment.author_id)
    .where(Map.workspace_id == bindparam("ws"), Map.map_id == bindparam("map"))
    .order_by(Comment.created_at, Comment.id)
)


def _map_row(session: Session, ws: Workspace, map_id: str) -> Map:
    row = session.scalar(_MAP_ROW, {"ws": ws.id, "map": map_id})
    if row is None:
        raise NotFound(f"no map {map_id!r} in workspace {ws.slug!r}")
    return row


def _map_version(session: Session, row: Map, number: int) -> MapVersion:
    version = session.scalar(_MAP_VERSION, {"map_pk": row.id, "number": number})
    if version is None:
        raise NotFound(f"map {row.map_id!r} has no version {number}")
    return version


def _parse_map(text: str, file: str) -> JourneyMap:
    try:
        return parse_model(text, JourneyMap, file)
    except DocumentError as exc:
        raise InvalidMap(exc.issues) from None


def _parse_persona(text: str, file: str) -> Persona:
    try:
        return parse_model(text, Persona, file)
    except DocumentError as exc:
        raise InvalidMap(exc.issues) from None


#: How many parsed versions (maps and personas) :func:`_stored_map` keeps.
PARSED_CACHE_SIZE = 128


@functools.lru_cache(maxsize=PARSED_CACHE_SIZE)
def _parsed_json(text: str, model: type[JourneyMap] | type[Persona]) -> JourneyMap | Persona:
    # Keyed by the stored canonical JSON itself (content-addressed), so an entry can never
    # be stale: a new version, a restore or a map deleted and created again under the same
    # id all have their own text. Failures are not cached (lru_cache keeps only returns).
    return parse_model(text, model, "<stored version>")


def _stored_map(text: str, file: str) -> JourneyMap:
    """The map in a stored version's canonical JSON, parsed once per distinct text.

    Parsing and validating a map costs milliseconds and a saved version never changes, so
    every reader of the same version shares one parsed :class:`JourneyMap`: treat it as
    read-only (copy it with ``model_copy`` / ``to_data`` before changing anything).
    """
    try:
        parsed = _parsed_json(text, JourneyMap)
    except DocumentError:
        return _parse_map(text, file)  # raises InvalidMap naming the version
    assert isinstance(parsed, JourneyMap)
    return parsed


def _stored_persona(text: str, file: str) -> Persona:
    """The persona in a stored version's JSON, parsed once per distinct text (read-only)."""
    try:
        parsed = _parsed_json(text, Persona)
    except DocumentError:
        return _parse_persona(text, file)
    assert isinstance(parsed, Persona)
    return parsed


def list_maps(session: Session, ws: Workspace, status: Status | None = None) -> list[MapSummary]:
    """The workspace's maps, most recently changed first (optionally only one ``status``)."""
    query = select(Map).where(Map.workspace_id == ws.id)
    if status is not None:
        query = query.where(Map.status == Status(status).value)
    rows = list(session.scalars(query.order_by(Map.updated_at.desc(), Map.map_id)))
    names = _user_names(session, [r.owner_id for r in rows] + [r.updated_by for r in rows])
    return [
        MapSummary(
            map_id=r.map_id,
            title=r.title,
            status=r.status,
            owner_id=r.owner_id,
            owner_name=names.get(r.owner_id, "") if r.owner_id else "",
            current_version=r.current_version,
            updated_at=r.updated_at,
            updated_by=r.updated_by,
            updated_by_name=names.get(r.updated_by, "") if r.updated_by else "",
        )
        for r in rows
    ]


def _snapshot(row: Map, version: MapVersion, journey: JourneyMap | None = None) -> MapSnapshot:
    """The stored version as a snapshot; ``journey`` is the map just saved as that version
    (equal to its stored JSON read back, which is then not parsed again here)."""
    return MapSnapshot(
        map_id=row.map_id,
        workspace_id=row.workspace_id,
        version=version.number,
        current_version=row.current_version,
        journey=journey
        if journey is not None
        else _stored_map(version.json_text, f"{row.map_id}@{version.number}"),
        yaml=version.yaml,
        author_id=version.author_id,
        created_at=version.created_at,
        message=version.message,
    )


def get_map(
    session: Session, ws: Workspace, map_id: str, version: int | None = None
) -> MapSnapshot:
    """The map at ``version`` (the current one by default); :class:`NotFound` if absent."""
    row = _map_row(session, ws, map_id)
    number = row.current_version if version is None else version
    return _snapshot(row, _map_version(session, row, number))


def _template_map(template: str, map_id: str | None, title: str | None) -> JourneyMap:
    from journeylens.templates import UnknownTemplateError, get_template

    try:
        journey = get_template(template)
    except UnknownTemplateError as exc:
        raise NotFound(str(exc)) from None
    data = journey.model_dump(by_alias=True)
    if map_id is not None:
        data["id"] = map_id
    if title is not None:
        data["title"] = title
    try:
        return JourneyMap.model_validate(data)
    except ValidationError as exc:
        issues = [
            Issue(f"template {template}", None, None, ".".join(map(str, e["loc"])), e["msg"])
            for e in exc.errors()
        ]
        raise InvalidMap(issues) from None


def create_map(
    session: Session,
    ws: Workspace,
    author: User,
    journey: JourneyMap | None = None,
    *,
    template: str | None = None,
    map_id: str | None = None,
    title: str | None = None,
    message: str = "created",
) -> MapSnapshot:
    """A new map (version 1) from ``journey`` or from the built-in ``template``.

    ``map_id`` / ``title`` replace the template's. :class:`Conflict` if the workspace already
    has a map with that id; :class:`NotFound` for an unknown template.
    """
    if (journey is None) == (template is None):
        raise ValueError("create_map: give exactly one of journey or template")
    if journey is None:
        assert template is not None
        journey = _template_map(template, map_id, title)
    exists = session.scalar(
        select(Map.id).where(Map.workspace_id == ws.id, Map.map_id == journey.id)
    )
    if exists is not None:
        raise Conflict(f"workspace {ws.slug!r} already has a map {journey.id!r}")
    now = utcnow()
    row = Map(
        workspace_id=ws.id,
        map_id=journey.id,
        title=journey.title,
        status=journey.status.value,
        owner_id=author.id,
        current_version=1,
        updated_at=now,
        updated_by=author.id,
    )
    session.add(row)
    _flush_unique(session, f"workspace {ws.slug!r} already has a map {journey.id!r}")
    version = MapVersion(
        map_pk=row.id,
        number=1,
        yaml=dumps_yaml(journey),
        json_text=dumps_json(journey),
        author_id=author.id,
        created_at=now,
        message=message,
    )
    session.add(version)
    session.flush()
    return _snapshot(row, version)


def save_map(
    session: Session,
    ws: Workspace,
    journey: JourneyMap,
    author: User,
    base_version: int,
    message: str = "",
) -> MapSnapshot:
    """Save ``journey`` as a new version of the map with its id, edited from ``base_version``.

    Optimistic concurrency: the save wins only if ``base_version`` is still the current
    version — checked and advanced in one conditional UPDATE, so of two concurrent saves
    from the same base exactly one succeeds (the database serialises the row update). The
    other gets :class:`StaleVersion` carrying the semantic diff from its base to what is
    current now. Every successful save is a new version; nothing is overwritten.
    """
    row = _map_row(session, ws, journey.id)
    if row.current_version != base_version:
        # Already stale when read: answer before serialising (most losers of a race get
        # here; the conditional UPDATE below still decides the ones that read in time).
        raise _stale(session, ws, journey.id, base_version, row.current_version)
    # Serialise before the UPDATE: the row stays locked from the UPDATE until commit.
    yaml_text, json_text = dumps_yaml(journey), dumps_json(journey)
    now = utcnow()
    new_number = base_version + 1
    result = session.execute(
        update(Map)
        .where(Map.id == row.id, Map.current_version == base_version)
        .values(
            current_version=new_number,
            title=journey.title,
            status=journey.status.value,
            updated_at=now,
            updated_by=author.id,
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        session.refresh(row)
        raise _stale(session, ws, journey.id, base_version, row.current_version)
    version = MapVersion(
        map_pk=row.id,
        number=new_number,
        yaml=yaml_text,
        json_text=json_text,
        author_id=author.id,
        created_at=now,
        message=message,
    )
    session.add(version)
    session.flush()
    session.refresh(row)
    return _snapshot(row, version, journey)


def _stale(
    session: Session, ws: Workspace, map_id: str, base_version: int, current: int
) -> StaleVersion:
    """The error of a save from ``base_version`` when ``current`` is the map's version,
    with the semantic diff from the base to what is current."""
    diff: MapDiff | None = None
    if 1 <= base_version < current:
        old = get_map(session, ws, map_id, base_version).journey
        diff = diff_maps(old, get_map(session, ws, map_id, current).journey)
    return StaleVersion(base_version, current, diff)


def save_map_yaml(
    session: Session,
    ws: Workspace,
    map_id: str,
    text: str,
    author: User,
    base_version: int,
    message: str = "",
) -> MapSnapshot:
    """Save YAML or JSON ``text`` as a new version of ``map_id``.

    :class:`InvalidMap` lists every problem, located, with ``journeylens validate``'s
    messages; the document's id must be ``map_id`` (a rename is not a save).
    """
    journey = _parse_map(text, f"{map_id}.journey.yaml")
    if journey.id != map_id:
        raise InvalidMap(
            [
                Issue(
                    f"{map_id}.journey.yaml",
                    None,
                    None,
                    "id",
                    f"expected the map id {map_id!r}, got {journey.id!r}",
                )
            ]
        )
    return save_map(session, ws, journey, author, base_version, message)


def map_history(session: Session, ws: Workspace, map_id: str) -> list[VersionInfo]:
    """Every version of the map, newest first."""
    row = _map_row(session, ws, map_id)
    versions = list(
        session.scalars(
            select(MapVersion).where(MapVersion.map_pk == row.id).order_by(MapVersion.number.desc())
        )
    )
    names = _user_names(session, [v.author_id for v in versions])
    return [
        VersionInfo(
            v.number,
            v.author_id,
            names.get(v.author_id, "") if v.author_id else "",
            v.created_at,
            v.message,
        )
        for v in versions
    ]


def diff_versions(session: Session, ws: Workspace, map_id: str, old: int, new: int) -> MapDiff:
    """The semantic diff from version ``old`` to version ``new`` of the map."""
    return diff_maps(
        get_map(session, ws, map_id, old).journey, get_map(session, ws, map_id, new).journey
    )


def restore_map(
    session: Session, ws: Workspace, map_id: str, version: int, author: User
) -> MapSnapshot:
    """Make the content of ``version`` current again, as a NEW version (history is kept)."""
    row = _map_row(session, ws, map_id)
    old = _snapshot(row, _map_version(session, row, version))
    return save_map(
        session, ws, old.journey, author, row.current_version, f"restored version {version}"
    )


def archive_map(session: Session, ws: Workspace, map_id: str, author: User) -> MapSnapshot:
    """Archive the map: a new version whose status is ``archived`` (no content is lost)."""
    current = get_map(session, ws, map_id)
    archived = current.journey.model_copy(update={"status": Status.ARCHIVED})
    return save_map(session, ws, archived, author, current.version, "archived")


def delete_map(session: Session, ws: Workspace, map_id: str) -> None:
    """Delete the map with all its versions, comments and share links (cannot be undone)."""
    session.delete(_map_row(session, ws, map_id))
    session.flush()


def export_map_yaml(
    session: Session, ws: Workspace, map_id: str, version: int | None = None
) -> str:
    """The canonical YAML text of the map (current version by default)."""
    return get_map(session, ws, map_id, version).yaml


def _same_content(session: Session, ws: Workspace, journey: JourneyMap) -> bool:
    row = _map_row(session, ws, journey.id)
    return _map_version(session, row, row.current_version).json_text == dumps_json(journey)


def import_map_yaml(
    session: Session, ws: Workspace, text: str, author: User, file: str = "<upload>"
) -> MapSnapshot:
    """Create the map in ``text``, or save it as a new version of the map with its id.

    An import that changes nothing adds no version and returns the current one.
    """
    journey = _parse_map(text, file)
    row = session.scalar(select(Map).where(Map.workspace_id == ws.id, Map.map_id == journey.id))
    if row is None:
        return create_map(session, ws, author, journey, message=f"imported from {file}")
    current = get_map(session, ws, journey.id)
    if _same_content(session, ws, journey):
        return current
    return save_map(session, ws, journey, author, current.version, f"imported from {file}")


# -- personas -----------------------------------------------------------------------------


def _persona_row(session: Session, ws: Workspace, persona_id: str) -> PersonaRow:
    row = session.scalar(
        select(PersonaRow).where(
            PersonaRow.workspace_id == ws.id, PersonaRow.persona_id == persona_id
        )
    )
    if row is None:
        raise NotFound(f"no persona {persona_id!r} in workspace {ws.slug!r}")
    return row


def _persona_snapshot(row: PersonaRow, version: PersonaVersion) -> PersonaSnapshot:
    return PersonaSnapshot(
        persona_id=row.persona_id,
        workspace_id=row.workspace_id,
        version=version.number,
        current_version=row.current_version,
        persona=_stored_persona(version.json_text, f"{row.persona_id}@{version.number}"),
        yaml=version.yaml,
        author_id=version.author_id,
        created_at=version.created_at,
        message=version.message,
    )


def list_personas(session: Session, ws: Workspace) -> list[PersonaSummary]:
    """The workspace's personas, by id."""
    rows = session.scalars(
        select(PersonaRow).where(PersonaRow.workspace_id == ws.id).order_by(PersonaRow.persona_id)
    )
    return [
        PersonaSummary(r.persona_id, r.name, r.current_version, r.updated_at, r.updated_by)
        for r in rows
    ]


def get_persona(
    session: Session, ws: Workspace, persona_id: str, version: int | None = None
) -> PersonaSnapshot:
    """The persona at ``version`` (the current one by default)."""
    row = _persona_row(session, ws, persona_id)
    number = row.current_version if version is None else version
    v = session.scalar(
        select(PersonaVersion).where(
            PersonaVersion.persona_pk == row.id, PersonaVersion.number == number
        )
    )
    if v is None:
        raise NotFound(f"persona {persona_id!r} has no version {number}")
    return _persona_snapshot(row, v)


def create_persona(
    session: Session, ws: Workspace, persona: Persona, author: User, message: str = "created"
) -> PersonaSnapshot:
    """A new persona (version 1); :class:`Conflict` if the id is taken in the workspace."""
    exists = session.scalar(
        select(PersonaRow.id).where(
            PersonaRow.workspace_id == ws.id, PersonaRow.persona_id == persona.id
        )
    )
    if exists is not None:
        raise Conflict(f"workspace {ws.slug!r} already has a persona {persona.id!r}")
    now = utcnow()
    row = PersonaRow(
        workspace_id=ws.id,
        persona_id=persona.id,
        name=persona.name,
        current_version=1,
        updated_at=now,
        updated_by=author.id,
    )
    session.add(row)
    _flush_unique(session, f"workspace {ws.slug!r} already has a persona {persona.id!r}")
    v = PersonaVersion(
        persona_pk=row.id,
        number=1,
        yaml=dumps_yaml(persona),
        json_text=dumps_json(persona),
        author_id=author.id,
        created_at=now,
        message=message,
    )
    session.add(v)
    session.flush()
    return _persona_snapshot(row, v)


def save_persona(
    session: Session,
    ws: Workspace,
    persona: Persona,
    author: User,
    base_version: int,
    message: str = "",
) -> PersonaSnapshot:
    """A new version of the persona, with the same optimistic concurrency as :func:`save_map`."""
    row = _persona_row(session, ws, persona.id)
    now = utcnow()
    result = session.execute(
        update(PersonaRow)
        .where(PersonaRow.id == row.id, PersonaRow.current_version == base_version)
        .values(
            current_version=base_version + 1,
            name=persona.name,
            updated_at=now,
            updated_by=author.id,
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        session.refresh(row)
        raise StaleVersion(base_version, row.current_version, None)
    v = PersonaVersion(
        persona_pk=row.id,
        number=base_version + 1,
        yaml=dumps_yaml(persona),
        json_text=dumps_json(persona),
        author_id=author.id,
        created_at=now,
        message=message,
    )
    session.add(v)
    session.flush()
    session.refresh(row)
    return _persona_snapshot(row, v)


def persona_history(session: Session, ws: Workspace, persona_id: str) -> list[VersionInfo]:
    """Every version of the persona, newest first."""
    row = _persona_row(session, ws, persona_id)
    versions = list(
        session.scalars(
            select(PersonaVersion)
            .where(PersonaVersion.persona_pk == row.id)
            .order_by(PersonaVersion.number.desc())
        )
    )
    names = _user_names(session, [v.author_id for v in versions])
    return [
        VersionInfo(
            v.number,
            v.author_id,
            names.get(v.author_id, "") if v.author_id else "",
            v.created_at,
            v.message,
        )
        for v in versions
    ]


def restore_persona(
    session: Session, ws: Workspace, persona_id: str, version: int, author: User
) -> PersonaSnapshot:
    """Make the content of ``version`` current again, as a new version."""
    old = get_persona(session, ws, persona_id, version)
    return save_persona(
        session, ws, old.persona, author, old.current_version, f"restored version {version}"
    )


def delete_persona(session: Session, ws: Workspace, persona_id: str) -> None:
    """Delete the persona with all its versions."""
    session.delete(_persona_row(session, ws, persona_id))
    session.flush()


# -- comments -----------------------------------------------------------------------------


def _targets(journey: JourneyMap) -> dict[TargetKind, set[str]]:
    return {
        TargetKind.MAP: {""},
        TargetKind.STAGE: {s.id for s in journey.stages},
        TargetKind.STEP: {step.id for _, step in journey.iter_steps()},
        TargetKind.TOUCHPOINT: {tp.id for _, _, tp in journey.iter_touchpoints()},
    }


def parse_mentions(body: str, members: Sequence[MemberInfo]) -> tuple[int, ...]:
    """Ids of the members named in ``body`` as ``@email`` or ``@Full Name`` (case-insensitive).

    A mention must end at a word boundary, so ``@ann`` does not mention "Anna".

    >>> m = [MemberInfo(1, "ann@x.org", "Ann Lee", Role.EDITOR),
    ...      MemberInfo(2, "bo@x.org", "Bo", Role.VIEWER)]
    >>> parse_mentions("thanks @Ann Lee and @bo@x.org, not @Bob", m)
    (1, 2)
    """
    lower = body.lower()
    found: list[int] = []
    for member in members:
        for handle in (member.email, member.name):
            if handle and re.search(r"@" + re.escape(handle.lower()) + r"(?![\w@.-]*\w)", lower):
                found.append(member.user_id)
                break
    return tuple(sorted(set(found)))


def _comment_info(c: Comment, map_id: str, names: dict[int, str]) -> CommentInfo:
    return CommentInfo(
        id=c.id,
        map_id=map_id,
        target_kind=TargetKind(c.target_kind),
        target_id=c.target_id,
        parent_id=c.parent_id,
        author_id=c.author_id,
        author_name=names.get(c.author_id, "") if c.author_id else "",
        body=c.body,
        mentions=tuple(c.mentions or ()),
        created_at=c.created_at,
        resolved_at=c.resolved_at,
        resolved_by=c.resolved_by,
    )


def add_comment(
    session: Session,
    ws: Workspace,
    map_id: str,
    author: User,
    body: str,
    target_kind: TargetKind = TargetKind.MAP,
    target_id: str = "",
    parent_id: int | None = None,
) -> CommentInfo:
    """A comment on the map or on one of its stages, steps or touchpoints (by id).

    A reply (``parent_id``) joins its parent's thread and target. ``@`` mentions of
    workspace members are recorded (see :func:`parse_mentions`). The target must exist in
    the map's current version (:class:`NotFound` otherwise).
    """
    if not body.strip():
        raise ValueError("body: expected a non-empty comment")
    row = _map_row(session, ws, map_id)
    kind = TargetKind(target_kind)
    if parent_id is not None:
        parent = session.get(Comment, parent_id)
        if parent is None or parent.map_pk != row.id:
            raise NotFound(f"no comment {parent_id} on map {map_id!r}")
        kind, target_id = TargetKind(parent.target_kind), parent.target_id
    else:
        if kind == TargetKind.MAP:
            target_id = ""
        journey = get_map(session, ws, map_id).journey
        if target_id not in _targets(journey)[kind]:
            raise NotFound(f"map {map_id!r} has no {kind.value} {target_id!r}")
    mentions = parse_mentions(body, list_members(session, ws))
    c = Comment(
        map_pk=row.id,
        target_kind=kind.value,
        target_id=target_id,
        parent_id=parent_id,
        author_id=author.id,
        body=body,
        mentions=list(mentions),
        created_at=utcnow(),
    )
    session.add(c)
    session.flush()
    return _comment_info(c, map_id, {author.id: author.name})


def list_comments(
    session: Session,
    ws: Workspace,
    map_id: str,
    target_kind: TargetKind | None = None,
    target_id: str | None = None,
) -> list[CommentInfo]:
    """The map's comments in the order written (optionally only one target's)."""
    if target_kind is None and target_id is None:  # the map view's question: one query
        rows = session.execute(_MAP_COMMENTS, {"ws": ws.id, "map": map_id}).all()
        if not rows:
            raise NotFound(f"no map {map_id!r} in workspace {ws.slug!r}")
        return [
            _comment_info(c, map_id, {c.author_id: name} if c.author_id and name else {})
            for _pk, c, name in rows
            if c is not None
        ]
    row = _map_row(session, ws, map_id)
    query = select(Comment).where(Comment.map_pk == row.id)
    if target_kind is not None:
        query = query.where(Comment.target_kind == TargetKind(target_kind).value)
    if target_id is not None:
        query = query.where(Comment.target_id == target_id)
    comments = list(session.scalars(query.order_by(Comment.created_at, Comment.id)))
    names = _user_names(session, [c.author_id for c in comments])
    return [_comment_info(c, map_id, names) for c in comments]


def _comment(session: Session, ws: Workspace, comment_id: int) -> tuple[Comment, Map]:
    c = session.get(Comment, comment_id)
    m = session.get(Map, c.map_pk) if c is not None else None
    if c is None or m is None or m.workspace_id != ws.id:
        raise NotFound(f"no comment {comment_id} in workspace {ws.slug!r}")
    return c, m


def resolve_comment(session: Session, ws: Workspace, comment_id: int, user: User) -> CommentInfo:
    """Mark a comment resolved by ``user`` now."""
    c, m = _comment(session, ws, comment_id)
    c.resolved_at, c.resolved_by = utcnow(), user.id
    session.flush()
    return _comment_info(c, m.map_id, _user_names(session, [c.author_id]))


def reopen_comment(session: Session, ws: Workspace, comment_id: int) -> CommentInfo:
    """Mark a resolved comment open again."""
    c, m = _comment(session, ws, comment_id)
    c.resolved_at, c.resolved_by = None, None
    session.flush()
    return _comment_info(c, m.map_id, _user_names(session, [c.author_id]))


# -- share links and API tokens -----------------------------------------------------------


def hash_token(token: str) -> str:
    """The SHA-256 hex digest under which a secret token is stored.

    >>> hash_token("abc")[:16]
    'ba7816bf8f01cfea'
    """
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _share_info(link: ShareLink, map_id: str) -> ShareLinkInfo:
    return ShareLinkInfo(
        link.id, map_id, link.created_by, link.created_at, link.expires_at, link.revoked_at
    )


def create_share_link(
    session: Session,
    ws: Workspace,
    map_id: str,
    created_by: User,
    expires_at: datetime | None = None,
) -> tuple[ShareLinkInfo, str]:
    """A read-only link to the map; returns its info and the secret token (shown only now)."""
    row = _map_row(session, ws, map_id)
    token = secrets.token_urlsafe(32)
    link = ShareLink(
        token_hash=hash_token(token),
        map_pk=row.id,
        created_by=created_by.id,
        created_at=utcnow(),
        expires_at=expires_at,
    )
    session.add(link)
    session.flush()
    return _share_info(link, map_id), token


def list_share_links(session: Session, ws: Workspace, map_id: str) -> list[ShareLinkInfo]:
    """Every share link of the map (revoked and expired ones too), oldest first."""
    row = _map_row(session, ws, map_id)
    links = session.scalars(
        select(ShareLink).where(ShareLink.map_pk == row.id).order_by(ShareLink.id)
    )
    return [_share_info(link, map_id) for link in links]


def revoke_share_link(session: Session, ws: Workspace, link_id: int) -> None:
    """Revoke a share link: its token stops working at once."""
    link = session.get(ShareLink, link_id)
    m = session.get(Map, link.map_pk) if link is not None else None
    if link is None or m is None or m.workspace_id != ws.id:
        raise NotFound(f"no share link {link_id} in workspace {ws.slug!r}")
    if link.revoked_at is None:
        link.revoked_at = utcnow()
    session.flush()


def resolve_share_token(session: Session, token: str, now: datetime | None = None) -> MapSnapshot:
    """The current version of the map a share token points to.

    :class:`NotFound` for an unknown, revoked or expired token (the same error for all
    three, so a guesser learns nothing).
    """
    now = now or utcnow()
    link = session.scalar(select(ShareLink).where(ShareLink.token_hash == hash_token(token)))
    if (
        link is None
        or link.revoked_at is not None
        or (link.expires_at is not None and link.expires_at <= now)
    ):
        raise NotFound("this share link does not exist, was revoked or has expired")
    m = session.get(Map, link.map_pk)
    if m is None:
        raise NotFound("this share link does not exist, was revoked or has expired")
    return _snapshot(m, _map_version(session, m, m.current_version))


def _token_info(t: ApiToken) -> ApiTokenInfo:
    return ApiTokenInfo(
        t.id,
        t.name,
        t.user_id,
        t.workspace_id,
        tuple(Scope(s) for s in t.scopes),
        t.created_at,
        t.revoked_at,
        t.last_used_at,
    )


def create_api_token(
    session: Session, user: User, ws: Workspace, scopes: Iterable[Scope], name: str = ""
) -> tuple[ApiTokenInfo, str]:
    """A scoped token for ``user`` in ``ws``; returns its info and the secret (shown only now).

    The secret starts with ``jl_`` so it is recognisable in logs and secret scanners.
    """
    wanted = sorted({Scope(s) for s in scopes}, key=list(Scope).index)
    if not wanted:
        raise ValueError("scopes: expected at least one of " + ", ".join(s.value for s in Scope))
    secret = "jl_" + secrets.token_urlsafe(32)
    t = ApiToken(
        token_hash=hash_token(secret),
        name=name,
        user_id=user.id,
        workspace_id=ws.id,
        scopes=[s.value for s in wanted],
        created_at=utcnow(),
    )
    session.add(t)
    session.flush()
    return _token_info(t), secret


def list_api_tokens(session: Session, user: User) -> list[ApiTokenInfo]:
    """The user's tokens, oldest first (revoked ones included)."""
    rows = session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id)
    )
    return [_token_info(t) for t in rows]


def revoke_api_token(session: Session, user: User, token_id: int) -> None:
    """Revoke one of the user's tokens (:class:`NotFound` for someone else's)."""
    t = session.get(ApiToken, token_id)
    if t is None or t.user_id != user.id:
        raise NotFound(f"no API token {token_id} of {user.email}")
    if t.revoked_at is None:
        t.revoked_at = utcnow()
    session.flush()


def verify_api_token(
    session: Session, secret: str, scope: Scope, now: datetime | None = None
) -> tuple[User, Workspace, ApiTokenInfo]:
    """The user and workspace a token acts for, if it may do ``scope``.

    :class:`Unauthenticated` for an unknown or revoked token or a disabled user or one who
    left the workspace; :class:`Forbidden` when the token lacks ``scope``. Records
    ``last_used_at``.
    """
    t = session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(secret)))
    if t is None or t.revoked_at is not None:
        raise Unauthenticated("unknown or revoked API token")
    user = session.get(User, t.user_id)
    ws = session.get(Workspace, t.workspace_id)
    if user is None or ws is None or role_of(session, user, ws) is None:
        raise Unauthenticated("the token's user is disabled or no longer a member")
    if Scope(scope).value not in t.scopes:
        raise Forbidden(scope.value, f"this token lacks the {scope.value!r} scope")
    t.last_used_at = now or utcnow()
    session.flush()
    return user, ws, _token_info(t)


# -- folders ------------------------------------------------------------------------------


def _read_folder(folder: Path) -> tuple[list[tuple[Path, JourneyMap]], list[tuple[Path, Persona]]]:
    maps: list[tuple[Path, JourneyMap]] = []
    personas: list[tuple[Path, Persona]] = []
    issues: list[Issue] = []
    for path in sorted(folder.iterdir()):
        name = path.name.lower()
        try:
            if name.endswith(MAP_SUFFIXES):
                maps.append((path, parse_model(path.read_text("utf-8"), JourneyMap, str(path))))
            elif name.endswith(PERSONA_SUFFIXES):
                personas.append((path, parse_model(path.read_text("utf-8"), Persona, str(path))))
        except DocumentError as exc:
            issues.extend(exc.issues)
    if issues:
        raise InvalidMap(issues)
    return maps, personas


def sync_folder(
    session: Session,
    ws: Workspace,
    folder: str | Path,
    direction: SyncDirection,
    author: User,
) -> SyncReport:
    """Copy maps and personas between the workspace and a folder of text files.

    ``export`` writes ``<id>.journey.yaml`` / ``<id>.persona.yaml`` (canonical YAML) for every
    map and persona, leaving other files alone. ``import`` reads every map and persona
    file: new ids are created, changed ones saved as a new version (the file wins), equal
    ones left alone. Every file is validated before anything is stored: one bad file
    raises :class:`InvalidMap` listing every problem and imports nothing.
    """
    folder = Path(folder)
    if SyncDirection(direction) == SyncDirection.EXPORT:
        folder.mkdir(parents=True, exist_ok=True)
        written: list[str] = []
        for summary in list_maps(session, ws):
            target = folder / f"{summary.map_id}.journey.yaml"
            target.write_text(export_map_yaml(session, ws, summary.map_id), encoding="utf-8")
            written.append(target.name)
        for p in list_personas(session, ws):
            target = folder / f"{p.persona_id}.persona.yaml"
            target.write_text(get_persona(session, ws, p.persona_id).yaml, encoding="utf-8")
            written.append(target.name)
        return SyncReport(written=tuple(sorted(written)))
    if not folder.is_dir():
        raise NotFound(f"no folder {folder}")
    maps, personas = _read_folder(folder)
    created: list[str] = []
    updated: list[str] = []
    unchanged: list[str] = []
    for path, journey in maps:
        before = session.scalar(
            select(Map.current_version).where(Map.workspace_id == ws.id, Map.map_id == journey.id)
        )
        snap = import_map_yaml(session, ws, dumps_yaml(journey), author, path.name)
        if before is None:
            created.append(journey.id)
        elif snap.version != before:
            updated.append(journey.id)
        else:
            unchanged.append(journey.id)
    for path, persona in personas:
        try:
            current = get_persona(session, ws, persona.id)
        except NotFound:
            create_persona(session, ws, persona, author, f"imported from {path.name}")
            created.append(persona.id)
            continue
        if current.persona == persona:
            unchanged.append(persona.id)
        else:
            save_persona(
                session, ws, persona, author, current.version, f"imported from {path.name}"
            )
            updated.append(persona.id)
    return SyncReport(
        created=tuple(sorted(created)),
        updated=tuple(sorted(updated)),
        unchanged=tuple(sorted(unchanged)),
    )
