"""Third-party oracles: test data we did not write (FIK and CPR/CVR vectors, the genkgo camt
samples, the FBS adapter spec and sample answers), read from one folder.

The folder is the setting ``FBS_DEBITOR_FIXTURES`` (an environment variable); by default
``../shared/fixtures`` beside the repository. When the folder or a file in it is absent, a test
that needs it is skipped with the reason, except under CI (``CI=true``), where it fails, as the
PostgreSQL fixture does. Nothing is read at import time, so a bare clone collects every test and
runs all but the oracle ones. ``src/`` never reads this folder.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from functools import cache
from pathlib import Path
from typing import Any, NoReturn

import pytest

FIXTURES_ENV = "FBS_DEBITOR_FIXTURES"
#: ``/work/shared/fixtures`` when the repository is ``/work/main``.
DEFAULT_FIXTURES: Path = Path(__file__).resolve().parents[1].parent / "shared" / "fixtures"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

#: The one parameter of an oracle-driven test whose oracle is absent (see ``oracle_params``).
MISSING = "oracle-missing"


def fixtures_dir() -> Path:
    """The oracle folder: ``$FBS_DEBITOR_FIXTURES`` or ``../shared/fixtures``."""
    configured = os.environ.get(FIXTURES_ENV, "").strip()
    return Path(configured).expanduser() if configured else DEFAULT_FIXTURES


def missing_reason(relpath: str) -> str:
    return (
        f"third-party oracle {relpath} not found under {fixtures_dir()}; "
        f"set {FIXTURES_ENV} or put ../shared/fixtures beside the repository"
    )


def available(relpath: str) -> bool:
    """Whether the oracle file or folder exists (never skips or fails)."""
    return (fixtures_dir() / relpath).exists()


def missing(relpath: str) -> NoReturn:
    """Skip the running test, or fail it under CI, because ``relpath`` is absent."""
    if IN_CI:
        pytest.fail(f"mandatory in CI: {missing_reason(relpath)}", pytrace=False)
    pytest.skip(missing_reason(relpath))


def oracle_path(relpath: str) -> Path:
    """The path of an oracle file or folder, e.g. ``oracle_path("fik/fik-test-vectors.json")``;
    skips (fails under CI) the calling test when it is absent."""
    path = fixtures_dir() / relpath
    if not path.exists():
        missing(relpath)
    return path


@cache
def _parsed(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def load_json(relpath: str) -> Any:
    """The parsed JSON of an oracle file (skips, or fails under CI, when absent). Cached: do not
    mutate the answer."""
    return _parsed(oracle_path(relpath))


def oracle_params(relpath: str, select: Callable[[Path], Sequence[Any]]) -> list[Any]:
    """Parameters for ``pytest.mark.parametrize`` taken from an oracle at collection time:
    ``select(path)`` when the oracle exists, else the single parameter ``MISSING``. The test must
    also request a fixture (or call ``oracle_path``) for the same oracle, which then skips it (or
    fails it under CI); collection itself never breaks."""
    if not available(relpath):
        return [pytest.param(MISSING, id=MISSING)]
    return list(select(fixtures_dir() / relpath))


def json_params(relpath: str, key: str) -> list[Any]:
    """``oracle_params`` of the list ``key`` of an oracle JSON object."""
    return oracle_params(relpath, lambda path: _parsed(path)[key])
