"""Customer groups: list, read, create, edit and delete."""

import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator
from tortoise.exceptions import IntegrityError
from tortoise.expressions import F
from tortoise.functions import Count
from tortoise.transactions import in_transaction

from models.group import (
    RULE_TYPES,
    CustomerGroup,
    GroupStatus,
    GroupType,
    Membership,
    MembershipAction,
    MembershipEvent,
    RuleVersion,
)
from services.benefits.summary import overview_summaries
from services.errors import ChangedMeanwhileError, FormError, NotFoundError
from services.membership.books import settle_primaries
from services.promotions import drafts_after_losing
from services.rules.model import Condition, RuleError, group_ids_read, parse_rule, rule_json, walk
from services.rules.runs import apply_rule_with_readers, rule_readers
from services.staff.actor import Acting, Permission, actor_name, require
from services.staff.audit import record
from services.storage.conflicts import retried_on_conflict
from services.text import plain_lines, plain_text

CODE_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9_-]{0,31}$")
NAME_MAX = 100
DESCRIPTION_MAX = 2000


logger = logging.getLogger(__name__)

SortKey = Literal["name", "code", "type", "members", "status"]


class GroupInput(BaseModel):
    """What the owner enters on the "Basic information" step."""

    model_config = ConfigDict(str_strip_whitespace=True)

    name: str
    code: str
    description: str = ""
    status: GroupStatus = GroupStatus.ACTIVE
    parent_id: int | None = None
    type: GroupType = GroupType.MANUAL
    rule: dict | None = None  # checked in _validated, where each condition's problem gets its place
    # The most members a group has; empty: no limit. By hand and by rule alike: a rule run fills the
    # free places and reports the matches it turned away (see services.rules.runs).
    capacity: int | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        # Spaces, tabs and line breaks fold into single spaces; invisible marks that reorder text on
        # screen are refused, as in a customer's name.
        value = plain_text(" ".join(value.split()), label="Name", limit=NAME_MAX)
        if not value:
            raise ValueError("Enter a group name.")
        return value

    @field_validator("code")
    @classmethod
    def _code(cls, value: str) -> str:
        value = value.upper()
        if not value:
            raise ValueError("Enter a group code.")
        if not CODE_PATTERN.fullmatch(value):
            raise ValueError("Use up to 32 letters, digits, '-' or '_', starting with a letter or digit.")
        return value

    @field_validator("capacity")
    @classmethod
    def _capacity(cls, value: int | None) -> int | None:
        if value is not None and value < 1:
            raise ValueError("Enter a whole number of at least 1, or leave it empty for no limit.")
        return value

    @field_validator("description")
    @classmethod
    def _description(cls, value: str) -> str:
        return plain_lines(value, label="Description", limit=DESCRIPTION_MAX)


@dataclass(frozen=True)
class GroupRow:
    id: int
    name: str
    code: str
    type: GroupType
    status: GroupStatus
    members: int
    pricing: str
    visibility: str
    is_default: bool
    parent_name: str | None


@dataclass(frozen=True)
class GroupOverview:
    rows: list[GroupRow]
    total_groups: int
    total_customers: int


@dataclass(frozen=True)
class GroupDetail:
    id: int
    name: str
    code: str
    description: str
    status: GroupStatus
    type: GroupType
    parent_id: int | None
    parent_name: str | None
    is_default: bool
    rule: dict | None
    created_at: datetime
    updated_at: datetime
    version: int
    members: int
    children: list[str]
    rule_version: int = 0
    rule_applied_version: int = 0
    rule_ran_at: datetime | None = None
    rule_joined: int = 0
    rule_left: int = 0
    capacity: int | None = None

    @property
    def uses_rule(self) -> bool:
        return self.type in RULE_TYPES

    def as_input(self) -> GroupInput:
        return GroupInput(
            name=self.name,
            code=self.code,
            description=self.description,
            status=self.status,
            parent_id=self.parent_id,
            type=self.type,
            rule=self.rule,
            capacity=self.capacity,
        )


@dataclass(frozen=True)
class GroupChoice:
    id: int
    name: str


@dataclass(frozen=True)
class DeleteResult:
    name: str
    released: int
    reparented: int
    drafted_promotions: tuple[str, ...] = ()  # promotions left without targets, now drafts


def name_key(name: str) -> str:
    return " ".join(name.split()).casefold()


def suggest_code(name: str) -> str:
    """A code from a name: its words in capitals joined by '-' ("Gold Tier" -> "GOLD-TIER")."""
    words = re.findall(r"[A-Za-z0-9]+", name)
    return "-".join(word.upper() for word in words)[:32].strip("-")


