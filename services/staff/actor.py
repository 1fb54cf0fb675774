"""Who is acting, and what their role lets them do.

Services take who is acting as `actor`: an Actor (a signed-in staff member; its permissions are
checked with `require`) or a SystemActor (the app's own work under a name the history shows: the demo
shop, the rule refresh, the daily backup, the command line), which is trusted. A bare string is
refused, so no stray name can act with every permission."""

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


@dataclass(frozen=True)
class SystemActor:
    """The app itself, acting under a name the history and audit show (e.g. "rule refresh")."""

    name: str

    def can(self, permission: Permission) -> bool:  # the app's own work is trusted
        return True

    def __str__(self) -> str:
        return self.name


SYSTEM = SystemActor("system")

# Who a service is acting for.
Acting = Actor | SystemActor


def actor_name(actor: Acting) -> str:
    return str(actor)


def allowed(actor: Acting, permission: Permission) -> bool:
    """Whether `actor` may do what `permission` covers (the app's own work always may)."""
    return _checked(actor).can(permission)


def _checked(actor: object) -> Acting:
    if not isinstance(actor, Actor | SystemActor):
        raise TypeError(f"actor must be an Actor or a SystemActor, not {type(actor).__name__}")
    return actor


DEACTIVATED = "Your account was deactivated, so this was not done. Ask the shop's owner."


async def require(actor: Acting, permission: Permission) -> Acting:
    """Refuse, naming the missing permission, unless `actor` has it; return the actor as they are now.

    A staff member's account is read again (one primary-key query), so a page opened before the
    owner demoted or deactivated them acts with what they have now, not with what the page was
    opened with. Call it before opening a transaction (it reads on the default connection)."""
    if isinstance(_checked(actor), SystemActor):
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
