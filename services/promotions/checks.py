"""What is wrong with a promotion's input, without a database: the facts it is checked against
are read first (services.promotions reads them), then `problems` returns a message per field, the
keys and words the promotion form and the API show."""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from models.promotion import PromotionStatus, PromotionType
from services.promotions.fields import PromotionInput
from services.wording import money


@dataclass(frozen=True)
class PromotionFacts:
    """What the checks of one promotion's input need to know of the shop."""

    promotion_id: int | None = None  # the promotion edited; None: a new one
    name_keys: frozenset[str] = frozenset()  # other promotions' names (casefolded) among the one entered
    group_ids: frozenset[int] = frozenset()  # the target groups that exist
    free_item_exists: bool = True  # the product chosen as the free item exists
    currency: str = "USD"  # the shop's, for wording amounts


def parsed_input(data: PromotionInput | Mapping[str, Any]) -> tuple[PromotionInput | None, dict[str, str]]:
    """The input as a PromotionInput and the message of each field that did not parse. So the
    owner sees every problem at once, the fields that did not parse take their defaults (or a
    stand-in name) for the remaining checks; None if even that does not parse."""
    if isinstance(data, PromotionInput):
        return data, {}
    try:
        return PromotionInput.model_validate(data), {}
    except ValidationError as error:
        errors = _messages(error)
    rest = {key: value for key, value in dict(data).items() if key not in errors}
    try:
        return PromotionInput.model_validate({"name": "?", **rest}), errors
    except ValidationError:
        return None, errors


def _messages(error: ValidationError) -> dict[str, str]:
    """The first message of each field, as the form shows it."""
    errors: dict[str, str] = {}
    for item in error.errors():
        key = str(item["loc"][0]) if item["loc"] else "form"
        errors.setdefault(key, item["msg"].removeprefix("Value error, "))
    return errors


def targets(data: PromotionInput) -> list[int]:
    """The target groups, each once, in the order given."""
    return list(dict.fromkeys(data.target_group_ids))


def problems(data: PromotionInput | Mapping[str, Any], facts: PromotionFacts) -> dict[str, str]:
    """Every problem of the input at once, each at its field."""
    parsed, errors = parsed_input(data)
    if parsed is None:
        return errors
    if "name" not in errors and parsed.name.casefold() in facts.name_keys:
        errors["name"] = f'A promotion named "{parsed.name}" already exists.'
    for check in (target_problems, _TYPE_CHECKS.get(parsed.type), amount_and_day_problems):
        if check is not None:
            errors.update(check(parsed, facts))
    return errors


def target_problems(data: PromotionInput, facts: PromotionFacts) -> dict[str, str]:
    chosen = targets(data)
    if data.status == PromotionStatus.ACTIVE and not chosen:
        return {"target_group_ids": "Choose at least one group to target."}
    if any(gid not in facts.group_ids for gid in chosen):
        return {"target_group_ids": "Some of the chosen groups no longer exist; choose again."}
    return {}


def discount_problems(data: PromotionInput, facts: PromotionFacts) -> dict[str, str]:
    if data.percent is None:
        return {"percent": "Enter the additional discount in percent (e.g. 10)."}
    if not 0 < data.percent <= 100:
        return {"percent": "Enter a discount above 0% and at most 100%."}
    return {}


def free_item_problems(data: PromotionInput, facts: PromotionFacts) -> dict[str, str]:
    found = {}
    if data.free_item_id is None:
        found["free_item_id"] = "Choose the product given free."
    elif not facts.free_item_exists:
        found["free_item_id"] = "The chosen product no longer exists; choose another."
    if data.free_item_quantity < 1:
        found["free_item_quantity"] = "Give at least 1."
    return found


def bogo_problems(data: PromotionInput, facts: PromotionFacts) -> dict[str, str]:
    found = {}
    if not data.buy_quantity or data.buy_quantity < 1:
        found["buy_quantity"] = "Enter how many the customer buys (at least 1)."
    if not data.get_quantity or data.get_quantity < 1:
        found["get_quantity"] = "Enter how many they get free (at least 1)."
    return found


_TYPE_CHECKS = {
    PromotionType.ADDITIONAL_DISCOUNT: discount_problems,
    PromotionType.FREE_ITEM: free_item_problems,
    PromotionType.BOGO: bogo_problems,
}


def amount_and_day_problems(data: PromotionInput, facts: PromotionFacts) -> dict[str, str]:
    found = {}
    if data.minimum_purchase_cents < 0:
        found["minimum_purchase_cents"] = f"Enter an amount of at least {money(0, currency=facts.currency)}."
    if data.valid_from and data.valid_to and data.valid_to < data.valid_from:
        found["valid_to"] = "The last day must not be before the first day."
    return found


def normalised(data: PromotionInput) -> PromotionInput:
    """The checked input as it is saved: each target group once."""
    return data.model_copy(update={"target_group_ids": targets(data)})
