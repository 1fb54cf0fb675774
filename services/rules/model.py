"""The rule language: a tree of ALL/ANY groups of conditions, validated against the field catalog.

A rule is stored as JSON, e.g.

    {"match": "all", "conditions": [
        {"field": "total_purchases", "op": "gt", "value": 5000000},
        {"match": "any", "conditions": [...]}]}

Each problem is reported at the condition it belongs to, by its path: "2" is the third condition
of the top group, "2.0" the first condition inside it, "" the top group itself.
"""

import re
from collections.abc import Callable
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Tag, ValidationError, model_validator

from services.rules.fields import (
    FIELDS,
    LIST_VALUE,
    MAX_CONDITIONS,
    MAX_DEPTH,
    MAX_LIST,
    MAX_MONTHS,
    NO_VALUE,
    OP_LABELS,
    RANGE_VALUE,
    Op,
    RuleField,
    ValueType,
)

MAX_AMOUNT = 10**13  # cents; a hundred billion in the shop's currency
MAX_NUMBER = 1_000_000
COUNTRY_CODE = re.compile(r"^[A-Z]{2}$")
CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class RuleError(ValueError):
    """A rule that cannot be saved or run. `errors` maps a condition's path to what is wrong."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{path or 'rule'}: {text}" for path, text in errors.items()))
        self.errors = errors


def _whole(value: Any, *, what: str, low: int = 0, high: int = MAX_NUMBER) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"Enter {what}.")
    if not low <= value <= high:
        raise ValueError(f"Enter {what} from {low:,} to {high:,}.")
    return value


def _is_int(value: Any) -> bool:
    # bool is an int to Python, but True is not an amount, a count or a group.
    return isinstance(value, int) and not isinstance(value, bool)


def _stripped(value: Any, *, empty: str) -> str:
    """`value` as text without surrounding spaces; `empty` when there is none."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError(empty)
    return value.strip()


def _money(field: RuleField, value: Any) -> int:
    if not _is_int(value):
        raise ValueError("Enter an amount.")
    if not 0 <= value <= MAX_AMOUNT:
        raise ValueError("Enter an amount of 0 or more.")
    return value


def _number(field: RuleField, value: Any) -> int:
    return _whole(value, what="a whole number")


def _days(field: RuleField, value: Any) -> int:
    return _whole(value, what="a number of days", high=36_500)


def _months(field: RuleField, value: Any) -> int:
    return _whole(value, what="a number of months", high=1_200)


def _choice(field: RuleField, value: Any) -> str:
    value = _stripped(value, empty="Choose a value.")
    if field.name == "country":
        # The listed countries are suggestions; any two-letter code is accepted.
        value = value.upper()
        if not COUNTRY_CODE.fullmatch(value):
            raise ValueError("Choose a country (a two-letter code such as US).")
        return value
    if value not in dict(field.choices):
        allowed = ", ".join(label for _, label in field.choices)
        raise ValueError(f"Choose one of: {allowed}.")
    return value


def _text(field: RuleField, value: Any) -> str:
    value = _stripped(value, empty="Enter some text.")
    if len(value) > field.max_length:
        raise ValueError(f"Use at most {field.max_length} characters.")
    if CONTROL.search(value):
        # SQLite's LIKE ends a pattern at a NUL: "contains a\0b" would match every "a".
        raise ValueError("Remove control characters such as tabs or line breaks.")
    return value


def _tag(field: RuleField, value: Any) -> str:
    value = _stripped(value, empty="Enter a tag.").lower()
    if len(value) > 50:
        raise ValueError("A tag has at most 50 characters.")
    return value


def _group(field: RuleField, value: Any) -> int:
    if not _is_int(value):
        raise ValueError("Choose a group.")
    return value


# How one value of each type is checked and normalised.
SCALAR_CHECKS: dict[ValueType, Callable[[RuleField, Any], Any]] = {
    ValueType.MONEY: _money,
    ValueType.NUMBER: _number,
    ValueType.DAYS: _days,
    ValueType.MONTHS: _months,
    ValueType.CHOICE: _choice,
    ValueType.TEXT: _text,
    ValueType.TAGS: _tag,
    ValueType.GROUPS: _group,
}


def _scalar(field: RuleField, value: Any) -> Any:
    """One value of `field`, checked and normalised."""
    check = SCALAR_CHECKS.get(field.type)
    if check is None:  # pragma: no cover - the catalog is closed
        raise ValueError("This field cannot be used in a rule.")
    return check(field, value)


