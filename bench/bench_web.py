"""Load test of the web app on loopback: N concurrent readers of the map page and M
concurrent writers saving map versions through the API, for a bounded time.

Prints p50 / p95 latency per kind of request, the errors, and checks that no edit was
lost: every save answered 200 must be a version in the history (writers that get 409
reload and retry, as a browser does).

    .venv/bin/python bench/bench_web.py --readers 50 --writers 5 --seconds 20
    .venv/bin/python bench/bench_web.py --database-url postgresql://postgres@127.0.0.1/bench

Target (issue 7): p95 under 100 ms for map pages at 50 concurrent users, zero errors,
zero lost edits. The server runs as a separate process (``journeylens serve``) so client
and server do not share one interpreter.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx2 as httpx

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
PASSWORD = "bench-password-1"


@dataclass
class Stats:
    """Latencies (s) by request kind, errors and successful saves."""

    latency: dict[str, list[float]] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    saves: int = 0
    conflicts: int = 0

    def add(self, kind: str, seconds: float) -> None:
        self.latency.setdefault(kind, []).append(seconds)

    def error(self, what: str) -> None:
        self.errors[what] = self.errors.get(what, 0) + 1


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def _setup(base: str) -> tuple[dict[str, str], str, int]:
    """Sign up the owner, create map ``shop`` from a template, make a write token."""
    async with httpx.AsyncClient(base_url=base, follow_redirects=False) as c:
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


async def _reader(base: str, cookies: dict[str, str], ws: int, stop: float, stats: Stats) -> None:
    async with httpx.AsyncClient(base_url=base, cookies=cookies, timeout=30) as c:
        while time.perf_counter() < stop:
            start = time.perf_counter()
            answer = await c.get(f"/w/{ws}/m/shop")
            stats.add("map page", time.perf_counter() - start)
            if answer.status_code != 200:
                stats.error(f"map page {answer.status_code}")


async def _writer(base: str, token: str, ws: int, n: int, stop: float, stats: Stats) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    url = f"/api/v1/workspaces/{ws}/maps/shop"
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as c:
        i = 0
        while time.perf_counter() < stop:
            start = time.perf_counter()
            current = await c.get(url)
            stats.add("api get", time.perf_counter() - start)
            if current.status_code != 200:
                stats.error(f"api get {current.status_code}")
                continue
            doc, version = current.json()["map"], current.json()["version"]
            i += 1
            doc["description"] = f"writer {n} edit {i}"
            start = time.perf_counter()
            saved = await c.put(f"{url}?base_version={version}", json=doc)
            stats.add("api save", time.perf_counter() - start)
            if saved.status_code == 200:
                stats.saves += 1
            elif saved.status_code == 409:
                stats.conflicts += 1  # someone saved first: reload and retry (nothing lost)
            else:
                stats.error(f"api save {saved.status_code}")


async def _run(args: argparse.Namespace, base: str) -> int:
    cookies, token, ws = await _setup(base)
    stats = Stats()
    stop = time.perf_counter() + args.seconds
    tasks = [_reader(base, cookies, ws, stop, stats) for _ in range(args.readers)]
    tasks += [_writer(base, token, ws, n, stop, stats) for n in range(args.writers)]
    started = time.perf_counter()
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - started
    async with httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {token}"}) as c:
        history = (await c.get(f"/api/v1/workspaces/{ws}/maps/shop/versions")).json()
    print(
        f"{args.readers} readers + {args.writers} writers for {elapsed:.1f} s on {args.database_url or 'SQLite'}"
    )
    for kind, values in stats.latency.items():
        print(
            f"  {kind:9s} n={len(values):6d}  {len(values) / elapsed:7.1f}/s  "
            f"p50 {1000 * statistics.median(values):6.1f} ms  p95 {1000 * _quantile(values, 0.95):6.1f} ms"
        )
    print(f"  errors: {sum(stats.errors.values())} {stats.errors or ''}")
    lost = (stats.saves + 1) - len(history)  # +1: version 1 is the creation
    print(
        f"  saves: {stats.saves}, 409 conflicts retried: {stats.conflicts}, versions: {len(history)}, lost edits: {lost}"
    )
    return 0 if lost == 0 and not stats.errors else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--readers", type=int, default=50)
    parser.add_argument("--writers", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument(
        "--database-url", default=None, help="default: SQLite in a temporary workspace"
    )
    args = parser.parse_args()
    port = _free_port()
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [
            str(Path(sys.executable).with_name("journeylens")), "serve", "--workspace", tmp,
            "--port", str(port),
        ]  # fmt: skip
        if args.database_url:
            cmd += ["--database-url", args.database_url]
        server = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 30
            while True:
                try:
                    httpx.get(base + "/signin", timeout=1)
                    break
                except httpx.TransportError:
                    if time.monotonic() > deadline or server.poll() is not None:
                        raise SystemExit("the server did not start") from None
                    time.sleep(0.2)
            return asyncio.run(_run(args, base))
        finally:
            server.terminate()
            server.wait(timeout=10)


if __name__ == "__main__":
    sys.exit(main())
