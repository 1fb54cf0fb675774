"""Whole days and calendar months between two moments, as rules count them.

The compiler turns "Account Age is at least 12 months" into a bound on created_at, and the
explainer computes the customer's age; both use these functions, so they agree at every boundary.

Days and months are counted in UTC, the zone moments are stored in. SQLite compares stored
datetimes as text and Tortoise passes a filter's datetime as given, so a bound in another zone
("2024-05-01 01:30:00+02:00") would be compared with "2024-04-30 23:30:00+00:00" letter by letter.
"""

import calendar
from datetime import UTC, datetime, timedelta

DAY = timedelta(days=1)


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC) if moment.tzinfo else moment


def months_before(moment: datetime, months: int) -> datetime:
    """The same day and time (UTC) `months` calendar months earlier (the 31st becomes the month's last day)."""
    moment = _utc(moment)
    index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(index, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def days_before(moment: datetime, days: int) -> datetime:
    return _utc(moment) - days * DAY


def whole_days(since: datetime, now: datetime) -> int:
    """Whole days from `since` to `now`: the largest n with since <= now - n days."""
    return (_utc(now) - _utc(since)) // DAY


def whole_months(since: datetime, now: datetime) -> int:
    """Whole calendar months from `since` to `now`: the largest n with since <= months_before(now, n)."""
    now, since = _utc(now), _utc(since)
    n = (now.year - since.year) * 12 + now.month - since.month
    while since > months_before(now, n):
        n -= 1
    while since <= months_before(now, n + 1):
        n += 1
    return n
