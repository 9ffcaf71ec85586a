"""FIK payment IDs and code lines: against an independent reference implementation of the check
digit written here from its definition (runs everywhere), and against every vector of the
third-party oracle fik/fik-test-vectors.json (skipped when the oracle is absent, see
tests/oracles.py)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fbs_debitor.core.errors import ValidationError
from fbs_debitor.core.fik import (
    ID_LENGTHS,
    PaymentId,
    code_line,
    code_line_73,
    luhn_check_digit,
    parse_code_line,
    validate_creditor_number,
    validate_payment_id,
)
from tests.oracles import MISSING, json_params, load_json, oracle_params

ORACLE = "fik/fik-test-vectors.json"
CREDITOR = "85799665"


@pytest.fixture
def vectors() -> dict[str, Any]:
    """The oracle's vectors; skips the test (fails it under CI) when the oracle is absent."""
    loaded: dict[str, Any] = load_json(ORACLE)
    return loaded


@pytest.fixture
def ocr(vectors: dict[str, Any]) -> dict[str, str]:
    templates: dict[str, str] = vectors["ocr_line_format"]
    return templates


def _values(key: str) -> list[Any]:
    """The ``value`` of every vector in ``key``, read at collection (``MISSING`` when absent)."""
    return oracle_params(ORACLE, lambda path: [v["value"] for v in load_json(ORACLE)[key]])


def _id(vector: Any) -> str:
    return MISSING if vector == MISSING else str(vector["payload"])


def _render(template: str, payment_id: str, creditor: str) -> str:
    """Fill an ``ocr_line_format`` template like "+71<{15-digit ...}+{8-digit kreditornr}<"."""
    template = template.split("  ")[0]
    template = re.sub(r"\{1[56]-digit[^}]*\}", payment_id, template)
    return re.sub(r"\{8-digit kreditornr\}", creditor, template)


# -- reference implementation (from the definition, independent of fbs_debitor.core.fik) ---------
#
# A FIK payment ID (card types +71 and +75) ends in a Luhn (modulus 10) check digit over the digits
# before it: from the rightmost payload digit leftwards the weights are 2, 1, 2, 1, ...; a product
# of two digits counts as the sum of its digits; the check digit is what brings the total up to a
# multiple of 10. +71 IDs have 15 digits, +75 IDs 16, both including the check digit.

REF_LENGTHS = {71: 15, 75: 16}


def ref_check_digit(payload: str) -> str:
    total = 0
    for position, char in enumerate(reversed(payload)):
        product = int(char) * (2 if position % 2 == 0 else 1)
        total += product // 10 + product % 10
    return str((10 - total % 10) % 10)


def ref_is_valid(value: str, card_type: int) -> bool:
    return (
        len(value) == REF_LENGTHS[card_type]
        and value.isascii()
        and value.isdigit()
        and ref_check_digit(value[:-1]) == value[-1]
    )


@pytest.mark.parametrize(
    ("payload", "check"),
    [
        ("7992739871", "3"),  # the textbook Luhn example
        ("0", "0"),
        ("5", "9"),  # 5 * 2 = 10 counts 1; 1 + 9 = 10
        ("00000000000010", "9"),  # +71 sequence 10: 1 * 1 + 0 = 1
        ("00000000000001", "8"),  # 1 * 2 = 2
        ("00000000000019", "0"),  # 9 * 2 = 18 counts 9, plus 1 = 10: check digit 0
        ("00000006709753", "5"),  # the real-world ID 000000067097535
        ("215026348000002", "3"),  # the +75 ID 2150263480000023
    ],
)
def test_reference_check_digit_samples(payload: str, check: str) -> None:
    """The reference against values worked out by hand from the definition, and ours against it."""
    assert ref_check_digit(payload) == check
    assert luhn_check_digit(payload) == check


@given(st.text(alphabet="0123456789", min_size=1, max_size=30))
def test_check_digit_agrees_with_the_reference(payload: str) -> None:
    assert luhn_check_digit(payload) == ref_check_digit(payload)


@given(st.sampled_from([71, 75]), st.data())
def test_validation_agrees_with_the_reference(card_type: int, data: st.DataObject) -> None:
    length = data.draw(st.sampled_from([REF_LENGTHS[card_type] - 1, REF_LENGTHS[card_type]] * 4))
    value = data.draw(st.text(alphabet="0123456789", min_size=length, max_size=length))
    ok, _ = validate_payment_id(value, card_type)
    assert ok is ref_is_valid(value, card_type)
    if ref_is_valid(value, card_type):
        assert PaymentId.parse(value, card_type=card_type).value == value
    else:
        with pytest.raises(ValidationError):
            PaymentId.parse(value, card_type=card_type)


