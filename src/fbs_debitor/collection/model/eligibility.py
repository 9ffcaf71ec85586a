"""Which open claims may go to state collection (PSRM) on a date, and why the others may not.

Pure: one function over debtor's facts (``contracts.collection.CollectionFacts``), the
municipality's terms and what collection itself holds. The conditions (DOMAIN.md, "Rules of
collection"), each a :class:`Reason` when it fails, checked in this order (the first failing one
is the claim's reason in the run's counts; :func:`reasons` gives them all):

=========================  ==============================================================
reason                     the claim is eligible only when
=========================  ==============================================================
already-handed-over        collection holds no record of it (or a person released a
                           returned claim for resubmission)
returned-by-psrm           PSRM rejected or sent it back and no person has decided yet
claim-type-unmapped        its kind is mapped to a PSRM claim type (not "" or "-")
unacknowledged             a replacement charge (civil) was acknowledged in writing;
                           unacknowledged ones wait on a list for a person
srb-not-passed             it is invoiced and the day is after its last timely payment date
reminders-not-complete     the municipality's last reminder step was sent and the day is
                           after that letter's date to pay by
not-announced              a delivered letter told the debtor, before the day, that the
                           claim will be handed over
hand-over-day-not-reached  the day is at least ``days_after_deadline`` after the SRB
below-minimum              the balance is at least the municipality's minimum
payment-agreement          no payment agreement runs on the day (its ``until`` has passed)
time-barred                the day is before the limitation date
debtor-deceased            the debtor is not registered as deceased
debtor-minor               the debtor (a person) is 18 or older on the day
=========================  ==============================================================

So a claim becomes eligible on the first day on which all hold: the day after the SRB, the day
after the last reminder's deadline, the day after the announcing letter went out, the SRB plus
``days_after_deadline``, the day after an agreement ends, the debtor's 18th birthday, whichever
comes last; and it stops being eligible on its limitation date.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from functools import lru_cache

from fbs_debitor.contracts.collection import NOT_FOR_COLLECTION, CollectionFacts, CollectionTerms
from fbs_debitor.core.ids import cpr_birth_date

CIVIL = "civil"
AGE_OF_MAJORITY = 18


class Reason(StrEnum):
    """Why a claim may not be handed over (yet). The values are stable (CLI ``--json``)."""

    ALREADY_HANDED_OVER = "already-handed-over"
    RETURNED_BY_PSRM = "returned-by-psrm"
    CLAIM_TYPE_UNMAPPED = "claim-type-unmapped"
    UNACKNOWLEDGED = "unacknowledged"
    SRB_NOT_PASSED = "srb-not-passed"
    REMINDERS_NOT_COMPLETE = "reminders-not-complete"
    NOT_ANNOUNCED = "not-announced"
    HAND_OVER_DAY_NOT_REACHED = "hand-over-day-not-reached"
    BELOW_MINIMUM = "below-minimum"
    PAYMENT_AGREEMENT = "payment-agreement"
    TIME_BARRED = "time-barred"
    DEBTOR_DECEASED = "debtor-deceased"
    DEBTOR_MINOR = "debtor-minor"

    @property
    def danish(self) -> str:
        """The sentence a person reads on the list of claims that wait."""
        return _DANISH[self]


_DANISH: dict[Reason, str] = {
    Reason.ALREADY_HANDED_OVER: "Fordringen er allerede overdraget til inddrivelse.",
    Reason.RETURNED_BY_PSRM: "Gældsstyrelsen har afvist eller returneret fordringen; en "
    "medarbejder skal rette og genindsende den eller afskrive den.",
    Reason.CLAIM_TYPE_UNMAPPED: "Fordringsarten er ikke knyttet til en fordringstype i PSRM.",
    Reason.UNACKNOWLEDGED: "Erstatningskravet er ikke anerkendt skriftligt af låneren.",
    Reason.SRB_NOT_PASSED: "Sidste rettidige betalingsdato er ikke overskredet.",
    Reason.REMINDERS_NOT_COMPLETE: "Rykkerforløbet er ikke afsluttet.",
    Reason.NOT_ANNOUNCED: "Skyldneren har ikke fået skriftligt varsel om overdragelse.",
    Reason.HAND_OVER_DAY_NOT_REACHED: "Kommunens frist før overdragelse er ikke nået.",
    Reason.BELOW_MINIMUM: "Beløbet er under kommunens mindstebeløb for inddrivelse.",
    Reason.PAYMENT_AGREEMENT: "Skyldneren har en aktiv betalingsaftale.",
    Reason.TIME_BARRED: "Fordringen er forældet.",
    Reason.DEBTOR_DECEASED: "Skyldneren er død.",
    Reason.DEBTOR_MINOR: "Skyldneren er under 18 år.",
}


class Record(StrEnum):
    """What collection holds of a claim, as far as eligibility cares."""

    NONE = "none"
    """Never handed over, or released by a person for resubmission."""
    HELD = "held"
    """Handed over and with PSRM (submitted, received, done, in hearing, settled, recalled)."""
    RETURNED = "returned"
    """Rejected or sent back by PSRM; waits for a person."""


@lru_cache(maxsize=65536)
def _majority(debtor_id: str) -> date | None:
    """The day a CPR's person turns 18 (None: no readable birth date). Cached: a debtor has many
    claims, and a run evaluates them all."""
    born = cpr_birth_date(debtor_id)
    if born is None:
        return None
    try:
        return born.replace(year=born.year + AGE_OF_MAJORITY)
    except ValueError:  # born 29 February: of age on 1 March
        return date(born.year + AGE_OF_MAJORITY, 3, 1)


def _adult_on(debtor_id: str, on: date) -> bool:
    majority = _majority(debtor_id)
    # not a readable birth date: PSRM decides (it rejects debtors it does not know)
    return majority is None or on >= majority


def reasons(
    facts: CollectionFacts,
    terms: CollectionTerms,
    on: date,
    record: Record = Record.NONE,
) -> list[Reason]:
    """Every condition the claim fails on ``on``, in the order of the table above; [] =
    eligible."""
    found: list[Reason] = []
    if record is Record.HELD:
        found.append(Reason.ALREADY_HANDED_OVER)
    elif record is Record.RETURNED:
        found.append(Reason.RETURNED_BY_PSRM)
    if facts.psrm_claim_type.strip() in ("", NOT_FOR_COLLECTION):
        found.append(Reason.CLAIM_TYPE_UNMAPPED)
    if facts.legal_basis == CIVIL and not facts.acknowledged:
        found.append(Reason.UNACKNOWLEDGED)
    srb = facts.last_timely_payment_date
    if srb is None or on <= srb:
        found.append(Reason.SRB_NOT_PASSED)
    pay_by = facts.last_reminder_pay_by
    if facts.reminders_sent < terms.reminder_steps or (
        terms.reminder_steps > 0 and (pay_by is None or on <= pay_by)
    ):
        found.append(Reason.REMINDERS_NOT_COMPLETE)
    if facts.announced_on is None or on <= facts.announced_on:
        found.append(Reason.NOT_ANNOUNCED)
    if srb is None or on < srb + timedelta(days=terms.days_after_deadline):
        found.append(Reason.HAND_OVER_DAY_NOT_REACHED)
    if facts.balance_ore < max(terms.min_ore, 1):
        found.append(Reason.BELOW_MINIMUM)
    if facts.agreement_until is not None and on <= facts.agreement_until:
        found.append(Reason.PAYMENT_AGREEMENT)
    if facts.limitation_date is not None and on >= facts.limitation_date:
        found.append(Reason.TIME_BARRED)
    if facts.deceased_on is not None:
        found.append(Reason.DEBTOR_DECEASED)
    if facts.debtor_id_type == "cpr" and not _adult_on(facts.debtor_id, on):
        found.append(Reason.DEBTOR_MINOR)
    return found


@dataclass
class Evaluation:
    """The outcome of evaluating many claims on one day.

    eligible:      the facts of the claims that may be handed over, in the order given.
    not_eligible:  per reason, how many claims have it as their *first* reason (so
                   ``evaluated == len(eligible) + sum(not_eligible.values())``).
    waiting:       (claim id, reason) of claims a person must look at: unacknowledged
                   replacement charges and claims PSRM returned.
    """

    on: date
    evaluated: int = 0
    eligible: list[CollectionFacts] = field(default_factory=list)
    not_eligible: Counter[str] = field(default_factory=Counter)
    waiting: list[tuple[str, Reason]] = field(default_factory=list)


FOR_A_PERSON = frozenset({Reason.UNACKNOWLEDGED, Reason.RETURNED_BY_PSRM})


def evaluate(
    facts: Iterable[CollectionFacts],
    terms: CollectionTerms,
    on: date,
    records: Mapping[str, Record],
) -> Evaluation:
    """Evaluate every claim; ``records`` maps a claim id to what collection holds of it (absent:
    nothing)."""
    result = Evaluation(on=on)
    for f in facts:
        result.evaluated += 1
        found = reasons(f, terms, on, records.get(f.claim_id, Record.NONE))
        if not found:
            result.eligible.append(f)
            continue
        first = found[0]
        result.not_eligible[first.value] += 1
        if first in FOR_A_PERSON:
            result.waiting.append((f.claim_id, first))
    return result
