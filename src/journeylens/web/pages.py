"""Server-rendered HTML pages (Jinja2 with autoescape, HTMX for partial updates).

Each handler reads the request, calls the backend and the render / analytics functions,
and fills a template; edits go through the model (:func:`journeylens.web.api.parse_map`)
so they get the same validation messages as ``journeylens validate``.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Annotated, Any, cast

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from markupsafe import Markup

from journeylens.analytics.livemap import Figures, LiveMap
from journeylens.formats.io import dumps_yaml, to_data
from journeylens.insights.web_views import Scope, live_map, workspace_events
from journeylens.model import JourneyMap
from journeylens.render.svg import render_map_svg
from journeylens.templates import get_template, list_templates
from journeylens.web.api import parse_map
from journeylens.web.backend import (
    Forbidden,
    InvalidInput,
    MapPage,
    NotFound,
    Role,
    StoredMap,
    Unauthorized,
    User,
)
from journeylens.web.deps import (
    CurrentUser,
    backend_of,
    bearer_token,
    csrf_protect,
    current_user,
    optional_user,
    session_of,
)
from journeylens.web.filters import Filter, filter_of
from journeylens.web.map_edits import find_stage, find_step, load, save
from journeylens.web.session import new_session
from journeylens.web.svg_cache import designed_svg, svg_response, version_key
from journeylens.web.workspace_store import events_root

router = APIRouter(dependencies=[Depends(csrf_protect)], include_in_schema=False)


def render(request: Request, name: str, context: dict[str, Any], status: int = 200) -> Response:
    """Fill template ``name`` with ``context`` plus the user and the CSRF token."""
    templates = cast(Jinja2Templates, request.app.state.templates)
    base = {"csrf": session_of(request).csrf, "user": context.get("user")}
    return templates.TemplateResponse(request, name, {**base, **context}, status_code=status)


def redirect(url: str) -> Response:
    """303 See Other (after a POST the browser follows with a GET)."""
    return RedirectResponse(url, status_code=303)


# -- live figures -------------------------------------------------------------------------


def live_figures(
    request: Request, journey: JourneyMap, scope: Scope | None = None, *, ws: int
) -> LiveMap | None:
    """The live map over the workspace's events for ``scope`` (a persona and a window;
    every customer and day by default), or ``None`` without a workspace or events. Texts
    are scored once per distinct text (``with_sentiment``), as the demo and report do."""
    with workspace_events(events_root(request, ws)) as source:
        if source is None:
            return None
        return live_map(source, journey, scope or Scope())


class RenderCache:
    """The last rendered maps, keyed by (workspace, map id, version, version creation
    time, events stamp, filter).

    A map version never changes (its creation time tells a map deleted and created again
    from the old one) and the events stamp (size and mtime of the workspace's event
    store) changes with every ingest, so a hit is always current. Rendering the SVG and
    measuring the live map cost ~0.2 s; a page view of an unchanged map then costs a
    dictionary look-up. :mod:`journeylens.web.svg_cache` keeps the designed SVGs here too.
    """

    def __init__(self, size: int = 64) -> None:
        self._items: OrderedDict[tuple[Any, ...], tuple[str, LiveMap | None]] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()
        self._making: dict[tuple[Any, ...], threading.Lock] = {}

    def get_or_make(
        self, key: tuple[Any, ...], make: Callable[[], tuple[str, LiveMap | None]]
    ) -> tuple[str, LiveMap | None]:
        """The cached value, or ``make()``'s, made by ONE thread per key.

        When a new version is saved every reader misses at once; without this each of
        them would render the same map (0.1–0.2 s of CPU each) and the page's tail
        latency would grow with the number of readers. The others wait for the first.
        """
        hit = self.get(key)
        if hit is not None:
            return hit
        with self._lock:
            making = self._making.setdefault(key, threading.Lock())
        try:
            with making:
                hit = self.get(key)  # made by the thread we waited for
                if hit is None:
                    hit = make()
                    self.put(key, hit)
                return hit
        finally:
            with self._lock:
                if self._making.get(key) is making:
                    del self._making[key]

    def get(self, key: tuple[Any, ...]) -> tuple[str, LiveMap | None] | None:
        """The cached value, marked as recently used."""
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key: tuple[Any, ...], value: tuple[str, LiveMap | None]) -> None:
        """Remember ``value``, dropping the least recently used entry when full."""
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)


def _events_stamp(request: Request, ws: int) -> tuple[int, int] | None:
    workspace = events_root(request, ws)  # web workspace ws's own store (issue 7)
    if workspace is None:
        return None
    from journeylens.engine.workspace import Workspace, WorkspaceError

    try:
        path = Workspace.open(workspace).store.path
        stat = path.stat()
    except (WorkspaceError, OSError):
        return None
    return (stat.st_mtime_ns, stat.st_size)


def rendered_map(
    request: Request, ws: int, stored: StoredMap, scope: Scope | None = None
) -> tuple[str, LiveMap | None]:
    """The live map's SVG and figures (designed map without events), cached per version
    and filter (``scope``: persona and window; the chosen persona's card is drawn)."""
    cache = cast(RenderCache, request.app.state.render_cache)
    scope = scope or Scope()
    stamp = _events_stamp(request, ws)
    if stamp is None and scope.persona is None:
        # No event store: the live map IS the designed one. Share its drawing with the SVG
        # API's (one render per saved version instead of two).
        return designed_svg(request, ws, stored), None
    key = (ws, *version_key(stored), stamp, scope.key())

    def make() -> tuple[str, LiveMap | None]:
        live = live_figures(request, stored.journey, scope, ws=ws)
        personas = [scope.persona] if scope.persona is not None else []
        return (render_map_svg(stored.journey, personas, figures=live), live)

    return cache.get_or_make(key, make)


def figures_for(live: LiveMap | None, target: str) -> Figures | None:
    """The figures of ``stage:ID`` / ``step:ID`` / ``touchpoint:ID`` in the live map."""
    if live is None:
        return None
    kind, _, ident = target.partition(":")
    for stage in live.stages:
        if kind == "stage" and stage.id == ident:
            return stage.figures
        for step in stage.steps:
            if kind == "step" and step.id == ident:
                return step.figures
            for tp in step.touchpoints:
                if kind == "touchpoint" and tp.id == ident:
                    return tp.figures
    return None


# -- auth ---------------------------------------------------------------------------------


@router.get("/")
def home(request: Request) -> Response:
    """The workspaces when signed in, else the sign-in page."""
    return redirect("/workspaces" if optional_user(request) else "/signin")


@router.get("/signin")
def signin_page(request: Request) -> Response:
    """The sign-in form."""
    return render(request, "signin.html", {"mode": "signin", "error": None})


@router.get("/signup")
def signup_page(request: Request) -> Response:
    """The sign-up form."""
    return render(request, "signin.html", {"mode": "signup", "error": None})


@router.post("/signin")
def signin(
    request: Request, email: Annotated[str, Form()], password: Annotated[str, Form()]
) -> Response:
    """Check the credentials (rate limited by the store) and start a fresh session."""
    client = request.client.host if request.client else "unknown"
    user = backend_of(request).sign_in(email, password, client)
    request.state.session = new_session(user.id)  # new CSRF token: no session fixation
    return redirect("/workspaces")


@router.post("/signup")
def signup(
    request: Request,
    email: Annotated[str, Form()],
    password: Annotated[str, Form()],
    name: Annotated[str, Form()],
) -> Response:
    """Create the account and sign in."""
    user = backend_of(request).sign_up(email, password, name)
    request.state.session = new_session(user.id)
    return redirect("/workspaces")


@router.post("/signout")
def signout(request: Request) -> Response:
    """End the session."""
    request.state.session = new_session(None)
    return redirect("/signin")


# -- workspaces and maps ------------------------------------------------------------------


@router.get("/workspaces")
def workspaces(
    request: Request,
    user: CurrentUser,
) -> Response:
    """The workspaces the user belongs to."""
    return render(
        request,
        "workspaces.html",
        {"user": user, "workspaces": backend_of(request).workspaces(user)},
    )


@router.get("/w/{ws}")
def maps(
    request: Request,
    user: CurrentUser,
    ws: int,
) -> Response:
    """The maps of a workspace, and a form to create one from a template."""
    backend = backend_of(request)
    role = backend.role(user, ws)
    return render(
        request,
        "maps.html",
        {
            "user": user,
            "ws": ws,
            "role": role,
            "can_edit": role >= Role.EDITOR,
            "maps": backend.list_maps(user, ws),
            "templates": list_templates(),
        },
    )


@router.post("/w/{ws}/maps")
def create_map(
    request: Request,
    user: CurrentUser,
    ws: int,
    template: Annotated[str, Form()],
    map_id: Annotated[str, Form()],
    title: Annotated[str, Form()],
) -> Response:
    """Create a map from a built-in template."""
    try:
        base = get_template(template)
    except KeyError:
        raise InvalidInput(f"unknown template {template!r}", field="template") from None
    data = to_data(base)
    data.update({"id": map_id, "title": title, "version": 1})
    journey = parse_map(data)
    backend_of(request).create_map(user, ws, journey)
    return redirect(f"/w/{ws}/m/{journey.id}")


def _map_context(request: Request, user: User, ws: int, stored: StoredMap) -> dict[str, Any]:
    role = backend_of(request).role(user, ws)
    return {
        "user": user,
        "ws": ws,
        "role": role,
        "can_edit": role >= Role.EDITOR,
        "can_comment": role >= Role.COMMENTER,
        "stored": stored,
        "journey": stored.journey,
        "map_id": stored.journey.id,
    }


def map_page(request: Request, ws: int, map_id: str) -> MapPage:
    """The map view's store reads in one transaction, for the signed-in session's user
    (checked there: 401 when signed out, deleted or disabled) or an API token's."""
    if bearer_token(request) is None:
        user_id = session_of(request).user_id
        if user_id is None:
            raise Unauthorized("sign in first", field="session")
        return backend_of(request).map_page(user_id, ws, map_id)
    return backend_of(request).map_page(current_user(request), ws, map_id)


def _page_context(page: MapPage, ws: int) -> dict[str, Any]:
    """:func:`_map_context` from a :class:`MapPage` (no store call)."""
    return {
        "user": page.user,
        "ws": ws,
        "role": page.role,
        "can_edit": page.role >= Role.EDITOR,
        "can_comment": page.role >= Role.COMMENTER,
        "stored": page.stored,
        "journey": page.stored.journey,
        "map_id": page.stored.journey.id,
    }


def elements_html(request: Request, ws: int, stored: StoredMap, flt: Filter) -> Markup:
    """The map view's element list (a link per stage, step and touchpoint), rendered once
    per version and filter: it depends on nothing else, and escaping a few hundred names
    was a third of a cached page's template time."""
    cache = cast(RenderCache, request.app.state.render_cache)
    query = flt.query()
    key = ("elements", ws, *version_key(stored), query)

    def make() -> tuple[str, LiveMap | None]:
        templates = cast(Jinja2Templates, request.app.state.templates)
        html = templates.env.get_template("_map_elements.html").render(
            journey=stored.journey,
            ws=ws,
            map_id=stored.journey.id,
            filter_amp="&" + query[1:] if query else "",
        )
        return html, None

    return Markup(cache.get_or_make(key, make)[0])  # autoescaped by our template


@router.get("/w/{ws}/m/{map_id}")
def map_view(request: Request, ws: int, map_id: str) -> Response:
    """The live map (figures when the workspace has events) and its element list, for the
    persona and window of the query (``persona``, ``from``, ``to``; 422 when invalid)."""
    page = map_page(request, ws, map_id)
    stored = page.stored
    flt = filter_of(request, page.user, ws, stored.journey, page.persona_versions)
    svg, live = rendered_map(request, ws, stored, flt.scope)
    return render(
        request,
        "map.html",
        {
            **_page_context(page, ws),
            **flt.context(),
            "svg": svg,
            "live": live,
            "elements": elements_html(request, ws, stored, flt),
            "comments": page.comments,
        },
    )


@router.get("/w/{ws}/m/{map_id}/panel")
def panel(request: Request, ws: int, map_id: str, target: str) -> Response:
    """Side panel of one element: its figures (for the map view's filter) and its comment
    thread (HTMX fragment)."""
    page = map_page(request, ws, map_id)
    stored = page.stored
    flt = filter_of(request, page.user, ws, stored.journey, page.persona_versions)
    _svg, live = rendered_map(request, ws, stored, flt.scope)
    return render(
        request,
        "panel.html",
        {
            **_page_context(page, ws),
            "target": target,
            "figures": figures_for(live, target),
            "thread": [c for c in page.comments if c.target == target],
        },
    )


@router.get("/w/{ws}/m/{map_id}/edit")
def editor(
    request: Request,
    user: CurrentUser,
    ws: int,
    map_id: str,
) -> Response:
    """The editor: stages, steps and their lanes as inline forms (editor or above)."""
    if backend_of(request).role(user, ws) < Role.EDITOR:
        raise Forbidden("editing needs the 'editor' role in the workspace", field="role")
    stored = backend_of(request).get_map(user, ws, map_id)
    _svg, live = rendered_map(request, ws, stored)
    reached = {
        tp.id: tp.figures.reached
        for stage in (live.stages if live else ())
        for step in stage.steps
        for tp in step.touchpoints
    }
    from journeylens.web.pages_edit import editor_context  # imports this module

    return render(
        request,
        "editor.html",
        {
            **_map_context(request, user, ws, stored),
            "live": live,
            "tp_reached": reached,
            **editor_context(stored.journey),
        },
    )


@router.post("/w/{ws}/m/{map_id}/edit/step")
def edit_step(
    request: Request,
    user: CurrentUser,
    ws: int,
    map_id: str,
    base_version: Annotated[int, Form()],
    step_id: Annotated[str, Form()],
    name: Annotated[str, Form()],
    description: Annotated[str, Form()] = "",
    emotion: Annotated[float | None, Form()] = None,
    actions: Annotated[str, Form()] = "",
    thoughts: Annotated[str, Form()] = "",
) -> Response:
    """Change a step's name, description, emotion and lanes (one line per item)."""
    data = load(request, user, ws, map_id)
    step = find_step(data, step_id)
    step.update({"name": name, "description": description})
    step["actions"] = [line.strip() for line in actions.splitlines() if line.strip()]
    step["thoughts"] = [line.strip() for line in thoughts.splitlines() if line.strip()]
    if emotion is not None:
        step["emotion"] = {**(step.get("emotion") or {}), "score": emotion}
    return save(request, user, ws, map_id, base_version, data)


@router.post("/w/{ws}/m/{map_id}/edit/stage")
def edit_stage(
    request: Request,
    user: CurrentUser,
    ws: int,
    map_id: str,
    base_version: Annotated[int, Form()],
    action: Annotated[str, Form()],
    stage_id: Annotated[str, Form()],
    name: Annotated[str, Form()] = "",
) -> Response:
    """Add (``action=add``), rename or delete a stage."""
    data = load(request, user, ws, map_id)
    if action == "add":
        data["stages"].append({"id": stage_id, "name": name or stage_id, "steps": []})
    elif action == "rename":
        find_stage(data, stage_id)["name"] = name
    elif action == "delete":
        data["stages"].remove(find_stage(data, stage_id))
    else:
        raise InvalidInput(
            f"unknown action {action!r}: expected add, rename or delete", field="action"
        )
    return save(request, user, ws, map_id, base_version, data)


@router.post("/w/{ws}/m/{map_id}/edit/reorder")
def reorder(
    request: Request,
    user: CurrentUser,
    ws: int,
    map_id: str,
    base_version: Annotated[int, Form()],
    order: Annotated[str, Form()],
) -> Response:
    """Put the stages in ``order`` (their ids, comma separated; every stage exactly once)."""
    data = load(request, user, ws, map_id)
    ids = [part.strip() for part in order.split(",") if part.strip()]
    current = [s["id"] for s in data["stages"]]
    if sorted(ids) != sorted(current):
        raise InvalidInput(
            f"expected each of {', '.join(current)} exactly once, got {', '.join(ids)}",
            field="order",
        )
    data["stages"] = [find_stage(data, i, "order") for i in ids]
    return save(request, user, ws, map_id, base_version, data)


# -- versions, comments, share, export ----------------------------------------------------


@router.get("/w/{ws}/m/{map_id}/versions")
def versions(
    request: Request,
    user: CurrentUser,
    ws: int,
    map_id: str,
) -> Response:
    """The map's history."""
    backend = backend_of(request)
    stored = backend.get_map(user, ws, map_id)
    return render(
        request,
        "versions.html",
        {**_map_context(request, user, ws, stored), "history": backend.history(user, ws, map_id)},
    )


@router.get("/w/{ws}/m/{map_id}/diff")
def diff(request: Request, user: CurrentUser, ws: int, map_id: str, old: int, new: int) -> Response:
    """The semantic diff between two versions."""
    backend = backend_of(request)
    stored = backend.get_map(user, ws, map_id)
    return render(
        request,
        "versions.html",
        {
            **_map_context(request, user, ws, stored),
            "history": backend.history(user, ws, map_id),
            "diff": backend.diff(user, ws, map_id, old, new),
            "old": old,
            "new": new,
        },
    )


@router.post("/w/{ws}/m/{map_id}/versions/{version}/restore")
def restore(
    request: Request,
    user: CurrentUser,
    ws: int,
    map_id: str,
    version: int,
) -> Response:
    """Restore an old version as a new one."""
    backend_of(request).restore(user, ws, map_id, version)
    return redirect(f"/w/{ws}/m/{map_id}/versions")


@router.post("/w/{ws}/m/{map_id}/comments")
def add_comment(
    request: Request,
    user: CurrentUser,
    ws: int,
    map_id: str,
    target: Annotated[str, Form()],
    body: Annotated[str, Form()],
) -> Response:
    """Add a comment to an element."""
    if not body.strip():
        raise InvalidInput("a comment cannot be empty", field="body")
    backend_of(request).add_comment(user, ws, map_id, target, body)
    return redirect(f"/w/{ws}/m/{map_id}")


@router.post("/w/{ws}/m/{map_id}/comments/{comment_id}/{action}")
def resolve_comment(
    request: Request,
    user: CurrentUser,
    ws: int,
    map_id: str,
    comment_id: int,
    action: str,
) -> Response:
    """Resolve (``action=resolve``) or reopen (``action=reopen``) a comment."""
    if action not in ("resolve", "reopen"):
        raise NotFound(f"no comment action {action!r}")
    backend_of(request).set_resolved(user, ws, map_id, comment_id, action == "resolve")
    return redirect(f"/w/{ws}/m/{map_id}")


@router.post("/w/{ws}/m/{map_id}/share")
def share(
    request: Request,
    user: CurrentUser,
    ws: int,
    map_id: str,
) -> Response:
    """Create a read-only link and show it."""
    link = backend_of(request).create_share(user, ws, map_id)
    stored = backend_of(request).get_map(user, ws, map_id)
    url = str(request.url_for("shared", token=link.token))
    return render(
        request,
        "shared_created.html",
        {**_map_context(request, user, ws, stored), "url": url, "link": link},
    )


@router.post("/w/{ws}/shares/{link_id}/revoke")
def revoke(
    request: Request,
    user: CurrentUser,
    ws: int,
    link_id: int,
) -> Response:
    """Revoke a share link."""
    backend_of(request).revoke_share(user, ws, link_id)
    return redirect(f"/w/{ws}")


@router.get("/s/{token}", name="shared")
def shared(request: Request, token: str) -> Response:
    """A shared map, read-only, for anyone holding the link."""
    stored = backend_of(request).shared_map(token)
    svg = designed_svg(request, ("share", token), stored)
    return render(request, "shared.html", {"journey": stored.journey, "svg": svg, "stored": stored})


@router.get("/w/{ws}/m/{map_id}/export.{fmt}")
def export(
    request: Request,
    user: CurrentUser,
    ws: int,
    map_id: str,
    fmt: str,
) -> Response:
    """Download the map as YAML or SVG."""
    stored = backend_of(request).get_map(user, ws, map_id)
    journey = stored.journey
    disposition = {"Content-Disposition": f'attachment; filename="{journey.id}.{fmt}"'}
    if fmt == "yaml":
        return Response(dumps_yaml(journey), media_type="application/yaml", headers=disposition)
    if fmt == "svg":
        return svg_response(request, ws, stored, **disposition)
    raise NotFound(f"no export format {fmt!r}: expected yaml or svg")
