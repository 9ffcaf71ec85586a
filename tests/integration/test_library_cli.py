"""``fbs-debitor library move-old``, run as an operator would (the CLI reads the real clock, so
the test's dates are set around the real today)."""

from __future__ import annotations

import json
from datetime import timedelta

from typer.testing import CliRunner

from fbs_debitor.bootstrap import System
from fbs_debitor.cli.main import app
from fbs_debitor.core.clock import SettableClock, SystemClock
from tests.integration.library_support import (
    K,
    fee,
    library_only,
    new_fee,
    new_patron,
    sent,
    set_up,
)

runner = CliRunner()


def test_move_old_moves_the_old_balances_once(system: System, clock: SettableClock) -> None:
    today = SystemClock().today()
    clock.set_date(today)
    lib = library_only(system)
    set_up(lib, cutoff=today - timedelta(days=10))
    p = new_patron(lib)
    old = new_fee(lib, p.id, "42,00", creation_date=today - timedelta(days=30))
    args = ["library", "move-old", "--municipality", K, "--date", today.isoformat()]
    result = runner.invoke(app, [*args, "--database", system.db.url, "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"moved": 1, "sent": 1, "held": 0, "total_ore": 4200}
    assert fee(lib, old.id).moved_on == today
    assert sent(lib, "ClaimRegistered")[0].payload["amount_ore"] == 4200
    again = runner.invoke(app, [*args, "--database", system.db.url])
    assert again.exit_code == 0, again.output
    assert "moved 0 old fee(s)" in again.output


def test_move_old_explains_what_it_refuses(system: System, clock: SettableClock) -> None:
    today = SystemClock().today()
    clock.set_date(today)
    set_up(library_only(system), cutoff=today)
    base = ["library", "move-old", "--municipality", K, "--database", system.db.url]
    early = runner.invoke(app, [*base, "--date", (today - timedelta(days=1)).isoformat()])
    assert early.exit_code == 2
    assert "cutoff" in early.output
    typo = runner.invoke(app, [*base, "--date", "1.3.2026"])
    assert typo.exit_code == 2
    assert "not a date (YYYY-MM-DD): 1.3.2026" in typo.output
    unknown = runner.invoke(
        app,
        [
            "library",
            "move-old",
            "--municipality",
            "999",
            "--date",
            today.isoformat(),
            "--database",
            system.db.url,
        ],
    )
    assert unknown.exit_code == 2
    assert "no municipality '999': nothing was done" in unknown.output
