"""core.text: what free text from people may hold."""

from __future__ import annotations

import pydantic
import pytest

from fbs_debitor.core.text import CONTROL, MultiLine, SingleLine, readable


class Note(pydantic.BaseModel):
    by: SingleLine = ""
    note: MultiLine = ""


@pytest.mark.parametrize("text", ["Hans Hansen", "æøå ÆØÅ – €", "a" * 10])
def test_ordinary_text_is_readable(text: str) -> None:
    assert readable(text, 10) is (len(text) <= 10)
    assert Note(by=text, note=text).by == text


@pytest.mark.parametrize("bad", ["nul\x00here", "bell\x07", "esc\x1b[0m", "del\x7f", "\ud800"])
def test_control_characters_and_lone_surrogates_are_refused(bad: str) -> None:
    assert not readable(bad, 100)
    with pytest.raises(pydantic.ValidationError, match="control characters"):
        Note(by=bad)
    with pytest.raises(pydantic.ValidationError, match="control characters"):
        Note(note=bad)


def test_a_note_may_have_line_breaks_and_tabs_a_name_may_not() -> None:
    assert Note(note="first line\r\n\tsecond").note == "first line\r\n\tsecond"
    assert readable("a\nb", 10, CONTROL)
    with pytest.raises(pydantic.ValidationError):
        Note(by="Hans\nHansen")


def test_empty_and_too_long() -> None:
    assert not readable("", 10)
    assert not readable("x" * 11, 10)
    assert Note().by == ""  # an empty default is the field's business, not the check's
