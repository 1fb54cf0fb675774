"""The shop's calendar without a database: order days, a year back, the months a period touches."""

from datetime import UTC, date, datetime, timedelta, timezone

from services.calendar import months, order_day, year_before


def test_an_order_falls_on_its_utc_day():
    late_in_new_york = datetime(2026, 3, 5, 22, 30, tzinfo=timezone(timedelta(hours=-5)))
    assert order_day(late_in_new_york) == date(2026, 3, 6)
    assert order_day(datetime(2026, 3, 5, 22, 30)) == date(2026, 3, 5)  # naive: already UTC
    assert order_day(date(2026, 3, 5)) == date(2026, 3, 5)
    assert order_day(None) == datetime.now(UTC).date()


def test_a_year_before_a_leap_day_is_the_last_day_of_february():
    assert year_before(date(2028, 2, 29)) == date(2027, 2, 28)
    assert year_before(date(2026, 12, 6)) == date(2025, 12, 6)


def test_a_period_touches_each_month_it_reaches_into():
    assert list(months(date(2026, 1, 31), date(2026, 3, 2))) == [
        (date(2026, 1, 1), date(2026, 2, 1)),
        (date(2026, 2, 1), date(2026, 3, 1)),
        (date(2026, 3, 1), date(2026, 4, 1)),
    ]
    assert list(months(date(2026, 12, 15), date(2027, 1, 1))) == [(date(2026, 12, 1), date(2027, 1, 1))]
