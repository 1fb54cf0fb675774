"""A promotion's editable fields, declared once (`PromotionBase`): the service's input
(`PromotionInput`), its read model (services.promotions.PromotionDetail) and the API's bodies
(api.schemas) build on it. Adding a field: declare it here, then in models.promotion and a
migration."""

import types
from datetime import date
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, StrictBool, create_model, field_validator
from pydantic.fields import FieldInfo

from models.promotion import PromotionStatus, PromotionType
from services.fields import MAX_CENTS, MAX_QUANTITY, TEXT, Day, Id
from services.text import plain_text

NAME_MAX = 120
# The days a promotion (and a report) may be about. A typo such as 0001 or 9999 is refused instead
# of stored: the estimate looks a year back from the first day and a report a period back, which
# year 1 does not have, and the day after 9999-12-31 does not exist. A shop selling online has no
# orders before 2000, and a promotion set up today does not end after 2100.
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2100, 12, 31)
Quantity = Annotated[int, Field(ge=1, le=MAX_QUANTITY, strict=True)]


class PromotionBase(BaseModel):
    # Each field's type, default and limits. The API publishes and enforces them as they are; the
    # service's input takes the same types and defaults and words what lies outside the limits in
    # services.promotions.checks, for the type of promotion chosen.
    name: str = Field(max_length=NAME_MAX, pattern=TEXT)
    type: PromotionType = PromotionType.ADDITIONAL_DISCOUNT
    status: PromotionStatus = PromotionStatus.DRAFT
    target_group_ids: list[Id] = Field(default=[], max_length=1000)
    include_subgroups: StrictBool = True
    percent: Annotated[float, Field(gt=0, le=100, strict=True)] | None = Field(
        default=None, description="Additional discount in percent"
    )
    free_item_id: Id | None = None
    free_item_quantity: Quantity = 1
    buy_quantity: Quantity | None = None
    get_quantity: Quantity | None = None
    minimum_purchase_cents: Annotated[int, Field(ge=0, le=MAX_CENTS, strict=True)] = 0
    valid_from: Day | None = None
    valid_to: Day | None = None
    stack_with_group_discount: StrictBool = False


EDITABLE = tuple(PromotionBase.model_fields)  # the fields an owner edits, in their declared order


def _bare(annotation: Any) -> Any:
    """`annotation` without its limits: int for Annotated[int, Field(ge=1)], also inside X | None and list[X]."""
    if get_origin(annotation) is Annotated:
        return _bare(get_args(annotation)[0])
    if get_origin(annotation) in (Union, types.UnionType):
        return Union[tuple(_bare(arg) for arg in get_args(annotation))]  # noqa: UP007 (built from a tuple)
    if get_origin(annotation) is list:
        return list[_bare(get_args(annotation)[0])]
    return annotation


def types_and_defaults(model: type[BaseModel]) -> dict[str, Any]:
    """`model`'s fields with their types and defaults but none of their limits."""
    return {
        name: (_bare(field.annotation), FieldInfo(default=field.default, default_factory=field.default_factory))
        for name, field in model.model_fields.items()
    }


class PromotionInput(create_model("PromotionFields", **types_and_defaults(PromotionBase))):
    """What the owner enters on the promotion form: PromotionBase's fields, their limits checked
    with the form's words by services.promotions.checks.problems."""

    model_config = ConfigDict(str_strip_whitespace=True)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        # Whitespace folds into single spaces; invisible marks that reorder text on screen are
        # refused, as in a customer's name.
        value = plain_text(" ".join(value.split()), label="Name", limit=NAME_MAX)
        if not value:
            raise ValueError("Enter a name for the promotion.")
        return value

    @field_validator("valid_from", "valid_to")
    @classmethod
    def _day(cls, value: date | None) -> date | None:
        if value is not None and not in_shop_years(value):
            raise ValueError(f"Enter a day in the years {FIRST_DAY.year} to {LAST_DAY.year}.")
        return value


def in_shop_years(day: date) -> bool:
    return FIRST_DAY <= day <= LAST_DAY
