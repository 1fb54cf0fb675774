"""Who is acting, and what their role lets them do.

Services take the acting person as `actor`: an Actor (a signed-in staff member; its permissions are
checked with `require`) or a plain name for the app's own work (demo seeding, the rule refresh, the
command line, tests), which is trusted."""

from dataclasses import dataclass, replace
from enum import StrEnum

from models.staff import Role, StaffUser
from services.errors import PermissionDeniedError


class Permission(StrEnum):
    VIEW = "view"
    MANAGE_GROUPS = "manage_groups"
    MANAGE_MEMBERS = "manage_members"
    MANAGE_RULES = "manage_rules"
    MANAGE_BENEFITS = "manage_benefits"
    MANAGE_CATALOG = "manage_catalog"
    MANAGE_PROMOTIONS = "manage_promotions"
    MANAGE_CUSTOMERS = "manage_customers"
    MANAGE_SETTINGS = "manage_settings"
    MANAGE_STAFF = "manage_staff"


PERMISSION_LABELS = {
    Permission.VIEW: "View",
    Permission.MANAGE_GROUPS: "Manage groups",
    Permission.MANAGE_MEMBERS: "Manage members",
    Permission.MANAGE_RULES: "Manage rules",
    Permission.MANAGE_BENEFITS: "Manage benefits",
    Permission.MANAGE_CATALOG: "Manage catalog",
    Permission.MANAGE_PROMOTIONS: "Manage promotions",
    Permission.MANAGE_CUSTOMERS: "Manage customers",
    Permission.MANAGE_SETTINGS: "Manage settings",
    Permission.MANAGE_STAFF: "Manage staff",
}
ROLE_LABELS = {Role.OWNER: "Owner", Role.MANAGER: "Manager", Role.VIEWER: "Viewer"}
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.OWNER: frozenset(Permission),
    Role.MANAGER: frozenset(Permission) - {Permission.MANAGE_SETTINGS, Permission.MANAGE_STAFF},
    Role.VIEWER: frozenset({Permission.VIEW}),
}


@dataclass(frozen=True)
class Actor:
    """A signed-in staff member acting in the app."""

    id: int
    name: str
    email: str
    role: Role

    def can(self, permission: Permission) -> bool:
        return permission in ROLE_PERMISSIONS[self.role]

    def __str__(self) -> str:  # what the history and audit columns record
        return self.name


def actor_name(actor: "Actor | str") -> str:
    return str(actor)


def allowed(actor: "Actor | str", permission: Permission) -> bool:
    """Whether `actor` may do what `permission` covers (the app's own work always may)."""
    return not isinstance(actor, Actor) or actor.can(permission)


DEACTIVATED = "Your account was deactivated, so this was not done. Ask the shop's owner."


async def require(actor: "Actor | str", permission: Permission) -> "Actor | str":
    """Refuse, naming the missing permission, unless `actor` has it; return the actor as they are now.

    A staff member's account is read again (one primary-key query), so a page opened before the
    owner demoted or deactivated them acts with what they have now, not with what the page was
    opened with. Call it before opening a transaction (it reads on the default connection)."""
    if not isinstance(actor, Actor):
        return actor
    row = await StaffUser.filter(id=actor.id).first().values("role", "active")
    if row is None or not row["active"]:
        raise PermissionDeniedError(DEACTIVATED)
    current = replace(actor, role=Role(row["role"]))
    if not current.can(permission):
        raise PermissionDeniedError(
            f'You need the "{PERMISSION_LABELS[permission]}" permission for this; '
            f"your role ({ROLE_LABELS[current.role]}) does not have it. Ask the shop's owner."
        )
    return current
