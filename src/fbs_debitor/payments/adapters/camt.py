"""Reading ISO 20022 bank files: camt.054 (debit/credit notifications, versions 001.02, .04, .08)
and camt.053 (statements, 001.02, .03, .04, .08).

Everything streams, so a file of a million entries reads in bounded memory:

* :func:`document_type` reads only the root element and names the message definition from its
  namespace (``urn:iso:std:iso:20022:tech:xsd:camt.054.001.02`` → ``camt.054.001.02``);
* :func:`validate` checks the whole file against that definition's XSD while lxml parses it
  (libxml2 validates on the SAX stream), clearing every entry as soon as it is read;
* :func:`iter_entries` yields one :class:`~fbs_debitor.payments.model.Entry` at a time
  (``lxml.etree.iterparse`` over ``Ntry``; each element is cleared, and its earlier siblings
  deleted, once read).

A file that is not XML, is not a supported camt message, or breaks its schema is refused whole
with a :class:`~fbs_debitor.core.errors.ValidationError` that says why and where.

The schemas are vendored in ``fbs_debitor/payments/xsd`` (MIT, from genkgo/camt); the
environment variable ``FBS_DEBITOR_CAMT_XSD_DIR`` points at another folder with files named
``<definition>.xsd`` (a bank's own copies, say). External entities and network access are off
when reading bank files, and a file with a DOCTYPE declaration is refused whole.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import Any

from lxml import etree

from fbs_debitor.core.clock import business_date
from fbs_debitor.core.errors import ValidationError
from fbs_debitor.payments.model import Entry, Transaction

NAMESPACE_PREFIX = "urn:iso:std:iso:20022:tech:xsd:"
SUPPORTED: tuple[str, ...] = (
    "camt.053.001.02",
    "camt.053.001.03",
    "camt.053.001.04",
    "camt.053.001.08",
    "camt.054.001.02",
    "camt.054.001.04",
    "camt.054.001.08",
)
XSD_DIR_ENV = "FBS_DEBITOR_CAMT_XSD_DIR"
_RECORDS = ("Stmt", "Ntfctn")


def xsd_dir() -> Path:
    """The folder with the camt XSDs: ``$FBS_DEBITOR_CAMT_XSD_DIR`` if set, else the vendored
    one."""
    configured = os.environ.get(XSD_DIR_ENV)
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parent / "xsd"


@lru_cache(maxsize=16)
def _schema(path: str) -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(path, etree.XMLParser(resolve_entities=False)))


def schema_for(document: str) -> etree.XMLSchema:
    """The compiled XSD of a message definition (compiled once per process)."""
    path = xsd_dir() / f"{document}.xsd"
    if not path.is_file():
        raise ValidationError(
            f"XSD for {document} not found at {path} (set {XSD_DIR_ENV})", code="camt-xsd-missing"
        )
    return _schema(str(path))


def _refuse(path: Path, reason: str, code: str = "invalid-bank-file") -> ValidationError:
    return ValidationError(
        f"Bankfilen {path.name} afvises / the bank file {path.name} is refused: {reason}",
        code=code,
        file=path.name,
    )


def _iterparse(path: Path, **kwargs: Any) -> Any:
    return etree.iterparse(
        str(path), resolve_entities=False, no_network=True, huge_tree=False, **kwargs
    )


def document_type(path: Path) -> str:
    """The message definition of the file (``camt.054.001.02``), read from its root element."""
    try:
        for _event, element in _iterparse(path, events=("start",)):
            _refuse_doctype(path, element)
            namespace = etree.QName(element).namespace or ""
            break
        else:  # pragma: no cover - lxml raises on an empty document
            raise _refuse(path, "the file is empty")
    except etree.XMLSyntaxError as exc:
        raise _refuse(path, f"not XML: {exc}", "bank-file-not-xml") from exc
    document = namespace.removeprefix(NAMESPACE_PREFIX)
    if not namespace.startswith(NAMESPACE_PREFIX) or document not in SUPPORTED:
        raise _refuse(
            path,
            f"unsupported document namespace {namespace!r}; supported: " + ", ".join(SUPPORTED),
            "unsupported-bank-file",
        )
    return document


def _refuse_doctype(path: Path, root: Any) -> None:
    """A bank file has no business with a DOCTYPE: its entities would be left unexpanded and the
    text around them cut short without a word, so a file that declares one is refused whole
    (the DOCTYPE comes before the root element, so this is known at the first element)."""
    info = root.getroottree().docinfo
    if info.doctype or info.internalDTD is not None or info.externalDTD is not None:
        raise _refuse(
            path,
            "the file has a DOCTYPE declaration (a DTD or entities); camt files have none, "
            "and the file is not read",
            "bank-file-doctype",
        )


def validate(path: Path, document: str | None = None) -> tuple[str, int]:
    """Check the whole file against its XSD, streaming; returns (definition, number of entries).

    Raises ValidationError naming the first error (with its line where libxml2 gives one).
    """
    document = document or document_type(path)
    schema = schema_for(document)
    tag = f"{{{NAMESPACE_PREFIX}{document}}}Ntry"
    root = f"{{{NAMESPACE_PREFIX}{document}}}Document"
    count = 0
    complete = False
    try:
        # lxml's schema-validating iterparse can stop silently at a premature end of file: the
        # root's own end event is the proof that the whole document was read
        for _event, element in _iterparse(path, events=("end",), tag=(tag, root), schema=schema):
            if element.tag == root:
                complete = True
                continue
            count += 1
            _forget(element)
    except etree.XMLSyntaxError as exc:
        line = exc.lineno or (exc.error_log.last_error.line if exc.error_log else 0)
        where = f" (line {line})" if line else ""
        raise _refuse(
            path, f"not valid against {document}.xsd{where}: {exc.msg}", "bank-file-invalid"
        ) from exc
    if not complete:
        raise _refuse(
            path, "the file ends before its last element (truncated?)", "bank-file-invalid"
        )
    return document, count


def _forget(element: Any) -> None:
    """Free an element that has been read, and everything before it in its parent."""
    element.clear(keep_tail=False)
    parent = element.getparent()
    if parent is not None:
        while element.getprevious() is not None:
            del parent[0]


class _Reader:
    """Reads the elements of one namespace (the definition's). An entry's and a transaction's
    direct children are read in one pass (a million entries make the lookups count)."""

    def __init__(self, document: str) -> None:
        self.document = document
        self.ns = f"{{{NAMESPACE_PREFIX}{document}}}"
        self._ns_len = len(self.ns)
        self._paths: dict[tuple[str, ...], str] = {}

    def path(self, *names: str) -> str:
        found = self._paths.get(names)
        if found is None:
            found = self._paths[names] = "/".join(self.ns + n for n in names)
        return found

    def children(self, element: Any) -> dict[str, Any]:
        """The direct children by local name (the first of each name)."""
        out: dict[str, Any] = {}
        cut = self._ns_len
        for child in element:
            tag = child.tag
            if isinstance(tag, str):
                out.setdefault(tag[cut:], child)
        return out

    def text(self, element: Any, *names: str) -> str | None:
        if element is None:
            return None
        value = element.findtext(self.path(*names)) if names else element.text
        if value is None:
            return None
        value = value.strip()
        return value or None

    def texts(self, element: Any, *names: str) -> tuple[str, ...]:
        if element is None:
            return ()
        out = []
        for found in element.iterfind(self.path(*names)):
            value = (found.text or "").strip()
            if value:
                out.append(value)
        return tuple(out)

    @staticmethod
    def amount(found: Any) -> tuple[Decimal | None, str | None]:
        if found is None:
            return None, None
        try:
            return Decimal((found.text or "").strip()), found.get("Ccy")
        except InvalidOperation:  # pragma: no cover - the XSD allows only decimals
            return None, found.get("Ccy")

    def day(self, found: Any) -> date | None:
        """A ``DateAndDateTimeChoice``: ``Dt``, or ``DtTm`` as its Copenhagen date."""
        if found is None:
            return None
        plain = self.text(found, "Dt")
        if plain:
            return date.fromisoformat(plain[:10])
        stamp = self.text(found, "DtTm")
        return _date_of(stamp) if stamp else None

    def account(self, record: Any) -> str | None:
        return self.text(record, "Acct", "Id", "IBAN") or self.text(
            record, "Acct", "Id", "Othr", "Id"
        )

    def transaction(self, tx: Any, index: int) -> Transaction:
        parts = self.children(tx)
        amount, currency = self.amount(parts.get("Amt"))
        if amount is None and "AmtDtls" in parts:
            amount, currency = self.amount(parts["AmtDtls"].find(self.path("TxAmt", "Amt")))
        parties = parts.get("RltdPties")
        name = self.text(parties, "Dbtr", "Nm") or self.text(parties, "Dbtr", "Pty", "Nm")
        info = parts.get("RmtInf")
        refs = parts.get("Refs")
        return Transaction(
            index=index,
            amount=amount,
            currency=currency,
            credit_debit=self.text(parts.get("CdtDbtInd")),
            bank_ref=self.text(refs, "AcctSvcrRef"),
            end_to_end_id=self.text(refs, "EndToEndId"),
            creditor_refs=self.texts(info, "Strd", "CdtrRefInf", "Ref"),
            texts=self.texts(info, "Ustrd") + self.texts(info, "Strd", "AddtlRmtInf"),
            payer_name=name,
        )

    def entry(self, ntry: Any, record: _Record, index: int) -> Entry:
        parts = self.children(ntry)
        amount, currency = self.amount(parts.get("Amt"))
        assert amount is not None and currency is not None  # the XSD requires Amt with Ccy
        status = parts.get("Sts")
        details = parts.get("NtryDtls")
        transactions = (
            ()
            if details is None
            else tuple(
                self.transaction(tx, i)
                for i, tx in enumerate(details.iterchildren(self.ns + "TxDtls"))
            )
        )
        return Entry(
            document=self.document,
            record_id=record.record_id,
            account=record.account,
            index=index,
            amount=amount,
            currency=currency,
            credit_debit=self.text(parts.get("CdtDbtInd")) or "",
            reversal=(self.text(parts.get("RvslInd")) or "").lower() in ("true", "1"),
            status=self.text(status) or self.text(status, "Cd"),
            booking_date=self.day(parts.get("BookgDt")),
            value_date=self.day(parts.get("ValDt")),
            bank_ref=self.text(parts.get("AcctSvcrRef")),
            entry_ref=self.text(parts.get("NtryRef")),
            info=self.text(parts.get("AddtlNtryInf")),
            record_date=record.created_on,
            transactions=transactions,
        )


class _Record:
    """What an entry needs of its statement / notification."""

    def __init__(self, record_id: str | None, account: str | None, created_on: date | None) -> None:
        self.record_id = record_id
        self.account = account
        self.created_on = created_on
        self.entries = 0


def _date_of(stamp: str) -> date:
    """The Copenhagen business date of an ISO date-time (a naive one is taken as written)."""
    moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        return moment.date()
    return business_date(moment)


def iter_entries(path: Path, document: str | None = None) -> Iterator[Entry]:
    """Every entry of the file in order, one at a time. Validate the file first: this reads
    what it finds and does not check the structure."""
    document = document or document_type(path)
    reader = _Reader(document)
    ns = reader.ns
    tags = [ns + "Acct", ns + "Ntry", *(ns + r for r in _RECORDS)]
    record = _Record(None, None, None)
    for _event, element in _iterparse(path, events=("end",), tag=tags):
        name = element.tag[len(ns) :]
        if name == "Acct":
            parent = element.getparent()
            if parent is not None and parent.tag[len(ns) :] in _RECORDS:
                created = reader.text(parent, "CreDtTm")
                record = _Record(
                    reader.text(parent, "Id"),
                    reader.account(parent),
                    _date_of(created) if created else None,
                )
        elif name == "Ntry":
            entry = reader.entry(element, record, record.entries)
            record.entries += 1
            _forget(element)
            yield entry
        else:
            _forget(element)
