"""Money in Danish kroner, held as a whole number of øre.

``Money`` is the only amount type in the domain. It never holds a float: amounts are integer øre
(1 krone = 100 øre), so adding up fees, payments and write-offs is exact.

Ways in:

* ``Money(ore=1250)``: an int of øre (the only way to pass an int);
* ``Money.of("12,50")`` / ``Money.of(Decimal("12.50"))``: kroner as text or ``Decimal``;
* ``Money.parse(text)``: human or machine text, Danish or English separators, with or without
  "kr." / "DKK";
* ``Money.from_decimal(d, rounding=...)``: kroner as ``Decimal``, refusing sub-øre precision
  unless a rounding mode is named;
* ``Money.from_json_number(x)``: the one door for a float (a JSON number), converted via its text.

Ways out: ``to_decimal()`` (kroner, 2 places), ``to_json_str()`` ("1234.50", for machines) and
``format_dkk()`` / ``str()`` (Danish display, "1.234,50 kr.").

Display decision: babel (CLDR) formats DKK in da_DK as ``1.234,50\\xa0kr.``, with a no-break space
(U+00A0) before "kr.". ``format_dkk`` normalises every Unicode space separator to a plain ASCII
space (U+0020) and the minus sign U+2212 to "-", so the output is exactly ``1.234,50 kr.`` and
``-12,50 kr.`` whatever CLDR release babel ships (CLDR has changed its space characters before).
Templates that must keep the amount on one line use CSS (``white-space: nowrap``) instead.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, localcontext
from functools import lru_cache

from babel.numbers import format_currency, format_decimal

from fbs_debitor.core.errors import ValidationError

_ORE_PER_KRONE = 100

MAX_AMOUNT_ORE = 10**12
"""10 milliarder kr.: the most any one amount of money may be (a payment, a refund, a write-off,
a balance). Anything above is a typing error, and sums of such amounts still fit a 64-bit
database integer (decision 0030)."""

MAX_FEE_ORE = 100_000_00
"""100.000 kr.: the most one library fee may be: a fee or replacement charge when it is created,
what is left of it after a write-up, a claim another library system registers and one write-up
of it. The dearest thing a library lends (an instrument, a laptop, a rare book) costs a few
ten thousand kroner; more than this is a typing error (an amount in øre sent as kroner), and
it is refused before it becomes a claim on a citizen (decision 0030)."""

MAX_TILL_PAYMENT_ORE = 1_000_000_00
"""1.000.000 kr.: the most one payment at a till (card or cash at a service desk) may be. A
till pays library fees, which are at most ``MAX_FEE_ORE`` each; more than ten such fees in one
payment at a desk is a typing error (decision 0030)."""
_MAX_TEXT_LENGTH = 64
_ONE_ORE = Decimal("0.01")

# Currency marks accepted before or after the number (case-insensitive): "kr.", "kr", "DKK".
_CURRENCY = r"(?:kr\.?|dkk)"
_SPACES = " \u00a0\u202f\u2009"
_MINUS_SIGNS = "-\u2212"
_AMOUNT_RE = re.compile(
    rf"""^
    (?P<sign1>[{_MINUS_SIGNS}+]?)[{_SPACES}]*
    (?P<prefix>{_CURRENCY})?[{_SPACES}]*
    (?P<sign2>[{_MINUS_SIGNS}+]?)[{_SPACES}]*
    (?P<body>[0-9][0-9.,{_SPACES}]*[0-9]|[0-9]|[.,][0-9]+)
    [{_SPACES}]*(?P<suffix>{_CURRENCY})?
    $""",
    re.IGNORECASE | re.VERBOSE,
)
_GROUPED_RE = re.compile(r"^[1-9][0-9]{0,2}(?:(?P<sep>[.,\s])[0-9]{3})(?:(?P=sep)[0-9]{3})*$")


def _refuse(text: str, reason: str) -> ValidationError:
    """Build the ValidationError for an amount text that cannot be read."""
    return ValidationError(
        f"Ugyldigt beløb / invalid amount {text!r}: {reason}", code="invalid-amount", text=text
    )


def _require_int(value: object, what: str) -> int:
    """Return ``value`` if it is a real int (not bool); raise TypeError otherwise."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{what} must be an int, got {type(value).__name__}")
    return value


