"""Whole days and calendar months between two moments, as rules count them.

The compiler turns "Account Age is at least 12 months" into a bound on created_at, and the
explainer computes the customer's age; both use these functions, so they agree at every boundary.
"""

import calendar
from datetime import datetime, timedelta

DAY = timedelta(days=1)


def months_before(moment: datetime, months: int) -> datetime:
    """The same day and time `months` calendar months earlier (the 31st becomes the month's last day)."""
    index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(index, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def days_before(moment: datetime, days: int) -> datetime:
    return moment - days * DAY


def whole_days(since: datetime, now: datetime) -> int:
    """Whole days from `since` to `now`: the largest n with since <= now - n days."""
    return (now - since) // DAY


def whole_months(since: datetime, now: datetime) -> int:
    """Whole calendar months from `since` to `now`: the largest n with since <= months_before(now, n)."""
    n = (now.year - since.year) * 12 + now.month - since.month
    while since > months_before(now, n):
        n -= 1
    while since <= months_before(now, n + 1):
        n += 1
    return n
