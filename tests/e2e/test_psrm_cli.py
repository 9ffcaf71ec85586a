"""The PSRM commands as an operator runs them against an SQLite file: the hand-over with
``--json`` (the issue's keys), run twice (the second hands nothing over), PSRM's receipts read
back, the status, and a resubmission refused for a claim PSRM did not return."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fbs_debitor.cli.main import app
from fbs_debitor.core.clock import SettableClock
from fbs_debitor.core.db import Database
from fbs_debitor.migrate import upgrade
from tests.integration.collection_support import SRB, Chain, chain_system

runner = CliRunner()


def invoke(*args: str, code: int = 0) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == code, result.output
    return result.output


def test_hand_over_sync_status(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # the stand-in keeps its state in a file, so that separate commands see one PSRM
    monkeypatch.setenv("FBS_DEBITOR_PSRM_STANDIN_STATE", str(tmp_path / "psrm.json"))
    url = f"sqlite:///{tmp_path / 'debitor.db'}"
    db = Database(url)
    upgrade(db)
    chain = Chain(chain_system(db, SettableClock.at_date(date(2026, 3, 2))), tmp_path)
    patron = chain.patron()
    ready = chain.fee(patron)
    chain.fee(patron, kind="compensation")  # not acknowledged: waits for a person
    chain.day(SRB + timedelta(days=14))
    chain.day(SRB + timedelta(days=34))
    db.dispose()

    early = json.loads(
        invoke("psrm", "handover", "--date", "2026-07-13", "--database", url, "--json")
    )
    assert early["handed_over"] == 0
    assert early["not_eligible"] == {"hand-over-day-not-reached": 1, "unacknowledged": 1}

    first = json.loads(
        invoke(
            "psrm", "handover", "--date", "2026-07-14", "--municipality", "101",
            "--database", url, "--json",
        )
    )  # fmt: skip
    assert {k: first[k] for k in ("date", "evaluated", "eligible", "handed_over")} == {
        "date": "2026-07-14",
        "evaluated": 2,
        "eligible": 1,
        "handed_over": 1,
    }
    assert first["not_eligible"] == {"unacknowledged": 1}
    again = json.loads(
        invoke("psrm", "handover", "--date", "2026-07-14", "--database", url, "--json")
    )
    assert (again["evaluated"], again["handed_over"]) == (1, 0)

    synced = json.loads(invoke("psrm", "sync", "--database", url, "--json"))
    assert (synced["receipts"], synced["done"]) == (1, 1)
    status = json.loads(
        invoke("psrm", "status", "--municipality", "101", "--database", url, "--json")
    )
    assert status["claims_by_state"] == {"done": 1}
    assert [w["reason"] for w in status["waiting_for_a_person"]] == ["unacknowledged"]

    refused = invoke(
        "psrm", "resubmit", ready, "--municipality", "101", "--reason", "rettet",
        "--database", url, code=1,
    )  # fmt: skip
    assert "not returned" in refused
