"""Staff accounts: inviting, roles, deactivating, passwords and signing in.

- Roles: owner (everything), manager (groups, members, rules, benefits, catalog, promotions; no
  staff or settings), viewer (reads and reports only); what each may do is in services.staff.actor.
- Saleor's rules: nobody grants a role with permissions they lack, and the last active owner
  cannot be demoted or deactivated.
- Passwords are hashed with argon2. At most ACCOUNT_FAILURES wrong passwords of one account are
  checked within THROTTLE_WINDOW, however many arrive at once; after more than ADDRESS_FREE_FAILURES
  failures from one address its wrong answers come later and later, but the right password of an
  account is never refused for its address (behind a proxy that does not pass the client's address
  on, everyone shares one).
"""

import asyncio
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from tortoise.transactions import in_transaction

from models.staff import LoginAttempt, Role, StaffUser
from services.errors import FormError, NotFoundError, PermissionDeniedError
from services.staff.actor import ROLE_LABELS, ROLE_PERMISSIONS, Acting, Actor, Permission, require
from services.staff.audit import record
from services.storage.sql import fetch_rows, is_postgres
from services.text import EMAIL

PASSWORD_MIN = 10
THROTTLE_WINDOW = timedelta(minutes=15)
ACCOUNT_FAILURES = 5  # wrong passwords of one account checked within THROTTLE_WINDOW; more are refused unchecked
ADDRESS_FREE_FAILURES = 5  # wrong passwords from one address answered at once within THROTTLE_WINDOW
ADDRESS_DELAY_STEP, ADDRESS_DELAY_MAX = 0.5, 5.0  # seconds: each further one waits a step more, up to the max
_hasher = PasswordHasher()
# An argon2 hash takes about 0.1 s of CPU and 64 MiB of memory. It runs in a worker thread, so every
# other page and API call goes on meanwhile, and one at a time, so sign-ins arriving together cannot
# pile up memory.
_hashing = threading.BoundedSemaphore(1)


def _hash_in_thread(password: str) -> str:
    with _hashing:
        return _hasher.hash(password)


def _verify_in_thread(password_hash: str, password: str) -> bool:
    with _hashing:
        return _hasher.verify(password_hash, password)


async def _hash(password: str) -> str:
    return await asyncio.to_thread(_hash_in_thread, password)


async def _verify(password_hash: str, password: str) -> bool:
    """True if the password matches; raises argon2's VerificationError (or InvalidHashError) if not."""
    return await asyncio.to_thread(_verify_in_thread, password_hash, password)


@dataclass(frozen=True)
class StaffRow:
    id: int
    name: str
    email: str
    role: Role
    active: bool
    last_login_at: datetime | None


def _actor(user: StaffUser) -> Actor:
    return Actor(id=user.id, name=user.name, email=user.email, role=user.role)


async def has_staff() -> bool:
    return await StaffUser.exists()


def _checked(email: str, name: str, password: str) -> tuple[str, str]:
    errors = {}
    email = email.strip().lower()
    name = " ".join(name.split())
    if not EMAIL.fullmatch(email):
        errors["email"] = "Enter an email address like anna@example.com."
    if not name:
        errors["name"] = "Enter a name."
    if len(password) < PASSWORD_MIN:
        errors["password"] = f"Use at least {PASSWORD_MIN} characters."
    if errors:
        raise FormError(errors)
    return email, name


async def create_first_owner(*, email: str, name: str, password: str) -> Actor:
    """The shop's first account (setup page or `customer-groups create-user`): only while there is none."""
    email, name = _checked(email, name, password)
    password_hash = await _hash(password)  # before the transaction, which holds the database meanwhile
    async with in_transaction("default") as connection:
        if await StaffUser.exists():
            raise FormError({"email": "The shop already has an owner. Sign in instead."})
        user = await StaffUser.create(email=email, name=name, password_hash=password_hash, role=Role.OWNER)
        await _audit(
            name,
            "staff.owner_created",
            user,
            before=None,
            after={"name": name, "email": email, "role": Role.OWNER},
            connection=connection,
        )
    return _actor(user)


async def note_sign_in(*, user_id: int, now: datetime | None = None) -> None:
    """Record a sign-in that needed no password check: the setup page signs the new owner in
    (without this, their "Last sign-in" would read "Never" while they are signed in)."""
    await StaffUser.filter(id=user_id).update(last_login_at=now or datetime.now(UTC))


async def create_user(*, email: str, name: str, password: str, role: Role, actor: Acting) -> StaffRow:
    """Invite a staff member with a first password they change after signing in."""
    _may_grant(await require(actor, Permission.MANAGE_STAFF), role)
    email, name = _checked(email, name, password)
    if await StaffUser.exists(email=email):
        raise FormError({"email": f"{email} already has an account."})
    user = await StaffUser.create(email=email, name=name, password_hash=await _hash(password), role=role)
    await _audit(actor, "staff.invited", user, before=None, after={"name": name, "email": email, "role": role})
    return _row(user)


async def _audit(actor: Acting, action: str, user: StaffUser, *, before, after, connection=None) -> None:
    # Never pass passwords or hashes.
    await record(
        actor=actor,
        action=action,
        subject_type="staff",
        subject_id=user.id,
        subject_name=user.name,
        before=before,
        after=after,
        connection=connection,
    )


def _may_grant(actor: Acting, role: Role) -> None:
    if isinstance(actor, Actor) and not ROLE_PERMISSIONS[role] <= ROLE_PERMISSIONS[actor.role]:
        raise PermissionDeniedError(f"You cannot give the {ROLE_LABELS[role]} role: it has permissions you lack.")


