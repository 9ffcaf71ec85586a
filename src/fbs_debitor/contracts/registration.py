"""Claim registration, library -> debtor, modelled on KOMBIT's DebitorRegistreringAfsend.

Every message about one claim carries the ordering key ``claim:<municipality>:<claim_id>`` and a
per-claim sequence (1 = ClaimRegistered), so the debtor side applies them in order.

Answers, debtor -> library: ``RegistrationAccepted`` (the claim exists in debtor: leg 1 closed)
and ``RegistrationRejected`` (with the reason, shown on the fee in the library).
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from fbs_debitor.contracts.base import Contract


class LegalBasis(StrEnum):
    PUBLIC = "public"  # offentligretlig, with right of distraint (gebyr)
    CIVIL = "civil"  # civilretlig (erstatning)


class ClaimKind(StrEnum):
    """The FBS sortiment: every claim kind the library can raise. Each municipality maps each
    kind to its own debtor classification and PSRM claim type before claims of it are sent."""

    FEE = "fee"  # gebyr for overskredet lånetid
    COMPENSATION = "compensation"  # erstatning for bortkommet/beskadiget materiale
    ADMINISTRATION_FEE = "administration_fee"  # administrationsgebyr ved erstatning
    CARD_REPLACEMENT = "card_replacement"  # nyt lånerkort
    INTERLIBRARY_LOAN = "interlibrary_loan"  # fjernlånsgebyr

    @property
    def legal_basis(self) -> LegalBasis:
        return LegalBasis.CIVIL if self is ClaimKind.COMPENSATION else LegalBasis.PUBLIC

    @property
    def danish(self) -> str:
        return {
            ClaimKind.FEE: "Gebyr for overskredet lånetid",
            ClaimKind.COMPENSATION: "Erstatning for materiale",
            ClaimKind.ADMINISTRATION_FEE: "Administrationsgebyr",
            ClaimKind.CARD_REPLACEMENT: "Nyt lånerkort",
            ClaimKind.INTERLIBRARY_LOAN: "Fjernlånsgebyr",
        }[self]


class DebtorRef(BaseModel):
    """Who owes: a person (CPR, 10 digits) or a company (CVR, 8 digits)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id_type: Literal["cpr", "cvr"]
    id: str = Field(pattern=r"^\d{8}(\d{2})?$")

    @model_validator(mode="after")
    def _length(self) -> DebtorRef:
        expected = 10 if self.id_type == "cpr" else 8
        if len(self.id) != expected:
            raise ValueError(f"{self.id_type} must have {expected} digits")
        return self


class Material(BaseModel):
    """A material the claim is about (FBS FeeMaterialV2)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    item_number: str
    record_id: str | None = None
    title: str | None = None
    material_group: str | None = None


class ClaimMessage(Contract):
    """A message about one claim: ordered per claim."""

    ORDERED: ClassVar[bool] = True

    claim_id: str = Field(min_length=1, max_length=40)
    """The library's fee id (FBS ``feeId``)."""

    @property
    def ordering_key(self) -> str:
        return f"claim:{self.municipality}:{self.claim_id}"


class ClaimRegistered(ClaimMessage):
    """A new claim (and a new debtor account if the debtor has none)."""

    MESSAGE_TYPE: ClassVar[str] = "registration.ClaimRegistered.v1"

    patron_id: str
    """The patron in the library the claim arose for (a minor when a guardian pays)."""
    debtor: DebtorRef
    """Who owes the money: the patron, the guardian of a minor, or a company."""
    claim_kind: str
    """A ClaimKind value; anything else is rejected as an unknown kind."""
    debtor_classification: str
    """The municipality's account for the kind (from its sortiment mapping)."""
    psrm_claim_type: str
    """PSRM fordringstype for the kind (from the sortiment mapping)."""
    amount_ore: int
    created_on: date
    due_date: date | None = None
    materials: list[Material] = Field(default_factory=list)
    invoice_text: str = ""
    acknowledged: bool = False
    """A replacement claim the borrower acknowledged in writing (fit for state collection)."""


class ClaimWrittenDown(ClaimMessage):
    MESSAGE_TYPE: ClassVar[str] = "registration.ClaimWrittenDown.v1"
    amount_ore: int
    """How much the claim goes down by (positive)."""
    reason: str = ""


class ClaimWrittenUp(ClaimMessage):
    MESSAGE_TYPE: ClassVar[str] = "registration.ClaimWrittenUp.v1"
    amount_ore: int
    """How much the claim goes up by (positive)."""
    reason: str = ""


class ClaimCancelled(ClaimMessage):
    """The whole claim falls away (e.g. the material came back)."""

    MESSAGE_TYPE: ClassVar[str] = "registration.ClaimCancelled.v1"
    reason: str = ""


class ClaimDebtorChanged(ClaimMessage):
    """The claim moves to another debtor (new CPR/CVR; a guardian for a minor)."""

    MESSAGE_TYPE: ClassVar[str] = "registration.ClaimDebtorChanged.v1"
    debtor: DebtorRef
    reason: str = ""


class RegistrationAccepted(ClaimMessage):
    """Debtor -> library: the message was applied; the claim's balance in debtor is now ..."""

    MESSAGE_TYPE: ClassVar[str] = "registration.RegistrationAccepted.v1"
    ORDERED: ClassVar[bool] = False
    accepted_message_id: str
    accepted_type: str
    debtor_balance_ore: int


class RegistrationRejected(ClaimMessage):
    """Debtor -> library: the message was refused and changed nothing."""

    MESSAGE_TYPE: ClassVar[str] = "registration.RegistrationRejected.v1"
    ORDERED: ClassVar[bool] = False
    rejected_message_id: str
    rejected_type: str
    code: str
    reason: str


REGISTRATION_MESSAGES: tuple[type[ClaimMessage], ...] = (
    ClaimRegistered,
    ClaimWrittenDown,
    ClaimWrittenUp,
    ClaimCancelled,
    ClaimDebtorChanged,
)
ANSWERS: tuple[type[ClaimMessage], ...] = (RegistrationAccepted, RegistrationRejected)
BY_TYPE: dict[str, type[ClaimMessage]] = {
    m.MESSAGE_TYPE: m for m in REGISTRATION_MESSAGES + ANSWERS
}
BY_NAME: dict[str, type[ClaimMessage]] = {m.__name__: m for m in REGISTRATION_MESSAGES + ANSWERS}
