"""Who is calling the API: the bearer token on every request, a rate limit per token, and the
route class that applies both (and turns the services' refusals into JSON) before any route runs.

The page guard in app.py does not cover the API, so every API route is built with ApiRoute: a
request without a valid token is refused before its body is even read.
"""

import hashlib
import json
import time
from collections import deque
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Request, Response
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.errors import ApiError, error_response
from services.api_tokens import actor_for_token
from services.errors import FormError
from services.staff import Actor

WINDOW = 60.0  # seconds of the sliding window the rate limit counts in

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="ApiToken",
    description="A personal API token from Account → API tokens, sent as `Authorization: Bearer cg_...`.",
)


class RateLimiter:
    """At most `limit` requests per token in any WINDOW seconds (in memory, per process)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._seen: dict[str, deque[float]] = {}

    def retry_after(self, key: str, now: float | None = None) -> int | None:
        """Count a request; None if it may go ahead, else the seconds until one may."""
        now = time.monotonic() if now is None else now
        seen = self._seen.setdefault(key, deque())
        while seen and seen[0] <= now - WINDOW:
            seen.popleft()
        if len(seen) >= self.limit:
            return max(1, int(seen[0] + WINDOW - now + 0.999))
        seen.append(now)
        return None


limiter = RateLimiter(limit=120)


async def authenticate(request: Request) -> Actor:
    """The staff member whose token the request carries; ApiError 401 or 429 otherwise."""
    scheme, _, secret = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise ApiError(401, "Send your API token as 'Authorization: Bearer <token>'.", {"WWW-Authenticate": "Bearer"})
    secret = secret.strip()
    actor = await actor_for_token(secret=secret)
    if actor is None:
        raise ApiError(
            401,
            "This API token is not valid: it may have been revoked, or its owner's account deactivated.",
            {"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
    if wait := limiter.retry_after(hashlib.sha256(secret.encode()).hexdigest()):
        raise ApiError(
            429,
            f"Too many requests: this token may make {limiter.limit} per minute. Try again in {wait} s.",
            {"Retry-After": str(wait)},
        )
    return actor


def _has_lone_surrogate(value: Any) -> bool:
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False
    if isinstance(value, dict):
        return any(_has_lone_surrogate(k) or _has_lone_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_lone_surrogate(item) for item in value)
    return False


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_has_nul(item) for item in value)
    return False


NUL_REFUSED = "The text contains a NUL character (\\u0000), which the database cannot store."


async def _refuse_broken_text(request: Request) -> None:
    """JSON may escape half a UTF-16 pair ("\\ud800"), which no database can store, or a NUL
    ("\\u0000", also "%00" in a query), which PostgreSQL cannot store: refuse them here."""
    if any(_has_nul(pair) for pair in request.query_params.multi_items()):
        raise FormError({"query": NUL_REFUSED})
    if request.method not in ("POST", "PUT", "PATCH") or "json" not in request.headers.get("content-type", "json"):
        return
    body = await request.body()  # kept by the request; the route reads it again
    if b"\\u" not in body:
        return
    try:
        data = json.loads(body)
    except ValueError:
        return  # the route reports malformed JSON
    if _has_lone_surrogate(data):
        raise FormError({"body": "The text is not valid Unicode (it contains half of a surrogate pair)."})
    if _has_nul(data):
        raise FormError({"body": NUL_REFUSED})


class ApiRoute(APIRoute):
    """An API route: authenticated and rate-limited first, errors answered as JSON."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                request.state.api_actor = await authenticate(request)
                await _refuse_broken_text(request)
                return await handler(request)
            except Exception as error:
                if (response := error_response(error)) is None:
                    raise
                return response

        return guarded


async def api_actor(
    request: Request, _credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> Actor:
    """The calling staff member (ApiRoute has checked the token); routes pass it to the services."""
    actor = getattr(request.state, "api_actor", None)
    return actor if isinstance(actor, Actor) else await authenticate(request)


CurrentActor = Annotated[Actor, Depends(api_actor)]
