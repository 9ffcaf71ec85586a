"""Free text from people (notes, reasons, references): what a database can store and a screen
can show.

PostgreSQL refuses a NUL in a text column, and a lone surrogate (possible in JSON) is not UTF-8:
both must be refused at the edge with a clear error, never reach the database as a 500.
:func:`readable` is the check; ``SingleLine`` and ``MultiLine`` are the same check as pydantic
field types (a note may have line breaks and tabs; a name or a reference may not).
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator

CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
"""Control characters other than tab and line breaks."""
CONTROL_OR_NEWLINE = re.compile(r"[\x00-\x1f\x7f]")
"""Every control character."""


def readable(value: str, max_length: int, control: re.Pattern[str] = CONTROL_OR_NEWLINE) -> bool:
    """1 to ``max_length`` characters, valid UTF-8 (no lone surrogate), none of ``control``."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return 1 <= len(value) <= max_length and control.search(value) is None


def _checker(control: re.Pattern[str]) -> AfterValidator:
    def check(value: str) -> str:
        if value and not readable(value, len(value), control):
            raise ValueError("control characters and lone surrogates are not allowed")
        return value

    return AfterValidator(check)


SingleLine = Annotated[str, _checker(CONTROL_OR_NEWLINE)]
"""A pydantic ``str`` without control characters (length limits go in ``Field``)."""
MultiLine = Annotated[str, _checker(CONTROL)]
"""A pydantic ``str`` that may have line breaks and tabs, no other control characters."""
