"""Who is calling the API: the bearer token on every request, a rate limit per token and one on
tokens that are not valid per client address, and the route class that applies them (and turns
the services' refusals into JSON) before any route runs.

The page guard in app.py does not cover the API, so every API route is built with ApiRoute: a
request without a valid token is refused before its body is even read.
"""

import hashlib
import json
import time
from collections import deque
from collections.abc import Callable, Coroutine, Iterator
from typing import Annotated, Any

from fastapi import Depends, Request, Response
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.errors import ApiError, error_response, method_not_allowed
from services.errors import FormError
from services.imports.files import MAX_BYTES as MAX_BODY_BYTES
from services.staff.actor import Actor
from services.staff.tokens import actor_for_token

WINDOW = 60.0  # seconds of the sliding window the rate limit counts in

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="ApiToken",
    description="A personal API token from Account → API tokens, sent as `Authorization: Bearer cg_...`.",
)


class RateLimiter:
    """At most `limit` requests per key (a token, a client address) in any WINDOW seconds (in
    memory, per process)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._seen: dict[str, deque[float]] = {}
        self._tidy_at = 10_000  # keys; addresses come and go, so the idle ones are dropped now and then

    def wait(self, key: str, now: float | None = None) -> int | None:
        """The seconds until `key` may make a request, or None if it may now (nothing is counted)."""
        now = time.monotonic() if now is None else now
        seen = self._seen.get(key)
        while seen and seen[0] <= now - WINDOW:
            seen.popleft()
        if seen and len(seen) >= self.limit:
            return max(1, int(seen[0] + WINDOW - now + 0.999))
        return None

    def count(self, key: str, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        self._seen.setdefault(key, deque()).append(now)
        if len(self._seen) > self._tidy_at:
            self._seen = {k: seen for k, seen in self._seen.items() if seen and seen[-1] > now - WINDOW}
            self._tidy_at = max(10_000, 2 * len(self._seen))

    def retry_after(self, key: str, now: float | None = None) -> int | None:
        """Count a request; None if it may go ahead, else the seconds until one may."""
        wait = self.wait(key, now)
        if wait is None:
            self.count(key, now)
        return wait


concrete_paths: dict[str, set[str]] = {}  # API paths without parameters -> their methods (register_api)
limiter = RateLimiter(limit=120)  # requests per token
guesses = RateLimiter(limit=120)  # tokens that were not valid, per client address


async def authenticate(request: Request) -> Actor:
    """The staff member whose token the request carries; ApiError 401 or 429 otherwise."""
    scheme, _, secret = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise ApiError(401, "Send your API token as 'Authorization: Bearer <token>'.", {"WWW-Authenticate": "Bearer"})
    secret = secret.strip()
    # An address that keeps sending tokens that are not valid is guessing (or badly configured):
    # it waits before any more of its tokens are looked up, its valid ones too. Other addresses
    # are not slowed down. Behind a proxy, name it in TRUSTED_PROXIES: otherwise every client
    # has the proxy's address and shares one allowance.
    address = request.client.host if request.client else ""
    if wait := guesses.wait(address):
        raise ApiError(
            429,
            f"Too many API tokens that are not valid came from your address: try again in {wait} s.",
            {"Retry-After": str(wait)},
        )
    actor = await actor_for_token(secret=secret)
    if actor is None:
        guesses.count(address)
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


MAX_JSON_DEPTH = 64  # arrays and objects inside one another; the deepest request (a rule) needs 11
NESTED_TOO_DEEP = f"The JSON is nested more than {MAX_JSON_DEPTH} levels deep, which no request here needs."
NOT_UTF8 = "The body is not UTF-8 text, as JSON must be."
NUL_REFUSED = "The text contains a NUL character (\\u0000), which the database cannot store."
LONE_SURROGATE = "The text is not valid Unicode (it contains half of a surrogate pair)."


def _nested_deeper_than(limit: int, data: Any) -> bool:
    # Level by level, not by recursion: the body decides how deep this goes.
    level = [data] if isinstance(data, dict | list) else []
    for _ in range(limit):
        inner = []
        for container in level:
            inner += [item for item in _children(container) if isinstance(item, dict | list)]
        if not inner:
            return False
        level = inner
    return True


def _children(container: dict | list) -> Iterator[Any]:
    if isinstance(container, dict):
        yield from container
        yield from container.values()
    else:
        yield from container


def _texts(data: Any) -> Iterator[str]:
    """Every string in the JSON, keys included (without recursion)."""
    pending = [data]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict | list):
            pending += _children(item)


def _broken_text(text: str) -> str | None:
    if "\x00" in text:
        return NUL_REFUSED
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return LONE_SURROGATE
    return None


async def _refuse_broken_body(request: Request) -> None:
    """Refuse a body no route should read: bytes that are not UTF-8, JSON nested deeper than any
    request needs (the readers after this one recurse), and text no database can store, which JSON
    can only carry as an escape: half of a UTF-16 pair ("\\ud800"), or a NUL ("\\u0000", also "%00"
    in a query), which PostgreSQL cannot store."""
    if any("\x00" in text for pair in request.query_params.multi_items() for text in pair):
        raise FormError({"query": NUL_REFUSED})
    if request.method not in ("POST", "PUT", "PATCH"):
        return
    # Refused before it is read: no request of this API is larger than an import (the import says so
    # again for a body sent without its length).
    if int(request.headers.get("content-length") or 0) > MAX_BODY_BYTES:
        raise ApiError(413, f"The request is larger than {MAX_BODY_BYTES // (1024 * 1024)} MB: split it into parts.")
    if "json" not in request.headers.get("content-type", "json"):
        return
    body = await request.body()  # kept by the request; the route reads it again
    try:
        data = json.loads(body)
    except UnicodeDecodeError:
        raise FormError({"body": NOT_UTF8}) from None
    except RecursionError:
        raise FormError({"body": NESTED_TOO_DEEP}) from None
    except ValueError:
        return  # the route reports malformed JSON
    if _nested_deeper_than(MAX_JSON_DEPTH, data):
        raise FormError({"body": NESTED_TOO_DEEP})
    if b"\\u" in body:
        for text in _texts(data):
            if problem := _broken_text(text):
                raise FormError({"body": problem})


class ApiRoute(APIRoute):
    """An API route: authenticated and rate-limited first, errors answered as JSON."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                allowed = concrete_paths.get(request.url.path)
                if allowed and request.method not in allowed:
                    # OpenAPI matches a path without parameters before one with: PATCH
                    # /customers/import is a method that path does not take, not customer "import".
                    raise method_not_allowed(request.method, request.url.path, allowed)
                request.state.api_actor = await authenticate(request)
                await _refuse_broken_body(request)
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
