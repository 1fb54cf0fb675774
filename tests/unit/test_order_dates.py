"""An order's date reads the same however a shop platform writes it: every shape the importer
accepts, compared with the date its parts name (no database)."""

import itertools
from datetime import UTC, datetime, timedelta, timezone

import pytest

from services.imports.orders import MOMENT, _moment

DAYS = ["2024-01-05", "2024-1-5", "2024/01/05", "2024.12.31", "2024-02-29", "2023-02-29"]
TIMES = ["", " 10:11", "T10:11", " 10:11:12", "T10:11:12.5", " 10:11:12.123456", " 10:11:12.1234567", " 1:02", " 24:00"]
ZONES = ["", "Z", " UTC", " GMT", " +0000", "+00:00", "-0530", " -05:30", "+0100"]


def _named(text: str) -> datetime | None:
    """The moment the text's parts name, read part by part; None for a day or hour that does not exist."""
    year, month, day, hour, minute, second, fraction, offset = MOMENT.match(text).groups()
    zone = UTC
    if offset and offset.upper() not in ("Z", "UTC", "GMT"):
        digits = offset[1:].replace(":", "")
        sign = -1 if offset[0] == "-" else 1
        zone = timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))
    try:
        moment = datetime(
            int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0),
            int((fraction or "0")[:6].ljust(6, "0")), tzinfo=zone,
        )  # fmt: skip
    except ValueError:
        return None
    return moment.astimezone(UTC)


@pytest.mark.parametrize("text", ["".join(parts) for parts in itertools.product(DAYS, TIMES, ZONES)])
def test_an_order_date_is_the_moment_its_parts_name(text):
    expected = _named(text)
    if expected is None:
        with pytest.raises(ValueError, match="is not a date that exists"):
            _moment(text)
    else:
        moment = _moment(text)
        assert moment == expected and moment.utcoffset() == timedelta(0)


def test_a_date_in_no_shape_we_read_says_how_to_write_it():
    with pytest.raises(ValueError, match="write it as YYYY-MM-DD"):
        _moment("5 January 2024")
