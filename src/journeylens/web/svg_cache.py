"""The designed map's SVG rendered once per map version, with an ETag for browsers.

Rendering a map as SVG costs ~0.1–0.2 s; a saved version never changes, so the SVG of
one version is rendered once and kept in the app's :class:`~journeylens.web.pages.RenderCache`.
The cache key holds the version's creation time besides its number, so a map deleted and
created again under the same id (version 1 again) is never served the old drawing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from fastapi import Request
from fastapi.responses import Response

from journeylens.render.svg import render_map_svg
from journeylens.web.backend import StoredMap

if TYPE_CHECKING:
    from journeylens.web.pages import RenderCache


def version_key(stored: StoredMap) -> tuple[str, int, int]:
    """What identifies a stored version: map id, version number, creation time (µs).

    >>> from datetime import datetime, timezone
    >>> from journeylens.templates import get_template
    >>> at = datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=timezone.utc)
    >>> version_key(StoredMap(get_template("five-stage"), 3, at, "Ann"))[1:]
    (3, 1767323045000006)
    """
    at = stored.updated_at
    micros = int(at.timestamp()) * 1_000_000 + at.microsecond
    return (stored.journey.id, stored.version, micros)


def designed_svg(request: Request, scope: Any, stored: StoredMap) -> str:
    """The SVG of ``stored`` without figures, rendered once per version.

    ``scope`` keeps callers apart (a workspace id, or a share token): two workspaces may
    hold different maps with the same id and version number.
    """
    cache = cast("RenderCache", request.app.state.render_cache)
    key = ("designed", scope, *version_key(stored))
    return cache.get_or_make(key, lambda: (render_map_svg(stored.journey), None))[0]


def etag_of(scope: Any, stored: StoredMap) -> str:
    """A strong ETag for a response that depends only on ``stored`` (and ``scope``).

    >>> from datetime import datetime, timezone
    >>> from journeylens.templates import get_template
    >>> at = datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=timezone.utc)
    >>> etag_of(7, StoredMap(get_template("five-stage"), 3, at, "Ann"))
    '"7-five-stage-3-1767323045000006"'
    """
    map_id, version, micros = version_key(stored)
    return f'"{scope}-{map_id}-{version}-{micros}"'


def svg_response(request: Request, scope: Any, stored: StoredMap, **headers: str) -> Response:
    """The designed SVG with an ETag; 304 Not Modified when the browser already has it.

    ``Cache-Control: private, no-cache`` lets the browser keep the drawing but makes it
    ask again each time (cheap: the access check and one version look-up), so a new
    version or a revoked access is seen at once.
    """
    etag = etag_of(scope, stored)
    common = {"ETag": etag, "Cache-Control": "private, no-cache", **headers}
    asked = request.headers.get("if-none-match", "")
    if etag in (tag.strip() for tag in asked.split(",")):
        return Response(status_code=304, headers=common)
    return Response(
        designed_svg(request, scope, stored), media_type="image/svg+xml", headers=common
    )