@given(st.sampled_from([71, 75]), st.data())
def test_generate_agrees_with_the_reference(card_type: int, data: st.DataObject) -> None:
    seq = data.draw(st.integers(min_value=0, max_value=10 ** (REF_LENGTHS[card_type] - 1) - 1))
    payload = f"{seq:0{REF_LENGTHS[card_type] - 1}d}"
    generated = PaymentId.generate(seq, card_type=card_type)
    assert generated.value == payload + ref_check_digit(payload)
    assert ref_is_valid(generated.value, card_type)


# -- check digit --------------------------------------------------------------------------------


@pytest.mark.parametrize("vector", json_params(ORACLE, "fik71_generate_check_digit"), ids=_id)
@pytest.mark.usefixtures("vectors")
def test_generate_check_digit_vectors(vector: dict[str, str]) -> None:
    assert luhn_check_digit(vector["payload"]) == vector["check"]
    generated = PaymentId.generate(int(vector["payload"]))
    assert generated.value == vector["payload"] + vector["check"]
    assert generated.card_type == 71
    assert generated.sequence == int(vector["payload"])


def test_luhn_check_digit_refuses_bad_payload() -> None:
    with pytest.raises(ValidationError) as info:
        luhn_check_digit("12a4")
    assert info.value.code == "invalid-fik-characters"
    with pytest.raises(ValidationError) as info:
        luhn_check_digit("")
    assert info.value.code == "invalid-fik-length"


def test_luhn_known_values() -> None:
    assert luhn_check_digit("7992739871") == "3"  # the textbook Luhn example
    assert luhn_check_digit("0") == "0"
    assert luhn_check_digit("5") == "9"


# -- +71 vectors --------------------------------------------------------------------------------


@pytest.mark.parametrize("value", _values("fik71_valid"))
@pytest.mark.usefixtures("vectors")
def test_fik71_valid_vectors(value: str) -> None:
    payment_id = PaymentId.parse(value)
    assert payment_id == PaymentId(card_type=71, value=value)
    assert str(payment_id) == value
    assert payment_id.payload + payment_id.check_digit == value
    assert validate_payment_id(value) == (True, "")
    assert validate_payment_id(value, 71) == (True, "")
    assert PaymentId.generate(int(value[:-1])) == payment_id


@pytest.mark.parametrize("value", _values("fik71_invalid_check_digit"))
@pytest.mark.usefixtures("vectors")
def test_fik71_invalid_check_digit_vectors(value: str) -> None:
    expected = luhn_check_digit(value[:-1])
    assert expected != value[-1]
    with pytest.raises(ValidationError, match=f"expected {expected}, got {value[-1]}") as info:
        PaymentId.parse(value)
    assert info.value.code == "invalid-fik-check-digit"
    assert info.value.extra == {"expected": expected}
    ok, reason = validate_payment_id(value)
    assert not ok
    assert f"expected {expected}" in reason


def test_fik71_invalid_check_digit_exact_message() -> None:
    with pytest.raises(ValidationError) as info:
        PaymentId.parse("026840149965327")
    assert info.value.detail == (
        "Forkert kontrolciffer i betalings-id 026840149965327 / wrong check digit: "
        "expected 8, got 7"
    )


@pytest.mark.parametrize("value", _values("fik71_invalid_length"))
@pytest.mark.usefixtures("vectors")
def test_fik71_invalid_length_vectors(value: str) -> None:
    code = "invalid-fik-length" if value.isdigit() else "invalid-fik-characters"
    with pytest.raises(ValidationError) as info:
        PaymentId.parse(value)
    assert info.value.code == code
    assert validate_payment_id(value, 71)[0] is False


def test_fik71_invalid_length_messages() -> None:
    with pytest.raises(ValidationError, match="must have 15 digits, got 14"):
        PaymentId.parse("12345678901234")
    with pytest.raises(ValidationError, match="must have 15 digits, got 16"):
        PaymentId.parse("1234567890123456")
    with pytest.raises(ValidationError, match="digits only"):
        PaymentId.parse("0268401A9965328")


@pytest.mark.parametrize("vector", json_params(ORACLE, "edge_cases_derived_by_this_research"))
@pytest.mark.usefixtures("vectors")
def test_edge_case_check_digit_zero(vector: dict[str, str]) -> None:
    assert vector["expect"].startswith("valid")
    assert PaymentId.parse(vector["value"]).check_digit == "0"
    assert validate_payment_id(vector["value"]) == (True, "")
    assert PaymentId.generate(19).value == "000000000000190"


# -- +75 (the giro04 vectors: 16 digits, same Luhn weights 2,1,2,... from the right) ------------


