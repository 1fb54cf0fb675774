"""How values look on the page beyond the shop's wording: how long ago, file sizes, a moment near now,
and reading a typed day. Money, counts, dates and labels are worded in services.wording, which the
services and CSV files use too."""

from datetime import UTC, date, datetime

from services.wording import count, date_time


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


def typed_day(text: str | None) -> date | None:
    """The day a date field holds ("2026-03-05"; the picker may write "2026/03/05"), or None when
    it is empty or not a day."""
    try:
        return date.fromisoformat(text.replace("/", "-")) if text else None
    except ValueError:
        return None