def round_to_ore(d: Decimal, mode: str = ROUND_HALF_UP) -> Decimal:
    """Round kroner ``d`` to whole øre (2 decimal places) with a ``decimal`` rounding ``mode``.

    This is the one named rounding function of the domain: every place that must drop sub-øre
    precision (interest, percentages) goes through it. The default is ``ROUND_HALF_UP``
    (commercial rounding: 0.005 → 0.01, -0.005 → -0.01).
    """
    if not isinstance(d, Decimal):
        raise TypeError(f"round_to_ore needs a Decimal, got {type(d).__name__}")
    if not d.is_finite():
        raise ValidationError(f"Cannot round {d} to øre", code="invalid-amount")
    with localcontext() as ctx:
        ctx.prec = max(28, d.adjusted() + 4)
        return d.quantize(_ONE_ORE, rounding=mode)


@dataclass(frozen=True, slots=True, order=True)
class Money:
    """An amount of Danish kroner as a whole number of øre; immutable, hashable and ordered.

    Arithmetic: ``+`` and ``-`` with Money, unary ``-``, ``abs()``, ``*`` with an int. Comparisons
    work between Money values only. ``bool(m)`` is false for zero.
    """

    ore: int

    def __post_init__(self) -> None:
        """Refuse anything that is not an int (bool and float included)."""
        _require_int(self.ore, "Money.ore")

    # -- construction -------------------------------------------------------------------------

    @classmethod
    def zero(cls) -> Money:
        """0,00 kr."""
        return cls(ore=0)

    @classmethod
    def of(cls, value: str | Decimal) -> Money:
        """Money from kroner given as text (see ``parse``) or as ``Decimal`` (see ``from_decimal``).

        An int is refused on purpose (is 1250 kroner or øre?): pass ints as ``Money(ore=...)``.
        A float is refused too: it cannot hold øre exactly.
        """
        if isinstance(value, str):
            return cls.parse(value)
        if isinstance(value, Decimal):
            return cls.from_decimal(value)
        raise TypeError(
            f"Money.of takes kroner as str or Decimal, got {type(value).__name__}; "
            "use Money(ore=...) for an int of øre"
        )

    @classmethod
    def parse(cls, text: str) -> Money:
        """Read an amount of kroner from text.

        Accepted: "12,50", "12.50", "1.234,50", "1,234.50", "1 234,50", "1234.5", "-3,00", "12",
        " 12,50 kr.", "kr 12,50", "DKK 12,50", "-12,50 kr." (also with no-break spaces, as babel
        prints them). Rules:

        * when both "." and "," occur, the last one is the decimal separator and the other groups
          thousands; a separator that occurs more than once groups thousands;
        * a single "." or "," is the decimal separator, except that one followed by exactly three
          digits after a 1-3 digit integer part ("1.000", "12,500") is ambiguous (thousands or
          decimals?) and refused;
        * thousands groups must have three digits; more than 2 decimals are refused unless the
          extra ones are zeros ("12,5000" is 12,50 kr.).

        Raises ValidationError (code "invalid-amount") for anything else.
        """
        if not isinstance(text, str):
            raise TypeError(f"Money.parse needs a str, got {type(text).__name__}")
        if len(text) > _MAX_TEXT_LENGTH:
            raise _refuse(text[:_MAX_TEXT_LENGTH] + "...", "text too long")
        match = _AMOUNT_RE.match(text.strip())
        if match is None:
            raise _refuse(text, "not a number of kroner")
        if match["sign1"] and match["sign2"]:
            raise _refuse(text, "two signs")
        if match["prefix"] and match["suffix"]:
            raise _refuse(text, "currency given twice")
        negative = (match["sign1"] or match["sign2"]) in ("-", "\u2212")
        whole, fraction = _split_body(text, match["body"])
        ore = int(whole or "0") * _ORE_PER_KRONE + int(fraction[:2].ljust(2, "0"))
        return cls(ore=-ore if negative else ore)

    @classmethod
    def from_decimal(cls, d: Decimal, *, rounding: str | None = None) -> Money:
        """Money from kroner as ``Decimal``.

        Sub-øre precision ("12.505") is refused (ValidationError "invalid-amount") unless a
        ``decimal`` rounding mode is given, which is then applied with ``round_to_ore``. Trailing
        zeros are fine ("12.500").
        """
        if not isinstance(d, Decimal):
            raise TypeError(f"Money.from_decimal needs a Decimal, got {type(d).__name__}")
        if not d.is_finite():
            raise ValidationError(f"Amount {d} is not a finite number", code="invalid-amount")
        if rounding is not None:
            d = round_to_ore(d, rounding)
        numerator, denominator = d.as_integer_ratio()
        ore, remainder = divmod(numerator * _ORE_PER_KRONE, denominator)
        if remainder:
            raise ValidationError(
                f"Amount {d} has more precision than 1 øre; pass rounding= to round it",
                code="invalid-amount",
            )
        return cls(ore=ore)

    @classmethod
    def from_json_number(cls, x: int | float | Decimal, *, rounding: str | None = None) -> Money:
        """Money from a JSON number of kroner (``12``, ``12.5``, ``12.50``).

        This is the one place where a float may be passed in: JSON numbers arrive as Python
        floats. The value is converted through its shortest decimal text (``Decimal(str(x))``),
        so ``0.1`` becomes exactly 0,10 kr., never 0.1000000000000000055511151231257827. An int
        is kroner here (the JSON number 12 is 12 kr.). Sub-øre values are refused as in
        ``from_decimal``.
        """
        if isinstance(x, bool) or not isinstance(x, int | float | Decimal):
            raise TypeError(f"Money.from_json_number needs a number, got {type(x).__name__}")
        return cls.from_decimal(Decimal(str(x)), rounding=rounding)

    @classmethod
    def sum(cls, amounts: Iterable[Money]) -> Money:
        """The total of ``amounts`` (0,00 kr. when empty)."""
        total = 0
        for amount in amounts:
            if not isinstance(amount, Money):
                raise TypeError(f"Money.sum adds Money only, got {type(amount).__name__}")
            total += amount.ore
        return cls(ore=total)

    # -- arithmetic ---------------------------------------------------------------------------

    def __add__(self, other: Money) -> Money:
        """Sum of two amounts."""
        if not isinstance(other, Money):
            return NotImplemented
        return Money(ore=self.ore + other.ore)

    def __sub__(self, other: Money) -> Money:
        """Difference of two amounts."""
        if not isinstance(other, Money):
            return NotImplemented
        return Money(ore=self.ore - other.ore)

    def __mul__(self, factor: int) -> Money:
        """The amount times a whole number (bool and float refused)."""
        if isinstance(factor, bool) or not isinstance(factor, int):
            return NotImplemented
        return Money(ore=self.ore * factor)

    __rmul__ = __mul__

    def __neg__(self) -> Money:
        """The amount with the opposite sign."""
        return Money(ore=-self.ore)

    def __abs__(self) -> Money:
        """The amount without sign."""
        return Money(ore=abs(self.ore))

    def __bool__(self) -> bool:
        """False for 0,00 kr."""
        return self.ore != 0

    def is_zero(self) -> bool:
        """True for 0,00 kr."""
        return self.ore == 0

    def is_positive(self) -> bool:
        """True above 0,00 kr."""
        return self.ore > 0

    def is_negative(self) -> bool:
        """True below 0,00 kr."""
        return self.ore < 0

    # -- ways out -----------------------------------------------------------------------------

    def to_decimal(self) -> Decimal:
        """Kroner as ``Decimal`` with exactly 2 places (``Decimal("12.50")``)."""
        return Decimal(f"{self.ore}e-2")

    def to_json_str(self) -> str:
        """Machine text in kroner with a "." and 2 decimals: "1234.50", "-12.50"."""
        sign = "-" if self.ore < 0 else ""
        kroner, ore = divmod(abs(self.ore), _ORE_PER_KRONE)
        return f"{sign}{kroner}.{ore:02d}"

    def __str__(self) -> str:
        """Danish display text, as ``format_dkk``: "1.234,50 kr."."""
        return format_dkk(self)


