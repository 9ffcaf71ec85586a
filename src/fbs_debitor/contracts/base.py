"""The base of every contract: frozen, strict, versioned by its ``MESSAGE_TYPE``."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict, field_validator


class Contract(BaseModel):
    """A message's payload. ``MESSAGE_TYPE`` is ``<context>.<Name>.v<version>``; a change that
    an old reader cannot read gets a new version, and both are accepted while receivers move.

    municipality: the kommunekode the message belongs to (3 digits).
    occurred_at:  when the business event happened (aware UTC; the sender's clock).
    """

    model_config = ConfigDict(frozen=True, extra="forbid", strict=False)

    MESSAGE_TYPE: ClassVar[str] = ""
    ORDERED: ClassVar[bool] = False
    """Whether messages of this type are ordered per claim (``ordering_key`` + ``sequence``)."""

    municipality: str
    occurred_at: datetime

    @field_validator("municipality")
    @classmethod
    def _kommunekode(cls, value: str) -> str:
        if len(value) != 3 or not value.isdigit():
            raise ValueError("municipality must be a 3-digit kommunekode")
        return value

    @field_validator("occurred_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("occurred_at must carry a timezone")
        return value

    def to_payload(self) -> dict[str, Any]:
        """The JSON form (dates as ISO text, amounts as integer øre)."""
        return self.model_dump(mode="json")

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> Self:
        return cls.model_validate(payload)
