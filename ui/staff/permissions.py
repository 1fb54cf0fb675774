"""What the signed-in person may do, as the pages show it: an action their role lacks stays on the
page, disabled, with a tooltip naming the missing permission. The services refuse it anyway."""

from nicegui import ui
from nicegui.elements.mixins.disableable_element import DisableableElement

from services.staff.actor import PERMISSION_LABELS, ROLE_LABELS, Permission, allowed
from ui.staff.session import current_actor


def can(permission: Permission) -> bool:
    """Whether the signed-in person has `permission`."""
    return allowed(current_actor(), permission)


def missing_text(permission: Permission) -> str:
    role = ROLE_LABELS[current_actor().role]
    return f'Needs the "{PERMISSION_LABELS[permission]}" permission, which your role ({role}) does not have.'


def guard(element: DisableableElement, permission: Permission) -> bool:
    """Disable `element` with a tooltip naming `permission` unless the signed-in person has it.
    Whether they have it (so callers can keep the element disabled later on)."""
    if can(permission):
        return True
    element.disable()
    with element:
        ui.tooltip(missing_text(permission)).mark(f"missing-{permission.value}")
    return False
