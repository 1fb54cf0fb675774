"""The audit log: who changed what and when, with the values before and after.

Services call `record` once per change of a group, rule, benefits, promotion, setting, staff
account or API token, inside the change's own transaction where it has one. Values are stored as
JSON (dates and enums as text); passwords, token secrets and their hashes are never passed in.
Only who manages staff (the shop's owner) reads the log.
"""

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.expressions import Q

from models.audit import AuditEntry
from services.paging import Page, page_bounds
from services.staff.actor import Acting, Actor, Permission, require

SUBJECT_TYPES = {
    "group": "Groups",
    "rule": "Rules",
    "benefits": "Benefits",
    "promotion": "Promotions",
    "settings": "Settings",
    "staff": "Staff",
    "api_token": "API tokens",
}

_ACTION_TEXT = {
    "group.created": "Created group {name}",
    "group.updated": "Updated group {name}",
    "group.deleted": "Deleted group {name}",
    "rule.updated": "Changed the rule of group {name}",
    "rule.restored": "Restored an earlier rule of group {name}",
    "benefits.updated": "Updated the benefits of group {name}",
    "promotion.created": "Created promotion {name}",
    "promotion.updated": "Updated promotion {name}",
    "promotion.deleted": "Deleted promotion {name}",
    "settings.updated": "Updated the shop settings",
    "staff.invited": "Invited {name}",
    "staff.owner_created": "Created the owner account of {name}",
    "staff.role_changed": "Changed the role of {name}",
    "staff.deactivated": "Deactivated {name}",
    "staff.reactivated": "Reactivated {name}",
    "staff.password_changed": "Changed the password of {name}",
    "api_token.created": "Created API token {name}",
    "api_token.revoked": "Revoked API token {name}",
    "webhook.created": "Added webhook {name}",
    "webhook.updated": "Changed webhook {name}",
    "webhook.deleted": "Deleted webhook {name}",
}


@dataclass(frozen=True)
class FieldChange:
    field: str
    before: Any
    after: Any


@dataclass(frozen=True)
class AuditRow:
    id: int
    at: datetime
    actor_id: int | None
    actor_name: str
    action: str
    subject_type: str
    subject_id: int | None
    subject_name: str
    before: dict | None
    after: dict | None

    @property
    def summary(self) -> str:
        """What happened, in words: "Updated group VIP Customers"."""
        template = _ACTION_TEXT.get(self.action)
        if template is None:
            return f"{self.action} {self.subject_name}".strip()
        return template.format(name=self.subject_name)

    @property
    def changes(self) -> list[FieldChange]:
        """Only the fields whose value differs between before and after."""
        return changed_fields(self.before, self.after)


def json_safe(value: Any) -> Any:
    """`value` as plain JSON: dates, enums and decimals become text, tuples and sets lists."""
    if isinstance(value, Enum):  # before str and int: StrEnum and IntEnum are both
        return json_safe(value.value)
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {str(key): json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [json_safe(item) for item in value]
        return sorted(items, key=json.dumps) if isinstance(value, set | frozenset) else items
    if hasattr(value, "model_dump"):  # a pydantic model
        return json_safe(value.model_dump(mode="json"))
    return str(value)


def changed_fields(before: dict | None, after: dict | None) -> list[FieldChange]:
    before, after = before or {}, after or {}
    keys = list(before) + [key for key in after if key not in before]
    return [FieldChange(key, before.get(key), after.get(key)) for key in keys if before.get(key) != after.get(key)]


async def record(
    *,
    actor: Acting,
    action: str,
    subject_type: str,
    subject_id: int | None,
    subject_name: str,
    before: dict | None,
    after: dict | None,
    connection: BaseDBAsyncClient | None = None,
) -> None:
    """Add one entry to the log (in `connection`'s transaction when given, so it commits with the change)."""
    await AuditEntry.create(
        at=datetime.now(UTC),
        actor_id=actor.id if isinstance(actor, Actor) else None,
        actor_name=str(actor)[:120],
        action=action,
        subject_type=subject_type,
        subject_id=subject_id,
        subject_name=(subject_name or "")[:200],
        before=json_safe(before),
        after=json_safe(after),
        using_db=connection,
    )


async def _may_read(actor: Acting) -> None:
    await require(actor, Permission.MANAGE_STAFF)  # the log names staff, their emails and every change


def _moment(value: date | datetime, *, end: bool) -> datetime:
    """A date filter as a moment: a plain day covers all of it (until the end of `until`)."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    start = datetime.combine(value, time.min, tzinfo=UTC)
    if end and value == date.max:  # there is no day after 9999-12-31: the last moment there is
        return datetime.max.replace(tzinfo=UTC)
    return start + timedelta(days=1) if end else start


def _filtered(*, subject_type: str | None, actor_name: str | None, search: str, since: date | None, until: date | None):
    query = AuditEntry.all()
    if subject_type:
        query = query.filter(subject_type=subject_type)
    if actor_name:
        query = query.filter(actor_name=actor_name)
    if text := search.strip():
        query = query.filter(
            Q(subject_name__icontains=text) | Q(action__icontains=text) | Q(actor_name__icontains=text)
        )
    if since is not None:
        query = query.filter(at__gte=_moment(since, end=False))
    if until is not None:
        bound = _moment(until, end=True)
        query = query.filter(at__lt=bound) if not isinstance(until, datetime) else query.filter(at__lte=bound)
    return query


def _row(entry: AuditEntry) -> AuditRow:
    return AuditRow(
        id=entry.id,
        at=entry.at,
        actor_id=entry.actor_id,
        actor_name=entry.actor_name,
        action=entry.action,
        subject_type=entry.subject_type,
        subject_id=entry.subject_id,
        subject_name=entry.subject_name,
        before=entry.before,
        after=entry.after,
    )


async def list_audit(
    *,
    actor: Acting,
    subject_type: str | None = None,
    actor_name: str | None = None,
    search: str = "",
    since: date | datetime | None = None,
    until: date | datetime | None = None,
    page: int = 1,
    per_page: int = 25,
) -> Page[AuditRow]:
    """The log, newest first, narrowed by what changed, who changed it, text and dates (inclusive days)."""
    await _may_read(actor)
    query = _filtered(subject_type=subject_type, actor_name=actor_name, search=search, since=since, until=until)
    offset, limit = page_bounds(page, per_page)
    total = await query.count()
    entries = await query.order_by("-at", "-id").offset(offset).limit(limit)
    return Page(rows=[_row(entry) for entry in entries], total=total, page=max(page, 1), per_page=limit)


async def audit_people(*, actor: Acting) -> list[str]:
    """Everyone who appears in the log, for the "person" filter."""
    await _may_read(actor)
    names = await AuditEntry.all().distinct().order_by("actor_name").values_list("actor_name", flat=True)
    return list(names)
