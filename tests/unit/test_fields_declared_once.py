"""A group's, a promotion's and a customer's editable fields are declared once (services.groups.fields,
services.promotions.fields, services.customers.CustomerBase): every model built on them carries each field, so a new field needs
only its declaration, its column and a migration. No database."""

import pytest
from pydantic import BaseModel

from api.schemas import (
    CustomerChange,
    CustomerIn,
    CustomerOut,
    GroupChange,
    GroupIn,
    GroupOut,
    PromotionIn,
    PromotionOut,
    PromotionReplacement,
)
from models.customer import Customer
from models.group import CustomerGroup
from models.promotion import Promotion
from services.customers import CustomerBase, CustomerDetail, CustomerInput
from services.groups.fields import GroupBase, GroupInput
from services.groups.group import GroupDetail
from services.promotions import PromotionDetail
from services.promotions.fields import PromotionBase, PromotionInput

GROUP_MODELS = [GroupInput, GroupDetail, GroupIn, GroupChange, GroupOut]
PROMOTION_MODELS = [PromotionInput, PromotionDetail, PromotionIn, PromotionReplacement, PromotionOut]
CUSTOMER_MODELS = [CustomerInput, CustomerDetail, CustomerIn, CustomerChange, CustomerOut]


def columns(model) -> set[str]:
    return set(model._meta.db_fields) | {f"{name}_id" for name in model._meta.fk_fields}


@pytest.mark.parametrize(
    ("base", "model"),
    [(GroupBase, m) for m in GROUP_MODELS]
    + [(PromotionBase, m) for m in PROMOTION_MODELS]
    + [(CustomerBase, m) for m in CUSTOMER_MODELS],
)
def test_every_model_of_an_entity_carries_each_of_its_fields(base: type[BaseModel], model: type[BaseModel]):
    assert set(base.model_fields) <= set(model.model_fields)


@pytest.mark.parametrize(
    ("base", "table"), [(GroupBase, CustomerGroup), (PromotionBase, Promotion), (CustomerBase, Customer)]
)
def test_every_field_has_its_column_but_lists_which_have_their_table(base: type[BaseModel], table):
    assert set(base.model_fields) - columns(table) <= {"target_group_ids", "tags"}


def test_the_apis_bodies_keep_each_fields_limits_and_defaults():
    assert GroupIn.model_fields["name"].metadata == GroupBase.model_fields["name"].metadata
    assert GroupIn.model_fields["description"].default == ""
    assert PromotionIn.model_fields["free_item_quantity"].default == 1


def test_a_change_sends_only_what_it_changes_with_each_fields_limits():
    change = GroupChange.model_validate({"version": 3, "capacity": None})
    assert change.model_dump(exclude_unset=True) == {"version": 3, "capacity": None}
    assert GroupChange.model_fields["name"].metadata == GroupBase.model_fields["name"].metadata
    with pytest.raises(ValueError, match="at most 100 characters"):
        GroupChange.model_validate({"version": 3, "name": "x" * 101})
    with pytest.raises(ValueError, match="valid string"):
        GroupChange.model_validate({"version": 3, "name": None})


def test_a_customer_change_needs_no_version_and_keeps_the_limits():
    change = CustomerChange.model_validate({"country": "DE"})
    assert change.model_dump(exclude_unset=True) == {"country": "DE"}
    with pytest.raises(ValueError, match="at most 200 characters"):
        CustomerChange.model_validate({"name": "x" * 201})
