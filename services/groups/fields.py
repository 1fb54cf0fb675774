"""A group's editable fields, declared once (`GroupBase`): the service's input (`GroupInput`), its
read model (services.groups.group.GroupDetail) and the API's bodies (api.schemas) build on it.
Adding a field: declare it here, then in models.group and a migration."""

import re
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from models.group import GroupStatus, GroupType
from services.fields import MAX_ID, TEXT, Id
from services.text import plain_lines, plain_text

NAME_MAX = 100
DESCRIPTION_MAX = 2000
CODE = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$"  # as entered; stored in capitals (CODE_PATTERN)
CODE_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9_-]{0,31}$")


class GroupBase(BaseModel):
    # Each field's type, default and limits; the API publishes and enforces them as they are, the
    # service's input first gives the owner a message of its own for what falls outside them.
    name: str = Field(max_length=NAME_MAX, pattern=TEXT)
    code: str = Field(pattern=CODE, description="Letters, digits, '-' and '_'; stored in capitals")
    description: str = Field(default="", max_length=DESCRIPTION_MAX)
    status: GroupStatus = GroupStatus.ACTIVE
    type: GroupType = GroupType.MANUAL
    parent_id: Id | None = None
    # For rule-based groups; checked with the rest of the input (services.groups.checks), where each
    # condition's problem gets its place.
    rule: dict[str, Any] | None = Field(default=None, description="For automatic and hybrid groups")
    # The most members a group has; empty: no limit. By hand and by rule alike: a rule run fills the
    # free places and reports the matches it turned away (see services.rules.runs).
    capacity: Annotated[int, Field(ge=1, le=MAX_ID, strict=True)] | None = Field(
        default=None, description="Empty: no limit"
    )


EDITABLE = tuple(GroupBase.model_fields)  # the fields an owner edits, in their declared order


class GroupInput(GroupBase):
    """What the owner enters on the "Basic information" step: text is tidied, and what falls
    outside a field's limits gets the message the form shows beside it."""

    model_config = ConfigDict(str_strip_whitespace=True)

    @field_validator("name", mode="before")
    @classmethod
    def _name(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value  # not text: the type's own message
        # Spaces, tabs and line breaks fold into single spaces; invisible marks that reorder text on
        # screen are refused, as in a customer's name.
        value = plain_text(" ".join(value.split()), label="Name", limit=NAME_MAX)
        if not value:
            raise ValueError("Enter a group name.")
        return value

    @field_validator("code", mode="before")
    @classmethod
    def _code(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        value = value.strip().upper()
        if not value:
            raise ValueError("Enter a group code.")
        if not CODE_PATTERN.fullmatch(value):
            raise ValueError("Use up to 32 letters, digits, '-' or '_', starting with a letter or digit.")
        return value

    @field_validator("capacity", mode="before")
    @classmethod
    def _capacity(cls, value: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool) and value < 1:
            raise ValueError("Enter a whole number of at least 1, or leave it empty for no limit.")
        return value

    @field_validator("description", mode="before")
    @classmethod
    def _description(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        return plain_lines(value, label="Description", limit=DESCRIPTION_MAX)
