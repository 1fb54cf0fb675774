"""Personal tokens for the REST API.

- A token acts as the staff member it belongs to, with their role as it is at each request: a
  demoted or deactivated person's tokens lose what they lost.
- The secret is shown once, when the token is created. Only its SHA-256 is kept (a 256-bit random
  secret needs no slow hash), plus a short prefix so tokens can be told apart in lists.
- Everyone manages their own tokens; an owner (who manages staff) may revoke anyone's. Creating
  and revoking a token are kept in the audit log (its name and prefix, never the secret).
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from tortoise.transactions import in_transaction

from models.audit import ApiToken
from services.errors import FormError, NotFoundError
from services.staff.actor import Actor, Permission, require
from services.staff.audit import record
from services.text import HIDDEN

SECRET_START = "cg_"
SHOWN_CHARACTERS = 10  # "cg_" and the first 7 random characters, shown in lists
NAME_MAX = 100
SECRET_MAX = 200  # anything longer is not one of ours; not worth hashing
TOUCH_EVERY = timedelta(minutes=1)  # last_used_at is written at most this often per token


@dataclass(frozen=True)
class ApiTokenRow:
    id: int
    name: str
    prefix: str
    user_id: int
    user_name: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _row(token: ApiToken) -> ApiTokenRow:
    return ApiTokenRow(
        id=token.id,
        name=token.name,
        prefix=token.prefix,
        user_id=token.user_id,
        user_name=token.user.name,
        created_at=token.created_at,
        last_used_at=token.last_used_at,
        revoked_at=token.revoked_at,
    )


async def create_token(*, actor: Actor, name: str) -> tuple[ApiTokenRow, str]:
    """A new token for `actor`, and its secret, which is never shown again."""
    name = " ".join(name.split())
    if not name:
        raise FormError({"name": "Give the token a name, e.g. where it is used."})
    if HIDDEN.search(name):
        raise FormError({"name": "Use letters, digits and punctuation only."})
    if len(name) > NAME_MAX:
        raise FormError({"name": f"Use at most {NAME_MAX} characters."})
    await require(actor, Permission.VIEW)  # the account as it is now: a deactivated one gets none
    secret = SECRET_START + secrets.token_urlsafe(32)
    async with in_transaction("default") as connection:
        token = await ApiToken.create(
            user_id=actor.id, name=name, prefix=secret[:SHOWN_CHARACTERS], token_hash=_hash(secret), using_db=connection
        )
        await token.fetch_related("user", using_db=connection)
        await _audit(actor, "api_token.created", token, before=None, after=_audited(token), connection=connection)
    return _row(token), secret


def _audited(token: ApiToken) -> dict:
    """What the audit log keeps of a token: never its secret or hash."""
    return {"name": token.name, "prefix": token.prefix, "owner": token.user.name, "active": token.revoked_at is None}


async def _audit(actor: Actor, action: str, token: ApiToken, *, before, after, connection) -> None:
    await record(
        actor=actor,
        action=action,
        subject_type="api_token",
        subject_id=token.id,
        subject_name=token.name,
        before=before,
        after=after,
        connection=connection,
    )


async def list_tokens(*, actor: Actor) -> list[ApiTokenRow]:
    """The actor's tokens, or with the staff permission everyone's: active first, newest first."""
    actor = await require(actor, Permission.VIEW)  # with the role as it is now
    query = ApiToken.all() if actor.can(Permission.MANAGE_STAFF) else ApiToken.filter(user_id=actor.id)
    tokens = await query.select_related("user").order_by("-created_at", "-id")
    return sorted((_row(t) for t in tokens), key=lambda row: not row.active)


async def revoke_token(*, actor: Actor, token_id: int) -> ApiTokenRow:
    """Revoke a token at once; revoking a revoked token changes nothing."""
    await require(actor, Permission.VIEW)
    token = await ApiToken.get_or_none(id=token_id).select_related("user")
    if token is None:
        raise NotFoundError("This token no longer exists.")
    if token.user_id != actor.id:  # another person's: only who manages staff (the owner)
        await require(actor, Permission.MANAGE_STAFF)
    if token.revoked_at is None:
        before = _audited(token)
        token.revoked_at = datetime.now(UTC)
        async with in_transaction("default") as connection:
            await token.save(update_fields=["revoked_at"], using_db=connection)
            await _audit(actor, "api_token.revoked", token, before=before, after=_audited(token), connection=connection)
    return _row(token)


async def actor_for_token(*, secret: str, now: datetime | None = None) -> Actor | None:
    """The staff member a token acts for: None unless the token exists, is not revoked and its
    owner's account is active."""
    if not secret.startswith(SECRET_START) or len(secret) > SECRET_MAX:
        return None
    token = await ApiToken.get_or_none(token_hash=_hash(secret), revoked_at=None).select_related("user")
    if token is None or not token.user.active:
        return None
    now = now or datetime.now(UTC)
    if token.last_used_at is None or now - token.last_used_at >= TOUCH_EVERY:
        await ApiToken.filter(id=token.id).update(last_used_at=now)
    user = token.user
    return Actor(id=user.id, name=user.name, email=user.email, role=user.role)
