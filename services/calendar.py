"""The shop's calendar: which day an order falls on, a year back, the months a period touches.

Days are UTC days, the calendar promotions' dates and reports' periods are kept in. Month and year
steps use dateutil's relativedelta, which knows that a year before February 29 is February 28 and
that the month after January 31 is February, so no page or report counts months by hand."""

from collections.abc import Iterator
from datetime import UTC, date, datetime

from dateutil.relativedelta import relativedelta


def order_day(at: date | datetime | None) -> date:
    """The UTC day of an order placed `at` (today when not given); a naive time is taken as UTC."""
    if at is None:
        return datetime.now(UTC).date()
    if isinstance(at, datetime):
        return at.astimezone(UTC).date() if at.tzinfo else at.date()
    return at


def year_before(day: date) -> date:
    """The same day a year earlier (February 29 becomes February 28)."""
    return day - relativedelta(years=1)


def months(start: date, end: date) -> Iterator[tuple[date, date]]:
    """Each month from `start`'s up to `end` (exclusive) that begins before `end`: its first day
    and the first day of the month after."""
    month = start.replace(day=1)
    while month < end:
        following = month + relativedelta(months=1)
        yield month, following
        month = following
