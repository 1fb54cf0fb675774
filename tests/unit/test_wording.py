"""Money, counts, dates and labels in words: no database, just the text a page shows."""

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from models.group import MembershipSource
from services.wording import (
    SOURCE_LABELS,
    amount_text,
    count,
    currency_symbol,
    date_time,
    day_range,
    long_date,
    money,
    month_year,
    short_date,
)


@pytest.mark.parametrize(
    ("cents", "cents_shown", "text"),
    [
        (24_567_800, "never", "$245,678"),
        (24_567_849, "never", "$245,678"),
        (24_567_851, "never", "$245,679"),
        (649, "always", "$6.49"),
        (3_200, "always", "$32.00"),
        (123_450, "always", "$1,234.50"),
        (10_000_000, "if_any", "$100,000"),
        (1_250, "if_any", "$12.50"),
        (0, "if_any", "$0"),
    ],
)
def test_us_dollars_read_as_the_pages_always_showed_them(cents, cents_shown, text):
    assert money(cents, currency="USD", cents_shown=cents_shown) == text


def test_cents_are_shown_only_when_there_are_some_unless_asked():
    assert money(1_250, currency="USD") == "$12.50"
    assert money(1_200, currency="USD") == "$12"


def test_whole_units_round_half_to_even_like_the_lists_did():
    assert [money(c, currency="USD", cents_shown="never") for c in (50, 150, 250, 24_567_750)] == [
        "$0",
        "$2",
        "$2",
        "$245,678",
    ]


def test_a_negative_amount_has_its_sign_before_the_symbol():
    assert money(-123_450, currency="USD", cents_shown="always") == "-$1,234.50"
    assert money(-123_450, currency="USD", cents_shown="never") == "-$1,234"
    assert money(-123_450, currency="USD") == "-$1,234.50"


def test_other_currencies_use_their_own_symbol():
    assert money(24_567_800, currency="EUR", cents_shown="never") == "€245,678"
    assert money(649, currency="EUR", cents_shown="always") == "€6.49"
    assert money(24_567_800, currency="CAD", cents_shown="never") == "CA$245,678"
    assert money(-1_250, currency="GBP") == "-£12.50"


def test_a_symbol_ending_in_a_letter_is_set_apart_from_the_digits():
    assert money(125_000, currency="CHF") == "CHF\u00a01,250"
    assert currency_symbol("CHF") == "CHF\u00a0"


def test_the_input_prefix_is_the_currency_symbol():
    assert [currency_symbol(c) for c in ("USD", "EUR", "CAD")] == ["$", "€", "CA$"]


def test_an_input_shows_the_amount_without_its_symbol():
    assert [amount_text(c) for c in (10_000_000, 1_250)] == ["100,000", "12.50"]
    assert amount_text(1_250, cents_shown="never") == "12"
    assert amount_text(1_200, cents_shown="always") == "12.00"


def test_counts_pick_singular_or_plural():
    assert count(1, "customer") == "1 customer"
    assert count(0, "customer") == "0 customers"
    assert count(2_500, "customer") == "2,500 customers"
    assert count(3, "was", "were") == "3 were"
    assert count(1, "was", "were") == "1 was"


def test_dates_read_the_same_on_every_page_in_utc():
    assert long_date(date(2026, 3, 5)) == "March 5, 2026"
    assert short_date(date(2026, 12, 25)) == "Dec 25, 2026"
    assert month_year(datetime(2026, 3, 5, tzinfo=UTC)) == "Mar 2026"
    assert date_time(datetime(2026, 3, 5, 14, 7, tzinfo=UTC)) == "Mar 5, 2026, 14:07"
    two_hours_east = timezone(timedelta(hours=2))
    assert date_time(datetime(2026, 3, 5, 16, 7, tzinfo=two_hours_east)) == "Mar 5, 2026, 14:07"
    assert long_date(None) == "—"


def test_a_member_came_by_rule_by_hand_or_both():
    assert [SOURCE_LABELS[source] for source in MembershipSource] == ["Manual", "Rule", "Rule + Manual"]


def test_a_range_of_days_says_a_shared_month_or_year_once():
    assert day_range(date(2026, 3, 5), date(2026, 3, 7)) == "Mar 5 \u2013 7, 2026"
    assert day_range(date(2025, 12, 5), date(2026, 1, 7)) == "Dec 5, 2025 \u2013 Jan 7, 2026"
    assert day_range(date(2026, 3, 5), date(2026, 3, 5)) == "Mar 5, 2026"
