"""Root pytest configuration: doctests in src run only where their extras are installed."""

from __future__ import annotations

import importlib.util

# Modules whose optional dependencies may be absent: skip collecting their doctests then.
_EXTRAS = {
    "src/journeylens/web/*": "fastapi",
    "src/journeylens/store/*": "sqlalchemy",
}
collect_ignore_glob = [
    pattern for pattern, module in _EXTRAS.items() if importlib.util.find_spec(module) is None
]
