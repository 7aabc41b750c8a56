"""Load test of the web app on loopback: concurrent users reading the map page and the map's
SVG, and writers saving map versions through the API, for a bounded time.

Prints, per kind of request (map page, svg, api get, api save): count, throughput,
p50 / p95 / p99 latency; the errors; and checks that no edit was lost: every save answered
200 must be its own version in the history (writers that get 409 reload and retry, as a
browser does). Also prints the CPU seconds of the server and of this client, and the load
average, because on a shared 2-core machine wall-clock figures say as much about the
other jobs as about the app.

    .venv/bin/python bench/bench_web.py --target             # issue 7's case, with a verdict
    .venv/bin/python bench/bench_web.py                      # 50 users: 45 readers + 5 writers
    .venv/bin/python bench/bench_web.py --think 1            # users pause ~1 s between pages
    .venv/bin/python bench/bench_web.py --workers 2          # two server processes
    .venv/bin/python bench/bench_web.py --database-url postgresql://postgres@127.0.0.1:5432/test

With ``--think 0`` (the default) every user fires its next request as soon as the last
one answered: a closed loop that saturates the server, where p95 ≈ users / throughput.
With ``--think T`` each user waits a random 0.5·T–1.5·T between requests, like a person
reading the page. With a PostgreSQL URL the bench creates a fresh database next to the one
named (``<name>_bench_<random>``) and drops it afterwards.

Target (issue 7): p95 under 100 ms for map pages at 50 concurrent users, zero errors,
zero lost edits. "50 concurrent users" means people, who pause between pages: 45 readers
who each view the map page (and every 4th time its SVG), then read it for a random
0.5–1.5 s (``--think 1``), and 5 writers who each GET the map and save it back, then
pause 1–3 s (``--writer-think 2``); each user's first request comes at a random instant
within its first pause. That is ``--target`` (also ``--workers 2 --threads 8`` — one
server process per core — and 30 s), which ends with a PASS / FAIL line. A closed loop
(``--think 0``) measures throughput instead: its latency is users ÷ throughput however
fast a page is. The server runs as a separate process (``journeylens serve``) so client
and server do not share one interpreter.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx2 as httpx

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
PASSWORD = "bench-password-1"
KINDS = ("map page", "svg", "api get", "api save")
#: Issue 7: map page p95 below this (ms) at 50 users with ``TARGET_CASE``'s pauses.
TARGET_P95_MS = 100.0
#: What ``--target`` sets: (flag, attribute, value).
TARGET_CASE = (
    ("--think", "think", 1.0),
    ("--writer-think", "writer_think", 2.0),
    ("--workers", "workers", 2),
    ("--threads", "threads", 8),
    ("--seconds", "seconds", 30.0),
)


@dataclass
class Stats:
    """Latencies (s) by request kind, errors, and the versions that successful saves made."""

    latency: dict[str, list[float]] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    saved_versions: list[int] = field(default_factory=list)
    conflicts: int = 0

    def add(self, kind: str, seconds: float) -> None:
        self.latency.setdefault(kind, []).append(seconds)

    def error(self, what: str) -> None:
        self.errors[what] = self.errors.get(what, 0) + 1


def quantile(values: list[float], q: float) -> float:
    """The ``q`` quantile of ``values`` (nearest rank: the smallest value with at least
    ``q`` of the values at or below it).

    >>> quantile([5.0, 1.0, 4.0, 2.0, 3.0], 0.5)
    3.0
    >>> quantile([float(i) for i in range(1, 101)], 0.95)
    95.0
    """
    ordered = sorted(values)
    rank = max(1, -(-round(q * len(ordered) * 1000) // 1000))  # ceil without float fuzz
    return ordered[min(len(ordered), rank) - 1]


def lost_edits(saved_versions: list[int], history_versions: list[int]) -> int:
    """Saves answered 200 whose version is not in the history, or that share a version
    with another save (a silently overwritten edit).

    >>> lost_edits([2, 3, 4], [1, 2, 3, 4])
    0
    >>> lost_edits([2, 2, 3], [1, 2, 3])
    1
    >>> lost_edits([2, 5], [1, 2, 3])
    1
    """
    history = set(history_versions)
    unique = set(saved_versions)
    return (len(saved_versions) - len(unique)) + len(unique - history)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` and its children (Linux /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    ticks = sum(int(x) for x in fields[11:15])  # utime stime cutime cstime
    return ticks / os.sysconf("SC_CLK_TCK")


def _tree_cpu_seconds(pid: int) -> float:
    """CPU seconds of ``pid`` and of its live children (uvicorn's worker processes)."""
    total = _cpu_seconds(pid)
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        children = []
    return total + sum(_cpu_seconds(int(c)) for c in children)


@contextmanager
def fresh_database(url: str | None, keep: bool) -> Iterator[str | None]:
    """``url`` itself for SQLite (or ``None``); for PostgreSQL a new empty database beside
    the one named, dropped afterwards unless ``keep``."""
    if not url or not url.startswith(("postgresql://", "postgres://", "postgresql+psycopg://")):
        yield url
        return
    import psycopg

    base, _, name = url.rpartition("/")
    name = name.split("?")[0] or "postgres"
    bench_db = f"{name}_bench_{secrets.token_hex(4)}"
    admin = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as con:
        con.execute(f'CREATE DATABASE "{bench_db}"')
    try:
        yield f"{base}/{bench_db}"
    finally:
        if not keep:
            with psycopg.connect(admin, autocommit=True) as con:
                con.execute(f'DROP DATABASE IF EXISTS "{bench_db}" WITH (FORCE)')


async def _setup(base: str) -> tuple[dict[str, str], str, int]:
    """Sign up the owner, create map ``shop`` from a template, make a write token."""
    async with httpx.AsyncClient(base_url=base, follow_redirects=False, timeout=60) as c:
        token = CSRF.search((await c.get("/signup")).text)
        assert token
        answer = await c.post(
            "/signup",
            data={
                "csrf_token": token.group(1),
                "email": "owner@bench.test",
                "name": "Owner",
                "password": PASSWORD,
            },
        )
        assert answer.status_code == 303, answer.text
        page = (await c.get("/workspaces")).text
        csrf = CSRF.search(page)
        ws_match = re.search(r'href="/w/(\d+)"', page)
        assert csrf
        assert ws_match
        ws = int(ws_match.group(1))
        made = await c.post(
            f"/w/{ws}/maps",
            data={
                "csrf_token": csrf.group(1),
                "template": "five-stage",
                "map_id": "shop",
                "title": "Shop",
            },
        )
        assert made.status_code == 303, made.text
        secret = await c.post(
            "/api/v1/tokens",
            json={"name": "bench", "workspace_id": ws, "scopes": ["read", "write"]},
            headers={"X-CSRF-Token": csrf.group(1)},
        )
        assert secret.status_code == 201, secret.text
        return dict(c.cookies.items()), secret.json()["token"], ws


async def _pause(think: float) -> None:
    if think > 0:
        await asyncio.sleep(random.uniform(0.5 * think, 1.5 * think))


async def _arrive(think: float) -> None:
    # People with a pause between pages do not all click at the same instant: spread the
    # first requests over one pause (a closed loop, think 0, starts everyone at once).
    if think > 0:
        await asyncio.sleep(random.uniform(0, think))


async def _timed(c: httpx.AsyncClient, kind: str, url: str, stats: Stats) -> httpx.Response:
    start = time.perf_counter()
    answer = await c.get(url)
    stats.add(kind, time.perf_counter() - start)
    if answer.status_code != 200:
        stats.error(f"{kind} {answer.status_code}")
    return answer


async def _reader(
    base: str, cookies: dict[str, str], ws: int, n: int, args: argparse.Namespace, stop: float,
    stats: Stats,
) -> None:  # fmt: skip
    """A signed-in person viewing the map page; every ``--svg-every``-th view also fetches
    the map's SVG through the API (as a dashboard or a script would)."""
    async with httpx.AsyncClient(base_url=base, cookies=cookies, timeout=60) as c:
        await _arrive(args.think)
        i = n  # stagger the SVG fetches across readers
        while time.perf_counter() < stop:
            await _timed(c, "map page", f"/w/{ws}/m/shop", stats)
            i += 1
            if args.svg_every and i % args.svg_every == 0 and time.perf_counter() < stop:
                await _timed(c, "svg", f"/api/v1/workspaces/{ws}/maps/shop/svg", stats)
            await _pause(args.think)


async def _writer(
    base: str, token: str, ws: int, n: int, args: argparse.Namespace, stop: float, stats: Stats
) -> None:
    """A script editing the map: GET, change the description, PUT with ``base_version``."""
    headers = {"Authorization": f"Bearer {token}"}
    url = f"/api/v1/workspaces/{ws}/maps/shop"
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60) as c:
        await _arrive(args.think if args.writer_think is None else args.writer_think)
        i = 0
        while time.perf_counter() < stop:
            current = await _timed(c, "api get", url, stats)
            if current.status_code != 200:
                continue
            doc, version = current.json()["map"], current.json()["version"]
            i += 1
            doc["description"] = f"writer {n} edit {i}"
            start = time.perf_counter()
            saved = await c.put(f"{url}?base_version={version}", json=doc)
            stats.add("api save", time.perf_counter() - start)
            if saved.status_code == 200:
                stats.saved_versions.append(saved.json()["version"])
            elif saved.status_code == 409:
                stats.conflicts += 1  # someone saved first: reload and retry (nothing lost)
            else:
                stats.error(f"api save {saved.status_code}")
            await _pause(args.think if args.writer_think is None else args.writer_think)


