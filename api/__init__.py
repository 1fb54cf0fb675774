"""The REST API under /api/v1: thin routes over the services, like the pages.

Every route is built with api.tokens.ApiRoute (a bearer token with the staff member's role, a rate
limit per token, JSON errors). The OpenAPI document at /api/v1/openapi.json describes these routes
only, and is public: it is metadata, not data.
"""

from fastapi import APIRouter, FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse

from api import routes_customers, routes_groups, routes_promotions, routes_rules
from api.errors import ERROR_RESPONSES
from api.tokens import limiter

PREFIX = "/api/v1"
TITLE = "Customer Groups API"
VERSION = "1.0.0"
DESCRIPTION = """Groups, members, rules, customers, benefits, price quotes and promotions.

Send a personal API token (Account → API tokens) as `Authorization: Bearer cg_...`: it acts with
its owner's role, so a viewer's token reads but does not change anything. Errors are JSON:
`{"error": "..."}`, or `{"errors": {"field": "message"}}` for input that cannot be saved.
Lists take `page` and `per_page` and answer `{items, total, page, per_page}`."""


def build_router() -> APIRouter:
    """All API routes (fresh each time: app.py may run more than once in the page tests)."""
    api = APIRouter(prefix=PREFIX, responses=ERROR_RESPONSES)
    for module in (routes_groups, routes_rules, routes_customers, routes_promotions):
        api.include_router(module.router)
    return api


def openapi_document(api: APIRouter) -> dict:
    return get_openapi(title=TITLE, version=VERSION, description=DESCRIPTION, routes=api.routes)


def _registered(app: FastAPI) -> bool:
    for route in app.routes:
        included = getattr(route, "original_router", None)
        if getattr(included, "prefix", None) == PREFIX or str(getattr(route, "path", "")).startswith(PREFIX + "/"):
            return True
    return False


def register_api(app: FastAPI, *, rate_limit: int | None = None) -> None:
    """Add the API's routes and its OpenAPI document to the app, once."""
    if rate_limit is not None:
        limiter.limit = rate_limit
    if _registered(app):
        return
    api = build_router()
    document = openapi_document(api)
    public = APIRouter(prefix=PREFIX)

    @public.get("/openapi.json", include_in_schema=False)
    async def openapi() -> JSONResponse:
        return JSONResponse(document)

    app.include_router(api)
    app.include_router(public)