async def list_groups(
    *,
    search: str = "",
    status: GroupStatus | None = None,
    type: GroupType | None = None,
    sort: SortKey = "name",
    descending: bool = False,
) -> GroupOverview:
    """All groups with their member counts, for the overview table."""
    # One read of all groups: parents' names come from it too, and a shop has tens of groups.
    everything = await CustomerGroup.all().values(
        "id", "name", "code", "type", "status", "is_default", "parent_id", "member_count"
    )
    names = {g["id"]: g["name"] for g in everything}
    needle = search.strip().casefold()
    groups = [
        g
        for g in everything
        if (not status or g["status"] == status)
        and (not type or g["type"] == type)
        and (not needle or needle in g["name"].casefold() or needle in g["code"].casefold())
    ]
    benefits = await overview_summaries()  # a few reads for all groups, none per group
    rows = [
        GroupRow(
            id=g["id"],
            name=g["name"],
            code=g["code"],
            type=GroupType(g["type"]),
            status=GroupStatus(g["status"]),
            members=g["member_count"],
            pricing=benefits.get(g["id"], ("Standard", "Standard"))[0],
            visibility=benefits.get(g["id"], ("Standard", "Standard"))[1],
            is_default=g["is_default"],
            parent_name=names.get(g["parent_id"]),
        )
        for g in groups
    ]
    sort_keys = {
        "name": lambda r: r.name.casefold(),
        "code": lambda r: r.code,
        "type": lambda r: (r.type.value, r.name.casefold()),
        "members": lambda r: (r.members, r.name.casefold()),
        "status": lambda r: (r.status.value, r.name.casefold()),
    }
    rows.sort(key=sort_keys[sort], reverse=descending)
    ids = [r.id for r in rows]
    total_customers = 0
    if ids:
        # Unfiltered, the count reads the (customer_id, ...) index in order; a group_id IN (...) filter
        # makes the database sort a million ids first (about 6x slower at 1M memberships).
        query = Membership.all() if len(ids) == len(everything) else Membership.filter(group_id__in=ids)
        result = await query.annotate(n=Count("customer_id", distinct=True)).first().values("n")
        total_customers = result["n"] if result else 0
    return GroupOverview(rows=rows, total_groups=len(rows), total_customers=total_customers)


async def group_choices(*, exclude_id: int | None = None, takes_members: bool = False) -> list[GroupChoice]:
    """Groups to pick from (e.g. as a parent), by name; `takes_members`: only those customers can be
    moved into by hand (active, manual or hybrid)."""
    query = CustomerGroup.all().order_by("name")
    if takes_members:
        query = query.filter(status=GroupStatus.ACTIVE, type__in=[GroupType.MANUAL, GroupType.HYBRID])
    if exclude_id is not None:
        query = query.exclude(id=exclude_id)
    return [GroupChoice(id=i, name=n) for i, n in await query.values_list("id", "name")]


async def default_group_choices() -> list[GroupChoice]:
    """Groups that can be the default group ("move to default group" moves customers into it): the
    ones customers can be moved into by hand."""
    return await group_choices(takes_members=True)


async def get_group(*, group_id: int) -> GroupDetail:
    group = await CustomerGroup.get_or_none(id=group_id).select_related("parent")
    if group is None:
        raise NotFoundError(f"There is no group with id {group_id}.")
    children = await CustomerGroup.filter(parent_id=group_id).order_by("name").values_list("name", flat=True)
    return GroupDetail(
        id=group.id,
        name=group.name,
        code=group.code,
        description=group.description,
        status=group.status,
        type=group.type,
        parent_id=group.parent_id,
        parent_name=group.parent.name if group.parent else None,
        is_default=group.is_default,
        rule=group.rule,
        created_at=group.created_at,
        updated_at=group.updated_at,
        version=group.version,
        members=group.member_count,
        children=list(children),
        rule_version=group.rule_version,
        rule_applied_version=group.rule_applied_version,
        rule_ran_at=group.rule_ran_at,
        rule_joined=group.rule_joined,
        rule_left=group.rule_left,
        capacity=group.capacity,
    )


