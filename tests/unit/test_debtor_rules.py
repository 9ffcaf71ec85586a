"""Debtor rules: defaults within the law, settings beyond it refused with a clear message."""

from __future__ import annotations

import pytest

from fbs_debitor.contracts.registration import LegalBasis
from fbs_debitor.core.errors import LegalLimitError, ValidationError
from fbs_debitor.core.money import Money
from fbs_debitor.debtor.model.rules import DebtorRules, validate_rules


def step(day: int, public: int = 0, civil: int = 0, announce: bool = False) -> dict[str, object]:
    return {
        "days_after_deadline": day,
        "fee_public_ore": public,
        "fee_civil_ore": civil,
        "announces_collection": announce,
    }


def test_defaults_follow_guldborgsund_within_the_law() -> None:
    rules = DebtorRules()
    first, second = rules.reminder_steps
    assert first.days_after_deadline == 14
    assert first.fee_for(LegalBasis.PUBLIC) == Money(0)
    assert second.days_after_deadline == 34
    assert second.fee_for(LegalBasis.PUBLIC) == Money(10000)
    assert second.fee_for(LegalBasis.CIVIL) == Money(10000)
    assert second.announces_collection
    assert rules.collection_days_after_deadline == 120
    assert rules.collection_min_ore == 10000
    assert not rules.interest_enabled
    assert rules.payment_term_days == 14


def test_public_fee_up_to_250_kr_is_allowed() -> None:
    rules = validate_rules({"reminder_steps": [step(14, public=25000, civil=10000)]})
    assert rules.reminder_steps[0].fee_for(LegalBasis.PUBLIC) == Money(25000)


def test_public_fee_above_250_kr_is_refused() -> None:
    with pytest.raises(LegalLimitError, match="gebyrloven") as err:
        validate_rules({"reminder_steps": [step(14, public=25001)]})
    assert err.value.code == "reminder-fee-public"
    assert "250,00 kr." in err.value.detail


def test_civil_fee_above_100_kr_is_refused() -> None:
    with pytest.raises(LegalLimitError, match="renteloven") as err:
        validate_rules({"reminder_steps": [step(14, civil=10001)]})
    assert err.value.code == "reminder-fee-civil"


def test_at_most_three_fee_bearing_reminders_on_civil_claims() -> None:
    ok = [
        step(10, civil=10000),
        step(20, civil=10000),
        step(30, civil=10000),
        step(40, public=5000),
    ]
    assert len(validate_rules({"reminder_steps": ok}).reminder_steps) == 4
    too_many = [*ok[:3], step(40, civil=10000)]
    with pytest.raises(LegalLimitError) as err:
        validate_rules({"reminder_steps": too_many})
    assert err.value.code == "reminder-count-civil"


def test_civil_fee_reminders_at_least_ten_days_apart() -> None:
    assert validate_rules({"reminder_steps": [step(14, civil=100), step(24, civil=100)]})
    with pytest.raises(LegalLimitError) as err:
        validate_rules({"reminder_steps": [step(14, civil=100), step(23, civil=100)]})
    assert err.value.code == "reminder-gap-civil"
    assert "9 apart" in err.value.detail
    # a free reminder in between does not count
    assert validate_rules({"reminder_steps": [step(14, civil=100), step(18), step(24, civil=100)]})


def test_steps_must_increase_and_come_before_collection() -> None:
    with pytest.raises(ValidationError) as err:
        validate_rules({"reminder_steps": [step(20), step(14)]})
    assert err.value.code == "reminder-order"
    with pytest.raises(ValidationError) as err:
        validate_rules({"reminder_steps": [step(14)], "collection_days_after_deadline": 10})
    assert err.value.code == "collection-before-reminders"


def test_malformed_input_names_the_field() -> None:
    with pytest.raises(ValidationError) as err:
        validate_rules({"payment_term_days": 0})
    assert "payment_term_days" in err.value.detail
    with pytest.raises(ValidationError):
        validate_rules({"no_such_setting": 1})


def test_min_days_between_reminders_defaults_to_ten_and_is_never_below() -> None:
    assert DebtorRules().min_days_between_reminders == 10
    assert validate_rules({"min_days_between_reminders": 30}).min_days_between_reminders == 30
    for below in (9, 0, -5):
        with pytest.raises(LegalLimitError, match="renteloven § 9 b") as err:
            validate_rules({"min_days_between_reminders": below})
        assert err.value.code == "reminder-gap-min"
        assert f"{below} days is below the legal minimum of 10 days" in err.value.detail
    with pytest.raises(ValidationError) as bad:
        validate_rules({"min_days_between_reminders": 366})
    assert "min_days_between_reminders" in bad.value.detail
