"""FIK payment references (Fælles Indbetalingskort).

An invoice carries a FIK code line that the citizen's bank reads::

    +71<000000000000109+85799665<      card type 71: 15-digit payment ID, then the creditor
    +75<0000000000001099+85799665<     card type 75: 16-digit payment ID (and a message)
    +73<+85799665<                     card type 73: no payment ID (payer named in the message)

The payment ID is a sequence number left-padded with zeros plus one check digit (Luhn, modulus 10:
weights 2,1,2,... from the rightmost payload digit, products over 9 minus 9, check digit
= (10 - sum mod 10) mod 10). The creditor number (kreditornummer) has 8 digits and starts with 8.
The payment ID comes back in bank notifications as the creditor reference, which is how a payment
is matched to its invoice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from fbs_debitor.core.errors import ValidationError

#: Length of the payment ID (check digit included) per card type that has one.
ID_LENGTHS: dict[int, int] = {71: 15, 75: 16}
_CARD_TYPES_WITHOUT_ID = (73,)
_DIGITS = re.compile(r"[0-9]+")
_DIGITS_OR_NOTHING = re.compile(r"[0-9]*")
_CODE_LINE = re.compile(r"\+(?P<card>[0-9]{2})<(?P<id>[0-9]*)\+(?P<creditor>[0-9]+)<")


def _no_spaces(text: str) -> str:
    """``text`` without any whitespace (printed references are often grouped with spaces)."""
    return "".join(text.split())


def luhn_check_digit(payload: str) -> str:
    """The Luhn (modulus 10) check digit of a string of digits.

    Weights 2,1,2,... from the rightmost payload digit; a product over 9 has 9 taken off;
    the check digit is (10 - sum mod 10) mod 10. ``luhn_check_digit("00000000000010") == "9"``.
    """
    if not payload:
        raise ValidationError("Cannot compute a check digit of nothing", code="invalid-fik-length")
    if not _DIGITS.fullmatch(payload):
        raise ValidationError(
            f"Betalings-id må kun indeholde cifre / payment ID must be digits only: {payload!r}",
            code="invalid-fik-characters",
        )
    total = 0
    for position, char in enumerate(reversed(payload)):
        product = int(char) * (2 if position % 2 == 0 else 1)
        total += product - 9 if product > 9 else product
    return str((10 - total % 10) % 10)


def _id_length(card_type: int) -> int:
    """The payment ID length of ``card_type``; ValidationError for a type without one."""
    if isinstance(card_type, bool) or not isinstance(card_type, int):
        raise TypeError(f"card_type must be an int, got {type(card_type).__name__}")
    try:
        return ID_LENGTHS[card_type]
    except KeyError:
        raise ValidationError(
            f"Korttype +{card_type} har intet betalings-id / card type +{card_type} has no "
            "payment ID (only +71 and +75 have)",
            code="invalid-fik-card-type",
        ) from None


@dataclass(frozen=True, slots=True)
class PaymentId:
    """A FIK payment ID of card type 71 (15 digits) or 75 (16 digits), check digit included."""

    card_type: int
    value: str

    def __post_init__(self) -> None:
        """Check characters, length and check digit, in that order."""
        length = _id_length(self.card_type)
        if not isinstance(self.value, str):
            raise TypeError(f"PaymentId.value must be a str, got {type(self.value).__name__}")
        if not _DIGITS_OR_NOTHING.fullmatch(self.value):
            raise ValidationError(
                "Betalings-id må kun indeholde cifre / payment ID must be digits only, "
                f"got {self.value!r}",
                code="invalid-fik-characters",
            )
        if len(self.value) != length:
            raise ValidationError(
                f"Betalings-id til +{self.card_type} skal have {length} cifre / payment ID for "
                f"+{self.card_type} must have {length} digits, got {len(self.value)}",
                code="invalid-fik-length",
            )
        expected = luhn_check_digit(self.value[:-1])
        if self.value[-1] != expected:
            raise ValidationError(
                f"Forkert kontrolciffer i betalings-id {self.value} / wrong check digit: "
                f"expected {expected}, got {self.value[-1]}",
                code="invalid-fik-check-digit",
                expected=expected,
            )

    @classmethod
    def generate(cls, seq: int, card_type: int = 71) -> PaymentId:
        """The payment ID of sequence number ``seq``: left-padded to 14 (+71) or 15 (+75) digits,
        then the check digit. ``PaymentId.generate(10).value == "000000000000109"``.

        Refuses a negative ``seq`` or one too large for the card type (ValidationError
        "invalid-fik-sequence").
        """
        if isinstance(seq, bool) or not isinstance(seq, int):
            raise TypeError(f"seq must be an int, got {type(seq).__name__}")
        payload_length = _id_length(card_type) - 1
        if not 0 <= seq < 10**payload_length:
            raise ValidationError(
                f"Løbenummer {seq} passer ikke i et +{card_type}-betalings-id / sequence {seq} "
                f"does not fit a +{card_type} payment ID (0 to {10**payload_length - 1})",
                code="invalid-fik-sequence",
            )
        payload = f"{seq:0{payload_length}d}"
        return cls(card_type=card_type, value=payload + luhn_check_digit(payload))

    @classmethod
    def parse(cls, text: str, card_type: int = 71) -> PaymentId:
        """Read a payment ID of ``card_type`` from text; whitespace is ignored.

        Raises ValidationError with code "invalid-fik-characters", "invalid-fik-length" or
        "invalid-fik-check-digit" (the detail names the expected check digit).
        """
        if not isinstance(text, str):
            raise TypeError(f"PaymentId.parse needs a str, got {type(text).__name__}")
        return cls(card_type=card_type, value=_no_spaces(text))

    @property
    def payload(self) -> str:
        """The ID without its check digit."""
        return self.value[:-1]

    @property
    def check_digit(self) -> str:
        """The last digit."""
        return self.value[-1]

    @property
    def sequence(self) -> int:
        """The sequence number the ID was generated from (the payload as an int)."""
        return int(self.payload)

    def __str__(self) -> str:
        """The digits."""
        return self.value


def validate_payment_id(text: str, card_type: int | None = None) -> tuple[bool, str]:
    """Check a payment ID without raising: ``(True, "")`` or ``(False, reason)``.

    With ``card_type=None`` the type follows from the length (15 → 71, 16 → 75). The reason is
    the detail sentence of the ValidationError that ``PaymentId.parse`` would raise.
    """
    compact = _no_spaces(text)
    try:
        if card_type is None:
            if not _DIGITS_OR_NOTHING.fullmatch(compact):
                PaymentId.parse(compact)  # raises the characters error
            inferred = {length: card for card, length in ID_LENGTHS.items()}.get(len(compact))
            if inferred is None:
                return False, (
                    "Betalings-id skal have 15 (+71) eller 16 (+75) cifre / payment ID must have "
                    f"15 (+71) or 16 (+75) digits, got {len(compact)}"
                )
            card_type = inferred
        PaymentId.parse(compact, card_type)
    except ValidationError as exc:
        return False, exc.detail
    return True, ""


def validate_creditor_number(text: str) -> str:
    """The 8-digit FIK creditor number (kreditornummer) in ``text``; it must start with 8.

    Whitespace is ignored. Raises ValidationError "invalid-creditor-number".
    """
    if not isinstance(text, str):
        raise TypeError(f"creditor number must be a str, got {type(text).__name__}")
    compact = _no_spaces(text)
    if not re.fullmatch(r"8[0-9]{7}", compact):
        raise ValidationError(
            "Kreditornummer skal have 8 cifre og begynde med 8 / creditor number must have "
            f"8 digits and start with 8, got {compact!r}",
            code="invalid-creditor-number",
        )
    return compact


def code_line(payment_id: PaymentId, creditor: str) -> str:
    """The FIK code line of a +71 or +75 payment: ``+71<000000000000109+85799665<``."""
    return f"+{payment_id.card_type}<{payment_id.value}+{validate_creditor_number(creditor)}<"


def code_line_73(creditor: str) -> str:
    """The FIK code line of a +73 card, which has no payment ID: ``+73<+85799665<``."""
    return f"+73<+{validate_creditor_number(creditor)}<"


def parse_code_line(text: str) -> tuple[int, PaymentId | None, str]:
    """Read a FIK code line into ``(card_type, payment_id, creditor)``; whitespace is ignored.

    ``payment_id`` is None for +73. Accepts ``+71< 000000067097535+85799665<`` as printed on
    real invoices. Raises ValidationError: "invalid-fik-code-line" for the wrong shape,
    "invalid-fik-card-type" for a card type other than 71, 73 and 75, a payment ID error or
    "invalid-creditor-number".
    """
    if not isinstance(text, str):
        raise TypeError(f"parse_code_line needs a str, got {type(text).__name__}")
    match = _CODE_LINE.fullmatch(_no_spaces(text))
    if match is None:
        raise ValidationError(
            "FIK-kodelinjen skal have formen +71<betalings-id+kreditornummer< / FIK code line "
            f"must look like +71<payment ID+creditor number<, got {text!r}",
            code="invalid-fik-code-line",
        )
    card_type = int(match["card"])
    creditor = validate_creditor_number(match["creditor"])
    if card_type in _CARD_TYPES_WITHOUT_ID:
        if match["id"]:
            raise ValidationError(
                f"Korttype +{card_type} har intet betalings-id / card type +{card_type} has no "
                f"payment ID, got {match['id']!r}",
                code="invalid-fik-code-line",
            )
        return card_type, None, creditor
    _id_length(card_type)  # refuses card types other than 71, 73 and 75
    return card_type, PaymentId.parse(match["id"], card_type), creditor
