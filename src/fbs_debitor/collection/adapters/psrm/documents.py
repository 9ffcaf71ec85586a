"""PSRM's three documents in XML, both ways: the submission batch (``MFFordringIndberet``), the
receipts (``MFKvitteringHent``) and the notifications (``MFUnderretSamlingHent``).

One mapping serves two seams: the file exchange (namespace :data:`NS`, validated against
``psrm-v1.xsd`` beside this module) and the SOAP adapter (the same elements in the EFI
namespace inside a SOAP body). Element names are PSRM's words; amounts are integer øre.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from functools import lru_cache
from pathlib import Path

from lxml import etree

from fbs_debitor.collection.model.psrm import (
    Aktion,
    Fordring,
    FordringAktion,
    Haeftelse,
    IdType,
    Kvittering,
    KvitteringStatus,
    Underretning,
    UnderretningType,
)

NS = "urn:fbs-debitor:psrm:v1"
"""The namespace of our file exchange (``psrm-v1.xsd``)."""

XSD_PATH = Path(__file__).resolve().parent / "psrm-v1.xsd"

BATCH = "MFFordringIndberet"
RECEIPTS = "MFKvitteringHent"
NOTIFICATIONS = "MFUnderretSamlingHent"


class DocumentError(ValueError):
    """A document that is not valid (not XML, not valid against the schema, or not ours)."""


@lru_cache(maxsize=1)
def schema() -> etree.XMLSchema:
    """The compiled ``psrm-v1.xsd`` (once per process)."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    return etree.XMLSchema(etree.parse(str(XSD_PATH), parser))


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)


def instant(value: datetime) -> str:
    """An aware instant as xs:dateTime in UTC (``2026-05-29T07:00:00Z``)."""
    if value.tzinfo is None:
        raise ValueError("naive datetime: timestamps must be timezone-aware")
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def parse_instant(text: str) -> datetime:
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        raise DocumentError(f"a time without zone: {text}")
    return parsed.astimezone(UTC)


