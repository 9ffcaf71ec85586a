"""Use cases of the library context: one transaction each (the caller's ``conn``).

What goes to debtor (the states are in :mod:`fbs_debitor.library.model`, the sending in
:mod:`fbs_debitor.library.service.registration`):

* a new fee of a mapped kind: ``ClaimRegistered`` (sequence 1) with its amount; of an unmapped
  kind: held, and sent when the kind's ``SortimentMapped`` reaches the library;
* a regulation of a fee debtor has (sent or registered): ``ClaimWrittenDown`` /
  ``ClaimWrittenUp`` / ``ClaimCancelled`` with the next sequence; of any other fee (old, held,
  rejected): the library only, and a later ClaimRegistered carries the amount as it is then;
* a debtor change: ``ClaimDebtorChanged`` for each open fee debtor has, when the debtor (guardian,
  company or patron) really changes; a rejected registration is sent again;
* moving old balances: a ClaimRegistered (or a hold) for every open old fee.

Payment in the library (old fees only) is in :mod:`fbs_debitor.library.service.payment`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime

from sqlalchemy import Connection

from fbs_debitor.contracts.registration import (
    ClaimCancelled,
    ClaimDebtorChanged,
    ClaimWrittenDown,
    ClaimWrittenUp,
)
from fbs_debitor.contracts.sending import Outgoing, send_many
from fbs_debitor.core.clock import Clock
from fbs_debitor.core.errors import ConflictError, NotFoundError, ValidationError
from fbs_debitor.core.ids import Cpr, Cvr
from fbs_debitor.core.money import Money
from fbs_debitor.library.model import (
    DebtorState,
    EventKind,
    Fee,
    FeeEvent,
    FeeStatus,
    NewFee,
    Patron,
    PatronAccount,
    after_write_down,
    after_write_up,
    check_identity,
    check_new_fee,
    held_reason,
    is_old,
)
from fbs_debitor.library.service.registration import SOURCE, claim_registered, record, send_or_hold
from fbs_debitor.library.store import records, setup_copy
from fbs_debitor.library.store.setup_copy import MunicipalityCopy
from fbs_debitor.messaging.outbox import new_message_id


def _municipality(conn: Connection, municipality: str) -> MunicipalityCopy:
    found = setup_copy.find_municipality(conn, municipality)
    if found is None:
        raise NotFoundError(
            f"the library does not know municipality {municipality} (its set-up has not arrived)",
            code="unknown-municipality",
        )
    return found


def municipality_of_agency(conn: Connection, agency_id: str) -> str:
    """The kommunekode of a library agency (FBS ``agencyid``); NotFoundError if unknown."""
    found = setup_copy.find_by_agency(conn, agency_id)
    if found is None:
        raise NotFoundError(f"no library agency {agency_id}", code="unknown-agency")
    return found.municipality


def save_municipality(conn: Connection, copy: MunicipalityCopy, configured_at: datetime) -> None:
    """Keep the library's copy of a municipality's set-up (an older message changes nothing).
    A new cutoff date applies to fees created from then on; existing fees keep old or new."""
    setup_copy.save_municipality(conn, copy, configured_at)


# -- patrons -------------------------------------------------------------------------------------


def _identity(
    cpr: str | None, guardian_cpr: str | None, cvr: str | None
) -> tuple[Cpr | None, Cpr | None, Cvr | None]:
    """Parse and check a patron's numbers (ValidationError)."""
    parsed = (
        Cpr.parse(cpr) if cpr else None,
        Cpr.parse(guardian_cpr) if guardian_cpr else None,
        Cvr.parse(cvr) if cvr else None,
    )
    check_identity(*parsed)
    return parsed


def create_patron(
    conn: Connection,
    clock: Clock,
    municipality: str,
    *,
    cpr: str | None = None,
    guardian_cpr: str | None = None,
    cvr: str | None = None,
    name: str = "",
) -> Patron:
    """A new patron: a person (``cpr``), a minor whose ``guardian_cpr`` pays, or a company."""
    _municipality(conn, municipality)
    identity = _identity(cpr, guardian_cpr, cvr)
    name = name.strip()
    if len(name) > 200:
        raise ValidationError("a patron's name has at most 200 characters", code="invalid-patron")
    now = clock.now()
    values = {"municipality": municipality, "name": name, "created_at": now, "updated_at": now}
    patron_id = records.insert_patron(conn, values | records.identity_values(*identity))
    return Patron(patron_id, municipality, *identity, name=name)


