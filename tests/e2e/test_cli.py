"""The small tools municipal staff use, run as a newcomer would."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from fbs_debitor.cli.main import app

runner = CliRunner()


def test_fik_validate_accepts_a_valid_id() -> None:
    result = runner.invoke(app, ["fik", "validate", "026840149965328"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "valid: 026840149965328 (FIK +71, check digit right)"


def test_fik_validate_explains_a_wrong_check_digit() -> None:
    result = runner.invoke(app, ["fik", "validate", "026840149965327"])
    assert result.exit_code == 1
    assert "invalid" in result.output
    assert "check digit" in result.output


def test_fik_validate_explains_a_wrong_length() -> None:
    result = runner.invoke(app, ["fik", "validate", "12345678901234"])
    assert result.exit_code == 1
    assert result.output.startswith("invalid")
    assert "payment ID must have 15 (+71) or 16 (+75) digits, got 14" in result.output


def test_fik_generate_prints_id_and_code_line() -> None:
    result = runner.invoke(app, ["fik", "generate", "10", "--creditor", "85799665", "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out == {"payment_id": "000000000000109", "code_line": "+71<000000000000109+85799665<"}


def test_fik_generate_refuses_a_bad_creditor_number() -> None:
    result = runner.invoke(app, ["fik", "generate", "10", "--creditor", "12345678"])
    assert result.exit_code == 2
    assert "creditor number must have 8 digits and start with 8, got '12345678'" in result.output


def test_bankdays_next_skips_christmas() -> None:
    result = runner.invoke(app, ["bankdays", "next", "2026-12-24"])
    assert result.exit_code == 0
    assert result.output.strip() == "2026-12-28"


def test_bankdays_next_keeps_a_bank_day() -> None:
    result = runner.invoke(app, ["bankdays", "next", "2026-06-04"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "2026-06-04"


def test_bankdays_next_refuses_a_non_date() -> None:
    result = runner.invoke(app, ["bankdays", "next", "24-12-2026"])
    assert result.exit_code == 2
    assert "not a date (YYYY-MM-DD): 24-12-2026" in result.output


def test_db_upgrade_creates_the_schema(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    result = runner.invoke(app, ["db", "upgrade", "--database", url])
    assert result.exit_code == 0, result.output
    assert "revision" in result.output
    again = runner.invoke(app, ["db", "upgrade", "--database", url])
    assert again.exit_code == 0, again.output
    assert "revision" in again.output


def test_municipality_create_list_and_key(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    upgraded = runner.invoke(app, ["db", "upgrade", "--database", url])
    assert upgraded.exit_code == 0, upgraded.output
    created = runner.invoke(
        app,
        [
            "municipality",
            "create",
            "461",
            "--name",
            "Odense",
            "--agency",
            "746100",
            "--creditor",
            "81111111",
            "--cutoff",
            "2026-01-01",
            "--database",
            url,
        ],
    )
    assert created.exit_code == 0, created.output
    assert "fbsd_461_" in created.output
    listing = runner.invoke(app, ["municipality", "list", "--database", url])
    assert listing.exit_code == 0, listing.output
    assert "Odense" in listing.output
    assert "2026-01-01" in listing.output
    key = runner.invoke(
        app, ["key", "create", "--municipality", "461", "--role", "library", "--database", url]
    )
    assert key.exit_code == 0, key.output
    assert key.output.startswith("fbsd_461_")
    bad = runner.invoke(
        app,
        [
            "municipality",
            "create",
            "46",
            "--name",
            "X",
            "--agency",
            "1",
            "--creditor",
            "1",
            "--database",
            url,
        ],
    )
    assert bad.exit_code == 2
    assert "kommunekode must be 3 digits, got '46'" in bad.output
