"""``fbs-debitor contracts``: the published message contracts (XSDs)."""

from __future__ import annotations

from typing import Annotated

import typer

from fbs_debitor.cli.options import console

app = typer.Typer(no_args_is_help=True, help="The published message contracts.")


@app.command("xsd")
def contracts_xsd(
    out: Annotated[
        str, typer.Option(help="Folder to write <group>-v1.xsd files to.")
    ] = "docs/contracts",
) -> None:
    """Write the XSD of every contract group (generated from the models)."""
    from pathlib import Path

    from fbs_debitor.contracts.catalog import GROUPS
    from fbs_debitor.contracts.xml import xsd

    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    for group, messages in GROUPS.items():
        path = folder / f"{group}-v1.xsd"
        path.write_bytes(xsd(messages, group))
        console.print(f"wrote {path}")
