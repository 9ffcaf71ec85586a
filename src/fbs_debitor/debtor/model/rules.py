"""The municipality's debtor rules ("opsæt regler i debitor") and the legal limits they must keep.

Pure: validation and defaults only; the store keeps one JSON document per municipality.

Legal limits (DOMAIN.md, amounts in kroner):

* public-law claims with right of distraint (library fees, gebyrloven § 2): at most 250 kr per
  reminder letter;
* civil-law claims (replacement charges, renteloven § 9 b): at most 100 kr per reminder letter, at
  most three fee-bearing reminders per claim, at least 10 days apart;
* the cap is per letter, not per claim: a letter that reminds of three claims carries one fee; a
  letter with claims of both kinds carries the lower fee under the civil rules (decision 0012);
* reminders at least ``min_days_between_reminders`` apart (at least 10, renteloven § 9 b), and
  none before the previous letter's own date to pay by has passed;
* interest on public claims (gebyrloven § 3): 1 % per started month from the due date, never on
  interest; off by default.

The defaults follow Guldborgsund's practice (a free reminder 14 days after the deadline, a reminder
with fee 20 days later that announces hand-over to collection, hand-over 120 days after the last
deadline) except where that practice exceeds the law: its 250 kr on a replacement charge is above
the 100 kr ceiling of renteloven § 9 b, so the default is 100 kr on both kinds.
"""

from __future__ import annotations

from enum import StrEnum
from itertools import pairwise

from pydantic import BaseModel, ConfigDict, Field, model_validator

from fbs_debitor.contracts.registration import LegalBasis
from fbs_debitor.core.errors import LegalLimitError, ValidationError
from fbs_debitor.core.money import Money

MAX_REMINDER_FEE_PUBLIC = Money(25000)
MAX_REMINDER_FEE_CIVIL = Money(10000)
MAX_FEE_REMINDERS_CIVIL = 3
MIN_DAYS_BETWEEN_FEE_REMINDERS_CIVIL = 10
MIN_DAYS_BETWEEN_REMINDERS = MIN_DAYS_BETWEEN_FEE_REMINDERS_CIVIL
"""The legal floor of the municipality's ``min_days_between_reminders`` (renteloven § 9 b)."""
INTEREST_PERMILLE_PER_MONTH = 10  # 1 % per started month
LIMITATION_YEARS = 3


class InvoicingMode(StrEnum):
    IMMEDIATE = "immediate"  # an invoice per claim the moment it is registered
    COLLECTED = "collected"  # a debtor's open claims together, every N days above a minimum


class ReminderStep(BaseModel):
    """One step of the reminder procedure.

    days_after_deadline: counted from the invoice's last timely payment date (SRB).
    fee_public_ore / fee_civil_ore: the reminder fee of a letter whose claims are public / civil
        (0 = a free påmindelse); one fee per letter however many claims it reminds of, the lower
        of the two on a letter with claims of both kinds.
    announces_collection: the letter tells the debtor that the claim will be handed to the state
        debt collector; hand-over requires that a step said so.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    days_after_deadline: int = Field(ge=1, le=365)
    fee_public_ore: int = Field(ge=0)
    fee_civil_ore: int = Field(ge=0)
    announces_collection: bool = False

    def fee_for(self, basis: LegalBasis) -> Money:
        """The step's fee for a letter whose claims are all of ``basis`` (a letter with both kinds:
        ``billing.letter_fee``)."""
        return Money(self.fee_public_ore if basis is LegalBasis.PUBLIC else self.fee_civil_ore)


class DebtorRules(BaseModel):
    """A municipality's rules. Construct through :func:`validate_rules` to get clear errors."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    invoicing_mode: InvoicingMode = InvoicingMode.IMMEDIATE
    collect_every_days: int = Field(default=7, ge=1, le=90)
    collect_min_total_ore: int = Field(default=0, ge=0)
    payment_term_days: int = Field(default=14, ge=1, le=90)
    reminder_steps: tuple[ReminderStep, ...] = (
        ReminderStep(days_after_deadline=14, fee_public_ore=0, fee_civil_ore=0),
        ReminderStep(
            days_after_deadline=34,
            fee_public_ore=10000,
            fee_civil_ore=10000,
            announces_collection=True,
        ),
    )
    reminder_min_ore: int = Field(default=0, ge=0)
    """No reminder (and so no reminder fee) for an invoice whose open claims add up to less than
    this; 0 = every open invoice past its deadline is reminded."""
    min_days_between_reminders: int = Field(default=MIN_DAYS_BETWEEN_REMINDERS, le=365)
    """No reminder sooner than this many days after the invoice's previous one (nor before the
    previous letter's date to pay by has passed); at least 10 (renteloven § 9 b)."""
    interest_enabled: bool = False
    write_off_below_ore: int = Field(default=0, ge=0)
    """Open balances below this (after the last reminder) are written off; 0 = never."""
    write_off_limitation: bool = True
    """Write off claims 3 years after their due date (forældelsesloven)."""
    collection_min_ore: int = Field(default=10000, ge=0)
    """Smallest balance handed to PSRM."""
    collection_days_after_deadline: int = Field(default=120, ge=1, le=1000)

    @model_validator(mode="after")
    def _legal(self) -> DebtorRules:
        check_legal_limits(self)
        return self


