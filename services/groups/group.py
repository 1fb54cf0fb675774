"""Customer groups: list, read, create, edit and delete."""

import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from pydantic import ConfigDict
from tortoise import connections
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
from services.counted import database_of, highest_id, kept_count
from services.errors import ChangedMeanwhileError, FormError, NotFoundError
from services.groups.checks import GroupFacts, capacity_problems, name_key, normalised, parsed_input, problems
from services.groups.fields import EDITABLE, GroupBase, GroupInput
from services.groups.rungs import (
    changed_rungs,
    keep_enough_rungs,
    lock_ladders,
    number_rungs,
    off_ladder,
    place_rungs,
)
from services.membership.books import one_at_a_time_if_one_group, settle_primaries
from services.promotions import drafts_after_losing
from services.report_totals import membership_changed
from services.rules.model import group_ids_read, parse_rule
from services.rules.runs import apply_readers, apply_rule_with_readers, rule_readers
from services.staff.actor import Acting, Permission, actor_name, require
from services.staff.audit import record
from services.storage.conflicts import retried_on_conflict
from services.storage.sql import fetch_rows, is_postgres
from services.webhooks import outbox

__all__ = ["GroupInput", "name_key"]  # where the pages and the demo shop have always found them

logger = logging.getLogger(__name__)

SortKey = Literal["name", "code", "type", "members", "status"]


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


class GroupDetail(GroupBase):
    """A group as its page shows it: its editable fields (GroupBase) and what the shop keeps of it."""

    model_config = ConfigDict(frozen=True)

    id: int
    parent_name: str | None
    is_default: bool
    created_at: datetime
    updated_at: datetime
    version: int
    members: int
    children: list[str]
    is_ladder: bool = False  # its subgroups are a ladder's rungs (services.rules.ladders); it takes no one by hand
    rule_version: int = 0
    rule_applied_version: int = 0
    rule_ran_at: datetime | None = None
    rule_joined: int = 0
    rule_left: int = 0

    @property
    def uses_rule(self) -> bool:
        return self.type in RULE_TYPES

    def as_input(self) -> GroupInput:
        return GroupInput.model_validate(self.model_dump(include=set(EDITABLE)))


@dataclass(frozen=True)
class GroupChoice:
    id: int
    name: str
    is_ladder: bool = False

    @property
    def label(self) -> str:
        """The name as a picker shows it: a ladder's group says so, as choosing it as a parent makes a
        rung ("Tiered Customers (ladder)")."""
        return f"{self.name} (ladder)" if self.is_ladder else self.name


@dataclass(frozen=True)
class DeleteResult:
    name: str
    released: int
    reparented: int
    drafted_promotions: tuple[str, ...] = ()  # promotions left without targets, now drafts


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
    total_customers = 0
    sizes = {g["id"]: g["member_count"] for g in everything}
    holding = [r.id for r in rows if r.members]
    if len(holding) == 1:  # one group's members are counted once already: its kept count
        total_customers = next(r.members for r in rows if r.id == holding[0])
    elif holding:
        # With every group that has members in view (a filter may leave out only empty ones), the
        # count reads the (customer_id, ...) index in order; a group_id IN (...) filter makes the
        # database sort a million ids first (about 6x slower at 1M memberships).
        every = all(g["id"] in holding for g in everything if g["member_count"])
        query = Membership.all() if every else Membership.filter(group_id__in=holding)

        async def distinct() -> int:
            result = await query.annotate(n=Count("customer_id", distinct=True)).first().values("n")
            return result["n"] if result else 0

        # Counted again only after a membership changed (services.counted): at 1M memberships the
        # count reads them all (about 50 ms on SQLite), which the overview paid on every load.
        connection = connections.get("default")
        marker = (await highest_id(connection, "membership_event"), tuple(sorted(sizes.items())))
        key = ("customers in groups", database_of(connection), tuple(sorted(holding)))
        total_customers = await kept_count(key, marker, distinct)
    return GroupOverview(rows=rows, total_groups=len(rows), total_customers=total_customers)


async def group_choices(*, exclude_id: int | None = None, takes_members: bool = False) -> list[GroupChoice]:
    """Groups to pick from (e.g. as a parent), by name; `takes_members`: only those customers can be
    moved into by hand (active, manual or hybrid, and no ladder's group: its customers are on its
    rungs, which are offered themselves)."""
    query = CustomerGroup.all().order_by("name")
    if takes_members:
        query = query.filter(status=GroupStatus.ACTIVE, type__in=[GroupType.MANUAL, GroupType.HYBRID], is_ladder=False)
    if exclude_id is not None:
        query = query.exclude(id=exclude_id)
    return [
        GroupChoice(id=i, name=n, is_ladder=lad) for i, n, lad in await query.values_list("id", "name", "is_ladder")
    ]