class Xml:
    """Builds and reads the elements in one namespace."""

    def __init__(self, ns: str = NS) -> None:
        self.ns = ns

    def q(self, name: str) -> str:
        return f"{{{self.ns}}}{name}"

    def sub(
        self, parent: etree._Element, name: str, text: str | int | None = None
    ) -> etree._Element:
        element = etree.SubElement(parent, self.q(name))
        if text is not None:
            element.text = str(text)
        return element

    def text(self, element: etree._Element, name: str) -> str:
        found = element.find(self.q(name))
        if found is None:
            raise DocumentError(f"{name} missing in {etree.QName(element).localname}")
        return found.text or ""

    def opt(self, element: etree._Element, name: str) -> str | None:
        found = element.find(self.q(name))
        return None if found is None else (found.text or "")

    # -- actions --------------------------------------------------------------------------------

    def aktion(self, parent: etree._Element, a: FordringAktion) -> etree._Element:
        el = self.sub(parent, "FordringAktion")
        self.sub(el, "AktionID", a.aktion_id)
        self.sub(el, "Aktion", a.aktion.value)
        self.sub(el, "FordringshaverReference", a.reference)
        self.sub(el, "Virkningsdato", a.virkningsdato.isoformat())
        if a.fordring is not None:
            f = a.fordring
            fe = self.sub(el, "Fordring")
            self.sub(fe, "Fordringstype", f.fordringstype)
            self.sub(fe, "Forfaldsdato", f.forfaldsdato.isoformat())
            self.sub(
                fe, "SidsteRettidigeBetalingsdato", f.sidste_rettidige_betalingsdato.isoformat()
            )
            self.sub(fe, "PeriodeFra", f.periode_fra.isoformat())
            self.sub(fe, "PeriodeTil", f.periode_til.isoformat())
            self.sub(fe, "Hovedstol", f.hovedstol_ore)
            self.sub(fe, "Gebyr", f.gebyr_ore)
            self.sub(fe, "Rente", f.rente_ore)
            he = self.sub(fe, "Haeftelse")
            self.sub(he, "CPR" if f.haeftelse.id_type is IdType.CPR else "CVR", f.haeftelse.id)
            self.sub(he, "Foraeldelsesdato", f.haeftelse.foraeldelsesdato.isoformat())
            if f.tekst:
                self.sub(fe, "Tekst", f.tekst)
        if a.beloeb_ore is not None:
            self.sub(el, "Beloeb", a.beloeb_ore)
        if a.aarsagskode is not None:
            self.sub(el, "Aarsagskode", a.aarsagskode)
        return el

    def read_aktion(self, el: etree._Element, municipality: str) -> FordringAktion:
        fordring = None
        fe = el.find(self.q("Fordring"))
        if fe is not None:
            he = fe.find(self.q("Haeftelse"))
            if he is None:
                raise DocumentError("Haeftelse missing in Fordring")
            cpr = self.opt(he, "CPR")
            fordring = Fordring(
                fordringstype=self.text(fe, "Fordringstype"),
                forfaldsdato=date.fromisoformat(self.text(fe, "Forfaldsdato")),
                sidste_rettidige_betalingsdato=date.fromisoformat(
                    self.text(fe, "SidsteRettidigeBetalingsdato")
                ),
                periode_fra=date.fromisoformat(self.text(fe, "PeriodeFra")),
                periode_til=date.fromisoformat(self.text(fe, "PeriodeTil")),
                hovedstol_ore=int(self.text(fe, "Hovedstol")),
                gebyr_ore=int(self.text(fe, "Gebyr")),
                rente_ore=int(self.text(fe, "Rente")),
                haeftelse=Haeftelse(
                    id_type=IdType.CPR if cpr is not None else IdType.CVR,
                    id=cpr if cpr is not None else self.text(he, "CVR"),
                    foraeldelsesdato=date.fromisoformat(self.text(he, "Foraeldelsesdato")),
                ),
                tekst=self.opt(fe, "Tekst") or "",
            )
        beloeb = self.opt(el, "Beloeb")
        return FordringAktion(
            aktion_id=self.text(el, "AktionID"),
            municipality=municipality,
            reference=self.text(el, "FordringshaverReference"),
            aktion=Aktion(self.text(el, "Aktion")),
            virkningsdato=date.fromisoformat(self.text(el, "Virkningsdato")),
            fordring=fordring,
            beloeb_ore=None if beloeb is None else int(beloeb),
            aarsagskode=self.opt(el, "Aarsagskode"),
        )

    # -- receipts -------------------------------------------------------------------------------

    def kvittering(self, parent: etree._Element, k: Kvittering) -> etree._Element:
        el = self.sub(parent, "Kvittering")
        self.sub(el, "KvitteringID", k.kvittering_id)
        self.sub(el, "AktionID", k.aktion_id)
        self.sub(el, "FordringshaverReference", k.reference)
        self.sub(el, "Status", k.status.value)
        self.sub(el, "Tidspunkt", instant(k.tidspunkt))
        if k.psrm_fordring_id is not None:
            self.sub(el, "PSRMFordringID", k.psrm_fordring_id)
        if k.aarsag_kode:
            self.sub(el, "Aarsagskode", k.aarsag_kode)
        if k.aarsag_tekst:
            self.sub(el, "Aarsagstekst", k.aarsag_tekst)
        return el

    def read_kvittering(self, el: etree._Element, municipality: str) -> Kvittering:
        return Kvittering(
            kvittering_id=self.text(el, "KvitteringID"),
            aktion_id=self.text(el, "AktionID"),
            municipality=municipality,
            reference=self.text(el, "FordringshaverReference"),
            status=KvitteringStatus(self.text(el, "Status")),
            tidspunkt=parse_instant(self.text(el, "Tidspunkt")),
            psrm_fordring_id=self.opt(el, "PSRMFordringID"),
            aarsag_kode=self.opt(el, "Aarsagskode") or "",
            aarsag_tekst=self.opt(el, "Aarsagstekst") or "",
        )

    # -- notifications --------------------------------------------------------------------------

    def underretning(self, parent: etree._Element, u: Underretning) -> etree._Element:
        el = self.sub(parent, "Underretning")
        self.sub(el, "UnderretningID", u.underretning_id)
        self.sub(el, "Type", u.type.value)
        self.sub(el, "FordringshaverReference", u.reference)
        self.sub(el, "PSRMFordringID", u.psrm_fordring_id)
        self.sub(el, "Beloeb", u.beloeb_ore)
        self.sub(el, "Betalingsdato", u.betalingsdato.isoformat())
        if u.afregningsdato is not None:
            self.sub(el, "Afregningsdato", u.afregningsdato.isoformat())
        if u.tekst:
            self.sub(el, "Tekst", u.tekst)
        return el

    def read_underretning(self, el: etree._Element, municipality: str) -> Underretning:
        afregning = self.opt(el, "Afregningsdato")
        return Underretning(
            underretning_id=self.text(el, "UnderretningID"),
            type=UnderretningType(self.text(el, "Type")),
            municipality=municipality,
            reference=self.text(el, "FordringshaverReference"),
            psrm_fordring_id=self.text(el, "PSRMFordringID"),
            beloeb_ore=int(self.text(el, "Beloeb")),
            betalingsdato=date.fromisoformat(self.text(el, "Betalingsdato")),
            afregningsdato=None if afregning is None else date.fromisoformat(afregning),
            tekst=self.opt(el, "Tekst") or "",
        )