class Condition(BaseModel):
    """One test of one field, e.g. Total Purchases is greater than $50,000."""

    model_config = ConfigDict(extra="forbid")

    field: str
    op: str
    value: Any = None
    months: int | None = None  # only for fields over a "last N months" window

    @property
    def spec(self) -> RuleField:
        return FIELDS[self.field]

    @property
    def operator(self) -> Op:
        return Op(self.op)

    @model_validator(mode="after")
    def _fits_the_catalog(self) -> "Condition":
        field = FIELDS.get(self.field)
        if field is None:
            raise ValueError("Choose a field." if not self.field else f'There is no field "{self.field}".')
        try:
            op = Op(self.op)
        except ValueError:
            op = None
        if op is None or not field.allows(op):
            allowed = ", ".join(OP_LABELS[o] for o in field.ops)
            raise ValueError(f"{field.label} can be compared with: {allowed}.")
        if field.has_months:
            self.months = _whole(self.months, what="a number of months", low=1, high=MAX_MONTHS)
        elif self.months is not None:
            raise ValueError(f"{field.label} has no month window.")

        if op in NO_VALUE:
            self.value = None
        elif op in RANGE_VALUE:
            if not isinstance(self.value, list | tuple) or len(self.value) != 2:
                raise ValueError("Enter both ends of the range.")
            low, high = (_scalar(field, v) for v in self.value)
            if low > high:
                raise ValueError("The first value must not be greater than the second.")
            self.value = [low, high]
        elif op in LIST_VALUE:
            values = self.value if isinstance(self.value, list | tuple) else []
            if not values:
                raise ValueError("Choose at least one value.")
            if len(values) > MAX_LIST:
                raise ValueError(f"Choose at most {MAX_LIST} values.")
            self.value = list(dict.fromkeys(_scalar(field, v) for v in values))
        else:
            if self.value is None or self.value == "":
                raise ValueError("Enter a value.")
            self.value = _scalar(field, self.value)
        return self


def _kind(raw: Any) -> str:
    if isinstance(raw, dict):
        return "group" if "match" in raw or "conditions" in raw else "condition"
    return "group" if isinstance(raw, RuleGroup) else "condition"


class RuleGroup(BaseModel):
    """Conditions joined by AND ("all") or OR ("any"); a group may hold groups."""

    model_config = ConfigDict(extra="forbid")

    match: Literal["all", "any"] = "all"
    conditions: list[
        Annotated[
            Annotated[Condition, Tag("condition")] | Annotated["RuleGroup", Tag("group")],
            Discriminator(_kind),
        ]
    ] = []

    @model_validator(mode="after")
    def _not_empty(self) -> "RuleGroup":
        if not self.conditions:
            raise ValueError("Add at least one condition.")
        return self


def walk(group: RuleGroup, path: str = "") -> list[tuple[str, Condition | RuleGroup]]:
    """Every group and condition under `group` with its path, depth first."""
    found: list[tuple[str, Condition | RuleGroup]] = [(path, group)]
    for index, item in enumerate(group.conditions):
        child = f"{path}.{index}" if path else str(index)
        if isinstance(item, RuleGroup):
            found += walk(item, child)
        else:
            found.append((child, item))
    return found


def _path(location: tuple) -> str:
    # ("conditions", 2, "group", "conditions", 0, "condition", "value") -> "2.0"
    return ".".join(str(part) for part in location if isinstance(part, int))


def _groups_too_deep(raw: dict) -> list[str]:
    """The paths of the outermost groups nested MAX_DEPTH or more levels deep, found without
    recursion and without looking below them."""
    found: list[str] = []
    stack: list[tuple[str, int, Any]] = [("", 0, raw)]
    while stack:
        path, depth, item = stack.pop()
        if _kind(item) != "group":
            continue
        if depth >= MAX_DEPTH:
            found.append(path)
            continue
        conditions = item.get("conditions")
        if isinstance(conditions, list):
            children = [(f"{path}.{i}" if path else str(i), depth + 1, child) for i, child in enumerate(conditions)]
            stack += reversed(children)  # so they come off the stack in order
    return found


def parse_rule(raw: Any) -> RuleGroup:
    """The rule, checked against the catalog, or RuleError naming every bad condition."""
    if isinstance(raw, RuleGroup):
        raw = raw.model_dump()
    if not isinstance(raw, dict):
        raise RuleError({"": "A rule is a group of conditions."})
    if too_deep := _groups_too_deep(raw):
        # Before pydantic and walk() recurse into it: a rule nested thousands of levels deep
        # would exhaust their recursion and bury the one message in a message per level.
        raise RuleError(dict.fromkeys(too_deep, f"Groups can be nested at most {MAX_DEPTH - 1} levels deep."))
    try:
        rule = RuleGroup.model_validate(raw)
    except ValidationError as error:
        errors: dict[str, str] = {}
        for item in error.errors():
            message = item["msg"].removeprefix("Value error, ")
            if item["type"] == "union_tag_invalid" or item["type"] == "model_type":
                message = "This is neither a condition nor a group."
            elif item["type"] == "extra_forbidden":
                message = f'Unknown setting "{item["loc"][-1]}".'
            elif item["type"] == "literal_error":
                message = 'Match must be "all" or "any".'
            elif item["type"] == "missing":
                message = {"field": "Choose a field.", "op": "Choose a comparison."}.get(
                    str(item["loc"][-1]), "Something is missing here."
                )
            errors.setdefault(_path(item["loc"]), message)
        raise RuleError(errors) from None
    errors = {}
    items = walk(rule)
    conditions = [path for path, item in items if isinstance(item, Condition)]
    if len(conditions) > MAX_CONDITIONS:
        errors[""] = f"A rule can have at most {MAX_CONDITIONS} conditions."
    if errors:
        raise RuleError(errors)
    return rule


def group_ids_read(rule: RuleGroup) -> set[int]:
    """The groups a rule's "Member of Group" conditions read."""
    return {
        group_id
        for _, item in walk(rule)
        if isinstance(item, Condition) and item.field == "member_of"
        for group_id in item.value
    }


def rule_json(rule: RuleGroup) -> dict:
    return rule.model_dump(exclude_none=True)
