"""The contracts: JSON and XML forms round-trip, the XML validates against the published XSD,
and the XSD files in docs/contracts are the ones the models generate."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import xmlschema
from pydantic import ValidationError

from fbs_debitor.contracts import registration as r
from fbs_debitor.contracts.catalog import GROUPS
from fbs_debitor.contracts.xml import from_xml, to_xml, xsd

DOCS = Path(__file__).resolve().parents[2] / "docs" / "contracts"
T = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def registered(**kw: object) -> r.ClaimRegistered:
    fields: dict[str, object] = {
        "municipality": "101",
        "occurred_at": T,
        "claim_id": "42",
        "patron_id": "7",
        "debtor": r.DebtorRef(id_type="cpr", id="2110625629"),
        "claim_kind": "compensation",
        "debtor_classification": "BIB-ERST",
        "psrm_claim_type": "BIBERS",
        "amount_ore": 34950,
        "created_on": date(2026, 3, 2),
        "due_date": date(2026, 3, 16),
        "materials": [
            r.Material(item_number="3846731", record_id="29446776", title="Kældermennesker")
        ],
        "invoice_text": "Erstatning for bortkommet materiale",
        "acknowledged": True,
    }
    fields.update(kw)
    return r.ClaimRegistered(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize("group", sorted(GROUPS))
def test_published_xsd_is_current(group: str) -> None:
    published = (DOCS / f"{group}-v1.xsd").read_bytes()
    assert published == xsd(GROUPS[group], group), "run: fbs-debitor contracts xsd"


def test_json_form_round_trips() -> None:
    msg = registered()
    payload = msg.to_payload()
    assert payload["amount_ore"] == 34950
    assert payload["created_on"] == "2026-03-02"
    assert r.ClaimRegistered.from_payload(payload) == msg


def test_xml_form_round_trips_and_validates() -> None:
    schema = xmlschema.XMLSchema(xsd(GROUPS["registration"], "registration").decode())
    for msg in (
        registered(),
        registered(due_date=None, materials=[]),
        r.ClaimWrittenDown(
            municipality="101", occurred_at=T, claim_id="42", amount_ore=1000, reason="fejl"
        ),
        r.ClaimCancelled(municipality="101", occurred_at=T, claim_id="42", reason="afleveret"),
        r.ClaimDebtorChanged(
            municipality="101",
            occurred_at=T,
            claim_id="42",
            debtor=r.DebtorRef(id_type="cvr", id="13585628"),
        ),
    ):
        document = to_xml(msg, "registration")
        schema.validate(document.decode())
        assert from_xml(document, r.BY_NAME) == msg


def test_contracts_refuse_bad_shapes() -> None:
    with pytest.raises(ValidationError):
        registered(municipality="1010")
    with pytest.raises(ValidationError):
        registered(occurred_at=datetime(2026, 3, 2, 9))  # noqa: DTZ001 - the point of the test
    with pytest.raises(ValidationError):
        r.DebtorRef(id_type="cpr", id="13585628")
    with pytest.raises(ValueError, match="unknown message"):
        from_xml(b"<Nope xmlns='urn:x'/>", r.BY_NAME)
    with pytest.raises(ValueError, match="not well-formed"):
        from_xml(b"<ClaimCancelled", r.BY_NAME)


def test_ordered_messages_carry_the_claim_key() -> None:
    assert registered().ordering_key == "claim:101:42"
    assert r.ClaimRegistered.ORDERED
    assert not r.RegistrationAccepted.ORDERED


def test_claim_kinds_have_their_legal_basis() -> None:
    assert r.ClaimKind.FEE.legal_basis is r.LegalBasis.PUBLIC
    assert r.ClaimKind.COMPENSATION.legal_basis is r.LegalBasis.CIVIL
