"""The file adapter: PSRM's three services as XML files in a folder that a transport (an SFTP
client, the debtor vendor's file gateway) carries to and from PSRM.

Layout under ``folder``::

    out/MFFordringIndberet-<kommunekode>-<UTC timestamp>-<short id>.xml   what we submit
    in/MFKvitteringHent-<kommunekode>-<anything>.xml                      receipts from PSRM
    in/MFUnderretSamlingHent-<kommunekode>-<anything>.xml                 notifications
    in/rejected/<name> + <name>.reason.txt                                in-files not valid

Every file is valid against ``psrm-v1.xsd`` (``docs/contracts/psrm-v1.xsd``). A submission is
written to a hidden temporary file and renamed, so a transport never picks up half a file; once
renamed it counts as received (MODTAGET). In-files are read in file-name order, so the transport
must name them so that a newer file sorts after an older one (a UTC timestamp, a sequence
number); the cursor is ``<file name>#<rows read in it>``. An in-file that is not valid (not XML,
not valid against the schema, another document or municipality than its name says, a name of no
known kind) is moved to ``in/rejected/`` with a ``.reason.txt`` beside it and skipped: never lost,
never stopping the read.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC
from pathlib import Path
from typing import TypeVar

from fbs_debitor.collection.adapters.psrm import documents
from fbs_debitor.collection.adapters.psrm.interface import PsrmError, PsrmUnavailable
from fbs_debitor.collection.model.psrm import FordringAktion, Kvittering, Page, Underretning
from fbs_debitor.core.clock import Clock

T = TypeVar("T")

KNOWN_IN = (documents.RECEIPTS, documents.NOTIFICATIONS)


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a hidden temporary file in the same folder and a
    rename: a reader sees the whole file or none."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with tmp.open("wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def group_by_municipality(
    actions: Sequence[FordringAktion],
) -> dict[str, list[FordringAktion]]:
    """The actions per municipality, in their order (municipalities in order of first action)."""
    groups: dict[str, list[FordringAktion]] = {}
    for a in actions:
        groups.setdefault(a.municipality, []).append(a)
    return groups


def quarantine(path: Path, reason: str) -> None:
    """Move a file that cannot be read to ``rejected/`` beside it, with its reason."""
    rejected = path.parent / "rejected"
    rejected.mkdir(parents=True, exist_ok=True)
    (rejected / f"{path.name}.reason.txt").write_text(reason + "\n", encoding="utf-8")
    with contextlib.suppress(FileNotFoundError):  # another reader moved it first
        path.replace(rejected / path.name)


class PsrmFiles:
    """PSRM over files in ``folder`` (see the module docstring). Implements
    :class:`~.interface.Psrm`."""

    def __init__(self, folder: Path, clock: Clock) -> None:
        self.folder = Path(folder)
        self.clock = clock

    @property
    def out_dir(self) -> Path:
        return self.folder / "out"

    @property
    def in_dir(self) -> Path:
        return self.folder / "in"

    # -- MFFordringIndberet --------------------------------------------------------------------

    def submit(self, actions: Sequence[FordringAktion]) -> list[str]:
        """One file per municipality in the batch; returns every ``aktion_id`` in order.
        A document the schema refuses raises PsrmError (nothing of it is written); a file that
        cannot be written raises PsrmUnavailable (send again with the same ids)."""
        now = self.clock.now()
        stamp = now.astimezone(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        batches = []
        for municipality, group in group_by_municipality(actions).items():
            batch_id = uuid.uuid4().hex
            data = documents.batch_document(municipality, batch_id, now, group)
            try:
                documents.validate(data)
            except documents.DocumentError as exc:
                raise PsrmError(f"the submission for {municipality} is refused: {exc}") from exc
            name = f"{documents.BATCH}-{municipality}-{stamp}-{batch_id[:8]}.xml"
            batches.append((self.out_dir / name, data))
        try:
            for path, data in batches:
                write_atomically(path, data)
        except OSError as exc:
            raise PsrmUnavailable(f"the submission file could not be written: {exc}") from exc
        return [a.aktion_id for a in actions]

    # -- MFKvitteringHent, MFUnderretSamlingHent ----------------------------------------------

    def receipts(self, municipality: str, cursor: str | None, limit: int = 500) -> Page[Kvittering]:
        return self._read(documents.RECEIPTS, municipality, cursor, limit, documents.read_receipts)

    def notifications(
        self, municipality: str, cursor: str | None, limit: int = 500
    ) -> Page[Underretning]:
        return self._read(
            documents.NOTIFICATIONS, municipality, cursor, limit, documents.read_notifications
        )

    def _candidates(self, document: str, municipality: str) -> list[str]:
        """The in-files of one document and municipality, by name; files of no known kind are
        quarantined on the way."""
        try:
            entries = sorted(p.name for p in self.in_dir.iterdir() if p.is_file())
        except FileNotFoundError:
            return []
        names = []
        for name in entries:
            if name.startswith(".") or name.endswith(".tmp"):
                continue  # a transport's file still being written
            kind, _, rest = name.partition("-")
            code = rest[:3]
            if (
                not name.endswith(".xml")
                or kind not in KNOWN_IN
                or not (code.isdigit() and rest[3:4] == "-")
            ):
                quarantine(
                    self.in_dir / name,
                    f"the file name {name} is none of "
                    f"{' / '.join(f'{k}-<kommunekode>-*.xml' for k in KNOWN_IN)}",
                )
                continue
            if kind == document and code == municipality:
                names.append(name)
        return names

    def _read(
        self,
        document: str,
        municipality: str,
        cursor: str | None,
        limit: int,
        reader: Callable[[bytes], tuple[str, list[T]]],
    ) -> Page[T]:
        if limit < 1:
            raise PsrmError(f"limit must be at least 1, not {limit}")
        after_name, after_index = "", 0
        if cursor:
            after_name, sep, count = cursor.rpartition("#")
            if not sep or not count.isdigit():
                raise PsrmError(f"not a cursor of the file adapter: {cursor!r}")
            after_index = int(count)
        items: list[T] = []
        position, more = cursor, False
        try:
            names = self._candidates(document, municipality)
        except OSError as exc:
            raise PsrmUnavailable(f"the in-folder cannot be read: {exc}") from exc
        for name in names:
            if name < after_name:
                continue
            path = self.in_dir / name
            try:
                found, rows = reader(path.read_bytes())
                if found != municipality:
                    raise documents.DocumentError(
                        f"Kommunekode {found} in a file named for {municipality}"
                    )
            except FileNotFoundError:
                continue
            except documents.DocumentError as exc:
                quarantine(path, f"{name}: {exc}")
                continue
            except OSError as exc:
                raise PsrmUnavailable(f"{name} cannot be read: {exc}") from exc
            start = after_index if name == after_name else 0
            for index in range(start, len(rows)):
                if len(items) == limit:
                    more = True
                    break
                items.append(rows[index])
                position = f"{name}#{index + 1}"
            if more:
                break
        return Page(items=tuple(items), cursor=position, more=more)
