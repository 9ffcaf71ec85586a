"""``fbs-debitor fik``: FIK payment IDs (Fælles Indbetalingskort)."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from fbs_debitor.cli.options import console, err_console
from fbs_debitor.core.errors import ValidationError
from fbs_debitor.core.fik import PaymentId, code_line, validate_payment_id

app = typer.Typer(no_args_is_help=True, help="FIK payment IDs (Fælles Indbetalingskort).")


@app.command("validate")
def fik_validate(payment_id: str) -> None:
    """Check a FIK payment ID (15 digits: +71, 16 digits: +75). Exit 0 if valid, 1 if not."""
    ok, reason = validate_payment_id(payment_id)
    if ok:
        card = "+71" if len(payment_id.strip()) == 15 else "+75"
        console.print(f"[green]valid[/]: {payment_id.strip()} (FIK {card}, check digit right)")
        raise typer.Exit(0)
    console.print(f"[red]invalid[/]: {reason}")
    raise typer.Exit(1)


@app.command("generate")
def fik_generate(
    seq: int,
    creditor: Annotated[str, typer.Option(help="8-digit FIK creditor number (starts with 8).")],
    card_type: Annotated[int, typer.Option("--card-type", help="71 or 75.")] = 71,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Make the payment ID for sequence number SEQ and its code line."""
    try:
        pid = PaymentId.generate(seq, card_type=card_type)
        line = code_line(pid, creditor)
    except ValidationError as exc:
        err_console.print(f"[red]{exc.detail}[/]")
        raise typer.Exit(2) from exc
    if as_json:
        console.print_json(json.dumps({"payment_id": pid.value, "code_line": line}))
    else:
        console.print(f"payment id: {pid.value}")
        console.print(f"code line:  {line}", highlight=False)
