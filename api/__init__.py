"""The REST API under /api/v1: thin routes over the services, like the pages.

Every route is built with api.tokens.ApiRoute (a bearer token with the staff member's role, a rate
limit per token, JSON errors). The OpenAPI document at /api/v1/openapi.json describes these routes
only, and is public: it is metadata, not data. A path or method under /api/v1 that no route takes
is answered in JSON too (404, 405), not with NiceGUI's HTML page.
"""

import inspect
import re
from collections.abc import Callable, Sequence

from fastapi import APIRouter, FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.routing import compile_path

from api import (
    routes_customers,
    routes_groups,
    routes_ladders,
    routes_membership_events,
    routes_orders,
    routes_products,
    routes_promotions,
    routes_rules,
)
from api.errors import ERROR_RESPONSES, ApiError, error_response, method_not_allowed
from api.tokens import concrete_paths, guesses, limiter

PREFIX = "/api/v1"
TITLE = "Customer Groups API"
VERSION = "1.0.0"
DESCRIPTION = """Groups, members, rules, customers, benefits, price quotes and promotions.

Send a personal API token (Account → API tokens) as `Authorization: Bearer cg_...`: it acts with
its owner's role, so a viewer's token reads but does not change anything. Too many requests with
one token, or too many tokens that are not valid from one address, are answered 429 with
Retry-After. Every error (4xx) is JSON: `{"error": "..."}`, or `{"errors": {"field": "message"}}`
for input that cannot be saved (a body that is not UTF-8, or JSON nested more than 64 levels deep,
included); a path or method the API does not have gets a 404 or 405 the same way.
Lists take `page` and `per_page` and answer `{items, total, page, per_page}`."""


def build_router() -> APIRouter:
    """All API routes (fresh each time: app.py may run more than once in the page tests)."""
    api = APIRouter(prefix=PREFIX, responses=ERROR_RESPONSES)
    for module in (routes_groups, routes_ladders, routes_rules, routes_customers, routes_orders, routes_promotions):
        api.include_router(module.router)
    api.include_router(routes_membership_events.router)
    api.include_router(routes_products.router)
    return api


def openapi_document(api: APIRouter) -> dict:
    return get_openapi(title=TITLE, version=VERSION, description=DESCRIPTION, routes=api.routes)


def _registered(app: FastAPI) -> bool:
    for route in app.routes:
        included = getattr(route, "original_router", None)
        if getattr(included, "prefix", None) == PREFIX or str(getattr(route, "path", "")).startswith(PREFIX + "/"):
            return True
    return False


Operations = Sequence[tuple[str, re.Pattern, set[str]]]  # each route's path, its pattern and methods


def _operations(*routers: APIRouter) -> Operations:
    contexts = [context for router in routers for context in iter_route_contexts(router.routes)]
    return [(context.path, compile_path(context.path)[0], set(context.methods or ())) for context in contexts]


def _no_route(request: Request, error: HTTPException, operations: Operations) -> Response:
    """What a path or method no API route takes gets, in the API's error shape."""
    path = request.url.path
    if error.status_code == 405:
        # As in OpenAPI, a path without parameters is matched before one with ("/customers/import"
        # is not customer "import").
        allowed = concrete_paths.get(path) or {
            method for _, pattern, methods in operations if pattern.match(path) for method in methods
        }
        return error_response(method_not_allowed(request.method, path, allowed))
    if error.status_code == 404:
        message = f"There is no {path} in this API: its operations are listed at {PREFIX}/openapi.json."
        return error_response(ApiError(404, message))
    return error_response(error)


def _answer_in_json_under_the_api(app: FastAPI, operations: Operations) -> None:
    """Wrap the app's handlers of HTTP errors (NiceGUI's HTML page for 404, FastAPI's {"detail"}
    for the rest) so that a path under the API, which no route matched, is answered in JSON."""

    def wrapped(handler: Callable) -> Callable:
        async def answer(request: Request, error: Exception) -> Response:
            path = request.url.path
            if isinstance(error, HTTPException) and (path == PREFIX or path.startswith(PREFIX + "/")):
                return _no_route(request, error, operations)
            response = handler(request, error)
            return await response if inspect.isawaitable(response) else response

        answer.answers_api_in_json = True  # type: ignore[attr-defined]
        return answer

    app.exception_handlers.setdefault(HTTPException, http_exception_handler)
    for key, handler in list(app.exception_handlers.items()):
        if (isinstance(key, int) or key is HTTPException) and not getattr(handler, "answers_api_in_json", False):
            app.exception_handlers[key] = wrapped(handler)


def register_api(app: FastAPI, *, rate_limit: int | None = None) -> None:
    """Add the API's routes and its OpenAPI document to the app, once."""
    if rate_limit is not None:
        limiter.limit = guesses.limit = rate_limit
    if _registered(app):
        return
    api = build_router()
    public = APIRouter(prefix=PREFIX)

    written: list[dict] = []  # the document, written when first asked for (a quarter of a second)

    @public.get("/openapi.json", include_in_schema=False)
    async def openapi() -> JSONResponse:
        if not written:
            written.append(openapi_document(api))
        return JSONResponse(written[0])

    app.include_router(api)
    app.include_router(public)
    operations = _operations(api, public)
    for path, _, methods in operations:
        if "{" not in path:
            concrete_paths.setdefault(path, set()).update(methods)
    _answer_in_json_under_the_api(app, operations)