def get_patron(conn: Connection, municipality: str, patron_id: int) -> Patron:
    found = records.patrons_by_id(conn, municipality, [patron_id]).get(patron_id)
    if found is None:
        raise NotFoundError(f"no patron {patron_id} in {municipality}", code="unknown-patron")
    return found


def patron_account(conn: Connection, municipality: str, patron_id: int) -> PatronAccount:
    """The patron with every fee; ``open_total`` and ``blocked`` are computed from them."""
    patron = get_patron(conn, municipality, patron_id)
    return PatronAccount(patron, records.fees_of_patron(conn, municipality, patron_id))


def change_debtor(
    conn: Connection,
    clock: Clock,
    municipality: str,
    patron_id: int,
    *,
    cpr: str | None = None,
    guardian_cpr: str | None = None,
    cvr: str | None = None,
    reason: str = "",
) -> PatronAccount:
    """Replace the patron's numbers (all three: one left out is removed) and tell debtor.

    Every open fee debtor has gets a ``ClaimDebtorChanged`` if the debtor changed; every open fee
    whose registration debtor rejected is registered again (e.g. after correcting a bad CPR).
    """
    before = records.patrons_by_id(conn, municipality, [patron_id], for_update=True).get(patron_id)
    if before is None:
        raise NotFoundError(f"no patron {patron_id} in {municipality}", code="unknown-patron")
    identity = _identity(cpr, guardian_cpr, cvr)
    records.update_patron(
        conn, patron_id, {"updated_at": clock.now()} | records.identity_values(*identity)
    )
    after = replace(before, cpr=identity[0], guardian_cpr=identity[1], cvr=identity[2])
    debtor_changed = after.debtor != before.debtor
    maps = setup_copy.mappings(conn, municipality)
    text = "debtor changed" + (f": {reason}" if reason else "")
    for fee in records.fees_of_patron(conn, municipality, patron_id, for_update=True):
        if fee.status is not FeeStatus.OPEN:
            continue
        current = fee
        if debtor_changed:
            message = None
            if fee.regulation_goes_to_debtor:
                message = ClaimDebtorChanged(
                    municipality=municipality,
                    occurred_at=clock.now(),
                    claim_id=fee.claim_id,
                    debtor=after.debtor,
                    reason=reason,
                )
            current = record(conn, clock, fee, EventKind.DEBTOR_CHANGED, text, message=message)
        if current.debtor_state is DebtorState.REJECTED:
            send_or_hold(conn, clock, current, after, maps)
    return patron_account(conn, municipality, patron_id)


# -- creating fees -------------------------------------------------------------------------------


def create_fee(conn: Connection, clock: Clock, municipality: str, new: NewFee) -> Fee:
    """One fee; see :func:`create_fees_bulk` for what happens to it."""
    return _create(conn, clock, municipality, [new])[0]


def create_fees_bulk(
    conn: Connection, clock: Clock, municipality: str, rows: Sequence[NewFee]
) -> list[int]:
    """Create many fees in one transaction; returns their ids in the order of ``rows``.

    Each fee is old or new by its creation date against the cutoff (created on the cutoff date:
    new); a new one is sent to debtor (``ClaimRegistered``, sequence 1) or held if its kind is
    unmapped. All or nothing: the first bad row raises (ValidationError, NotFoundError) and
    nothing is created. The set-up, sortiment and patrons are read once; fees, materials and
    history go in with executemany, so the per-fee work is one outbox row and little else.
    """
    return [fee.id for fee in _create(conn, clock, municipality, rows)]


