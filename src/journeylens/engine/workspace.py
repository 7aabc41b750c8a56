"""A journeylens workspace: a folder with ``journeylens.toml``, ``maps/`` and the event store.

>>> import tempfile, pathlib
>>> ws = Workspace.init(pathlib.Path(tempfile.mkdtemp()) / "shop")
>>> (ws.config_path.name, ws.maps_dir.is_dir(), ws.store.path.name)
('journeylens.toml', True, 'events.duckdb')
>>> Workspace.find(ws.maps_dir).root == ws.root
True
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from journeylens.engine.store import EventStore

CONFIG_NAME: Final[str] = "journeylens.toml"
ENV_VAR: Final[str] = "JOURNEYLENS_WORKSPACE"
DEFAULT_MAX_USERS_PER_IDENTITY: Final[int] = 5
DEFAULT_MAX_IDENTITIES_PER_USER: Final[int] = 100

_TEMPLATE = """\
# journeylens workspace configuration
[workspace]
name = "{name}"

[store]
# The embedded default: a DuckDB file, relative to this folder.
backend = "duckdb"
path = "events.duckdb"

[stitching]
# An identity (device, e-mail, anonymous id) linked to more user ids than this is a shared
# device or a test account: its edges are refused and reported, not merged.
max_users_per_identity = {max_users}
# A user id linked to more anonymous ids or devices than this is a test account: refused too.
max_identities_per_user = {max_ids}
"""


class WorkspaceError(Exception):
    """No workspace found, or its configuration is invalid."""


@dataclass(frozen=True)
class Workspace:
    """A workspace rooted at ``root`` with its parsed configuration."""

    root: Path
    config: dict[str, Any] = field(default_factory=dict)

    @property
    def config_path(self) -> Path:
        """The ``journeylens.toml`` file."""
        return self.root / CONFIG_NAME

    @property
    def maps_dir(self) -> Path:
        """Folder of the ``*.journey.yaml`` maps."""
        return self.root / "maps"

    @property
    def store(self) -> EventStore:
        """The event store configured for this workspace."""
        store_cfg = self.config.get("store", {})
        backend = store_cfg.get("backend", "duckdb")
        if backend != "duckdb":
            raise WorkspaceError(
                f"{self.config_path}: [store] backend = {backend!r}: expected 'duckdb'"
            )
        return EventStore(self.root / str(store_cfg.get("path", "events.duckdb")))

    def _limit(self, key: str, default: int) -> int:
        value = self.config.get("stitching", {}).get(key, default)
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise WorkspaceError(
                f"{self.config_path}: [stitching] {key} = {value!r}: expected an integer ≥ 1"
            )
        return value

    @property
    def max_users_per_identity(self) -> int:
        """Over-merge guard of identity stitching (``[stitching] max_users_per_identity``)."""
        return self._limit("max_users_per_identity", DEFAULT_MAX_USERS_PER_IDENTITY)

    @property
    def max_identities_per_user(self) -> int:
        """Test-account guard of identity stitching (``[stitching] max_identities_per_user``)."""
        return self._limit("max_identities_per_user", DEFAULT_MAX_IDENTITIES_PER_USER)

    @classmethod
    def open(cls, root: Path) -> Workspace:
        """Read the workspace at ``root`` (which must hold ``journeylens.toml``)."""
        path = root / CONFIG_NAME
        try:
            with path.open("rb") as fh:
                config = tomllib.load(fh)
        except FileNotFoundError as exc:
            raise WorkspaceError(f"{root}: not a journeylens workspace (no {CONFIG_NAME})") from exc
        except tomllib.TOMLDecodeError as exc:
            raise WorkspaceError(f"{path}: invalid TOML: {exc}") from exc
        return cls(root=root.resolve(), config=config)

    @classmethod
    def find(cls, start: Path | None = None, explicit: Path | None = None) -> Workspace:
        """The workspace named by ``explicit`` (or $JOURNEYLENS_WORKSPACE), else the nearest
        folder at or above ``start`` (default: the current folder) holding ``journeylens.toml``.
        """
        if explicit is None and os.environ.get(ENV_VAR):
            explicit = Path(os.environ[ENV_VAR])
        if explicit is not None:
            return cls.open(explicit)
        here = (start or Path.cwd()).resolve()
        for folder in (here, *here.parents):
            if (folder / CONFIG_NAME).is_file():
                return cls.open(folder)
        raise WorkspaceError(
            f"no journeylens workspace at or above {here}: run `journeylens init` "
            "or pass --workspace DIR"
        )

    @classmethod
    def init(
        cls, root: Path, *, max_users_per_identity: int = DEFAULT_MAX_USERS_PER_IDENTITY
    ) -> Workspace:
        """Create a workspace in ``root`` (config, ``maps/``, migrated store); idempotent."""
        root.mkdir(parents=True, exist_ok=True)
        config = root / CONFIG_NAME
        if not config.exists():
            name = root.resolve().name.replace("\\", "").replace('"', "")
            config.write_text(
                _TEMPLATE.format(
                    name=name,
                    max_users=max_users_per_identity,
                    max_ids=DEFAULT_MAX_IDENTITIES_PER_USER,
                ),
                encoding="utf-8",
            )
        ws = cls.open(root)
        ws.maps_dir.mkdir(exist_ok=True)
        ws.store.connect().close()
        return ws