FILES = Xml(NS)


def _serialize(root: etree._Element) -> bytes:
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))


def batch_document(
    municipality: str, batch_id: str, created: datetime, actions: Sequence[FordringAktion]
) -> bytes:
    """One municipality's actions as an ``MFFordringIndberet`` file."""
    root = etree.Element(FILES.q(BATCH), nsmap={None: NS})
    FILES.sub(root, "Kommunekode", municipality)
    FILES.sub(root, "BatchID", batch_id)
    FILES.sub(root, "Dannet", instant(created))
    for a in actions:
        if a.municipality != municipality:
            raise ValueError(f"action {a.aktion_id} is not of municipality {municipality}")
        FILES.aktion(root, a)
    return _serialize(root)


def receipt_document(municipality: str, created: datetime, receipts: Iterable[Kvittering]) -> bytes:
    root = etree.Element(FILES.q(RECEIPTS), nsmap={None: NS})
    FILES.sub(root, "Kommunekode", municipality)
    FILES.sub(root, "Dannet", instant(created))
    for k in receipts:
        FILES.kvittering(root, k)
    return _serialize(root)


def notification_document(
    municipality: str, created: datetime, notifications: Iterable[Underretning]
) -> bytes:
    root = etree.Element(FILES.q(NOTIFICATIONS), nsmap={None: NS})
    FILES.sub(root, "Kommunekode", municipality)
    FILES.sub(root, "Dannet", instant(created))
    for u in notifications:
        FILES.underretning(root, u)
    return _serialize(root)


def validate(data: bytes) -> etree._Element:
    """Parse and validate a document against ``psrm-v1.xsd``; returns its root element.
    Raises DocumentError with the reason."""
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        raise DocumentError(f"not well-formed XML: {exc}") from exc
    if root.getroottree().docinfo.doctype:
        raise DocumentError("a DOCTYPE is refused (no entities, no DTD)")
    xsd = schema()
    try:
        valid = xsd.validate(root)
    except etree.XMLSchemaValidateError as exc:
        raise DocumentError(f"cannot be validated: {exc}") from exc
    if not valid:
        first = xsd.error_log.last_error
        raise DocumentError(f"not valid against psrm-v1.xsd: line {first.line}: {first.message}")
    return root


def read_batch(data: bytes) -> tuple[str, list[FordringAktion]]:
    """The municipality and actions of a valid ``MFFordringIndberet`` file."""
    root = validate(data)
    if root.tag != FILES.q(BATCH):
        raise DocumentError(f"not an {BATCH} document")
    municipality = FILES.text(root, "Kommunekode")
    return municipality, [
        FILES.read_aktion(el, municipality) for el in root.iterfind(FILES.q("FordringAktion"))
    ]


def read_receipts(data: bytes) -> tuple[str, list[Kvittering]]:
    root = validate(data)
    if root.tag != FILES.q(RECEIPTS):
        raise DocumentError(f"not an {RECEIPTS} document")
    municipality = FILES.text(root, "Kommunekode")
    return municipality, [
        FILES.read_kvittering(el, municipality) for el in root.iterfind(FILES.q("Kvittering"))
    ]


def read_notifications(data: bytes) -> tuple[str, list[Underretning]]:
    root = validate(data)
    if root.tag != FILES.q(NOTIFICATIONS):
        raise DocumentError(f"not an {NOTIFICATIONS} document")
    municipality = FILES.text(root, "Kommunekode")
    return municipality, [
        FILES.read_underretning(el, municipality) for el in root.iterfind(FILES.q("Underretning"))
    ]