def _split_body(text: str, body: str) -> tuple[str, str]:
    """Split the digits-and-separators part of an amount into whole kroner and decimals."""
    separators = [(i, c) for i, c in enumerate(body) if not c.isdigit()]
    if not separators:
        return body, ""
    last_index, last = separators[-1]
    decimal_at: int | None = None
    if last in ".,":
        others = {c for _, c in separators[:-1]}
        if others & ({".", ","} - {last}):
            decimal_at = last_index
        elif last in others:
            decimal_at = None
        elif others:
            decimal_at = last_index  # "1 234,50": spaces group, so the mark is decimal
        else:
            whole, fraction = body[:last_index], body[last_index + 1 :]
            if len(fraction) == 3 and re.fullmatch(r"[1-9][0-9]{0,2}", whole):
                raise _refuse(
                    text,
                    f"ambiguous: is {last!r} a thousands or a decimal separator? "
                    "Write e.g. 1000 or 1.000,00",
                )
            decimal_at = last_index
    if decimal_at is None:
        whole, fraction = body, ""
    else:
        whole, fraction = body[:decimal_at], body[decimal_at + 1 :]
        if not fraction.isdigit():
            raise _refuse(text, "misplaced separator")
        if len(fraction) > 2 and fraction[2:].strip("0"):
            raise _refuse(text, "more than 2 decimals")
    if not whole.isdigit():
        if whole == "" and decimal_at == 0:
            return "", fraction
        normalized = "".join(" " if c in _SPACES else c for c in whole)
        if not _GROUPED_RE.match(normalized):
            raise _refuse(text, "thousands separators must group 3 digits")
        whole = "".join(c for c in whole if c.isdigit())
    return whole, fraction


