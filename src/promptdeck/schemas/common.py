"""Shared pieces of the wire models: base classes, checked text, names, pages, problems, times."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any, Generic, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
)

from promptdeck import limits
from promptdeck.domain import values

T = TypeVar("T")


ModelConfig = dict[str, Any]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, protected_namespaces=())


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True, populate_by_name=True, protected_namespaces=())


def _check_model_config(value: ModelConfig | None) -> ModelConfig | None:
    return None if value is None else values.check_model_config(value)


def _name_of_at_most(most: int) -> Any:
    def check(value: str) -> str:
        value = values.check_name(value)
        if not 1 <= len(value) <= most:
            raise ValueError(f"must be 1 to {most} characters (after NFC normalization)")
        return value

    return AfterValidator(check)


# Every text a request can store goes through domain/values.py (one validation point for
# the API, the UI, the CLI through the API, and import).
Text = Annotated[str, AfterValidator(values.check_text)]


VersionName = Annotated[
    str,
    Field(min_length=1, max_length=limits.VERSION_NAME_MAX),
    _name_of_at_most(limits.VERSION_NAME_MAX),
]


TagName = Annotated[
    str, Field(min_length=1, max_length=limits.TAG_MAX), _name_of_at_most(limits.TAG_MAX)
]


Description = Annotated[Text, Field(max_length=limits.DESCRIPTION_MAX)]


Content = Annotated[Text, Field(max_length=limits.CONTENT_MAX)]


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(
        description="Pass as ?cursor= to get the next page; null on the last page."
    )


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    field: str | None = None
    errors: list[dict[str, Any]] | None = None


def _iso_8601_only(value: Any) -> Any:
    """A time in a query is ISO 8601 text: pydantic would also read a bare number as seconds
    since 1970, which the schema (format date-time) does not allow."""
    if isinstance(value, str) and not _ISO_DATE.match(value):
        raise ValueError("must be an ISO 8601 time, e.g. 2026-11-25T10:00:00Z")
    return value


def _in_utc(value: datetime) -> datetime:
    """The time in UTC; one written without an offset is UTC (times are UTC throughout).
    Naive, it would fail against stored times; past year 9999 or before year 1 once in UTC
    (9999-12-31T23:59:59-01:00), it cannot be held at all."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError as exc:
        raise ValueError("must be a time between the years 1 and 9999 in UTC") from exc


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")


IsoDatetime = Annotated[datetime, BeforeValidator(_iso_8601_only), AfterValidator(_in_utc)]


ConfigIn = Annotated[dict[str, Any], AfterValidator(values.check_model_config)]


Actor = Annotated[Text, Field(max_length=limits.ACTOR_MAX)]