async def default_group_choices() -> list[GroupChoice]:
    """Groups that can be the default group ("move to default group" moves customers into it): the
    ones customers can be moved into by hand."""
    return await group_choices(takes_members=True)


async def get_group(*, group_id: int) -> GroupDetail:
    group = await CustomerGroup.get_or_none(id=group_id).select_related("parent")
    if group is None:
        raise NotFoundError(f"There is no group with id {group_id}.")
    children = await CustomerGroup.filter(parent_id=group_id).order_by("name").values_list("name", flat=True)
    read = [name for name in GroupDetail.model_fields if name not in ("parent_name", "members", "children")]
    return GroupDetail.model_validate(
        {name: getattr(group, name) for name in read}
        | {"parent_name": group.parent.name if group.parent else None, "members": group.member_count}
        | {"children": list(children)}
    )


async def _validated(data: GroupInput | dict, *, group_id: int | None) -> GroupInput:
    """The input, checked against the facts read for it (services.groups.checks): every problem
    is reported at once, each at its field."""
    parsed, _ = parsed_input(data)
    if errors := problems(data, await _facts(parsed, group_id=group_id)):
        raise FormError(errors)
    return normalised(parsed)


async def check_group(*, data: GroupInput | dict, group_id: int | None) -> dict[str, str]:
    """The problems saving `data` would meet, each at its field, without saving anything: the
    wizard checks each step's own fields on Continue with the same words the save would use."""
    parsed, _ = parsed_input(data)
    return problems(data, await _facts(parsed, group_id=group_id))


async def _facts(parsed: GroupInput | None, *, group_id: int | None) -> GroupFacts:
    """What the checks of an input need from the database; the rules of other groups only for a
    rule-based group, the members only for an edit that sets a capacity."""
    rows = await CustomerGroup.all().values_list("id", "parent_id", "name_key", "code", "is_default")
    others = [row for row in rows if row[0] != group_id]
    uses_rule = parsed is not None and parsed.type in RULE_TYPES
    return GroupFacts(
        group_id=group_id,
        name_keys=frozenset(key for _, _, key, _, _ in others),
        codes=frozenset(code for _, _, _, code, _ in others),
        parents={gid: parent for gid, parent, _, _, _ in rows},
        ladders=dict(await CustomerGroup.filter(is_ladder=True).values_list("id", "name")),
        members=await _members(group_id) if parsed is not None and parsed.capacity is not None else 0,
        is_default=any(is_default for gid, _, _, _, is_default in rows if gid == group_id),
        reads={gid: group_ids_read(parse_rule(r)) for gid, r in await _rules_by_group() if gid != group_id}
        if uses_rule
        else {},
    )


async def _members(group_id: int | None) -> int:
    return 0 if group_id is None else await Membership.filter(group_id=group_id).count()


async def _capacity_problems(capacity: int | None, *, group_id: int) -> dict[str, str]:
    """A capacity below the members the group has now. Asked again in the saving transaction, which
    holds the group: members added since the form was checked count too."""
    if capacity is None:
        return {}
    return capacity_problems(capacity, members=await _members(group_id))


async def _rules_by_group() -> list[tuple[int, dict]]:
    rows = await CustomerGroup.filter(rule__not_isnull=True, type__in=list(RULE_TYPES)).values_list("id", "rule")
    return [(gid, rule) for gid, rule in rows if rule]


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
    return data.model_dump(include=set(EDITABLE)) | {"name_key": name_key(data.name)}