async def _validated(data: GroupInput | dict, *, group_id: int | None) -> GroupInput:
    """The input, checked: form rules first, then uniqueness and hierarchy, which need the
    database. Every problem is reported at once, each at its field."""
    errors: dict[str, str] = {}
    parsed: GroupInput | None = data if isinstance(data, GroupInput) else None
    if parsed is None:
        try:
            parsed = GroupInput.model_validate(data)
        except ValidationError as error:
            for item in error.errors():
                field = str(item["loc"][0]) if item["loc"] else "form"
                errors.setdefault(field, item["msg"].removeprefix("Value error, "))
    raw = parsed.model_dump() if parsed else data
    name = " ".join(str(raw.get("name") or "").split())
    code = str(raw.get("code") or "").strip().upper()
    parent_id = raw.get("parent_id") if isinstance(raw.get("parent_id"), int) else None

    others = CustomerGroup.exclude(id=group_id) if group_id else CustomerGroup.all()
    if "name" not in errors and await others.filter(name_key=name_key(name)).exists():
        errors["name"] = f'A group named "{name}" already exists.'
    if "code" not in errors and await others.filter(code=code).exists():
        errors["code"] = f'The code "{code}" is already used by another group.'
    if "parent_id" not in errors and parent_id is not None:
        parents = dict(await CustomerGroup.all().values_list("id", "parent_id"))
        if parent_id not in parents:
            errors["parent_id"] = "The chosen parent group no longer exists."
        elif group_id is not None:
            # Walk up from the proposed parent; meeting this group means the move makes a cycle.
            seen, current = set(), parent_id
            while current is not None and current not in seen:
                if current == group_id:
                    errors["parent_id"] = "A group cannot sit under itself or one of its own subgroups."
                    break
                seen.add(current)
                current = parents.get(current)
    if parsed is not None and group_id is not None and "capacity" not in errors:
        errors.update(await _capacity_problems(parsed.capacity, group_id=group_id))
    if parsed is not None and group_id is not None:
        errors.update(await _default_group_problems(parsed, group_id=group_id))
    if parsed is not None and parsed.type in RULE_TYPES:
        errors.update(await _rule_problems(parsed.rule, group_id=group_id))
    if errors or parsed is None:
        raise FormError(errors)
    if parsed.type in RULE_TYPES:
        parsed.rule = rule_json(parse_rule(parsed.rule))
    else:
        parsed.rule = None  # a manual group has no rule; its saved versions stay restorable
    return parsed


async def _capacity_problems(capacity: int | None, *, group_id: int) -> dict[str, str]:
    """A capacity below the members the group has now. Asked again in the saving transaction, which
    holds the group: members added since the form was checked count too."""
    if capacity is None:
        return {}
    members = await Membership.filter(group_id=group_id).count()
    if members <= capacity:
        return {}
    return {
        "capacity": f"The group has {members:,} members already: set at least {members:,}, or remove members first."
    }


async def _default_group_problems(data: GroupInput, *, group_id: int) -> dict[str, str]:
    """The default group receives customers moved to it by hand ("Move to default group"): it must
    stay active and not automatic while it is the default (as Settings requires when choosing it)."""
    if not await CustomerGroup.filter(id=group_id, is_default=True).exists():
        return {}
    problems = {}
    if data.status != GroupStatus.ACTIVE:
        problems["status"] = (
            "This is the shop's default group, which must stay active: choose another default in Settings first."
        )
    if data.type == GroupType.AUTOMATIC:
        problems["type"] = (
            "This is the shop's default group, into which customers are moved by hand, so it cannot be automatic: "
            "choose another default in Settings first."
        )
    return problems


async def _rule_problems(raw: dict | None, *, group_id: int | None) -> dict[str, str]:
    """What is wrong with a rule-based group's rule: "rule" for the whole, "rule:<path>" per condition."""
    if not raw:
        return {"rule": "An automatic or hybrid group needs a rule: add at least one condition."}
    try:
        rule = parse_rule(raw)
    except RuleError as error:
        problems = {f"rule:{path}" if path else "rule": text for path, text in error.errors.items()}
        problems.setdefault("rule", "Some conditions need your attention.")
        return problems
    problems: dict[str, str] = {}
    reads = {gid: group_ids_read(parse_rule(r)) for gid, r in await _rules_by_group() if gid != group_id}
    existing = set(await CustomerGroup.all().values_list("id", flat=True))
    for path, item in walk(rule):
        if not isinstance(item, Condition) or item.field != "member_of":
            continue
        if group_id is not None and group_id in item.value:
            problems[f"rule:{path}"] = "A group's rule cannot depend on the group itself."
        elif missing := [gid for gid in item.value if gid not in existing]:
            problems[f"rule:{path}"] = f"{len(missing)} of the chosen groups no longer exist."
        elif group_id is not None and _reaches(item.value, group_id, reads):
            problems[f"rule:{path}"] = (
                "A chosen group's own rule depends on this group, which would go round in a circle."
            )
    if problems:
        problems.setdefault("rule", "Some conditions need your attention.")
    return problems


