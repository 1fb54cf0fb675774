"""What is wrong with a group's input, without a database: the facts it is checked against are
read first (services.groups.group reads them), then `problems` returns a message per field, the
keys and words the group form and the API show: "name", "code", "parent_id", "capacity",
"status", "type", "rule" for the whole rule and "rule:<path>" for one of its conditions, "metadata"
for the custom data as a whole and "metadata.<key>" for one of its keys."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from models.group import RULE_TYPES, GroupStatus, GroupType
from services.groups.fields import GroupInput, metadata_problems
from services.groups.rungs import too_few_rungs
from services.rules.model import Condition, RuleError, parse_rule, rule_json, walk


@dataclass(frozen=True)
class GroupFacts:
    """What the checks of one group's input need to know of the shop's groups."""

    group_id: int | None = None  # the group edited; None: a new one
    name_keys: frozenset[str] = frozenset()  # the other groups' names, as name_key gives them
    codes: frozenset[str] = frozenset()  # the other groups' codes
    parents: Mapping[int, int | None] = field(default_factory=dict)  # every group's parent, by id
    ladders: Mapping[int, str] = field(default_factory=dict)  # the ladders' groups: id -> name
    members: int = 0  # the edited group's members now
    is_default: bool = False  # the edited group is the shop's default group
    reads: Mapping[int, set[int]] = field(default_factory=dict)  # other groups' rules: the groups they read


def name_key(name: str) -> str:
    """A name as uniqueness sees it: spaces folded, letter case ignored."""
    return " ".join(name.split()).casefold()


def parsed_input(data: GroupInput | Mapping[str, Any]) -> tuple[GroupInput | None, dict[str, str]]:
    """The input as a GroupInput, or None and the message of each field that did not parse."""
    if isinstance(data, GroupInput):
        return data, {}
    try:
        return GroupInput.model_validate(data), {}
    except ValidationError as error:
        errors: dict[str, str] = {}
        for item in error.errors():
            key = str(item["loc"][0]) if item["loc"] else "form"
            errors.setdefault(key, item["msg"].removeprefix("Value error, "))
        return None, errors


def problems(data: GroupInput | Mapping[str, Any], facts: GroupFacts) -> dict[str, str]:
    """Every problem of the input at once, each at its field: the fields' own rules first, then
    uniqueness and the hierarchy; with the whole input parsed, capacity, the default group and the
    rule too."""
    parsed, errors = parsed_input(data)
    raw = parsed.model_dump() if parsed else data
    if "metadata" in errors and (found := metadata_problems(raw.get("metadata"))):
        del errors["metadata"]  # the first problem only: each key's own message says more
        errors.update(found)
    name = " ".join(str(raw.get("name") or "").split())
    code = str(raw.get("code") or "").strip().upper()
    parent_id = raw.get("parent_id") if isinstance(raw.get("parent_id"), int) else None
    if "name" not in errors and name_key(name) in facts.name_keys:
        errors["name"] = f'A group named "{name}" already exists.'
    if "code" not in errors and code in facts.codes:
        errors["code"] = f'The code "{code}" is already used by another group.'
    if "parent_id" not in errors and (
        problem := parent_problem(parent_id, facts) or rung_problem(name, parent_id, facts)
    ):
        errors["parent_id"] = problem
    if parsed is None:
        return errors
    if facts.group_id is not None:
        errors.update(capacity_problems(parsed.capacity, members=facts.members))
    if facts.is_default:
        errors.update(default_group_problems(parsed))
    if parsed.type in RULE_TYPES and facts.group_id in facts.ladders:
        errors["type"] = ladder_type_problem(facts.ladders[facts.group_id])
    elif parsed.type in RULE_TYPES:
        errors.update(rule_problems(parsed.rule, facts))
    return errors


def ladder_type_problem(name: str) -> str:
    """A ladder's own group stays manual: it holds nobody, and a rule of its own would put customers
    in it beside its rungs."""
    return (
        f"{name} is a ladder: its customers are on its rungs, one each, so it takes no rule of its own. "
        "Give the rule to one of its rungs, or turn the ladder off first."
    )


def metadata_pairs(pairs: list[tuple[str, str]]) -> tuple[dict[str, str], dict[str, str]]:
    """Custom data entered as rows of key and value (the group page's editor): the data, and a
    message at "metadata.<key>" for a key given twice. Rows left empty are dropped; keys are
    trimmed."""
    data: dict[str, str] = {}
    found: dict[str, str] = {}
    for key, value in pairs:
        key, value = key.strip(), value.strip()
        if not key and not value:
            continue
        if key in data:
            found.setdefault(f"metadata.{key}", f"The key “{key}” is given twice: keep one.")
        data[key] = value
    return data, found


def parent_problem(parent_id: int | None, facts: GroupFacts) -> str | None:
    if parent_id is None:
        return None
    if parent_id not in facts.parents:
        return "The chosen parent group no longer exists."
    # Walk up from the proposed parent; meeting this group means the move makes a cycle.
    if facts.group_id is not None and reaches_up(parent_id, facts.group_id, facts.parents):
        return "A group cannot sit under itself or one of its own subgroups."
    return None


def rung_problem(name: str, parent_id: int | None, facts: GroupFacts) -> str | None:
    """A rung moved out of its ladder that would leave it fewer than two rungs (services.groups.rungs
    refuses it in the saving transaction too, in the same words)."""
    left = facts.parents.get(facts.group_id) if facts.group_id is not None else None
    if left == parent_id or left not in facts.ladders:
        return None
    rungs = sum(1 for parent in facts.parents.values() if parent == left)
    return too_few_rungs(group=name, ladder=facts.ladders[left], rungs=rungs)


def reaches_up(start: int, target: int, parents: Mapping[int, int | None]) -> bool:
    """Whether `target` is `start` or one of its ancestors."""
    seen, current = set(), start
    while current is not None and current not in seen:
        if current == target:
            return True
        seen.add(current)
        current = parents.get(current)
    return False


def capacity_problems(capacity: int | None, *, members: int) -> dict[str, str]:
    """A capacity below the members the group has now."""
    if capacity is None or members <= capacity:
        return {}
    return {
        "capacity": f"The group has {members:,} members already: set at least {members:,}, or remove members first."
    }


def default_group_problems(data: GroupInput) -> dict[str, str]:
    """The default group receives customers moved to it by hand ("Move to default group"): it must
    stay active and not automatic while it is the default (as Settings requires when choosing it)."""
    found = {}
    if data.status != GroupStatus.ACTIVE:
        found["status"] = (
            "This is the shop's default group, which must stay active: choose another default in Settings first."
        )
    if data.type == GroupType.AUTOMATIC:
        found["type"] = (
            "This is the shop's default group, into which customers are moved by hand, so it cannot be automatic: "
            "choose another default in Settings first."
        )
    return found


def rule_problems(raw: dict | None, facts: GroupFacts) -> dict[str, str]:
    """What is wrong with a rule-based group's rule: "rule" for the whole, "rule:<path>" per condition."""
    if not raw:
        return {"rule": "An automatic or hybrid group needs a rule: add at least one condition."}
    try:
        rule = parse_rule(raw)
    except RuleError as error:
        found = {f"rule:{path}" if path else "rule": text for path, text in error.errors.items()}
        found.setdefault("rule", "Some conditions need your attention.")
        return found
    found = {
        f"rule:{path}": problem
        for path, item in walk(rule)
        if isinstance(item, Condition) and item.field == "member_of"
        if (problem := _member_of_problem(item.value, facts))
    }
    if found:
        found.setdefault("rule", "Some conditions need your attention.")
    return found


def _member_of_problem(group_ids: list[int], facts: GroupFacts) -> str | None:
    """What is wrong with a "Member of Group" condition naming `group_ids`."""
    group_id = facts.group_id
    if group_id is not None and group_id in group_ids:
        return "A group's rule cannot depend on the group itself."
    if missing := [gid for gid in group_ids if gid not in facts.parents]:
        return f"{len(missing)} of the chosen groups no longer exist."
    if group_id is not None and reads_reach(group_ids, group_id, facts.reads):
        return "A chosen group's own rule depends on this group, which would go round in a circle."
    return None


def reads_reach(start: list[int], target: int, reads: Mapping[int, set[int]]) -> bool:
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


def normalised(data: GroupInput) -> GroupInput:
    """The checked input as it is saved: a rule-based group's rule in its stored form; a manual
    group has no rule (its saved versions stay restorable)."""
    rule = rule_json(parse_rule(data.rule)) if data.type in RULE_TYPES else None
    return data.model_copy(update={"rule": rule})