def report(
    stats: Stats, elapsed: float, history: list[int], args: argparse.Namespace, label: str
) -> bool:
    """Print the figures; True when there were no errors and no lost edits."""
    readers = args.users - args.writers
    print(
        f"{args.users} users ({readers} readers + {args.writers} writers), think "
        f"{args.think:g} s (writers {args.think if args.writer_think is None else args.writer_think:g} s), {args.workers} server worker(s) × {args.threads or 'default'} "
        f"threads, {elapsed:.1f} s on {label}"
    )
    print(f"  {'request':9s} {'n':>7s} {'per s':>7s} {'p50 ms':>8s} {'p95 ms':>8s} {'p99 ms':>8s}")
    for kind in KINDS:
        values = stats.latency.get(kind)
        if not values:
            continue
        print(
            f"  {kind:9s} {len(values):7d} {len(values) / elapsed:7.1f} "
            f"{1000 * quantile(values, 0.5):8.1f} {1000 * quantile(values, 0.95):8.1f} "
            f"{1000 * quantile(values, 0.99):8.1f}"
        )
    total = sum(len(v) for v in stats.latency.values())
    print(f"  all       {total:7d} {total / elapsed:7.1f}")
    print(f"  errors: {sum(stats.errors.values())} {stats.errors or ''}")
    lost = lost_edits(stats.saved_versions, history)
    print(
        f"  saves: {len(stats.saved_versions)}, 409 conflicts retried: {stats.conflicts}, "
        f"versions: {len(history)}, lost edits: {lost}"
    )
    return lost == 0 and not stats.errors


