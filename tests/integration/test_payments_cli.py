"""``fbs-debitor import camt``, run as an operator would."""

from __future__ import annotations

import json

import pytest
from click.testing import Result
from typer.testing import CliRunner

from fbs_debitor.bootstrap import System
from fbs_debitor.cli.main import app
from fbs_debitor.tenants.service import municipalities as tenants
from tests.integration.payments_support import CAMT, SINGLE, K, counts, issue, payments_only

runner = CliRunner()


@pytest.fixture(autouse=True)
def municipality(system: System) -> None:
    """The command refuses a municipality that does not exist: make K."""
    with system.db.begin() as conn:
        tenants.create_municipality(
            conn,
            system.clock,
            kommunekode=K,
            name="København",
            agency_id="710100",
            creditor_number="85799665",
        )


def _import(system: System, path: str, *extra: str) -> Result:
    return runner.invoke(
        app,
        ["import", "camt", path, "--municipality", K, "--database", system.db.url, *extra],
    )


def test_import_prints_one_json_summary_and_is_harmless_twice(system: System) -> None:
    pay = payments_only(system)
    issue(pay, "1", SINGLE, 12500)
    path = str(CAMT / "dk-single-fik.xml")
    before = counts(pay)
    dry = _import(system, path, "--dry-run", "--json")
    assert dry.exit_code == 0, dry.output
    assert json.loads(dry.output)["matched"] == 1
    assert counts(pay) == before
    done = _import(system, path, "--json")
    summary = json.loads(done.output)
    for field in ("entries", "matched", "partly_matched", "unmatched", "duplicate", "reversed"):
        assert field in summary
    assert (summary["entries"], summary["matched"], summary["total_ore"]) == (1, 1, 12500)
    assert summary["error"] == 0 and summary["errors"] == []
    again = _import(system, path)
    assert again.exit_code == 0
    assert "duplicate" in again.output


def test_errors_are_listed_and_an_invalid_file_exits_2(system: System) -> None:
    bad = _import(system, str(CAMT / "dk-bad-check-digit.xml"), "--json")
    summary = json.loads(bad.output)
    assert summary["error"] == 1
    assert summary["errors"][0]["entry_reference"] == "DB2026030200006"
    assert "check digit" in summary["errors"][0]["reason"]
    wrong = _import(system, str(CAMT / "invalid" / "dk-no-statement.xml"))
    assert wrong.exit_code == 2
    assert "refused" in wrong.output
    assert _import(system, "/nonexistent.xml").exit_code == 2
    assert _import(system, str(CAMT / "dk-batch.xml"), "--municipality", "1").exit_code == 2
