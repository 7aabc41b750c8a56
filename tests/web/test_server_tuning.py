"""The server's GIL switch interval: shortened while the app runs, restored after."""

from __future__ import annotations

import sys
from pathlib import Path

from fastapi.testclient import TestClient

from journeylens.web.app import create_app
from journeylens.web.server import SWITCH_INTERVAL_S
from journeylens.web.settings import make_settings


def test_switch_interval_is_set_for_the_app_and_restored(tmp_path: Path) -> None:
    before = sys.getswitchinterval()
    app = create_app(make_settings(tmp_path, f"sqlite:///{tmp_path / 'web.db'}", secret_key="k"))
    with TestClient(app) as client:
        assert sys.getswitchinterval() == SWITCH_INTERVAL_S == 0.001
        assert client.get("/signin").status_code == 200
    assert sys.getswitchinterval() == before
