"""Exports (PNG, PDF, the HTML report), share links with an expiry, and folder sync.

The pictures are the map page's SVG (live when the workspace has events) converted by
:mod:`journeylens.render.export`; the report is
:func:`journeylens.insights.live_report.live_report_html`, what ``journeylens report``
writes; import / export / folder sync are the store's ``sync_folder``. This module only
reads requests and formats answers.
"""

from __future__ import annotations

import io
import threading
import zipfile
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any, cast

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import JSONResponse, Response

from journeylens.web.backend import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    Role,
    ShareLink,
    User,
)
from journeylens.web.deps import CurrentUser, backend_of, csrf_protect
from journeylens.web.filters import filter_of
from journeylens.web.pages import _events_stamp, redirect, render, rendered_map
from journeylens.web.svg_cache import version_key
from journeylens.web.workspace_store import events_root
from journeylens.web.workspace_store import exists as store_exists

router = APIRouter(dependencies=[Depends(csrf_protect)], include_in_schema=False)

#: Expiry choices of the share form (``never`` or a number of days).
EXPIRY_CHOICES = {"never": None, "1d": 1, "7d": 7, "30d": 30, "90d": 90}
#: Largest upload accepted per file (a journey map is a few kB to a few hundred kB).
MAX_UPLOAD_BYTES = 2_000_000


def _not_available(request: Request, reason: str, field: str) -> Response:
    """501: the server lacks an optional extra (said in the reason)."""
    body = {"error": "NotAvailable", "field": field, "reason": reason}
    if "application/json" in request.headers.get("accept", ""):
        return JSONResponse(body, status_code=501)
    return render(request, "error.html", {"status": 501, "error": body}, status=501)


