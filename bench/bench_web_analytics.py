"""Latency of the web app's analytics pages: first view (computed) vs repeated view (cached).

Builds a workspace with N synthetic customers on a three-stage shop map (look → cart → buy,
with NPS answers, a newsletter that matches no touchpoint and two personas on the plan
attribute), then requests every analytics page and the map view through the app in this
process (Starlette's test client, no network): once cold, then ``--repeat`` times warm;
for everyone and for a persona with a window; then the same through the JSON API
(``/api/v1/…/live`` shares the map view's cache entry; the ``analytics/*`` calls have
entries of their own). Prints the milliseconds of each (cold: wall and this process's CPU)
and the load average — on a shared 2-core machine the figures say as much about the other
jobs.

    .venv/bin/python bench/bench_web_analytics.py --customers 20000 --repeat 5
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.web.test_analytics_pages import MAP, PERSONAS

from journeylens.engine.workspace import Workspace
from journeylens.model import JourneyMap, Persona
from journeylens.store import models as sm
from journeylens.store import service
from journeylens.store.db import session_scope
from journeylens.web.app import create_app
from journeylens.web.settings import make_settings
from journeylens.web.store_backend import StoreBackend

PAGES = ("", "/analytics", "/analytics/flows", "/analytics/planned", "/analytics/outcomes",
         "/analytics/survey", "/analytics/survey?by=persona")  # fmt: skip
API = ("/live", "/analytics/funnel", "/analytics/flows", "/analytics/planned",
       "/analytics/outcomes", "/analytics/survey", "/analytics/survey?by=persona")  # fmt: skip


def build_workspace(root: Path, customers: int, seed: int) -> Path:
    """Synthetic shop events for ``customers`` customers (fixed seed)."""
    rng = random.Random(seed)
    rows: dict[str, list[object]] = {k: [] for k in (
        "event_id", "occurred_at", "seq", "source", "event_name", "channel", "customer_id",
        "score", "score_type", "ingest_run")}  # fmt: skip
    plans: list[str] = []
    start = dt.datetime(2024, 1, 1)

    def add(customer: str, name: str, at: dt.datetime, score: float | None = None) -> None:
        n = len(rows["seq"]) + 1
        for key, value in zip(rows, (f"e{n}", at, n, "bench", name, "web", customer, score,
                                     "nps" if score is not None else None, "r1"), strict=True):  # fmt: skip
            rows[key].append(value)

    for i in range(customers):
        cid = f"c{i}"
        plans.append("pro" if rng.random() < 0.4 else "free")
        t = start + dt.timedelta(minutes=rng.randrange(60 * 24 * 90))
        add(cid, "page_view", t)
        if rng.random() < 0.6:
            t += dt.timedelta(hours=rng.randrange(1, 48))
            add(cid, "add_to_cart", t)
        if rng.random() < 0.1:
            add(cid, "newsletter_open", t + dt.timedelta(hours=1))
        if rng.random() < 0.4:
            t += dt.timedelta(hours=rng.randrange(1, 72))
            add(cid, "purchase", t)
            if rng.random() < 0.5:
                add(cid, "nps_answer", t + dt.timedelta(days=1), float(rng.randrange(11)))
    ws = Workspace.init(root)
    con = ws.store.connect()
    new_events = pa.table(rows)  # noqa: F841 — read by DuckDB's replacement scan below
    con.execute("INSERT INTO events BY NAME SELECT * FROM new_events")
    people = pa.table({"customer_id": [f"c{i}" for i in range(customers)],  # noqa: F841
                       "identified": [True] * customers, "n_identities": [1] * customers,
                       "plan": plans})  # fmt: skip
    con.execute("INSERT INTO customers BY NAME SELECT * FROM people")
    con.close()
    return ws.root


def timed(client: object, url: str) -> float:
    t0 = time.perf_counter()
    answer = client.get(url)  # type: ignore[attr-defined]
    elapsed = (time.perf_counter() - t0) * 1000
    assert answer.status_code == 200, (url, answer.status_code, answer.text[:300])
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    from fastapi.testclient import TestClient

    with tempfile.TemporaryDirectory(prefix="jl-bench-analytics-") as tmp:
        t0 = time.perf_counter()
        root = build_workspace(Path(tmp) / "ws", args.customers, args.seed)
        print(f"workspace: {args.customers:,} customers in {time.perf_counter() - t0:.1f} s")
        url = f"sqlite:///{Path(tmp) / 'web.db'}"
        backend = StoreBackend.connect(url)
        app = create_app(make_settings(root, url, secret_key="bench"), backend)
        client = TestClient(app)
        signin = client.get("/signin").text
        token = signin.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        client.post("/signup", data={"csrf_token": token, "email": "b@bench.test",
                                     "password": "correct-horse-1", "name": "Bench"})  # fmt: skip
        with session_scope(backend.engine) as s:
            ws = service.get_workspace(s, "default")
            owner = s.get(sm.User, 1)
            assert owner is not None
            for doc in PERSONAS[:2]:
                service.create_persona(s, ws, Persona.model_validate(doc), owner)
            service.create_map(s, ws, owner, JourneyMap.model_validate(MAP))
            ws_id = ws.id
        head = f"{'cold ms':>9} {'cold CPU ms':>12} {'warm p50 ms':>12} {'warm max ms':>12}"
        for kind, base, paths in (
            ("page", f"/w/{ws_id}/m/shop2", PAGES),
            ("API call", f"/api/v1/workspaces/{ws_id}/maps/shop2", API),
        ):
            print(f"{kind:<40} {head}")
            for scope in ("", "persona=pro&from=2024-02-01&to=2024-02-29"):
                for page in paths:
                    sep = "&" if "?" in page else "?"
                    full = base + page + (sep + scope if scope else "")
                    cpu = time.process_time()
                    cold = timed(client, full)
                    cpu = (time.process_time() - cpu) * 1000
                    warm = [timed(client, full) for _ in range(args.repeat)]
                    label = (page or "/ (map view)") + (" [persona+window]" if scope else "")
                    print(f"{label:<40} {cold:9.0f} {cpu:12.0f} {statistics.median(warm):12.1f} "
                          f"{max(warm):12.1f}")  # fmt: skip
        print(f"load average: {' '.join(f'{x:.1f}' for x in os.getloadavg())} "
              f"on {os.cpu_count()} cores")  # fmt: skip


if __name__ == "__main__":
    main()
