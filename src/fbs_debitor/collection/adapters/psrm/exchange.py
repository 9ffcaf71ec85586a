"""The PSRM side of the file exchange, for the tests and the demo: what a transport and PSRM do
with the folder of a :class:`~.files.PsrmFiles`.

:func:`exchange_with` takes the submission files from ``out/`` (in name order), feeds their
actions to a :class:`~.standin.PsrmStandIn`, moves each file to ``out/processed/`` (a file that
is not valid goes to ``out/rejected/`` with its reason), and writes the stand-in's new receipts
and notifications as in-files, one file per municipality and kind:
``in/MFKvitteringHent-<kommunekode>-<UTC timestamp>-<number>.xml``. Where it got to in the
stand-in is kept in ``psrm-side.json`` in the folder, so that separate processes can take turns.
A stand-in that fails (PsrmUnavailable) leaves the file in ``out/`` for the next exchange (the
stand-in takes a repeated action once).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path

from fbs_debitor.collection.adapters.psrm import documents
from fbs_debitor.collection.adapters.psrm.files import quarantine, write_atomically
from fbs_debitor.collection.adapters.psrm.standin import PsrmStandIn

CURSORS = "psrm-side.json"


@dataclass(frozen=True, slots=True)
class Exchanged:
    """What one exchange moved."""

    actions: int
    receipts: int
    notifications: int
    files_in: tuple[Path, ...]


def exchange_with(standin: PsrmStandIn, folder: Path) -> Exchanged:
    """Carry ``folder``'s submissions to ``standin`` and its answers back (see the module)."""
    folder = Path(folder)
    out_dir, in_dir = folder / "out", folder / "in"
    cursors_path = folder / CURSORS
    cursors: dict[str, str | None] = (
        json.loads(cursors_path.read_text(encoding="utf-8")) if cursors_path.exists() else {}
    )
    actions = 0
    municipalities: set[str] = set()
    pending = sorted(out_dir.glob(f"{documents.BATCH}-*.xml")) if out_dir.is_dir() else []
    for path in pending:
        try:
            municipality, batch = documents.read_batch(path.read_bytes())
        except documents.DocumentError as exc:
            quarantine(path, f"{path.name}: {exc}")
            continue
        standin.submit(batch)
        actions += len(batch)
        municipalities.add(municipality)
        processed = out_dir / "processed"
        processed.mkdir(exist_ok=True)
        path.replace(processed / path.name)

    written: list[Path] = []
    counts = {documents.RECEIPTS: 0, documents.NOTIFICATIONS: 0}
    stamp = standin.now().astimezone(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    for municipality in sorted(municipalities | set(standin.municipalities())):
        for kind in (documents.RECEIPTS, documents.NOTIFICATIONS):
            key = f"{kind}:{municipality}"
            while True:
                if kind == documents.RECEIPTS:
                    rpage = standin.receipts(municipality, cursors.get(key), limit=500)
                    items, cursor, more = len(rpage.items), rpage.cursor, rpage.more
                    data = documents.receipt_document(municipality, standin.now(), rpage.items)
                else:
                    npage = standin.notifications(municipality, cursors.get(key), limit=500)
                    items, cursor, more = len(npage.items), npage.cursor, npage.more
                    data = documents.notification_document(municipality, standin.now(), npage.items)
                if not items:
                    break
                path = in_dir / f"{kind}-{municipality}-{stamp}-{int(cursor or 0):010d}.xml"
                write_atomically(path, data)
                written.append(path)
                counts[kind] += items
                cursors[key] = cursor
                write_atomically(cursors_path, json.dumps(cursors, indent=1).encode())
                if not more:
                    break
    return Exchanged(
        actions=actions,
        receipts=counts[documents.RECEIPTS],
        notifications=counts[documents.NOTIFICATIONS],
        files_in=tuple(written),
    )
