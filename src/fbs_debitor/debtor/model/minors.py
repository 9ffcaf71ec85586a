"""Minors (pure): a person under 18 is not invoiced; the claim waits for a guardian.

Under 18 a person is *umyndig* (værgemålsloven § 1): a minor cannot take on a debt, so a claim
whose debtor is a minor is never invoiced, reminded or paid from the minor's credit. The library
sends the guardian as the debtor when the patron has one (``library.model.Patron.debtor``); a
claim that still names a person under 18 as its debtor is therefore one without a guardian, and
debtor *holds* it (``ClaimStatus.HELD``) with the reason :data:`GUARDIAN_REQUIRED` until the
library sends a ``ClaimDebtorChanged`` to a person of age (or a company).

The age comes from the CPR number's birth date (``core.ids.Cpr.birth_date``: DDMMYY and the
century from the 7th digit; a CPR failing modulus 11 is still a CPR) on the day of the message
(its ``occurred_at`` as a Copenhagen date), never on the system's date. A person is 18 from the
18th birthday on; one born on 29 February is 18 from 1 March in a year without that day.
Debtor judges the age of the debtor it is given, not of the patron: the library names the
guardian as debtor when there is one, and no one under 18 can be liable in a guardian's place
either, so ``ClaimRegistered.v1`` needs no new field (``docs/operations.md``, "Money that waits
for a person").
"""

from __future__ import annotations

from datetime import date

from fbs_debitor.core.ids import Cpr, Cvr

AGE_OF_MAJORITY = 18
"""Myndighedsalderen (værgemålsloven § 1)."""

GUARDIAN_REQUIRED = "guardian required"
"""The reason a held claim is listed with: its debtor is a person under 18."""

GUARDIAN_REQUIRED_TEXT = (
    "Debitor er under 18 år; fordringen venter på en værge / the debtor is under 18; the claim "
    "waits for a guardian"
)


def age_on(birth_date: date, on: date) -> int:
    """Whole years of age on ``on`` (negative for a birth date after ``on``)."""
    years = on.year - birth_date.year
    if (on.month, on.day) < (birth_date.month, birth_date.day):
        years -= 1
    return years


def needs_guardian(debtor: Cpr | Cvr, on: date) -> bool:
    """True if ``debtor`` is a person under 18 on ``on`` (a company never is)."""
    return isinstance(debtor, Cpr) and age_on(debtor.birth_date, on) < AGE_OF_MAJORITY