def _download(content: bytes | str, media_type: str, filename: str) -> Response:
    return Response(
        content,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


# -- exports ------------------------------------------------------------------------------


class ExportCache:
    """The last exports, keyed by (kind, workspace, map version, events stamp, filter).

    A map version never changes and the events stamp changes with every ingest, so a hit
    is current. cairosvg takes seconds for a large map and the report tens of seconds on
    a large workspace; a repeated download is then a look-up.
    """

    def __init__(self, size: int = 16) -> None:
        self._items: OrderedDict[tuple[Any, ...], bytes] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get_or_make(self, key: tuple[Any, ...], make: Callable[[], bytes]) -> bytes:
        """The cached value of ``key``, made (outside the lock) when missing."""
        with self._lock:
            hit = self._items.get(key)
            if hit is not None:
                self._items.move_to_end(key)
                return hit
        value = make()
        with self._lock:
            self._items[key] = value
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return value


def _cache(request: Request) -> ExportCache:
    cache = getattr(request.app.state, "export_cache", None)
    if cache is None:
        cache = request.app.state.export_cache = ExportCache()
    return cast(ExportCache, cache)


def _picture(request: Request, user: User, ws: int, map_id: str, kind: str) -> Response:
    """The map page's picture (same persona / window query) as PNG or PDF, cached."""
    from journeylens.render.export import ExportUnavailableError, render_pdf, render_png

    stored = backend_of(request).get_map(user, ws, map_id)
    scope = filter_of(request, user, ws, stored.journey).scope
    key = (kind, ws, *version_key(stored), _events_stamp(request, ws), scope.key())

    def make() -> bytes:
        svg, _live = rendered_map(request, ws, stored, scope)
        return render_png(svg, scale=2.0) if kind == "png" else render_pdf(svg)

    try:
        data = _cache(request).get_or_make(key, make)
    except ExportUnavailableError as exc:
        return _not_available(request, str(exc), "format")
    media = "image/png" if kind == "png" else "application/pdf"
    return _download(data, media, f"{map_id}.{kind}")


@router.get("/w/{ws}/m/{map_id}/export.png")
def export_png(request: Request, user: CurrentUser, ws: int, map_id: str) -> Response:
    """The map (live when the workspace has events; ``persona``, ``from``, ``to`` as on the
    map page) as PNG at twice the SVG's size (the ``pdf`` extra, cairosvg)."""
    return _picture(request, user, ws, map_id, "png")


@router.get("/w/{ws}/m/{map_id}/export.pdf")
def export_pdf(request: Request, user: CurrentUser, ws: int, map_id: str) -> Response:
    """The map as a one-page vector PDF (the ``pdf`` extra, cairosvg)."""
    return _picture(request, user, ws, map_id, "pdf")


@router.get("/w/{ws}/m/{map_id}/report.html")
def export_report(request: Request, user: CurrentUser, ws: int, map_id: str) -> Response:
    """The self-contained HTML report over the workspace's events (as ``journeylens
    report``) for the map page's filter (``persona``, ``from``, ``to``, as the PNG / PDF
    exports); 409 naming what is missing without events, or none in the filter."""
    from journeylens.analytics import AnalyticsError
    from journeylens.insights.live_report import NoEventsError, live_report_html
    from journeylens.render.charts import ChartsUnavailableError

    stored = backend_of(request).get_map(user, ws, map_id)
    flt = filter_of(request, user, ws, stored.journey)
    personas = list(flt.personas)
    root = events_root(request, ws)
    if root is not None and not store_exists(root):  # no upload yet: say so, no paths
        raise Conflict("the report needs events: upload a file on the Data page", field="events")
    key = (
        "report",
        ws,
        *version_key(stored),
        _events_stamp(request, ws),
        tuple(p.model_dump_json() for p in personas),
        flt.scope.key(),
    )

    def make() -> bytes:
        html = live_report_html(root, stored.journey, personas, scope=flt.scope)
        return html.encode("utf-8")

    try:
        data = _cache(request).get_or_make(key, make)
    except NoEventsError as exc:
        raise Conflict(str(exc), field="events") from None
    except AnalyticsError as exc:  # the map cannot be measured on these events: say why
        raise Conflict(str(exc), field="map") from None
    except ChartsUnavailableError as exc:
        return _not_available(request, str(exc), "format")
    return _download(data, "text/html; charset=utf-8", f"{map_id}-report.html")


# -- share links with expiry --------------------------------------------------------------


def link_state(link: ShareLink, now: datetime) -> str:
    """``live``, ``expired`` or ``revoked`` at ``now``."""
    if link.revoked:
        return "revoked"
    if link.expires_at is not None and link.expires_at <= now:
        return "expired"
    return "live"


def _shares_page(
    request: Request, user: User, ws: int, map_id: str, created: dict[str, Any] | None = None
) -> Response:
    backend = backend_of(request)
    if backend.role(user, ws) < Role.EDITOR:
        raise Forbidden("share links need the 'editor' role in the workspace", field="role")
    stored = backend.get_map(user, ws, map_id)
    now = datetime.now(UTC)
    links = [(link, link_state(link, now)) for link in backend.share_links(user, ws, map_id)]
    return render(
        request,
        "shares.html",
        {
            "user": user,
            "ws": ws,
            "map_id": map_id,
            "journey": stored.journey,
            "stored": stored,
            "can_edit": True,
            "links": links,
            "created": created,
            "choices": list(EXPIRY_CHOICES),
        },
    )


@router.get("/w/{ws}/m/{map_id}/shares")
def shares(request: Request, user: CurrentUser, ws: int, map_id: str) -> Response:
    """The map's share links (live, expired, revoked) and a form for a new one."""
    return _shares_page(request, user, ws, map_id)


def expiry_from(choice: str, on_day: str, now: datetime) -> datetime | None:
    """The expiry instant of the share form: ``on_day`` (``YYYY-MM-DD``, end of that day
    UTC) when given, else ``choice`` (``never``, ``1d``, ``7d`` …) from ``now``.

    >>> now = datetime(2026, 1, 10, 12, tzinfo=UTC)
    >>> expiry_from("7d", "", now)
    datetime.datetime(2026, 1, 17, 12, 0, tzinfo=datetime.timezone.utc)
    >>> expiry_from("never", "2026-01-11", now)
    datetime.datetime(2026, 1, 12, 0, 0, tzinfo=datetime.timezone.utc)
    >>> expiry_from("never", "", now) is None
    True
    """
    if on_day.strip():
        try:
            day = date.fromisoformat(on_day.strip())
        except ValueError:
            raise InvalidInput(
                f"expected a date like 2026-12-31, got {on_day!r}", field="expires_on"
            ) from None
        at = datetime.combine(day + timedelta(days=1), time(0), tzinfo=UTC)
        if at <= now:
            raise InvalidInput(
                f"the expiry day {day.isoformat()} is in the past", field="expires_on"
            )
        return at
    if choice not in EXPIRY_CHOICES:
        raise InvalidInput(
            f"expected one of {', '.join(EXPIRY_CHOICES)}, got {choice!r}", field="expires"
        )
    days = EXPIRY_CHOICES[choice]
    return None if days is None else now + timedelta(days=days)


@router.post("/w/{ws}/m/{map_id}/shares")
def create_share(
    request: Request,
    user: CurrentUser,
    ws: int,
    map_id: str,
    expires: Annotated[str, Form()] = "never",
    expires_on: Annotated[str, Form()] = "",
) -> Response:
    """Create a read-only link that expires as chosen; shows its URL once."""
    expires_at = expiry_from(expires, expires_on, datetime.now(UTC))
    link = backend_of(request).create_share(user, ws, map_id, expires_at)
    url = str(request.url_for("shared", token=link.token))
    return _shares_page(
        request, user, ws, map_id, {"url": url, "expires_at": link.expires_at, "id": link.id}
    )


@router.post("/w/{ws}/m/{map_id}/shares/{link_id}/revoke")
def revoke_share(
    request: Request, user: CurrentUser, ws: int, map_id: str, link_id: int
) -> Response:
    """Revoke one of the map's links; back to the list."""
    backend = backend_of(request)
    if not any(link.id == link_id for link in backend.share_links(user, ws, map_id)):
        raise NotFound(f"no share link {link_id} on map {map_id!r}")
    backend.revoke_share(user, ws, link_id)
    return redirect(f"/w/{ws}/m/{map_id}/shares")


# -- import / export / folder sync (owners) -----------------------------------------------


def _require_owner(request: Request, user: User, ws: int) -> None:
    if backend_of(request).role(user, ws) < Role.OWNER:
        raise Forbidden("import, export and folder sync need the 'owner' role", field="role")


def _sync_page(
    request: Request, user: User, ws: int, result: Any = None, action: str = ""
) -> Response:
    _require_owner(request, user, ws)
    folder = events_root(request, ws)  # this web workspace's own folder (issue 7)
    return render(
        request,
        "sync.html",
        {
            "user": user,
            "ws": ws,
            "folder": (folder / "maps") if folder is not None else None,
            "result": result,
            "action": action,
        },
    )


@router.get("/w/{ws}/sync")
def sync_page(request: Request, user: CurrentUser, ws: int) -> Response:
    """Upload map / persona files, download everything as a zip, sync with the folder."""
    return _sync_page(request, user, ws)


@router.post("/w/{ws}/sync/upload")
async def upload(
    request: Request,
    user: CurrentUser,
    ws: int,
    files: Annotated[list[UploadFile], File()],
) -> Response:
    """Import the uploaded ``*.journey.yaml`` / ``*.persona.yaml`` files (all or nothing):
    new ids are created, changed ones saved as a new version, equal ones left alone.

    The files are declared parameters so FastAPI closes them on every path, including a
    request refused before this function runs (401 / 403).
    """
    _require_owner(request, user, ws)
    texts: list[tuple[str, str]] = []
    for item in files:
        raw = await item.read(MAX_UPLOAD_BYTES + 1)
        name = item.filename or "upload"
        if not raw:
            continue
        if len(raw) > MAX_UPLOAD_BYTES:
            raise InvalidInput(f"{name}: larger than {MAX_UPLOAD_BYTES} bytes", field="files")
        try:
            texts.append((name, raw.decode("utf-8")))
        except UnicodeDecodeError:
            raise InvalidInput(f"{name}: not UTF-8 text", field="files") from None
    if not texts:
        raise InvalidInput("choose at least one YAML file to import", field="files")
    result = backend_of(request).import_files(user, ws, texts)
    return _sync_page(request, user, ws, result, "imported")


@router.get("/w/{ws}/sync/export.zip")
def export_zip(request: Request, user: CurrentUser, ws: int) -> Response:
    """Every map and persona of the workspace as canonical YAML files in one zip."""
    _require_owner(request, user, ws)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in backend_of(request).export_files(user, ws):
            archive.writestr(name, text)
    return _download(buffer.getvalue(), "application/zip", f"workspace-{ws}.zip")


@router.post("/w/{ws}/sync/folder")
def sync_with_folder(
    request: Request, user: CurrentUser, ws: int, direction: Annotated[str, Form()]
) -> Response:
    """Sync with the server's workspace folder ``W/maps`` (``import`` or ``export``), so
    the maps can live in git next to the events."""
    _require_owner(request, user, ws)
    root = events_root(request, ws, create=direction == "export")
    if root is None:
        raise Conflict(
            "no workspace folder: start the server with --workspace W", field="direction"
        )
    folder = root / "maps"
    if direction == "import" and not folder.is_dir():
        raise NotFound(f"no folder {folder}: export first, or put map files there")
    result = backend_of(request).sync_folder(user, ws, folder, direction)
    return _sync_page(request, user, ws, result, f"{direction}ed")
