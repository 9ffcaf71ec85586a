"""Every command that takes ``--municipality`` refuses one that does not exist: a clear message,
exit 2, and nothing done (issue #17: ``import camt --municipality 999`` imported a bank file into
a municipality nobody had created)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import typer.main
from sqlalchemy import func, select
from typer.testing import CliRunner

from fbs_debitor.bootstrap import System
from fbs_debitor.cli.main import app
from fbs_debitor.demo import seed_demo
from fbs_debitor.schema import metadata

runner = CliRunner()
CAMT = Path(__file__).resolve().parents[1] / "fixtures" / "camt"

UNKNOWN_MUNICIPALITY_CALLS: dict[str, list[str]] = {
    "import camt": ["import", "camt", str(CAMT / "dk-batch.xml"), "--municipality", "999"],
    "dunning run": ["dunning", "run", "--date", "2026-04-01", "--municipality", "999"],
    "dunning invoice": ["dunning", "invoice", "--date", "2026-04-01", "--municipality", "999"],
    "library move-old": ["library", "move-old", "--municipality", "999", "--date", "2026-03-01"],
    "key create": ["key", "create", "--municipality", "999", "--role", "library"],
    "key list": ["key", "list", "--municipality", "999"],
    "key revoke": ["key", "revoke", "0123456789ab", "--municipality", "999", "--reason", "x"],
    "key rotate": ["key", "rotate", "0123456789ab", "--municipality", "999"],
    "audit list": ["audit", "list", "--municipality", "999"],
    "municipality idp set": [
        "municipality",
        "idp",
        "set",
        "999",
        "--issuer",
        "https://idp.example",
        "--client-id",
        "x",
        "--client-secret",
        "y",
    ],
    "municipality idp show": ["municipality", "idp", "show", "999"],
    "municipality map-group": ["municipality", "map-group", "999", "staff", "library"],
    "municipality unmap-group": ["municipality", "unmap-group", "999", "staff"],
    "patron token": ["patron", "token", "--municipality", "999", "--patron", "1"],
    "psrm handover": ["psrm", "handover", "--date", "2026-07-14", "--municipality", "999"],
    "psrm sync": ["psrm", "sync", "--municipality", "999"],
    "psrm status": ["psrm", "status", "--municipality", "999"],
    "psrm resubmit": ["psrm", "resubmit", "7", "--municipality", "999", "--reason", "rettet"],
}
CREATES_IT = {"municipality create"}
"""Commands whose kommunekode names the municipality they make: it need not exist."""


def _commands_with_a_municipality() -> set[str]:
    """``group command`` of every command with a ``--municipality`` option or a kommunekode."""
    found: set[str] = set()

    def walk(command: Any, path: list[str]) -> None:
        if hasattr(command, "commands"):  # a group
            for name, sub in command.commands.items():
                walk(sub, [*path, name])
            return
        if any(p.name in ("municipality", "kommunekode") for p in command.params):
            found.add(" ".join(path))

    walk(typer.main.get_command(app), [])
    return found


def test_every_command_taking_a_municipality_is_checked_here() -> None:
    """A new command with ``--municipality`` must be added above (and check it)."""
    assert (
        _commands_with_a_municipality() - {"demo"} == set(UNKNOWN_MUNICIPALITY_CALLS) | CREATES_IT
    )


def _counts(system: System) -> dict[str, int]:
    with system.db.connect() as conn:
        return {
            t.name: int(conn.execute(select(func.count()).select_from(t)).scalar_one())
            for t in metadata.sorted_tables
        }


@pytest.mark.parametrize("command", sorted(UNKNOWN_MUNICIPALITY_CALLS))
def test_an_unknown_municipality_is_refused_and_nothing_done(system: System, command: str) -> None:
    seed_demo(system)
    system.drain()
    before = _counts(system)
    result = runner.invoke(app, [*UNKNOWN_MUNICIPALITY_CALLS[command], "--database", system.db.url])
    assert result.exit_code == 2, result.output
    assert "no municipality '999': nothing was done" in result.output
    assert "fbs-debitor municipality list" in result.output
    assert _counts(system) == before


def test_a_known_municipality_is_taken(system: System) -> None:
    seed_demo(system)
    system.drain()
    db = ["--database", system.db.url]
    result = runner.invoke(
        app, ["dunning", "run", "--date", "2026-04-01", "--municipality", "101", "--json", *db]
    )
    assert result.exit_code == 0, result.output
    batch = str(CAMT / "dk-batch.xml")
    result = runner.invoke(app, ["import", "camt", batch, "--municipality", "101", "--json", *db])
    assert result.exit_code == 0, result.output
    with system.db.connect() as conn:
        files = conn.execute(
            select(func.count()).select_from(metadata.tables["payments_bank_file"])
        )
        assert files.scalar_one() == 1
