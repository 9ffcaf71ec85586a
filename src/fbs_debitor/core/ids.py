"""Danish person and company numbers: CPR and CVR.

A debtor account belongs to a citizen (CPR, 10 digits DDMMYY-SSSS) or to a company (CVR, 8 digits).

CPR decisions:

* **No modulus-11 check.** The check has not been required since 2007; a CPR failing it is valid.
  ``Cpr.mod11_ok`` tells whether it passes, for information only.
* **Any real calendar date is accepted, also one in the future.** python-stdnum's ``validate``
  refuses birth dates after today; we do not, because the domain never reads the system clock and
  the CPR office, not we, decides which numbers exist. A caller that wants to refuse a future
  birth date passes ``not_after=clock.today()`` to ``Cpr.parse``. Impossible dates (day 51,
  30 February) are always refused.
* **Replacement numbers (erstatningspersonnumre) are accepted.** They carry the day of birth plus
  60 (61-91); ``birth_date`` subtracts the 60 again.
* **A CPR never leaks by accident.** ``str()`` and ``repr()`` give the masked form "DDMMYY-XXXX";
  the full number is only in ``value`` and ``formatted``. ``mask_cprs_in_text`` masks CPRs inside
  free text (for the log processor).

The century of the birth date follows the CPR office's table (7th digit and year), as
implemented by ``stdnum.dk.cpr.get_birth_date``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from stdnum.dk import cpr as stdnum_cpr
from stdnum.dk import cvr as stdnum_cvr
from stdnum.exceptions import ValidationError as StdnumValidationError

from fbs_debitor.core.errors import ValidationError

_REPLACEMENT_DAY_OFFSET = 60
_MOD11_WEIGHTS = (4, 3, 2, 7, 6, 5, 4, 3, 2, 1)


def cpr_birth_date(digits: str) -> date | None:
    """The birth date of 10 CPR digits (replacement numbers included), or None if impossible."""
    day = int(digits[:2])
    if day > _REPLACEMENT_DAY_OFFSET:
        digits = f"{day - _REPLACEMENT_DAY_OFFSET:02d}{digits[2:]}"
    try:
        return stdnum_cpr.get_birth_date(digits)
    except StdnumValidationError:
        return None


@dataclass(frozen=True, slots=True, repr=False)
class Cpr:
    """A Danish CPR number (personnummer): 10 digits, a real birth date, no modulus-11 demand.

    ``str()`` and ``repr()`` are masked ("211062-XXXX") so the number never reaches a log by
    accident; use ``value`` or ``formatted`` where the full number is really needed.
    """

    value: str

    def __post_init__(self) -> None:
        """Check the invariant: 10 ASCII digits forming a real birth date."""
        if not isinstance(self.value, str):
            raise TypeError(f"Cpr.value must be a str, got {type(self.value).__name__}")
        if not re.fullmatch(r"[0-9]{10}", self.value):
            raise ValidationError(
                f"CPR-nummer skal have 10 cifre / CPR must have 10 digits, got {len(self.value)}"
                if re.fullmatch(r"[0-9]*", self.value)
                else "CPR-nummer må kun indeholde cifre / CPR must contain digits only",
                code="invalid-cpr",
            )
        if cpr_birth_date(self.value) is None:
            raise ValidationError(
                "CPR-nummeret indeholder ikke en gyldig fødselsdato / "
                f"CPR does not hold a valid birth date ({self.value[:6]})",
                code="invalid-cpr",
            )

    @classmethod
    def parse(cls, text: str, *, not_after: date | None = None) -> Cpr:
        """Read a CPR from "211062-5629", "2110625629", "211062 5629" and similar.

        Validates digits, length and birth date (see the module docstring); never the modulus-11
        check. With ``not_after``, a birth date after that day is refused as well.
        Raises ValidationError (code "invalid-cpr").
        """
        if not isinstance(text, str):
            raise TypeError(f"Cpr.parse needs a str, got {type(text).__name__}")
        cpr = cls(stdnum_cpr.compact(text))
        if not_after is not None and cpr.birth_date > not_after:
            raise ValidationError(
                f"CPR-nummerets fødselsdato ligger efter {not_after.isoformat()} / "
                f"CPR birth date is after {not_after.isoformat()}",
                code="invalid-cpr",
            )
        return cpr

    @property
    def birth_date(self) -> date:
        """The birth date (for a replacement number: with the 60 taken off the day)."""
        birth_date = cpr_birth_date(self.value)
        assert birth_date is not None  # checked in __post_init__
        return birth_date

    @property
    def is_replacement(self) -> bool:
        """True for an erstatningspersonnummer (day of birth + 60)."""
        return int(self.value[:2]) > _REPLACEMENT_DAY_OFFSET

    @property
    def mod11_ok(self) -> bool:
        """Whether the number passes the old modulus-11 check (information only, never required)."""
        return sum(w * int(d) for w, d in zip(_MOD11_WEIGHTS, self.value, strict=True)) % 11 == 0

    @property
    def masked(self) -> str:
        """The masked form "DDMMYY-XXXX"."""
        return f"{self.value[:6]}-XXXX"

    @property
    def formatted(self) -> str:
        """The full number in the standard form "DDMMYY-SSSS". Sensitive: do not log."""
        return f"{self.value[:6]}-{self.value[6:]}"

    def __str__(self) -> str:
        """The masked form, never the full number."""
        return self.masked

    def __repr__(self) -> str:
        """``Cpr('211062-XXXX')``: masked, never the full number."""
        return f"Cpr({self.masked!r})"


@dataclass(frozen=True, slots=True)
class Cvr:
    """A Danish CVR number: 8 digits, not starting with 0, with a valid modulus-11 check."""

    value: str

    def __post_init__(self) -> None:
        """Check the invariant with ``stdnum.dk.cvr.validate``."""
        if not isinstance(self.value, str):
            raise TypeError(f"Cvr.value must be a str, got {type(self.value).__name__}")
        if not re.fullmatch(r"[0-9]{8}", self.value):
            raise ValidationError(
                f"CVR-nummer skal have 8 cifre / CVR must have 8 digits, got {self.value!r}",
                code="invalid-cvr",
            )
        try:
            stdnum_cvr.validate(self.value)
        except StdnumValidationError as exc:
            raise ValidationError(
                f"Ugyldigt CVR-nummer / invalid CVR {self.value}: {exc}",
                code="invalid-cvr",
            ) from exc

    @classmethod
    def parse(cls, text: str) -> Cvr:
        """Read a CVR from "13585628", "DK 13 58 56 28", "DK-27630308", "DK: 21599336" and similar.

        Raises ValidationError (code "invalid-cvr") for a wrong length, non-digits, a leading 0,
        a failing modulus-11 check or a doubled prefix ("DK DK 20646446").
        """
        if not isinstance(text, str):
            raise TypeError(f"Cvr.parse needs a str, got {type(text).__name__}")
        return cls(stdnum_cvr.compact(text))

    @property
    def formatted(self) -> str:
        """The number as "DK13585628" (VAT style)."""
        return f"DK{self.value}"

    def __str__(self) -> str:
        """The 8 digits (a CVR is public, no masking)."""
        return self.value


def parse_debtor_id(text: str) -> Cpr | Cvr:
    """Read a debtor's number: 10 digits → CPR, 8 digits (optionally "DK"-prefixed) → CVR.

    Raises ValidationError (code "invalid-debtor-id") when the text is neither length, or the
    CPR/CVR error when it has the length but is invalid.
    """
    if not isinstance(text, str):
        raise TypeError(f"parse_debtor_id needs a str, got {type(text).__name__}")
    cpr_digits = stdnum_cpr.compact(text)
    if re.fullmatch(r"[0-9]{10}", cpr_digits):
        return Cpr(cpr_digits)
    cvr_digits = stdnum_cvr.compact(text)
    if re.fullmatch(r"[0-9]{8}", cvr_digits):
        return Cvr(cvr_digits)
    raise ValidationError(
        "Debitor-id skal være et CPR-nummer (10 cifre) eller et CVR-nummer (8 cifre) / "
        "debtor id must be a CPR (10 digits) or a CVR (8 digits)",
        code="invalid-debtor-id",
    )


_CPR_IN_TEXT = re.compile(
    r"(?<![0-9])(?<![0-9][ -])(?P<number>(?:[0-9][ -]?){9}[0-9])(?![ -]?[0-9])"
)
"""Ten digits with or without separators (space or hyphen) between them: every form that
:meth:`Cpr.parse` accepts ("211062-5629", "2110625629", "211062 5629", "21 10 62 56 29")."""


def mask_cprs_in_text(text: str) -> str:
    """Replace whatever looks like a CPR in ``text`` with its masked form "DDMMYY-XXXX".

    Masked: every "DDMMYY-SSSS" (6 digits, hyphen, 4 digits), whatever its date, because the
    hyphenated form is how CPRs are written; and every run of ten digits, with or without
    spaces or hyphens between them (every form :meth:`Cpr.parse` accepts), whose first six
    form a valid CPR birth date (replacement numbers included). Longer digit runs (FIK payment
    IDs, account numbers) and ten-digit runs without a valid date are left alone.
    """

    def replace(match: re.Match[str]) -> str:
        number = match["number"]
        digits = number.replace(" ", "").replace("-", "")
        canonical = re.fullmatch(r"[0-9]{6}-[0-9]{4}", number) is not None
        if canonical or cpr_birth_date(digits) is not None:
            return f"{digits[:6]}-XXXX"
        return number

    return _CPR_IN_TEXT.sub(replace, text)
