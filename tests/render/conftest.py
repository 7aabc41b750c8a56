"""Shared helpers of the render tests: the sample figures and the golden-file switch."""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

GOLDEN_DIR = Path(__file__).parents[1] / "golden" / "render"

#: Set JOURNEYLENS_UPDATE_GOLDEN=1 to rewrite the golden files after an intended change.
UPDATE_GOLDEN = os.environ.get("JOURNEYLENS_UPDATE_GOLDEN") == "1"