def _row(user: StaffUser) -> StaffRow:
    return StaffRow(user.id, user.name, user.email, user.role, user.active, user.last_login_at)


async def list_staff(*, actor: Acting) -> list[StaffRow]:
    await require(actor, Permission.MANAGE_STAFF)
    return [_row(user) for user in await StaffUser.all().order_by("name", "id")]


async def _last_owner_guard(user: StaffUser, *, losing_owner: bool) -> None:
    if losing_owner and user.role == Role.OWNER and user.active:
        owners = await StaffUser.filter(role=Role.OWNER, active=True).count()
        if owners <= 1:
            raise FormError({"role": f"{user.name} is the last owner: make someone else owner first."})


async def change_role(*, user_id: int, role: Role, actor: Acting) -> StaffRow:
    _may_grant(await require(actor, Permission.MANAGE_STAFF), role)
    async with in_transaction("default") as connection:
        user = await StaffUser.get_or_none(id=user_id)
        if user is None:
            raise NotFoundError("This account no longer exists.")
        await _last_owner_guard(user, losing_owner=role != Role.OWNER)
        before, user.role = user.role, role
        await user.save(update_fields=["role"])
        if before != role:
            await _audit(
                actor, "staff.role_changed", user, before={"role": before}, after={"role": role}, connection=connection
            )
    return _row(user)


async def set_active(*, user_id: int, active: bool, actor: Acting) -> StaffRow:
    """Deactivate (or reactivate) an account; a deactivated person is signed out on their next step."""
    await require(actor, Permission.MANAGE_STAFF)
    async with in_transaction("default") as connection:
        user = await StaffUser.get_or_none(id=user_id)
        if user is None:
            raise NotFoundError("This account no longer exists.")
        if not active:
            await _last_owner_guard(user, losing_owner=True)
        before, user.active = user.active, active
        await user.save(update_fields=["active"])
        if before != active:
            action = "staff.reactivated" if active else "staff.deactivated"
            await _audit(
                actor, action, user, before={"active": before}, after={"active": active}, connection=connection
            )
    return _row(user)


async def get_actor(*, user_id: int) -> Actor | None:
    """The signed-in person, if their account still exists and is active."""
    user = await StaffUser.get_or_none(id=user_id, active=True)
    return _actor(user) if user else None


WRONG_PASSWORD = "The email or password is not right."
LOCKED = "Too many failed attempts. Wait 15 minutes, then try again."
# The first key of the PostgreSQL advisory locks below (the second is the account's): sign-ins of
# one account take turns between instances. Two keys, so apart from the one-key locks elsewhere.
SIGN_IN_LOCK = 1


def address_delay(failures: int) -> float:
    """Seconds to wait before answering a wrong password from an address with `failures` recent
    failures (this one included)."""
    return min(ADDRESS_DELAY_MAX, ADDRESS_DELAY_STEP * max(0, failures - ADDRESS_FREE_FAILURES))


async def _claim_check(*, email: str, address: str, now: datetime) -> bool:
    """Count this attempt as a failure before its password is checked (success removes it again);
    False, and nothing counted, if the account already has ACCOUNT_FAILURES recent failures.

    Counted first, so guesses sent side by side cannot all be checked while each still sees room: the
    count and the record are one step (SQLite writes one at a time; on PostgreSQL, a lock per account)."""
    async with in_transaction("default") as connection:
        if is_postgres(connection):
            await fetch_rows(connection, "SELECT 1 FROM pg_advisory_xact_lock(?, hashtext(?))", SIGN_IN_LOCK, email)
        recent = LoginAttempt.filter(email=email, at__gte=now - THROTTLE_WINDOW).using_db(connection)
        if await recent.count() >= ACCOUNT_FAILURES:
            return False
        await LoginAttempt.create(email=email, address=address, at=now, using_db=connection)
    return True


async def authenticate(
    *,
    email: str,
    password: str,
    address: str,
    now: datetime | None = None,
    wait: Callable[[float], Awaitable[object]] = asyncio.sleep,
) -> Actor:
    """Check a login. An account with too many recent failures is refused without even checking
    the password. A wrong password from an address with many recent failures is answered only after
    `address_delay` seconds (`wait` lets tests note the delay instead of sleeping it)."""
    now = now or datetime.now(UTC)
    email = email.strip().lower()
    if not await _claim_check(email=email, address=address, now=now):
        raise FormError({"password": LOCKED})
    user = await StaffUser.get_or_none(email=email, active=True)
    try:
        ok = user is not None and await _verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok:
        failures = await LoginAttempt.filter(address=address, at__gte=now - THROTTLE_WINDOW).count()
        if delay := address_delay(failures):
            await wait(delay)
        raise FormError({"password": WRONG_PASSWORD})
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = await _hash(password)
    user.last_login_at = now
    await user.save(update_fields=["password_hash", "last_login_at"])
    await LoginAttempt.filter(email=email).delete()
    return _actor(user)


async def change_password(*, actor: Actor, current: str, new: str) -> None:
    """Change one's own password (the audit log records that it changed, never the password)."""
    await require(actor, Permission.VIEW)  # a deactivated account changes nothing
    user = await StaffUser.get(id=actor.id)
    try:
        await _verify(user.password_hash, current)
    except (VerificationError, InvalidHashError):
        raise FormError({"current": "That is not your current password."}) from None
    if len(new) < PASSWORD_MIN:
        raise FormError({"new": f"Use at least {PASSWORD_MIN} characters."})
    user.password_hash = await _hash(new)  # before the transaction, which holds the database meanwhile
    async with in_transaction("default") as connection:
        await user.save(update_fields=["password_hash"], using_db=connection)
        await _audit(actor, "staff.password_changed", user, before=None, after=None, connection=connection)
