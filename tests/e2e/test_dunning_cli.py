"""The dunning and letters commands, run as an operator would against an SQLite file: set up a
municipality, let claims arrive, run the dunning for a date (twice: the second changes nothing)
and deliver the letters as PDF files."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from typer.testing import CliRunner

from fbs_debitor.bootstrap import build_system
from fbs_debitor.cli.main import app
from fbs_debitor.core.clock import SettableClock
from fbs_debitor.debtor.service import intake
from tests.factories import claim_registered

runner = CliRunner()


def invoke(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_dunning_run_and_letter_delivery(tmp_path: Path) -> None:
    db = str(tmp_path / "debitor.db")
    invoke("db", "upgrade", "--database", db)
    invoke(
        "municipality", "create", "101", "--name", "København", "--agency", "710100",
        "--creditor", "89123456", "--database", db,
    )  # fmt: skip
    invoke("worker", "--once", "--database", db)  # debtor gets its copy of the set-up

    system = build_system(db, clock=SettableClock.at_date(date(2026, 3, 2)))
    with system.db.begin() as conn:
        for i, kind in enumerate(("fee", "compensation")):
            message = claim_registered(
                f"c{i}",
                occurred_at=system.clock.now(),
                claim_kind=kind,
                amount_ore=12500,
                created_on=date(2026, 3, 2),
            )
            intake.apply_registration_message(
                conn, system.clock, message, message_id=f"m{i}", enqueued_at=None
            )
    system.db.dispose()

    first = json.loads(invoke("dunning", "run", "--date", "2026-04-19", "--database", db, "--json"))
    assert (first["on"], first["reminders"], first["letters"]) == ("2026-04-19", 2, 2)
    assert first["fee_postings"] == 0  # the first step (a påmindelse) comes first, fee-free
    again = json.loads(
        invoke(
            "dunning",
            "run",
            "--date",
            "2026-04-19",
            "--municipality",
            "101",
            "--database",
            db,
            "--json",
        )
    )
    assert (again["reminders"], again["postings"]) == (0, 0)
    # the påmindelse of 19 April asks for payment by 29 April: the next step waits until then
    waits = json.loads(invoke("dunning", "run", "--date", "2026-04-29", "--database", db, "--json"))
    assert waits["reminders"] == 0
    second = json.loads(
        invoke("dunning", "run", "--date", "2026-04-30", "--database", db, "--json")
    )
    assert (second["reminders"], second["fees_ore"]) == (2, 20000)
    assert "dunning run for 2026-05-01" in invoke(
        "dunning", "run", "--date", "2026-05-01", "--database", db
    )

    invoiced = json.loads(
        invoke("dunning", "invoice", "--date", "2026-05-01", "--database", db, "--json")
    )
    assert invoiced["invoices"] == 0  # both claims were invoiced on registration

    out = tmp_path / "letters"
    assert "delivered 6 letter(s)" in invoke(
        "letters", "deliver", "--out", str(out), "--database", db
    )
    pdfs = sorted(p.name for p in (out / "101").glob("*.pdf"))
    assert pdfs == [f"{i}.pdf" for i in range(1, 7)]
    assert (out / "101" / "1.pdf").read_bytes().startswith(b"%PDF")
    assert "delivered 0 letter(s)" in invoke(
        "letters", "deliver", "--out", str(out), "--database", db
    )


def test_dunning_run_refuses_a_bad_date(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["dunning", "run", "--date", "19-04-2026", "--database", str(tmp_path / "x.db")]
    )
    assert result.exit_code == 2
    assert "not a date (YYYY-MM-DD): 19-04-2026" in result.output