def _normalize_display(text: str) -> str:
    """Replace Unicode space separators by ASCII spaces and U+2212 by "-"."""
    return "".join(
        " " if unicodedata.category(c) == "Zs" else "-" if c == "\u2212" else c for c in text
    )


def format_dkk(m: Money, *, symbol: bool = True) -> str:
    """Danish display text via babel (da_DK): "1.234,50 kr.", "-12,50 kr.".

    With ``symbol=False``: "1.234,50". Spaces are plain ASCII spaces (the module docstring says
    why).
    """
    if not isinstance(m, Money):
        raise TypeError(f"format_dkk needs Money, got {type(m).__name__}")
    return _format_dkk(m.ore, symbol)


@lru_cache(maxsize=8192)
def _format_dkk(ore: int, symbol: bool) -> str:
    """babel's text for ``ore``, remembered: fees come in few amounts, and babel takes ~90 µs
    a call, which the payment hot path (one history text per coverage) felt."""
    amount = Money(ore).to_decimal()
    with localcontext() as ctx:  # babel quantizes: give it every digit of an amount of any size
        ctx.prec = max(28, len(str(abs(ore))) + 4)
        if symbol:
            text = format_currency(amount, "DKK", locale="da_DK")
        else:
            text = format_decimal(amount, format="#,##0.00", locale="da_DK")
    return _normalize_display(text)


def allocate(total: Money, weights: list[int]) -> list[Money]:
    """Split ``total`` in proportion to ``weights`` without losing or creating an øre.

    Largest-remainder method: each share is first rounded towards zero, then the øre left over
    go one each to the shares with the largest remainders (ties: the earliest share). Weights are
    non-negative ints with a positive sum; a zero weight gets 0,00 kr. A negative total is split
    like its absolute value, with every share negative.
    """
    if not isinstance(total, Money):
        raise TypeError(f"allocate needs Money, got {type(total).__name__}")
    for weight in weights:
        _require_int(weight, "allocate weight")
    if not weights or any(w < 0 for w in weights) or sum(weights) == 0:
        raise ValidationError(
            f"Cannot allocate by weights {weights}: they must be non-negative with a positive sum",
            code="invalid-allocation",
        )
    weight_sum = sum(weights)
    magnitude = abs(total.ore)
    shares: list[int] = []
    remainders: list[tuple[int, int]] = []
    for index, weight in enumerate(weights):
        share, remainder = divmod(magnitude * weight, weight_sum)
        shares.append(share)
        remainders.append((-remainder, index))
    left_over = magnitude - sum(shares)
    for _, index in sorted(remainders)[:left_over]:
        shares[index] += 1
    sign = -1 if total.ore < 0 else 1
    return [Money(ore=sign * share) for share in shares]
