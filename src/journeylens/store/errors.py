"""Typed errors of the store's service API (the web layer maps each to one HTTP status)."""

# ruff: noqa: N818  (the names are the API the web layer and the issue use: NotFound, Forbidden …)

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from journeylens.formats.diff import MapDiff
from journeylens.formats.io import Issue


class StoreError(Exception):
    """Base class of every error the store raises on purpose."""


class NotFound(StoreError):
    """The thing asked for does not exist (or is not visible to the caller): HTTP 404."""


class Unauthenticated(StoreError):
    """Wrong credentials, or an unknown, revoked or expired token: HTTP 401."""


class Forbidden(StoreError):
    """The user's role in the workspace is below ``needed``: HTTP 403."""

    def __init__(self, needed: str, message: str = "") -> None:
        self.needed = needed
        super().__init__(message or f"this needs the {needed!r} role in the workspace")


class RateLimited(StoreError):
    """Too many failed sign-ins recently; try again after ``retry_after``: HTTP 429."""

    def __init__(self, retry_after: datetime) -> None:
        self.retry_after = retry_after
        super().__init__(f"too many failed sign-ins; try again after {retry_after.isoformat()}")


class Conflict(StoreError):
    """The change would clash with existing data (a duplicate id, slug or email): HTTP 409."""


class StaleVersion(StoreError):
    """A save was based on an old version: HTTP 409 with what changed since.

    ``diff`` is the semantic diff from the caller's base version to the current one
    (``None`` for personas, which have no semantic diff).
    """

    def __init__(self, base_version: int, current_version: int, diff: MapDiff | None) -> None:
        self.base_version = base_version
        self.current_version = current_version
        self.diff = diff
        super().__init__(
            f"version {base_version} is stale: the current version is {current_version}"
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready body of the 409 answer: both versions and what changed in between."""
        return {
            "error": "stale_version",
            "message": str(self),
            "base_version": self.base_version,
            "current_version": self.current_version,
            "diff": self.diff.to_dict() if self.diff is not None else None,
        }


class InvalidMap(StoreError):
    """A map or persona document failed validation; ``issues`` are the located problems.

    The messages are the same ones ``journeylens validate`` prints.
    """

    def __init__(self, issues: Sequence[Issue]) -> None:
        self.issues = list(issues)
        super().__init__("\n".join(str(issue) for issue in self.issues))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready body of the 422 answer: every located issue."""
        return {
            "error": "invalid_map",
            "message": str(self),
            "issues": [issue.to_dict() for issue in self.issues],
        }


__all__ = [
    "Conflict",
    "Forbidden",
    "InvalidMap",
    "NotFound",
    "RateLimited",
    "StaleVersion",
    "StoreError",
    "Unauthenticated",
]
