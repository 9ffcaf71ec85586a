"""The debtor ledger model: sign rules, balances, and the rules a registration must pass."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fbs_debitor.contracts.registration import ClaimKind, ClaimRegistered, DebtorRef
from fbs_debitor.core.errors import ValidationError
from fbs_debitor.core.ids import Cpr, Cvr
from fbs_debitor.core.money import Money
from fbs_debitor.debtor.model.claims import (
    ClaimStatus,
    Refusal,
    check_registration,
    mask_debtor_id,
    parse_claim_kind,
    parse_debtor,
    require_open,
    require_positive,
)
from fbs_debitor.debtor.model.ledger import (
    FEE_KINDS,
    PRINCIPAL_KINDS,
    SPLIT_KINDS,
    Posting,
    PostingKind,
    balance,
    check_reversal,
    fee_part_fees_first,
    fee_part_principal_first,
    principal_and_fees,
    reverse,
)

T0 = datetime(2026, 3, 2, 8, tzinfo=UTC)
D0 = date(2026, 3, 2)


def posting(kind: PostingKind, ore: int, **kw: object) -> Posting:
    """A posting; the kinds that must name their fee part take none of fees unless told."""
    if kind in SPLIT_KINDS:
        kw.setdefault("fee_part", Money.zero())
    return Posting(kind=kind, amount=Money(ore=ore), effective_on=D0, booked_at=T0, **kw)  # type: ignore[arg-type]


# -- sign rule ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "sign"),
    [
        (PostingKind.CHARGE, 1),
        (PostingKind.WRITE_UP, 1),
        (PostingKind.REMINDER_FEE, 1),
        (PostingKind.INTEREST, 1),
        (PostingKind.WRITE_DOWN, -1),
        (PostingKind.CANCELLATION, -1),
        (PostingKind.COVERAGE, -1),
        (PostingKind.WRITE_OFF, -1),
        (PostingKind.REVERSAL, 0),
    ],
)
def test_every_kind_has_its_sign(kind: PostingKind, sign: int) -> None:
    assert kind.sign == sign
    if sign:
        posting(kind, 100 * sign)
        with pytest.raises(ValidationError, match="must be"):
            posting(kind, -100 * sign)


def test_zero_postings_and_misplaced_reverses_are_refused() -> None:
    with pytest.raises(ValidationError):
        posting(PostingKind.CHARGE, 0)
    with pytest.raises(ValidationError, match="only a reversal"):
        posting(PostingKind.COVERAGE, -100, reverses=1)
    with pytest.raises(ValidationError, match="must name"):
        posting(PostingKind.REVERSAL, 100)


def test_reversal_carries_the_opposite_sign() -> None:
    coverage = posting(PostingKind.COVERAGE, -5000, id=7)
    undo = reverse(coverage, booked_at=T0, effective_on=D0, note="fejlbetaling")
    assert undo.kind is PostingKind.REVERSAL
    assert undo.amount == Money(ore=5000)
    assert undo.reverses == 7
    check_reversal(undo, coverage)
    with pytest.raises(ValidationError):
        check_reversal(posting(PostingKind.REVERSAL, -5000, reverses=7), coverage)
    with pytest.raises(ValidationError):
        check_reversal(posting(PostingKind.REVERSAL, 5000, reverses=8), coverage)
    with pytest.raises(ValueError, match="stored"):
        reverse(posting(PostingKind.CHARGE, 1), booked_at=T0, effective_on=D0)
    stored_undo = posting(PostingKind.REVERSAL, 5000, reverses=7, id=9)
    with pytest.raises(ValidationError, match="not reversed again"):
        reverse(stored_undo, booked_at=T0, effective_on=D0)


def test_components_for_allocation() -> None:
    assert PostingKind.CHARGE in PRINCIPAL_KINDS and PostingKind.REMINDER_FEE in FEE_KINDS
    assert not PRINCIPAL_KINDS & FEE_KINDS


def test_a_posting_that_may_take_either_component_must_name_its_fee_part() -> None:
    for kind in (PostingKind.COVERAGE, PostingKind.WRITE_OFF, PostingKind.CANCELLATION):
        with pytest.raises(ValidationError, match="how much of it is fees"):
            Posting(kind=kind, amount=Money(ore=-100), effective_on=D0, booked_at=T0)
        with pytest.raises(ValidationError, match="must have its sign and be no larger"):
            posting(kind, -100, fee_part=Money(ore=-101))
        with pytest.raises(ValidationError, match="must have its sign"):
            posting(kind, -100, fee_part=Money(ore=40))
        assert posting(kind, -100, fee_part=Money(ore=-40)).fees_ore == -40
    with pytest.raises(ValidationError, match="cannot have a fee part"):
        posting(PostingKind.CHARGE, 100, fee_part=Money(ore=1))
    with pytest.raises(ValidationError, match="cannot have a fee part"):
        posting(PostingKind.REMINDER_FEE, 100, fee_part=Money(ore=99))
    assert posting(PostingKind.INTEREST, 37).fees_ore == 37
    assert posting(PostingKind.WRITE_UP, 37).fees_ore == 0


def test_a_reversal_gives_back_exactly_the_components_it_reverses() -> None:
    covered = posting(PostingKind.COVERAGE, -15000, fee_part=Money(ore=-10000), id=7)
    undone = reverse(covered, booked_at=T0, effective_on=D0)
    assert (undone.amount.ore, undone.fees_ore) == (15000, 10000)
    charge, fee = posting(PostingKind.CHARGE, 5000), posting(PostingKind.REMINDER_FEE, 10000)
    parts = [(p.amount.ore, p.fees_ore) for p in (charge, fee, covered, undone)]
    assert principal_and_fees(parts) == (5000, 10000)
    assert principal_and_fees(parts[:3]) == (0, 0)


def test_fee_parts_of_a_payment_and_of_a_write_off() -> None:
    # principal 50 kr., fees 100 kr.; 120 kr. lowers: a payment takes 100 of fees, then 20
    assert fee_part_fees_first(5000, 10000, -12000) == -10000
    # a write-off takes the 50 kr. principal first, then 70 kr. of the fees
    assert fee_part_principal_first(5000, 10000, -12000) == -7000
    assert fee_part_fees_first(5000, 0, -3000) == 0
    assert fee_part_principal_first(0, 10000, -3000) == -3000


# -- balance ------------------------------------------------------------------------------------

_SIGNED_KINDS = [k for k in PostingKind if k is not PostingKind.REVERSAL]


@st.composite
def ledgers(draw: st.DrawFn) -> list[Posting]:
    """Postings of random kinds and amounts, some reversing earlier ones."""
    out: list[Posting] = []
    for pid in range(1, draw(st.integers(0, 30)) + 1):
        reversible = [p for p in out if p.kind is not PostingKind.REVERSAL]
        wants_reversal: bool = draw(st.booleans())
        if reversible and wants_reversal:
            target = draw(st.sampled_from(reversible))
            out.append(
                Posting(
                    kind=PostingKind.REVERSAL,
                    amount=-target.amount,
                    effective_on=D0,
                    booked_at=T0,
                    reverses=target.id,
                    id=pid,
                    fee_part=Money(ore=-target.fees_ore),
                )
            )
            continue
        kind = draw(st.sampled_from(_SIGNED_KINDS))
        ore = draw(st.integers(1, 10**9))
        out.append(posting(kind, ore * kind.sign, id=pid))
    return out


@given(data=st.data(), postings=ledgers())
def test_balance_is_the_plain_sum_in_any_order(
    data: st.DataObject, postings: list[Posting]
) -> None:
    total = balance(postings)
    assert total == Money(ore=sum(p.amount.ore for p in postings))
    shuffled = data.draw(st.permutations(postings))
    assert balance(shuffled) == total
    for p in postings:
        if p.kind is PostingKind.REVERSAL:
            (target,) = [q for q in postings if q.id == p.reverses]
            check_reversal(p, target)


def test_balance_of_nothing_is_zero() -> None:
    assert balance([]) == Money.zero()


# -- registration rules ---------------------------------------------------------------------------


def test_debtor_numbers() -> None:
    assert parse_debtor("cpr", "0101801234") == Cpr("0101801234")
    assert parse_debtor("cpr", "1501729995") == Cpr("1501729995")  # fails modulus 11: valid
    assert parse_debtor("cvr", "13585628") == Cvr("13585628")
    for id_type, number, code in [
        ("cpr", "3213451234", "invalid-cpr"),
        ("cpr", "0113451234", "invalid-cpr"),
        ("cvr", "13585629", "invalid-cvr"),
        ("passport", "13585628", "invalid-message"),
    ]:
        with pytest.raises(ValidationError) as info:
            parse_debtor(id_type, number)
        assert info.value.code == code


def test_masking() -> None:
    assert mask_debtor_id("cpr", "0101801234") == "010180-XXXX"
    assert mask_debtor_id("cvr", "13585628") == "13585628"


def test_amounts_kinds_and_status() -> None:
    assert require_positive(1, "claim") == Money(ore=1)
    for bad in (0, -1):
        with pytest.raises(ValidationError) as info:
            require_positive(bad, "claim")
        assert info.value.code == Refusal.AMOUNT_NOT_POSITIVE
    assert parse_claim_kind("fee") is ClaimKind.FEE
    with pytest.raises(ValidationError) as info:
        parse_claim_kind("parking")
    assert info.value.code == "unknown-claim-kind"
    require_open(ClaimStatus.OPEN, "f")
    with pytest.raises(ValidationError) as info:
        require_open(ClaimStatus.CANCELLED, "f")
    assert info.value.code == "claim-cancelled"
    with pytest.raises(ValidationError) as info:
        require_open(ClaimStatus.HANDED_OVER, "f")
    assert info.value.code == "claim-not-open"


def test_check_registration() -> None:
    message = ClaimRegistered(
        municipality="101",
        occurred_at=T0,
        claim_id="f",
        patron_id="p",
        debtor=DebtorRef(id_type="cpr", id="0101801234"),
        claim_kind="compensation",
        debtor_classification="X",
        psrm_claim_type="Y",
        amount_ore=100,
        created_on=D0,
    )
    debtor, kind, amount = check_registration(message)
    assert (debtor, kind, amount) == (Cpr("0101801234"), ClaimKind.COMPENSATION, Money(ore=100))
    too_long = message.model_copy(update={"debtor_classification": "X" * 41})
    with pytest.raises(ValidationError) as info:
        check_registration(too_long)
    assert info.value.code == "invalid-message"
