"""`fbs-debitor demo --report json`: every key of the report, reconciled, exit 0; and served."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

KEYS = {
    "claims_created",
    "claims_sent_to_debtor",
    "claims_paid",
    "claims_handed_to_psrm",
    "psrm_rejected",
    "psrm_settled_ore",
    "reminders_sent",
    "payments_imported",
    "unmatched_payments",
    "dead_letters",
    "library_open_ore",
    "debtor_open_ore",
    "difference_ore",
    "reconciled",
    "municipality",
    "agencyid",
    "cutoff_date",
    "database",
    "sample_patrons",
    "delays_ms",
}


def run_demo(tmp_path: Path, *args: str) -> tuple[int, dict[str, object]]:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    proc = subprocess.run(  # noqa: S603 - our own CLI
        [
            sys.executable,
            "-m",
            "fbs_debitor.cli",
            "demo",
            "--report",
            "json",
            "--database",
            url,
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    return proc.returncode, json.loads(proc.stdout)


def check(report: dict[str, object]) -> None:
    assert set(report) >= KEYS
    assert report["reconciled"] is True
    assert report["difference_ore"] == 0
    assert report["dead_letters"] == 0
    assert report["library_open_ore"] == report["debtor_open_ore"]
    assert int(report["claims_sent_to_debtor"]) > 0  # type: ignore[call-overload]
    assert int(report["payments_imported"]) > 0  # type: ignore[call-overload]
    assert int(report["reminders_sent"]) > 0  # type: ignore[call-overload]
    samples = report["sample_patrons"]
    assert isinstance(samples, list) and len(samples) >= 3
    assert any(s["old_fees"] > 0 for s in samples)
    assert any(s["new_fees"] > 0 for s in samples)
    delays = report["delays_ms"]
    assert isinstance(delays, dict)
    for leg in ("leg1", "leg2", "leg3", "leg4", "payment_to_library"):
        assert delays[leg]["p50"] is not None
        assert delays[leg]["p99"] >= delays[leg]["p50"]


def test_short_demo_reconciles_and_reports_every_key(tmp_path: Path) -> None:
    code, report = run_demo(tmp_path, "--patrons", "150", "--days", "200", "--seed", "7")
    assert code == 0
    check(report)
    assert report["database"] == f"sqlite:///{tmp_path / 'demo.db'}"


@pytest.mark.slow
def test_default_demo_reconciles(tmp_path: Path) -> None:
    code, report = run_demo(tmp_path)
    assert code == 0
    check(report)
    # the year reaches state collection: claims handed over, receipts, settlements
    assert int(report["claims_handed_to_psrm"]) > 0  # type: ignore[call-overload]
    assert int(report["psrm_settled_ore"]) > 0  # type: ignore[call-overload]
