"""The versions of a group's rule: every saved rule is kept, and an earlier one can be restored."""

from dataclasses import dataclass
from datetime import datetime

from models.group import RULE_TYPES, CustomerGroup, RuleVersion
from services.errors import FormError, NotFoundError
from services.groups.group import GroupDetail, get_group, update_group
from services.staff.actor import Acting, Permission, require


@dataclass(frozen=True)
class RuleVersionRow:
    number: int
    rule: dict
    author: str
    at: datetime
    note: str
    is_current: bool


async def list_rule_versions(*, group_id: int) -> list[RuleVersionRow]:
    """Every saved version of the group's rule, newest first; the one in force is marked."""
    group = await CustomerGroup.get_or_none(id=group_id)
    if group is None:
        raise NotFoundError(f"There is no group with id {group_id}.")
    in_force = group.rule_version if group.type in RULE_TYPES and group.rule else None
    versions = await RuleVersion.filter(group_id=group_id).order_by("-number")
    return [
        RuleVersionRow(
            number=v.number, rule=v.rule, author=v.author, at=v.at, note=v.note, is_current=v.number == in_force
        )
        for v in versions
    ]


async def restore_rule_version(*, group_id: int, number: int, version: int, actor: Acting) -> GroupDetail:
    """Make an earlier rule the group's rule again, as a new version ("Restored from version N"),
    through update_group: the same checks (the rule may read groups deleted since), the same
    guard against a concurrent edit (`version` is the group's version the owner saw), and the
    members follow the restored rule."""
    await require(actor, Permission.MANAGE_RULES)
    group = await get_group(group_id=group_id)
    saved = await RuleVersion.get_or_none(group_id=group_id, number=number)
    if saved is None:
        raise NotFoundError(f"This group has no rule version {number}.")
    if not group.uses_rule:
        raise FormError({"rule": "Make this group automatic or hybrid before restoring a rule."})
    if saved.rule == group.rule:
        raise FormError({"rule": f"Version {number} is already the group's rule."})
    data = group.as_input()
    data.rule = saved.rule
    # Passed on as given, so the audit log names the staff member (one "rule.restored" entry).
    return await update_group(
        group_id=group_id,
        version=version,
        data=data,
        actor=actor,
        rule_note=f"Restored from version {number}",
        rule_action="rule.restored",
    )
