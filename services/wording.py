"""Money, counts, dates and labels in the shop's words, in one module.

Pages, CSV files, benefit summaries, promotion texts, price traces and rule texts all word amounts;
when each wrote its own, seven of them said "$" whatever the shop's currency. Here the shop's
currency is an argument every caller passes (from `get_shop()`), so a euro shop reads "€245,678"
everywhere and an amount looks the same on every page.

Amounts are integer cents (the currency's hundredths) everywhere else and become text only here.
Babel knows each currency's symbol ("$", "€", "CA$"); the locale is fixed to en_US because every
other word of the app is English.
"""

from datetime import UTC, date, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Literal

from babel.dates import format_date, format_datetime, format_interval
from babel.numbers import format_currency, format_decimal, get_currency_symbol

from models.group import GroupType, MembershipSource

LOCALE = "en_US"

CentsShown = Literal["never", "always", "if_any"]


def money(cents: int, *, currency: str, cents_shown: CentsShown = "if_any") -> str:
    """An amount in the shop's currency, in one of three styles:

    - "never": whole units, rounded ("$245,678"), for lists, totals and reports;
    - "always": to the cent ("$6.49", "$32.00"), for prices and order lines;
    - "if_any": cents only when there are some ("$100,000", "$12.50"), for amounts the owner typed
      (benefit settings, minimum purchases, rule values), shown as entered.
    """
    value, digits = _rounded(cents, cents_shown)
    return format_currency(value, currency, format=f"¤{_gap(currency)}{digits}", locale=LOCALE, currency_digits=False)


def amount_text(cents: int, *, cents_shown: CentsShown = "if_any") -> str:
    """The amount without its symbol ("100,000", "12.50"): what a money input shows as its
    placeholder, next to the symbol in its prefix."""
    value, digits = _rounded(cents, cents_shown)
    return format_decimal(value, format=digits, locale=LOCALE)


def currency_symbol(currency: str) -> str:
    """What stands in front of an amount's digits ("$", "€", "CA$", "CHF "): an input's prefix, a
    chart's axis labels."""
    return get_currency_symbol(currency, locale=LOCALE) + _gap(currency)


def count(n: int, singular: str, plural: str | None = None) -> str:
    """ "1 customer", "2,500 customers"; `plural` where adding "s" is wrong ("1 was", "3 were")."""
    return f"{format_decimal(n, locale=LOCALE)} {singular if n == 1 else plural or singular + 's'}"


def about(n: int) -> str:
    """ "about 230,000": a figure estimated from a sample (a big shop's first rule preview), to two
    significant digits, since the third would claim more than the sample knows."""
    unit = 10 ** max(len(str(abs(n))) - 2, 0)
    return f"about {format_decimal(round(n / unit) * unit, locale=LOCALE)}"


NOTHING = "—"  # what a page shows for a date or value that is not there


def long_date(value: date | datetime | None) -> str:
    """ "March 5, 2026": a day in a sentence ("not valid on ..."), a member's "since"."""
    return format_date(value, "MMMM d, y", locale=LOCALE) if value else NOTHING


def short_date(value: date | datetime | None) -> str:
    """ "Mar 5, 2026": a day in a list, a period's ends."""
    return format_date(value, "MMM d, y", locale=LOCALE) if value else NOTHING


def day_range(first: date, last: date) -> str:
    """Days from `first` to `last`, both included, saying a shared month or year once
    ("Mar 5 to 7, 2026" with a dash; "Mar 5, 2026" for one day)."""
    # CLDR puts thin spaces around the dash; the rest of the app writes plain ones.
    return format_interval(first, last, "yMMMd", locale=LOCALE).replace("\u2009", " ")


def month_year(value: date | datetime | None) -> str:
    """ "Mar 2026": when a customer joined, in a list."""
    return format_date(value, "MMM y", locale=LOCALE) if value else NOTHING


def date_time(value: datetime | None) -> str:
    """Date and time to the minute ("Mar 5, 2026, 14:07"), in UTC as stored."""
    return format_datetime(value, "MMM d, y, HH:mm", tzinfo=UTC, locale=LOCALE) if value else NOTHING


GROUP_TYPE_LABELS = {
    GroupType.MANUAL: "Manual",
    GroupType.AUTOMATIC: "Automatic",
    GroupType.HYBRID: "Hybrid",
}
GROUP_TYPE_LONG = {
    GroupType.MANUAL: "Manual (assign customers manually)",
    GroupType.AUTOMATIC: "Automatic (rule-based assignment)",
    GroupType.HYBRID: "Hybrid (rules + manual overrides)",
}
# How a member came to be in a group, as the members list, its CSV and the history say it.
SOURCE_LABELS = {
    MembershipSource.MANUAL: "Manual",
    MembershipSource.RULE: "Rule",
    MembershipSource.BOTH: "Rule + Manual",
}


def _gap(currency: str) -> str:
    """CLDR puts a no-break space between a symbol ending in a letter and the digits ("CHF 1,250");
    Babel leaves that to the caller, and "CHF1,250" is hard to read."""
    return "\u00a0" if get_currency_symbol(currency, locale=LOCALE)[-1:].isalpha() else ""


def _rounded(cents: int, cents_shown: CentsShown) -> tuple[Decimal, str]:
    """The amount in currency units and the Babel pattern of its digits, for the style."""
    value = Decimal(cents).scaleb(-2)
    if cents_shown == "if_any":
        cents_shown = "always" if cents % 100 else "never"
    if cents_shown == "always":
        return value, "#,##0.00"
    # Half to even, as the pages have always rounded (Python's round) and as CLDR does.
    return value.quantize(Decimal(1), rounding=ROUND_HALF_EVEN), "#,##0"