async def _rules_by_group() -> list[tuple[int, dict]]:
    rows = await CustomerGroup.filter(rule__not_isnull=True, type__in=list(RULE_TYPES)).values_list("id", "rule")
    return [(gid, rule) for gid, rule in rows if rule]


def _reaches(start: list[int], target: int, reads: dict[int, set[int]]) -> bool:
    """Whether following "reads" from `start` arrives at `target`."""
    seen, todo = set(), list(start)
    while todo:
        current = todo.pop()
        if current == target:
            return True
        if current not in seen:
            seen.add(current)
            todo += reads.get(current, ())
    return False


def _unique_violation(data: GroupInput, error: IntegrityError) -> FormError:
    # Two saves can pass _validated at the same moment; the unique index then decides.
    text = str(error).lower()
    if "code" in text:
        return FormError({"code": f'The code "{data.code}" is already used by another group.'})
    return FormError({"name": f'A group named "{data.name}" already exists.'})


async def _record_rule_version(group: CustomerGroup, rule: dict | None, *, actor: str, note: str = "") -> bool:
    """Keep `rule` as the group's next version if it differs from the last one. True if it did."""
    if rule is None:
        return False
    last = await RuleVersion.filter(group_id=group.id).order_by("-number").first()
    if last is not None and last.rule == rule:
        return False
    number = (last.number if last else 0) + 1
    await RuleVersion.create(group_id=group.id, number=number, rule=rule, author=actor, at=datetime.now(UTC), note=note)
    await CustomerGroup.filter(id=group.id).update(rule_version=number)
    return True


def _columns(data: GroupInput) -> dict:
    """The group's columns as the owner entered them (validated)."""
    return {
        "name": data.name,
        "name_key": name_key(data.name),
        "code": data.code,
        "description": data.description,
        "status": data.status,
        "parent_id": data.parent_id,
        "type": data.type,
        "rule": data.rule,
        "capacity": data.capacity,
    }


async def _audited(group_id: int) -> dict | None:
    """What the audit log keeps of a group."""
    row = (
        await CustomerGroup.filter(id=group_id)
        .first()
        .values("name", "code", "description", "type", "status", "parent__name", "capacity", "rule")
    )
    if row is None:
        return None
    return {key.removesuffix("__name"): value for key, value in row.items()}


@retried_on_conflict
async def create_group(*, data: GroupInput | dict, actor: Acting) -> GroupDetail:
    await require(actor, Permission.MANAGE_GROUPS)
    data = await _validated(data, group_id=None)
    if data.rule is not None:
        await require(actor, Permission.MANAGE_RULES)
    who, actor = actor, actor_name(actor)
    try:
        async with in_transaction("default") as connection:
            group = await CustomerGroup.create(**_columns(data))
            await _record_rule_version(group, data.rule, actor=actor)
            await record(
                actor=who,
                action="group.created",
                subject_type="group",
                subject_id=group.id,
                subject_name=group.name,
                before=None,
                after=await _audited(group.id),
                connection=connection,
            )
    except IntegrityError as error:
        raise _unique_violation(data, error) from None
    await _apply_rule_if_due(group.id, actor=who, force=True)
    return await get_group(group_id=group.id)


@retried_on_conflict
async def update_group(
    *,
    group_id: int,
    version: int,
    data: GroupInput | dict,
    actor: Acting,
    rule_note: str = "",
    rule_action: str = "rule.updated",
) -> GroupDetail:
    """Save an edit made on `version` of the group; refuses if someone saved in between. A changed
    rule is kept as a new rule version in the same transaction, and needs the rules permission.
    The audit log keeps the group's fields as "group.updated" and a changed rule, before and after,
    as `rule_action` ("rule.restored" when restoring a rule version)."""
    await require(actor, Permission.MANAGE_GROUPS)
    before = await CustomerGroup.filter(id=group_id).first().values("type", "status", "rule")
    if before is None:
        raise NotFoundError("This group was deleted meanwhile.")
    data = await _validated(data, group_id=group_id)
    if data.rule != before["rule"]:
        await require(actor, Permission.MANAGE_RULES)
    who, actor = actor, actor_name(actor)
    try:
        async with in_transaction("default") as connection:
            old = await _audited(group_id)
            updated = await CustomerGroup.filter(id=group_id, version=version).update(
                **_columns(data),
                updated_at=datetime.now(UTC),
                version=F("version") + 1,
            )
            if not updated:
                raise ChangedMeanwhileError("This group was changed by someone else after you opened it.")
            if problems := await _capacity_problems(data.capacity, group_id=group_id):
                raise FormError(problems)
            await _record_rule_version(await CustomerGroup.get(id=group_id), data.rule, actor=actor, note=rule_note)
            new = await _audited(group_id)
            old_rule, new_rule = old.pop("rule"), new.pop("rule")
            entries = []
            if old != new or old_rule == new_rule:  # a save that changed nothing is kept too
                entries.append(("group.updated", "group", old, new))
            if old_rule != new_rule:
                entries.append((rule_action, "rule", {"rule": old_rule}, {"rule": new_rule}))
            for action, subject_type, entry_before, entry_after in entries:
                await record(
                    actor=who,
                    action=action,
                    subject_type=subject_type,
                    subject_id=group_id,
                    subject_name=data.name,
                    before=entry_before,
                    after=entry_after,
                    connection=connection,
                )
    except IntegrityError as error:
        raise _unique_violation(data, error) from None
    # A new type or a switch back on changes who belongs even when the rule did not.
    await _apply_rule_if_due(group_id, actor=who, force=(before["type"], before["status"]) != (data.type, data.status))
    return await get_group(group_id=group_id)


