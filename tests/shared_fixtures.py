"""Access to the shared test fixtures in ``../shared/fixtures`` (next to the project root)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

#: ``/work/shared/fixtures`` when the project lives in ``/work/main``.
FIXTURES: Path = Path(__file__).resolve().parents[1].parent / "shared" / "fixtures"


def shared_fixture(relpath: str) -> Path:
    """The path of a shared fixture file, e.g. ``shared_fixture("fik/fik-test-vectors.json")``."""
    path = FIXTURES / relpath
    if not path.is_file():
        raise FileNotFoundError(f"shared fixture {relpath!r} not found under {FIXTURES}")
    return path


def load_json(relpath: str) -> Any:
    """The parsed JSON of a shared fixture file."""
    return json.loads(shared_fixture(relpath).read_text(encoding="utf-8"))
