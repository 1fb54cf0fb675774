"""How values look on the page: money, dates, and the shop's words for enum values."""

from datetime import datetime

from models.group import GroupType, MembershipSource

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
SOURCE_LABELS = {
    MembershipSource.MANUAL: "Manual",
    MembershipSource.RULE: "Rule",
    MembershipSource.BOTH: "Rule + Manual",
}


def money(cents: int, *, symbol: str = "$") -> str:
    """Whole currency units, as the shop's lists show them ("$245,678")."""
    sign = "-" if cents < 0 else ""
    return f"{sign}{symbol}{round(abs(cents) / 100):,}"


def month_year(value: datetime | None) -> str:
    return value.strftime("%b %Y") if value else "—"


def long_date(value: datetime | None) -> str:
    return f"{value:%B} {value.day}, {value.year}" if value else "—"


def count(n: int, singular: str, plural: str | None = None) -> str:
    return f"{n:,} {singular if n == 1 else plural or singular + 's'}"