async def _apply_rule_if_due(group_id: int, *, actor: Acting, force: bool) -> None:
    """After a committed save: set an active rule-based group's members from its rule when the
    saved rule version is not applied yet (or `force`), then the groups whose rules read it.

    A failure here does not undo the save: it is logged, the group shows an unapplied rule
    version, and the background refresh applies it."""
    group = await CustomerGroup.get_or_none(id=group_id)
    if group is None or group.type not in RULE_TYPES or group.status != GroupStatus.ACTIVE or not group.rule:
        return
    if force or group.rule_applied_version < group.rule_version:
        try:
            await apply_rule_with_readers(group_id=group_id, actor=actor)
        except Exception:
            logger.exception("Saved group %s, but could not apply its rule", group_id)


@retried_on_conflict
async def delete_group(*, group_id: int, actor: Acting, reason: str = "Group deleted") -> DeleteResult:
    """Delete a group: its members are released (each with an event), its subgroups move up to its
    parent. Customers and orders stay. One transaction: all of it happens or none.

    A group whose members another group's rule reads ("Member of Group") is not deleted: that
    rule would silently change meaning. The FormError names the reading groups; change their
    rules first."""
    await require(actor, Permission.MANAGE_GROUPS)
    who, actor = actor, actor_name(actor)
    if readers := await rule_readers(group_id=group_id, transitive=False):
        names = ", ".join(f'"{g.name}"' for g in readers)
        group_name = await CustomerGroup.filter(id=group_id).first().values_list("name", flat=True)
        raise FormError(
            {
                "group": f'"{group_name}" cannot be deleted: the rules of {names} read its members. '
                "Change those rules first."
            }
        )
    async with in_transaction("default") as connection:
        group = await CustomerGroup.get_or_none(id=group_id)
        if group is None:
            raise NotFoundError("This group was already deleted.")
        await record(
            actor=who,
            action="group.deleted",
            subject_type="group",
            subject_id=group.id,
            subject_name=group.name,
            before=await _audited(group_id),
            after=None,
            connection=connection,
        )
        now = datetime.now(UTC)
        memberships = await Membership.filter(group_id=group_id).values("customer_id", "source")
        await MembershipEvent.bulk_create(
            [
                MembershipEvent(
                    customer_id=m["customer_id"],
                    group_id=group.id,
                    group_name=group.name,
                    action=MembershipAction.LEFT,
                    source=m["source"],
                    reason=reason,
                    actor=actor,
                    at=now,
                )
                for m in memberships
            ],
            batch_size=1000,
        )
        await Membership.filter(group_id=group_id).delete()
        await settle_primaries(connection, [m["customer_id"] for m in memberships])
        drafted = await drafts_after_losing(connection, group_id)
        reparented = await CustomerGroup.filter(parent_id=group_id).update(
            parent_id=group.parent_id, version=F("version") + 1
        )
        await group.delete()
    return DeleteResult(
        name=group.name, released=len(memberships), reparented=reparented, drafted_promotions=tuple(drafted)
    )


async def turn_hybrid(*, group_id: int, actor: Acting) -> GroupDetail:
    """Make an automatic group hybrid, so customers can be added and kept out by hand. Its rule and
    members stay as they are."""
    await require(actor, Permission.MANAGE_GROUPS)
    group = await get_group(group_id=group_id)
    if group.type != GroupType.AUTOMATIC:
        return group
    data = group.as_input()
    data.type = GroupType.HYBRID
    return await update_group(group_id=group_id, version=group.version, data=data, actor=actor)