def _create(conn: Connection, clock: Clock, municipality: str, rows: Sequence[NewFee]) -> list[Fee]:
    if not rows:
        return []
    setup = _municipality(conn, municipality)
    maps = setup_copy.mappings(conn, municipality)
    patrons = records.patrons_by_id(conn, municipality, (r.patron_id for r in rows))
    today, now = clock.today(), clock.now()
    drafts: list[Fee] = []
    for index, row in enumerate(rows):
        if row.patron_id not in patrons:
            raise NotFoundError(
                f"no patron {row.patron_id} in {municipality}", code="unknown-patron", row=index
            )
        kind, created_on, reason_message = check_new_fee(row, today)
        old = is_old(created_on, setup.cutoff_date)
        state, why, mid = DebtorState.NOT_SENT, None, None
        if not old and kind.value in maps:
            state, mid = DebtorState.SENT, new_message_id()
        elif not old:
            state, why = DebtorState.HELD, held_reason(kind.value, municipality)
        drafts.append(
            Fee(
                id=0,
                municipality=municipality,
                patron_id=row.patron_id,
                kind=kind.value,
                reason_message=reason_message,
                amount=row.amount,
                open=row.amount,
                status=FeeStatus.OPEN,
                old=old,
                moved_on=None,
                creation_date=created_on,
                due_date=row.due_date,
                paid_date=None,
                acknowledged=row.acknowledged,
                debtor_state=state,
                debtor_reason=why,
                debtor_note=None,
                debtor_balance=None,
                last_sequence=1 if mid else 0,
                registration_message_id=mid,
                materials=row.materials,
            )
        )
    ids = records.insert_fees(conn, [records.fee_values(d, now) for d in drafts])
    created = [replace(d, id=i) for d, i in zip(drafts, ids, strict=True)]
    materials, events, outgoing = [], [], []
    for fee in created:
        materials.extend(records.material_rows(fee))
        what = "new fee" if not fee.old else "old fee (before the cutoff): stays in the library"
        events.append(
            records.event_row(
                municipality, fee.id, now, EventKind.CREATED, what, amount_ore=fee.amount.ore
            )
        )
        if fee.debtor_state is DebtorState.HELD:
            events.append(
                records.event_row(
                    municipality, fee.id, now, EventKind.HELD, fee.debtor_reason or ""
                )
            )
        elif fee.debtor_state is DebtorState.SENT:
            message = claim_registered(fee, patrons[fee.patron_id], maps[fee.kind], clock)
            mid = fee.registration_message_id
            outgoing.append(Outgoing(message, 1, mid))
            events.append(
                records.event_row(
                    municipality,
                    fee.id,
                    now,
                    EventKind.SENT,
                    "registered with debtor",
                    message_id=mid,
                    sequence=1,
                )
            )
    send_many(conn, outgoing, source=SOURCE, leg="leg1")
    records.insert_materials(conn, materials)
    records.insert_events(conn, events)
    return created


# -- reading fees --------------------------------------------------------------------------------


def get_fee(conn: Connection, municipality: str, fee_id: int) -> Fee:
    found = records.get_fee(conn, municipality, fee_id)
    if found is None:
        raise NotFoundError(f"no fee {fee_id} in {municipality}", code="unknown-fee")
    return found


def fee_history(conn: Connection, municipality: str, fee_id: int) -> list[FeeEvent]:
    """The fee's append-only history, oldest first."""
    get_fee(conn, municipality, fee_id)
    return records.events_of(conn, municipality, fee_id)


def fbs_fees(
    conn: Connection,
    municipality: str,
    patron_id: int,
    *,
    include_paid: bool,
    include_nonpayable: bool,
) -> list[Fee]:
    """The patron's fees as the FBS fee API lists them: without ``include_paid`` only open ones;
    without ``include_nonpayable`` no open fee the library may not take payment for (a new fee,
    or an old one moved to debtor). A paid fee is not "non-payable": ``include_paid`` alone
    decides whether it is listed."""
    get_patron(conn, municipality, patron_id)
    listed = []
    for fee in records.fees_of_patron(conn, municipality, patron_id):
        is_open = fee.status is FeeStatus.OPEN
        if not is_open and not include_paid:
            continue
        if is_open and not fee.payable_by_client and not include_nonpayable:
            continue
        listed.append(fee)
    return listed


def open_claims_by_id(conn: Connection, municipality: str) -> dict[str, int]:
    """claim_id -> open øre of every fee debtor has (sent or registered: not old, held or
    rejected), including those regulated to 0, for reconciling the library against debtor."""
    return records.open_sent_amounts(conn, municipality)


# -- regulation ----------------------------------------------------------------------------------


def _open_fee(conn: Connection, municipality: str, fee_id: int) -> Fee:
    """The fee, locked until commit, if it is still open (ConflictError otherwise)."""
    fee = records.get_fee(conn, municipality, fee_id, for_update=True)
    if fee is None:
        raise NotFoundError(f"no fee {fee_id} in {municipality}", code="unknown-fee")
    if fee.status is not FeeStatus.OPEN:
        raise ConflictError(f"fee {fee_id} is {fee.status.value}", code="fee-not-open")
    return fee


def _because(text: str, reason: str) -> str:
    return f"{text}: {reason}" if reason else text