@pytest.mark.parametrize("value", _values("giro04_valid_16"))
@pytest.mark.usefixtures("vectors")
def test_giro04_valid_vectors_pass_as_fik75(value: str) -> None:
    payment_id = PaymentId.parse(value, card_type=75)
    assert payment_id.value == value
    assert validate_payment_id(value) == (True, "")
    assert validate_payment_id(value, 75) == (True, "")
    assert PaymentId.generate(int(value[:-1]), card_type=75) == payment_id


@pytest.mark.parametrize("value", _values("giro04_invalid_16"))
@pytest.mark.usefixtures("vectors")
def test_giro04_invalid_vectors_fail_as_fik75(value: str) -> None:
    with pytest.raises(ValidationError, match="expected 3, got 5") as info:
        PaymentId.parse(value, card_type=75)
    assert info.value.code == "invalid-fik-check-digit"
    assert validate_payment_id(value)[0] is False


def test_fik75_generate() -> None:
    assert PaymentId.generate(10, card_type=75).value == "0000000000000109"
    assert PaymentId.generate(0, card_type=75).value == "0000000000000000"
    assert PaymentId.generate(10**15 - 1, card_type=75).value == "9999999999999995"


def test_card_type_and_length_must_agree() -> None:
    with pytest.raises(ValidationError, match="must have 16 digits, got 15"):
        PaymentId.parse("000000000000109", card_type=75)
    assert validate_payment_id("000000000000109", 75)[0] is False
    assert validate_payment_id("0000000000000109", 71)[0] is False


# -- generate / parse details -------------------------------------------------------------------


@pytest.mark.parametrize(("seq", "card_type"), [(-1, 71), (10**14, 71), (-1, 75), (10**15, 75)])
def test_generate_refuses_out_of_range(seq: int, card_type: int) -> None:
    with pytest.raises(ValidationError) as info:
        PaymentId.generate(seq, card_type=card_type)
    assert info.value.code == "invalid-fik-sequence"


def test_generate_limits() -> None:
    assert PaymentId.generate(0).value == "000000000000000"
    assert PaymentId.generate(10**14 - 1).value == "999999999999994"


@pytest.mark.parametrize("seq", [True, 1.0, "1"])
def test_generate_refuses_non_int(seq: Any) -> None:
    with pytest.raises(TypeError):
        PaymentId.generate(seq)


@pytest.mark.parametrize("card_type", [73, 1, 4, 15, 72])
def test_payment_id_refuses_card_types_without_id(card_type: int) -> None:
    with pytest.raises(ValidationError) as info:
        PaymentId.parse("000000000000109", card_type=card_type)
    assert info.value.code == "invalid-fik-card-type"
    with pytest.raises(ValidationError):
        PaymentId.generate(1, card_type=card_type)


def test_parse_ignores_whitespace() -> None:
    assert PaymentId.parse(" 0000 0006 7097 535 ").value == "000000067097535"


@pytest.mark.parametrize("text", ["", "   ", "12", "00000000000010９"])
def test_validate_payment_id_infers_nothing_from_bad_text(text: str) -> None:
    ok, reason = validate_payment_id(text)
    assert not ok
    assert reason


# -- creditor number ----------------------------------------------------------------------------


def test_creditor_number() -> None:
    assert validate_creditor_number(CREDITOR) == CREDITOR
    assert validate_creditor_number(" 8579 9665 ") == CREDITOR


@pytest.mark.parametrize("text", ["12345678", "8579966", "857996650", "8579966X", "", "08579966"])
def test_creditor_number_refused(text: str) -> None:
    with pytest.raises(ValidationError, match="start with 8") as info:
        validate_creditor_number(text)
    assert info.value.code == "invalid-creditor-number"


# -- code lines ---------------------------------------------------------------------------------


def test_code_line_71_exact() -> None:
    assert code_line(PaymentId.generate(10), CREDITOR) == "+71<000000000000109+85799665<"


def test_code_line_75_exact() -> None:
    payment_id = PaymentId.parse("2150263480000023", card_type=75)
    assert code_line(payment_id, CREDITOR) == "+75<2150263480000023+85799665<"


def test_code_line_73_exact() -> None:
    assert code_line_73(CREDITOR) == "+73<+85799665<"


def test_code_lines_follow_the_oracle_templates(ocr: dict[str, str]) -> None:
    assert code_line(PaymentId.generate(10), CREDITOR) == _render(
        ocr["fik71"], "000000000000109", CREDITOR
    )
    payment_id = PaymentId.parse("2150263480000023", card_type=75)
    assert code_line(payment_id, CREDITOR) == _render(ocr["fik75"], payment_id.value, CREDITOR)
    assert code_line_73(CREDITOR) == _render(ocr["fik73"], "", CREDITOR)


