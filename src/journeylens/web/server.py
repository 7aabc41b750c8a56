"""Server tuning of the web app: how many threads run the (synchronous) request handlers.

FastAPI runs each ``def`` handler in a thread of anyio's pool (40 threads by default).
The map pages are CPU-bound Python (the database is local and quick), so many threads only
take turns on the GIL: fewer threads serve as many requests per second with a shorter
tail. But a handler that waits — a cold analytics page computing over the events, a
writer waiting for SQLite's write lock — holds its thread, and with too few threads every
other page queues behind it. The default stays anyio's; ``journeylens serve --threads N``
(or ``JOURNEYLENS_WEB_THREADS``) changes it — measure with ``bench/bench_web.py
--threads N`` (docs/usage/web.md, Speed).
"""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

#: The environment variable that sets the number of handler threads.
THREADS_ENV = "JOURNEYLENS_WEB_THREADS"
#: How long (s) a thread may hold the GIL while another waits for it, in the server.
#: Python's default is 5 ms; a page's handler gives the GIL up at every query and socket
#: write and then waits up to this long for it behind a thread that renders a new version
#: or writes a save, which is what the slowest page views are made of. With 1 ms (in
#: process, map pages while another thread wrote maps: p50 9.4-9.8 -> 5.6-6.1 ms, p95
#: 35-47 -> 28-32 ms, under load) the waits shrink at the cost of more frequent switches.
SWITCH_INTERVAL_S = 0.001


def handler_threads() -> int | None:
    """The number of handler threads asked for in ``JOURNEYLENS_WEB_THREADS`` (a positive
    integer), or ``None`` to keep anyio's default.

    >>> os.environ[THREADS_ENV] = "8"; handler_threads()
    8
    >>> os.environ[THREADS_ENV] = "lots"; handler_threads() is None
    True
    >>> del os.environ[THREADS_ENV]
    """
    raw = os.environ.get(THREADS_ENV, "").strip()
    return max(1, int(raw)) if raw.isdigit() else None


@asynccontextmanager
async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
    """Size anyio's default thread pool (it only exists inside the running event loop) and
    shorten the GIL switch interval while the app runs (restored when it stops)."""
    threads = handler_threads()
    if threads is not None:
        import anyio.to_thread

        anyio.to_thread.current_default_thread_limiter().total_tokens = threads
    previous = sys.getswitchinterval()
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    try:
        yield
    finally:
        sys.setswitchinterval(previous)
