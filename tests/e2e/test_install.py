"""The package carries everything it reads at run time: an installed ``fbs-debitor`` (not an editable
checkout) migrates a database and renders letters from any directory.

Builds the wheel offline (``pip wheel --no-deps --no-build-isolation``, with the setuptools of this
environment) from a copy of the sources, so the working tree gets no ``build/`` directory.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "src" / "fbs_debitor"


def _setuptools_77() -> bool:
    try:
        import setuptools
    except ImportError:
        return False
    return int(setuptools.__version__.split(".")[0]) >= 77


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not _setuptools_77():
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail("building the wheel needs setuptools>=77 (make install upgrades it)")
        pytest.skip("building the wheel needs setuptools>=77 (make install upgrades it)")
    copy = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy2(ROOT / name, copy / name)
    shutil.copytree(
        ROOT / "src",
        copy / "src",
        ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"),
    )
    out = tmp_path_factory.mktemp("wheel")
    command = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation"]
    subprocess.run(  # noqa: S603 - pip of this interpreter on our own sources
        [*command, "--no-index", "-w", str(out), str(copy)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    (built,) = out.glob("fbs_debitor-*.whl")
    return built


@pytest.fixture(scope="module")
def wheel_names(wheel: Path) -> set[str]:
    with zipfile.ZipFile(wheel) as zf:
        return set(zf.namelist())


def _in_source(pattern: str) -> set[str]:
    names = {str(p.relative_to(PACKAGE.parent)) for p in PACKAGE.glob(pattern)}
    assert names, f"nothing in the sources matches {pattern}"
    return names


def test_the_wheel_carries_the_migrations(wheel_names: set[str]) -> None:
    assert _in_source("migrations/versions/*.py") <= wheel_names
    assert {"fbs_debitor/migrations/env.py", "fbs_debitor/migrations/script.py.mako"} <= wheel_names
    assert "fbs_debitor/migrate.py" in wheel_names


def test_the_wheel_carries_templates_schemas_and_type_marker(wheel_names: set[str]) -> None:
    assert "fbs_debitor/debtor/adapters/templates/letter.html" in wheel_names
    assert _in_source("payments/adapters/xsd/*.xsd") <= wheel_names
    assert "fbs_debitor/payments/adapters/xsd/LICENSE" in wheel_names
    assert "fbs_debitor/py.typed" in wheel_names
    # /docs from our own host: our init script, and Swagger UI as make install copied it from npm
    assert "fbs_debitor/web/static/swagger-init.js" in wheel_names
    assert "fbs_debitor/web/static/vendor/swagger-ui/swagger-ui-bundle.js" in wheel_names


def test_the_wheel_carries_every_data_file_of_the_sources(wheel_names: set[str]) -> None:
    """A data file added later (a template, a schema) fails here until package data lists it."""
    data = {
        str(p.relative_to(PACKAGE.parent))
        for p in PACKAGE.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix not in (".pyc",)
    }
    assert data - wheel_names == set()


def test_the_wheel_declares_the_command_and_nothing_of_the_repository(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        (entry_points,) = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
        assert "fbs-debitor = fbs_debitor.cli.main:app" in zf.read(entry_points).decode()
    assert not any(n.startswith(("tests/", "bench/", "docs/", "migrations/")) for n in names)


def test_the_unpacked_wheel_migrates_a_database_from_another_directory(
    wheel: Path, tmp_path: Path
) -> None:
    """The package, not a repository checkout, supplies the migrations (no alembic.ini in sight)."""
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(site)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    script = (
        "import sys, fbs_debitor; print(fbs_debitor.__file__); "
        "from fbs_debitor.cli.main import app; "
        "sys.argv = ['fbs-debitor', 'db', 'upgrade', '--database', 'sqlite:///x.db']; app()"
    )
    result = subprocess.run(  # noqa: S603 - our own CLI
        [sys.executable, "-c", script],
        cwd=elsewhere,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(site), "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0].startswith(str(site))
    assert "database at revision" in result.stdout
    assert (elsewhere / "x.db").is_file()