async def _audited(group_id: int) -> dict | None:
    """What the audit log keeps of a group."""
    row = (
        await CustomerGroup.filter(id=group_id)
        .first()
        .values("name", "code", "description", "type", "status", "parent__name", "capacity", "metadata", "rule")
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
            # Under a ladder's group: its bottom rung (empty yet: the rule's run below places it).
            await number_rungs(connection, ladder_id=data.parent_id, newcomers=[group.id])
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
            await outbox.group_created(connection, group_id=group.id)
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
    before = await CustomerGroup.filter(id=group_id).first().values("type", "status", "rule", "parent_id")
    if before is None:
        raise NotFoundError("This group was deleted meanwhile.")
    data = await _validated(data, group_id=group_id)
    # A changed parent may leave or join a ladder (services.groups.rungs), whose run moves members as
    # a rule run does: the rules permission too, as making a ladder needs.
    moving = data.parent_id != before["parent_id"]
    ladders = [gid for gid in (before["parent_id"], data.parent_id) if gid is not None] if moving else []
    touches_ladder = bool(ladders) and await CustomerGroup.filter(id__in=ladders, is_ladder=True).exists()
    if data.rule != before["rule"] or touches_ladder:
        await require(actor, Permission.MANAGE_RULES)
    who, actor = actor, actor_name(actor)
    runs = []
    try:
        async with in_transaction("default") as connection:
            if moving:
                await one_at_a_time_if_one_group(connection)
                await lock_ladders(connection, ladders)
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
            if moving:  # the version check above: the parent left is the one read before
                await keep_enough_rungs(connection, ladder_id=before["parent_id"], group=data.name, field="parent_id")
                await off_ladder(connection, [group_id])
                runs.append(await place_rungs(connection, ladder_id=before["parent_id"], actor=actor))
                runs.append(await place_rungs(connection, ladder_id=data.parent_id, newcomers=[group_id], actor=actor))
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
            await outbox.group_updated(connection, group_id=group_id)
    except IntegrityError as error:
        raise _unique_violation(data, error) from None
    await _apply_readers_of(runs, actor=who)
    # A new type or a switch back on changes who belongs even when the rule did not (unless the
    # group joined a ladder above, whose run applied its rule).
    joined_ladder = bool(runs) and runs[-1] is not None
    force = (before["type"], before["status"]) != (data.type, data.status) and not joined_ladder
    await _apply_rule_if_due(group_id, actor=who, force=force)
    return await get_group(group_id=group_id)


async def _apply_readers_of(runs: list, *, actor: Acting) -> None:
    """After a committed move or deletion that ran ladders: the rules reading the rungs whose
    members changed run again. A failure is logged (the periodic refresh catches up), as after a
    change by hand."""
    if changed := changed_rungs(runs):
        try:
            await apply_readers(group_ids=changed, actor=actor)
        except Exception:
            logger.exception("Ran the ladders, but could not re-run the rules that read rungs %s", changed)


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
    rules first.

    Ladders (services.groups.rungs): a rung's ladder numbers its rungs again and places everyone
    in the same transaction (its released members may land on another rung), refused (FormError at
    "group") when it would keep fewer than two rungs; a ladder's rungs become plain groups, members
    kept; subgroups moving up under a ladder become its bottom rungs."""
    await require(actor, Permission.MANAGE_GROUPS)
    facts = await CustomerGroup.filter(id=group_id).first().values("is_ladder", "parent__is_ladder")
    if facts and (facts["is_ladder"] or facts["parent__is_ladder"]):
        await require(actor, Permission.MANAGE_RULES)  # as a ladder's changes do
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
        await one_at_a_time_if_one_group(connection)
        group = await CustomerGroup.get_or_none(id=group_id)
        if group is None:
            raise NotFoundError("This group was already deleted.")
        await lock_ladders(connection, [group.parent_id])
        if is_postgres(connection):
            # The group's own row before its members are read: a writer adding members holds it
            # (FOR NO KEY UPDATE) until it commits, so none of theirs escapes its "left" event, its
            # report span's end and its primary settled. SQLite's transaction holds the write lock.
            await fetch_rows(connection, "SELECT id FROM customer_group WHERE id = ? FOR UPDATE", group_id)
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
        await membership_changed(connection, group_ids=[group.id], at=now)
        await Membership.filter(group_id=group_id).delete()
        await settle_primaries(connection, [m["customer_id"] for m in memberships])
        drafted = await drafts_after_losing(connection, group_id)
        children = await CustomerGroup.filter(parent_id=group_id).using_db(connection).values_list("id", flat=True)
        reparented = await CustomerGroup.filter(parent_id=group_id).update(
            parent_id=group.parent_id, version=F("version") + 1
        )
        await group.delete()
        await keep_enough_rungs(connection, ladder_id=group.parent_id, group=group.name, field="group", deleting=True)
        if group.is_ladder:
            await off_ladder(connection, children)
        run = await place_rungs(connection, ladder_id=group.parent_id, newcomers=children, actor=actor)
        await outbox.group_deleted(connection, group_id=group.id, name=group.name, code=group.code, at=now)
    await _apply_readers_of([run], actor=who)
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
