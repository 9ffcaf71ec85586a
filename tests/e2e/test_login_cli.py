"""`fbs-debitor municipality idp set|show` and `map-group`/`unmap-group`, as an administrator
sets up staff login against an SQLite file."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from fbs_debitor.bootstrap import build_system
from fbs_debitor.cli.main import app
from fbs_debitor.tenants.model import Role
from fbs_debitor.tenants.service import people as tenant_people

runner = CliRunner()


def invoke(*args: str, code: int = 0, env: dict[str, str] | None = None) -> str:
    result = runner.invoke(app, list(args), env=env)
    assert result.exit_code == code, result.output
    return result.output


def test_staff_login_is_set_up_from_the_command_line(tmp_path: Path) -> None:
    db = str(tmp_path / "debitor.db")
    invoke("db", "upgrade", "--database", db)
    invoke(
        "municipality", "create", "461", "--name", "Odense", "--agency", "746100",
        "--creditor", "81111111", "--database", db,
    )  # fmt: skip
    out = invoke(
        "municipality", "idp", "set", "461", "--issuer", "https://login.odense.dk/",
        "--client-id", "fbs-debitor", "--groups-claim", "roles", "--database", db,
        env={"FBS_DEBITOR_IDP_CLIENT_SECRET": "very-secret", "FBS_DEBITOR_PUBLIC_BASE_URL": "https://fbs.odense.dk"},
    )  # fmt: skip
    assert "register the redirect URI https://fbs.odense.dk/auth/callback" in out
    assert "very-secret" not in out
    invoke("municipality", "map-group", "461", "Debitorteam", "debtor-staff", "--database", db)
    invoke("municipality", "map-group", "461", "IT-drift", "ops", "--database", db)
    bad = invoke("municipality", "map-group", "461", "X", "root", "--database", db, code=2)
    assert "unknown role" in bad
    shown = invoke("municipality", "idp", "show", "461", "--database", db)
    assert "https://login.odense.dk" in shown and "roles" in shown
    assert "Debitorteam" in shown and "debtor-staff" in shown
    assert "very-secret" not in shown
    invoke("municipality", "unmap-group", "461", "IT-drift", "--database", db)
    invoke("municipality", "unmap-group", "461", "IT-drift", "--database", db, code=2)

    system = build_system(db)
    with system.db.connect() as conn:
        idp = tenant_people.find_staff_identity_provider(conn, "461")
        assert idp is not None
        assert (idp.issuer, idp.client_secret, idp.groups_claim) == (
            "https://login.odense.dk",
            "very-secret",
            "roles",
        )
        assert tenant_people.list_group_roles(conn, "461") == {"Debitorteam": Role.DEBTOR_STAFF}
    system.db.dispose()


@pytest.mark.parametrize("extra", [["--development"], []], ids=["development", "plain-http"])
def test_production_takes_no_development_or_plain_http_provider(
    tmp_path: Path, extra: list[str]
) -> None:
    db = str(tmp_path / "debitor.db")
    invoke("db", "upgrade", "--database", db)
    invoke(
        "municipality", "create", "461", "--name", "Odense", "--agency", "746100",
        "--creditor", "81111111", "--database", db,
    )  # fmt: skip
    out = invoke(
        "municipality", "idp", "set", "461", "--issuer", "http://localhost:8001",
        "--client-id", "x", "--client-secret", "y", *extra, "--database", db,
        code=2, env={"FBS_DEBITOR_ENV": "production"},
    )  # fmt: skip
    assert "production takes only an identity provider on https" in out