async def _run(args: argparse.Namespace, base: str, server_pid: int, label: str) -> int:
    cookies, token, ws = await _setup(base)
    # Warm up: the first view renders and caches the SVG (not what a steady state costs).
    async with httpx.AsyncClient(base_url=base, cookies=cookies, timeout=60) as c:
        await c.get(f"/w/{ws}/m/shop")
        await c.get(f"/api/v1/workspaces/{ws}/maps/shop/svg")
    stats = Stats()
    readers = args.users - args.writers
    cpu_server, cpu_client = _tree_cpu_seconds(server_pid), time.process_time()
    load_before = os.getloadavg()[0]
    stop = time.perf_counter() + args.seconds
    tasks = [_reader(base, cookies, ws, n, args, stop, stats) for n in range(readers)]
    tasks += [_writer(base, token, ws, n, args, stop, stats) for n in range(args.writers)]
    started = time.perf_counter()
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - started
    cpu_server = _tree_cpu_seconds(server_pid) - cpu_server
    cpu_client = time.process_time() - cpu_client
    async with httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {token}"}) as c:
        listed = (await c.get(f"/api/v1/workspaces/{ws}/maps/shop/versions")).json()
    history = [int(v["version"]) for v in listed]
    ok = report(stats, elapsed, history, args, label)
    if args.target:
        pages = stats.latency.get("map page") or [float("inf")]
        p95 = 1000 * quantile(pages, 0.95)
        met = ok and p95 < TARGET_P95_MS
        print(
            f"  issue 7 target (map page p95 < {TARGET_P95_MS:g} ms, 0 errors, 0 lost edits): "
            f"{'PASS' if met else 'FAIL'} (p95 {p95:.1f} ms)"
        )
    requests = sum(len(v) for v in stats.latency.values())
    print(
        f"  CPU seconds: server {cpu_server:.1f} ({1000 * cpu_server / max(1, requests):.1f} ms"
        f" per request), client {cpu_client:.1f}, of {elapsed * (os.cpu_count() or 1):.0f} on "
        f"{os.cpu_count()} cores; load average {load_before:.1f} before, "
        f"{os.getloadavg()[0]:.1f} after"
    )
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--users", type=int, default=50, help="concurrent users (default 50)")
    parser.add_argument("--writers", type=int, default=5, help="of which writers (default 5)")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument(
        "--think", type=float, default=0.0, help="mean pause between a user's requests (s)"
    )
    parser.add_argument(
        "--writer-think", type=float, default=None, help="writers' mean pause (default: --think)"
    )
    parser.add_argument(
        "--svg-every", type=int, default=4, help="a reader fetches the SVG every Nth view"
    )
    parser.add_argument("--workers", type=int, default=1, help="server processes")
    parser.add_argument(
        "--threads", type=int, default=None, help="handler threads per server process"
    )
    parser.add_argument(
        "--database-url", default=None, help="default: SQLite in a temporary workspace"
    )
    parser.add_argument("--keep-database", action="store_true")
    parser.add_argument(
        "--target",
        action="store_true",
        help="issue 7's case: --think 1 --writer-think 2 --workers 2 --threads 8 --seconds 30, "
        "with a PASS / FAIL line (options given explicitly still win)",
    )
    args = parser.parse_args()
    if args.target:  # fill in what was not given on the command line
        given = {a.split("=", 1)[0] for a in sys.argv[1:]}
        for flag, name, value in TARGET_CASE:
            if flag not in given:
                setattr(args, name, value)
    if not 0 <= args.writers <= args.users:
        parser.error("--writers must be between 0 and --users")
    port = _free_port()
    with (
        tempfile.TemporaryDirectory() as tmp,
        fresh_database(args.database_url, args.keep_database) as url,
    ):
        cmd = [
            str(Path(sys.executable).with_name("journeylens")), "serve", "--workspace", tmp,
            "--port", str(port), "--workers", str(args.workers),
        ]  # fmt: skip
        if url:
            cmd += ["--database-url", url]
        if args.threads:
            cmd += ["--threads", str(args.threads)]
        label = "PostgreSQL" if url else "SQLite"
        server = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 60
            while True:
                try:
                    httpx.get(base + "/signin", timeout=1)
                    break
                except httpx.TransportError:
                    if time.monotonic() > deadline or server.poll() is not None:
                        raise SystemExit("the server did not start") from None
                    time.sleep(0.2)
            return asyncio.run(_run(args, base, server.pid, label))
        finally:
            server.terminate()
            server.wait(timeout=20)


if __name__ == "__main__":
    sys.exit(main())
