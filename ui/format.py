"""How values look on the page: dates, sizes, and the shop's words for enum values. Money and counts
are worded in services.wording, which the services use too."""

from datetime import UTC, datetime

from models.group import GroupType, MembershipSource
from services.wording import count

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


def month_year(value: datetime | None) -> str:
    return value.strftime("%b %Y") if value else "—"


def long_date(value: datetime | None) -> str:
    return f"{value:%B} {value.day}, {value.year}" if value else "—"


def date_time(value: datetime | None) -> str:
    """Date and time to the minute ("Mar 5, 2026, 14:07"), in UTC as stored."""
    return f"{value:%b} {value.day}, {value.year}, {value:%H:%M}" if value else "—"


def relative_time(value: datetime, *, now: datetime | None = None) -> str:
    """How long ago, roughly ("just now", "5 minutes ago", "3 weeks ago", "2 years ago")."""
    now = now or datetime.now(value.tzinfo)
    seconds = int((now - value).total_seconds())
    if seconds < 0:
        return "in the future"
    if seconds < 60:
        return "just now"
    for unit, size in (
        ("year", 365 * 86400),
        ("month", 30 * 86400),
        ("week", 7 * 86400),
        ("day", 86400),
        ("hour", 3600),
    ):
        if seconds >= size:
            return f"{count(seconds // size, unit)} ago"
    return f"{count(seconds // 60, 'minute')} ago"


def file_size(size: int) -> str:
    """A file's size as people read it ("2.1 MB", "640 KB", "512 bytes")."""
    if size < 1024:
        return f"{size:,} bytes"
    for unit in ("KB", "MB", "GB"):
        size /= 1024
        if size < 1024 or unit == "GB":
            return f"{size:,.0f} {unit}" if size >= 100 else f"{size:.1f} {unit}"
    raise AssertionError("returned in the loop")


def day_and_time(value: datetime, *, now: datetime | None = None) -> str:
    """A moment near now by day name ("today 03:00 UTC", "yesterday 23:10 UTC", "tomorrow 03:00 UTC"),
    others by date ("Mar 5, 2026, 03:00 UTC"). In UTC, as stored."""
    value = value.astimezone(UTC)
    days = (value.date() - (now or datetime.now(UTC)).astimezone(UTC).date()).days
    day = {-1: "yesterday", 0: "today", 1: "tomorrow"}.get(days)
    return f"{day} {value:%H:%M} UTC" if day else f"{date_time(value)} UTC"