def check_legal_limits(rules: DebtorRules) -> None:
    """Raise LegalLimitError for settings the law does not allow."""
    steps = rules.reminder_steps
    days = [s.days_after_deadline for s in steps]
    if days != sorted(days) or len(set(days)) != len(days):
        raise ValidationError(
            "reminder steps must come in increasing days after the deadline",
            code="reminder-order",
        )
    for i, step in enumerate(steps, start=1):
        if Money(step.fee_public_ore) > MAX_REMINDER_FEE_PUBLIC:
            raise LegalLimitError(
                f"reminder {i}: {Money(step.fee_public_ore)} on a fee exceeds the legal maximum of "
                f"{MAX_REMINDER_FEE_PUBLIC} per reminder (gebyrloven § 2)",
                code="reminder-fee-public",
            )
        if Money(step.fee_civil_ore) > MAX_REMINDER_FEE_CIVIL:
            raise LegalLimitError(
                f"reminder {i}: {Money(step.fee_civil_ore)} on a replacement charge exceeds the "
                f"legal maximum of {MAX_REMINDER_FEE_CIVIL} per reminder (renteloven § 9 b)",
                code="reminder-fee-civil",
            )
    if rules.min_days_between_reminders < MIN_DAYS_BETWEEN_REMINDERS:
        raise LegalLimitError(
            f"min_days_between_reminders: {rules.min_days_between_reminders} days is below the "
            f"legal minimum of {MIN_DAYS_BETWEEN_REMINDERS} days between reminders "
            f"(renteloven § 9 b)",
            code="reminder-gap-min",
        )
    civil = [s for s in steps if s.fee_civil_ore > 0]
    if len(civil) > MAX_FEE_REMINDERS_CIVIL:
        raise LegalLimitError(
            f"{len(civil)} reminders with fee on replacement charges; the law allows at most "
            f"{MAX_FEE_REMINDERS_CIVIL} (renteloven § 9 b)",
            code="reminder-count-civil",
        )
    for a, b in pairwise(civil):
        gap = b.days_after_deadline - a.days_after_deadline
        if gap < MIN_DAYS_BETWEEN_FEE_REMINDERS_CIVIL:
            raise LegalLimitError(
                f"reminders with fee on replacement charges must be at least "
                f"{MIN_DAYS_BETWEEN_FEE_REMINDERS_CIVIL} days apart (renteloven § 9 b); "
                f"day {a.days_after_deadline} and day {b.days_after_deadline} are {gap} apart",
                code="reminder-gap-civil",
            )
    if steps and rules.collection_days_after_deadline <= steps[-1].days_after_deadline:
        raise ValidationError(
            "hand-over to collection must come after the last reminder",
            code="collection-before-reminders",
        )


def validate_rules(data: dict[str, object]) -> DebtorRules:
    """Build rules from user input; every problem becomes a ValidationError with a clear text."""
    from pydantic import ValidationError as PydanticError

    try:
        return DebtorRules.model_validate(data)
    except PydanticError as exc:
        cause = exc.errors()[0]
        inner = cause.get("ctx", {}).get("error")
        if isinstance(inner, ValidationError):
            raise inner from exc
        where = ".".join(str(p) for p in cause.get("loc", ()))
        raise ValidationError(f"{where}: {cause.get('msg')}", code="invalid-rules") from exc