def write_down(
    conn: Connection, clock: Clock, municipality: str, fee_id: int, amount: Money, reason: str = ""
) -> Fee:
    """Lower the open amount by ``amount`` (> 0); below zero is refused (ValidationError).
    Written down to exactly 0,00 kr., the fee is ``closed``."""
    fee = _open_fee(conn, municipality, fee_id)
    after_write_down(fee.open, amount)
    message = None
    if fee.regulation_goes_to_debtor:
        message = ClaimWrittenDown(
            municipality=municipality,
            occurred_at=clock.now(),
            claim_id=fee.claim_id,
            amount_ore=amount.ore,
            reason=reason,
        )
    text = _because(f"written down by {amount}", reason)
    record(conn, clock, fee, EventKind.WRITTEN_DOWN, text, delta=-amount, message=message)
    return get_fee(conn, municipality, fee_id)


def write_up(
    conn: Connection, clock: Clock, municipality: str, fee_id: int, amount: Money, reason: str = ""
) -> Fee:
    """Raise the open amount by ``amount`` (> 0)."""
    fee = _open_fee(conn, municipality, fee_id)
    after_write_up(fee.open, amount)
    message = None
    if fee.regulation_goes_to_debtor:
        message = ClaimWrittenUp(
            municipality=municipality,
            occurred_at=clock.now(),
            claim_id=fee.claim_id,
            amount_ore=amount.ore,
            reason=reason,
        )
    text = _because(f"written up by {amount}", reason)
    record(conn, clock, fee, EventKind.WRITTEN_UP, text, delta=amount, message=message)
    return get_fee(conn, municipality, fee_id)


def cancel_fee(
    conn: Connection, clock: Clock, municipality: str, fee_id: int, reason: str = ""
) -> Fee:
    """The whole fee falls away (e.g. the material came back): ``cancelled``, nothing open.

    A fee in debtor may be cancelled also when it is paid: debtor turns what was paid on it into
    credit for the debtor (used for the next claim or refunded). An old fee, paid here, may not.
    """
    fee = records.get_fee(conn, municipality, fee_id, for_update=True)
    if fee is None or fee.status is not FeeStatus.PAID or not fee.regulation_goes_to_debtor:
        fee = _open_fee(conn, municipality, fee_id)
    message = None
    if fee.regulation_goes_to_debtor:
        message = ClaimCancelled(
            municipality=municipality, occurred_at=clock.now(), claim_id=fee.claim_id, reason=reason
        )
    text = _because(f"cancelled with {fee.open} open", reason)
    values = {"status": FeeStatus.CANCELLED.value}
    record(
        conn, clock, fee, EventKind.CANCELLED, text, delta=-fee.open, message=message, values=values
    )
    return get_fee(conn, municipality, fee_id)


# -- moving old balances -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MoveResult:
    """What :func:`move_old_balances` did: fees moved, of which sent and held, and their total."""

    moved: int
    sent: int
    held: int
    total: Money


def move_old_balances(conn: Connection, clock: Clock, municipality: str, on: date) -> MoveResult:
    """Move every open old fee to debtor as of ``on``: each is registered there (or held until
    its kind is mapped) and is no longer payable in the library. Running it again moves nothing
    more. ``on`` must be on or after the cutoff date and not in the future (ValidationError).
    """
    setup = _municipality(conn, municipality)
    if setup.cutoff_date is None:
        raise ValidationError(
            f"municipality {municipality} has no cutoff date yet: it is not live with debtor",
            code="not-live",
        )
    if on < setup.cutoff_date:
        raise ValidationError(
            f"old balances move on or after the cutoff date {setup.cutoff_date.isoformat()}",
            code="invalid-move-date",
        )
    if on > clock.today():
        raise ValidationError(
            f"{on.isoformat()} is in the future: run the move on that day",
            code="invalid-move-date",
        )
    old = records.old_open_fees(conn, municipality)
    patrons = records.patrons_by_id(conn, municipality, (f.patron_id for f in old))
    maps = setup_copy.mappings(conn, municipality)
    sent = 0
    for fee in old:
        text = f"old balance {fee.open} moved to debtor as of {on.isoformat()}"
        moved = record(conn, clock, fee, EventKind.MOVED, text, values={"moved_on": on})
        after = send_or_hold(conn, clock, moved, patrons[fee.patron_id], maps)
        if after.debtor_state is DebtorState.SENT:
            sent += 1
    return MoveResult(len(old), sent, len(old) - sent, Money.sum(f.open for f in old))