def test_code_line_refuses_a_creditor_not_starting_with_8() -> None:
    assert code_line(PaymentId.generate(10), "82345678") == "+71<000000000000109+82345678<"
    with pytest.raises(ValidationError) as info:
        code_line(PaymentId.generate(10), "12345678")
    assert info.value.code == "invalid-creditor-number"


def test_code_line_matches_the_bc_example_except_for_its_creditor(ocr: dict[str, str]) -> None:
    """BC's example uses creditor 12345678, which does not start with 8; we refuse that."""
    example = ocr["example_generated_by_BC"].split("  ")[0]
    assert example == "+71<000000000000109+12345678<"
    assert code_line(PaymentId.generate(10), "82345678") == example.replace("+1234", "+8234")


def test_parse_real_world_code_line() -> None:
    card_type, payment_id, creditor = parse_code_line("+71< 000000067097535+85799665<")
    assert card_type == 71
    assert payment_id == PaymentId(card_type=71, value="000000067097535")
    assert creditor == CREDITOR


def test_the_oracle_real_world_code_line_is_the_one_we_parse(ocr: dict[str, str]) -> None:
    text = ocr["real_world_example_seen_in_public_code"].split("  ")[0]
    assert text == "+71< 000000067097535+85799665<"
    assert parse_code_line(text)[1] == PaymentId(card_type=71, value="000000067097535")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("+71<000000000000109+85799665<", (71, PaymentId(71, "000000000000109"), CREDITOR)),
        (
            " +71 < 0000 0000 0000 109 + 8579 9665 < ",
            (71, PaymentId(71, "000000000000109"), CREDITOR),
        ),
        ("+75<2150263480000023+85799665<", (75, PaymentId(75, "2150263480000023"), CREDITOR)),
        ("+73<+85799665<", (73, None, CREDITOR)),
        ("+73< +85799665<", (73, None, CREDITOR)),
    ],
)
def test_parse_code_line(text: str, expected: tuple[int, PaymentId | None, str]) -> None:
    assert parse_code_line(text) == expected


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "invalid-fik-code-line"),
        ("+71<000000000000109+85799665", "invalid-fik-code-line"),
        ("71<000000000000109+85799665<", "invalid-fik-code-line"),
        ("+71<000000000000109<", "invalid-fik-code-line"),
        ("+7<000000000000109+85799665<", "invalid-fik-code-line"),
        ("+73<000000000000109+85799665<", "invalid-fik-code-line"),
        ("+04<000000000000109+85799665<", "invalid-fik-card-type"),
        ("+71<000000000000108+85799665<", "invalid-fik-check-digit"),
        ("+71<+85799665<", "invalid-fik-length"),
        ("+75<000000000000109+85799665<", "invalid-fik-length"),
        ("+71<000000000000109+12345678<", "invalid-creditor-number"),
        ("+71<000000000000109+857996650<", "invalid-creditor-number"),
    ],
)
def test_parse_code_line_refuses(text: str, code: str) -> None:
    with pytest.raises(ValidationError) as info:
        parse_code_line(text)
    assert info.value.code == code


def test_oioubl_lengths_agree(vectors: dict[str, Any]) -> None:
    rule = vectors["oioubl_rules"]["PaymentMeansCode 93 (FIK), OIOUBL"]
    assert "length 15 (71) / 16 (75)" in rule
    assert ID_LENGTHS == {71: 15, 75: 16}


# -- properties ---------------------------------------------------------------------------------

card_and_seq = st.sampled_from([71, 75]).flatmap(
    lambda card: st.tuples(
        st.just(card), st.integers(min_value=0, max_value=10 ** (ID_LENGTHS[card] - 1) - 1)
    )
)


@given(card_and_seq)
def test_generated_ids_validate(card_seq: tuple[int, int]) -> None:
    card_type, seq = card_seq
    payment_id = PaymentId.generate(seq, card_type=card_type)
    assert len(payment_id.value) == ID_LENGTHS[card_type]
    assert payment_id.sequence == seq
    assert validate_payment_id(payment_id.value) == (True, "")
    assert PaymentId.parse(payment_id.value, card_type) == payment_id
    line = code_line(payment_id, CREDITOR)
    assert parse_code_line(line) == (card_type, payment_id, CREDITOR)


@given(card_and_seq, st.data())
def test_any_single_digit_change_is_detected(
    card_seq: tuple[int, int], data: st.DataObject
) -> None:
    card_type, seq = card_seq
    value = PaymentId.generate(seq, card_type=card_type).value
    position = data.draw(st.integers(min_value=0, max_value=len(value) - 1))
    digit = data.draw(st.sampled_from([d for d in "0123456789" if d != value[position]]))
    changed = value[:position] + digit + value[position + 1 :]
    ok, reason = validate_payment_id(changed, card_type)
    assert not ok
    assert "wrong check digit" in reason
