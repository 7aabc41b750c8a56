"""The store's tables as typed SQLAlchemy 2 ORM classes.

The migrations in ``migrations/versions`` create exactly these tables; a test checks that
autogenerate finds nothing to add after ``upgrade`` (models and migrations never drift).
Timestamps are stored in UTC and always read back timezone-aware.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every backend (SQLite drops the zone; we restore it)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: the store needs timezone-aware times")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(UTC)


class Role(StrEnum):
    """A member's role in a workspace; each role can do everything the ones below it can."""

    VIEWER = "viewer"
    COMMENTER = "commenter"
    EDITOR = "editor"
    OWNER = "owner"

    @property
    def rank(self) -> int:
        """Position in the order viewer < commenter < editor < owner."""
        return list(Role).index(self)


class TargetKind(StrEnum):
    """What a comment is attached to."""

    MAP = "map"
    STAGE = "stage"
    STEP = "step"
    TOUCHPOINT = "touchpoint"


class Scope(StrEnum):
    """What an API token may do: read maps, write maps, or ingest events."""

    READ = "read"
    WRITE = "write"
    INGEST = "ingest"


# Named constraints so Alembic batch migrations on SQLite can find them again.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base of every store table."""

    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: dict[Any, Any] = {datetime: UtcDateTime}  # noqa: RUF012


class User(Base):
    """An account; ``password_hash`` is an argon2id hash (argon2-cffi), never the password."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)


class Workspace(Base):
    """A team's space: its members, maps and personas."""

    __tablename__ = "workspaces"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Membership(Base):
    """A user's role in one workspace."""

    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("workspace_id", "user_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    user: Mapped[User] = relationship(lazy="joined")


class Map(Base):
    """A journey map in a workspace; its content lives in :class:`MapVersion` rows.

    ``title`` and ``status`` repeat the current version's so listings need no YAML parsing.
    """

    __tablename__ = "maps"
    __table_args__ = (UniqueConstraint("workspace_id", "map_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    map_id: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(20))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    current_version: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class MapVersion(Base):
    """One saved version of a map: its canonical YAML (and JSON) text, author, time and message."""

    __tablename__ = "map_versions"
    __table_args__ = (UniqueConstraint("map_pk", "number"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    map_pk: Mapped[int] = mapped_column(ForeignKey("maps.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    yaml: Mapped[str] = mapped_column(Text)
    # The same content as canonical JSON: reading it is ~200x faster than YAML (pure-Python
    # ruamel), which keeps page loads fast; the YAML is what people diff and export.
    json_text: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    message: Mapped[str] = mapped_column(Text, default="")


class PersonaRow(Base):
    """A persona in a workspace; its content lives in :class:`PersonaVersion` rows."""

    __tablename__ = "personas"
    __table_args__ = (UniqueConstraint("workspace_id", "persona_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    persona_id: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(500))
    current_version: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class PersonaVersion(Base):
    """One saved version of a persona (canonical YAML)."""

    __tablename__ = "persona_versions"
    __table_args__ = (UniqueConstraint("persona_pk", "number"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    persona_pk: Mapped[int] = mapped_column(ForeignKey("personas.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    yaml: Mapped[str] = mapped_column(Text)
    # The same content as canonical JSON: reading it is ~200x faster than YAML (pure-Python
    # ruamel), which keeps page loads fast; the YAML is what people diff and export.
    json_text: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    message: Mapped[str] = mapped_column(Text, default="")


class Comment(Base):
    """A comment on a map or one of its stages, steps or touchpoints; replies set ``parent_id``.

    ``mentions`` holds the ids of the workspace members named with ``@`` in the body.
    """

    __tablename__ = "comments"
    __table_args__ = (Index("ix_comments_target", "map_pk", "target_kind", "target_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    map_pk: Mapped[int] = mapped_column(ForeignKey("maps.id", ondelete="CASCADE"))
    target_kind: Mapped[str] = mapped_column(String(20))
    target_id: Mapped[str] = mapped_column(String(200), default="")
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text)
    mentions: Mapped[list[int]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(default=None)
    resolved_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )


class ShareLink(Base):
    """A read-only link to a map; only the SHA-256 of its secret token is stored."""

    __tablename__ = "share_links"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    map_pk: Mapped[int] = mapped_column(ForeignKey("maps.id", ondelete="CASCADE"))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)


class ApiToken(Base):
    """A scoped, revocable token for scripts and ingestion (SHA-256 of the secret only)."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    scopes: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
    last_used_at: Mapped[datetime | None] = mapped_column(default=None)


class LoginAttempt(Base):
    """One failed sign-in, kept for rate limiting (by email and by client address)."""

    __tablename__ = "login_attempts"
    __table_args__ = (Index("ix_login_attempts_email_at", "email", "at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(320))
    ip: Mapped[str] = mapped_column(String(64), default="", index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
