"""A group's editable fields, declared once (`GroupBase`): the service's input (`GroupInput`), its
read model (services.groups.group.GroupDetail) and the API's bodies (api.schemas) build on it.
Adding a field: declare it here, then in models.group and a migration."""

import re
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidatorFunctionWrapHandler, field_validator
from pydantic_core import PydanticCustomError

from models.group import GroupStatus, GroupType
from services.fields import MAX_ID, TEXT, Id
from services.text import HIDDEN, plain_lines, plain_text

NAME_MAX = 100
DESCRIPTION_MAX = 2000
CODE = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$"  # as entered; stored in capitals (CODE_PATTERN)
CODE_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9_-]{0,31}$")
# Custom key/value data (Medusa's "metadata"), bounded so it stays data about the group, not a store.
METADATA_KEYS_MAX = 50
METADATA_KEY = r"^[A-Za-z0-9_.-]{1,40}$"
METADATA_KEY_PATTERN = re.compile(METADATA_KEY)
METADATA_VALUE_MAX = 500
METADATA_VALUE = f"^[^{HIDDEN.pattern[1:-1]}]*$"  # no control characters nor invisible direction marks
MetadataKey = Annotated[str, Field(pattern=METADATA_KEY)]
MetadataValue = Annotated[str, Field(max_length=METADATA_VALUE_MAX, pattern=METADATA_VALUE)]


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
    # Not read by the app: the shop's own data about the group (a storefront's id, a mailing list).
    metadata: dict[MetadataKey, MetadataValue] = Field(
        default={},  # pydantic copies it for each group
        max_length=METADATA_KEYS_MAX,
        description=f"Your own data about the group: at most {METADATA_KEYS_MAX} keys of up to 40 letters, "
        f"digits, '_', '-' or '.', each with a text of up to {METADATA_VALUE_MAX} characters",
        json_schema_extra={"additionalProperties": False},
    )

    @field_validator("metadata", mode="wrap")
    @classmethod
    def _metadata(cls, value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        # The owner's words rather than pydantic's ("String should match pattern ..."); the
        # service's checks (services.groups.checks) name each key with its own message.
        if found := metadata_problems(value):
            raise PydanticCustomError("metadata", next(iter(found.values())))
        return handler(value)


def metadata_problems(value: Any) -> dict[str, str]:
    """What is wrong with a group's custom data, keyed "metadata.<key>" for one key's problem and
    "metadata" for the whole. Keys are taken as sent; values as saved, without surrounding spaces."""
    if not isinstance(value, dict):
        return {"metadata": "Custom data is a set of keys, each with a text value."}
    found: dict[str, str] = {}
    if len(value) > METADATA_KEYS_MAX:
        found["metadata"] = f"Use at most {METADATA_KEYS_MAX} keys: there are {len(value):,}."
    for key, text in value.items():
        where = f"metadata.{key}" if isinstance(key, str) and len(key) <= 100 else "metadata"
        if problem := _metadata_key_problem(key) or _metadata_value_problem(text):
            found.setdefault(where, problem)
    return found


def _metadata_key_problem(key: Any) -> str | None:
    if key == "":
        return "A value has no key: give it a key, or remove it."
    if not isinstance(key, str) or not METADATA_KEY_PATTERN.fullmatch(key):
        shown = HIDDEN.sub("", str(key))
        shown = shown if len(shown) <= 40 else shown[:39] + "…"
        return f"The key “{shown}” cannot be used: keys have up to 40 letters, digits, '_', '-' or '.'."
    return None


def _metadata_value_problem(text: Any) -> str | None:
    if not isinstance(text, str):
        return "Write the value as text."
    text = text.strip()
    if HIDDEN.search(text):
        return "The value contains hidden characters (such as tabs, line breaks or direction marks): remove them."
    if len(text) > METADATA_VALUE_MAX:
        return f"Use at most {METADATA_VALUE_MAX} characters: this value has {len(text):,}."
    return None


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
