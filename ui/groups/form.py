"""What the group wizard edits: the owner's input, the error beside each field, and the inputs."""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from nicegui import ui
from nicegui.elements.mixins.validation_element import ValidationElement

from models.group import GroupStatus, GroupType
from services.benefits.sections import SECTIONS, Benefits
from services.groups.group import GroupDetail


@dataclass
class GroupForm:
    name: str = ""
    code: str = ""
    description: str = ""
    status: str = GroupStatus.ACTIVE.value
    parent_id: int | None = None
    type: str = GroupType.MANUAL.value
    rule: dict | None = None
    capacity: int | None = None
    metadata: dict[str, str] = field(default_factory=dict)  # edited on the group page; kept as it is here
    group_id: int | None = None
    version: int = 0
    code_edited: bool = False  # once the owner types a code, stop suggesting one from the name
    inputs: dict[str, ValidationElement] = field(default_factory=dict)
    rule_view: Any = None  # the rule builder, which shows errors at each condition
    on_type_change: Callable[[], None] | None = None
    # The name takes the focus when the wizard opens, not when a type choice redraws the steps under
    # a keyboard user (the choice keeps it then).
    autofocus_name: bool = True
    # The new-group wizard's "Customers" step: who to add once the group exists, and how.
    members: Any = None  # a ui.membership.dialogs.CustomerPicker
    add_mode: str = "add"
    # The benefits steps: each section's own settings (as services.benefits.sections stores them; a missing
    # setting is "not set here"), and the steps' redraws when the parent changes.
    benefits: dict[str, dict] = field(default_factory=lambda: {s: {} for s in SECTIONS})
    benefit_views: list[Callable[[], Any]] = field(default_factory=list)

    @classmethod
    def from_group(cls, group: GroupDetail, benefits: Benefits | None = None) -> "GroupForm":
        own = {s: getattr(benefits, s).model_dump(mode="json", exclude_none=True) for s in SECTIONS} if benefits else {}
        return cls(
            benefits={s: own.get(s, {}) for s in SECTIONS},
            name=group.name,
            code=group.code,
            description=group.description,
            status=group.status.value,
            parent_id=group.parent_id,
            type=group.type.value,
            rule=group.rule,
            capacity=group.capacity,
            metadata=dict(group.metadata),
            group_id=group.id,
            version=group.version,
            code_edited=True,
        )

    def data(self) -> dict:
        return {
            "name": self.name,
            "code": self.code,
            "description": self.description,
            "status": self.status,
            "parent_id": self.parent_id,
            "type": self.type,
            "rule": self.rule,
            # A number input gives a float; the owner can only have meant whole customers.
            "capacity": None if self.capacity in (None, "") else int(self.capacity),
            "metadata": self.metadata,
        }

    def benefit_sections(self) -> dict[str, dict]:
        """The benefits to check and save: every section, without the settings left empty."""
        return {s: {k: v for k, v in self.benefits[s].items() if v not in (None, "")} for s in SECTIONS}

    def show_errors(self, errors: dict[str, str]) -> None:
        for name, element in self.inputs.items():
            element.error = errors.get(name)
        if self.rule_view is not None:
            # "rule" is about the whole rule, "rule:2.0" about one condition.
            rule_errors = {key.removeprefix("rule:"): text for key, text in errors.items() if key.startswith("rule:")}
            if "rule" in errors and "" not in rule_errors and not rule_errors:
                rule_errors[""] = errors["rule"]
            self.rule_view.show_errors(rule_errors)

    def clear_error(self, name: str) -> None:
        if name in self.inputs:
            self.inputs[name].error = None


def watch(element: ui.element, form: GroupForm, name: str) -> None:
    """Keep `form.<name>` equal to the input, and clear the field's error once the owner edits it."""

    def changed(event) -> None:
        setattr(form, name, event.value)
        form.clear_error(name)

    element.on_value_change(changed)
