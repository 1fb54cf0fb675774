"""The bounds every entity's field declarations share (services.groups.fields,
services.promotions.fields): the API publishes them in its OpenAPI document and refuses what
lies outside them; the services check the same fields with a message for the owner."""

from datetime import date
from typing import Annotated, Any

from pydantic import BeforeValidator, Field

MAX_ID = 2**31 - 1  # ids and counts are stored as 32-bit integers
MAX_CENTS = 10**13
MAX_QUANTITY = 1_000_000
TEXT = r"\S"  # at least one character that is not a space

# Numbers are JSON numbers: strict, so false is not taken for 0 nor "5" for 5.
Id = Annotated[int, Field(ge=1, le=MAX_ID, strict=True)]


def _day_as_text(value: Any) -> Any:
    # Pydantic's lax mode would take a number for a day (0 is 1970-01-01): a day is "YYYY-MM-DD".
    if isinstance(value, int | float):
        raise ValueError("Send the day as text, YYYY-MM-DD.")
    return value


# A day as ISO text (or a date), never a number.
Day = Annotated[date, BeforeValidator(_day_as_text)]
