"""Personal tokens for the REST API.

- A token acts as the staff member it belongs to, with their role as it is at each request: a
  demoted or deactivated person's tokens lose what they lost.
- The secret is shown once, when the token is created. Only its SHA-256 is kept (a 256-bit random
  secret needs no slow hash), plus a short prefix so tokens can be told apart in lists.
- Everyone manages their own tokens; an owner (who manages staff) may revoke anyone's.
"""

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from models.audit import ApiToken
from services.errors import FormError, NotFoundError, PermissionDeniedError
from services.staff import Actor, Permission

SECRET_START = "cg_"
SHOWN_CHARACTERS = 10  # "cg_" and the first 7 random characters, shown in lists
NAME_MAX = 100
SECRET_MAX = 200  # anything longer is not one of ours; not worth hashing
TOUCH_EVERY = timedelta(minutes=1)  # last_used_at is written at most this often per token
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


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
    if CONTROL.search(name):
        raise FormError({"name": "Use letters, digits and punctuation only."})
    if len(name) > NAME_MAX:
        raise FormError({"name": f"Use at most {NAME_MAX} characters."})
    secret = SECRET_START + secrets.token_urlsafe(32)
    token = await ApiToken.create(
        user_id=actor.id, name=name, prefix=secret[:SHOWN_CHARACTERS], token_hash=_hash(secret)
    )
    await token.fetch_related("user")
    return _row(token), secret


async def list_tokens(*, actor: Actor) -> list[ApiTokenRow]:
    """The actor's tokens, or with the staff permission everyone's: active first, newest first."""
    query = ApiToken.all() if actor.can(Permission.MANAGE_STAFF) else ApiToken.filter(user_id=actor.id)
    tokens = await query.select_related("user").order_by("-created_at", "-id")
    return sorted((_row(t) for t in tokens), key=lambda row: not row.active)


async def revoke_token(*, actor: Actor, token_id: int) -> ApiTokenRow:
    """Revoke a token at once; revoking a revoked token changes nothing."""
    token = await ApiToken.get_or_none(id=token_id).select_related("user")
    if token is None:
        raise NotFoundError("This token no longer exists.")
    if token.user_id != actor.id and not actor.can(Permission.MANAGE_STAFF):
        raise PermissionDeniedError("Only the shop's owner may revoke another person's token.")
    if token.revoked_at is None:
        token.revoked_at = datetime.now(UTC)
        await token.save(update_fields=["revoked_at"])
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
