"""The API's errors as JSON: what the services refuse, and what the request itself gets wrong.

Every error body is either {"error": "..."} or, for input that cannot be saved,
{"errors": {field: message}}, with a 4xx status. They are produced for the API's routes only
(see api.tokens.ApiRoute), so NiceGUI's pages keep their own error pages.
"""

from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException

from services.errors import ChangedMeanwhileError, FormError, NotFoundError, PermissionDeniedError
from services.rules.model import RuleError


class ErrorOut(BaseModel):
    error: str


class FormErrorsOut(BaseModel):
    errors: dict[str, str]


class ApiError(Exception):
    """A refusal the API itself makes (no token, too many requests)."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


ERROR_RESPONSES: dict[int | str, dict] = {
    401: {"model": ErrorOut, "description": "No API token, or one that is not valid (revoked, account deactivated)"},
    403: {"model": ErrorOut, "description": "The token's role lacks the permission named in the message"},
    404: {"model": ErrorOut, "description": "No such record"},
    413: {"model": ErrorOut, "description": "A body larger than 50 MB (the largest import)"},
    422: {"model": FormErrorsOut, "description": "Input that cannot be saved: a message per field"},
    429: {
        "model": ErrorOut,
        "description": "Too many requests with this token, or too many tokens that are not valid from this "
        "address; see Retry-After",
    },
}
CHANGED_MEANWHILE: dict[int | str, dict] = {
    409: {"model": ErrorOut, "description": "Someone saved the record after the given version"}
}


def method_not_allowed(method: str, path: str, allowed: set[str]) -> ApiError:
    methods = ", ".join(sorted(allowed))
    return ApiError(405, f"{method} is not an operation of {path}: it takes {methods}.", {"Allow": methods})


def _field(location: tuple) -> str:
    # ("body", "lines", 0, "quantity") -> "lines.0.quantity"; ("query", "page") -> "page"
    parts = [str(part) for part in location[1:]] or [str(part) for part in location]
    return ".".join(parts) or "body"


def validation_errors(error: RequestValidationError) -> dict[str, str]:
    errors: dict[str, str] = {}
    for item in error.errors():
        errors.setdefault(_field(tuple(item.get("loc", ()))), str(item.get("msg", "Not valid.")))
    return errors or {"body": "The request is not valid."}


def error_response(error: Exception) -> JSONResponse | None:
    """The JSON answer for an error the API knows, else None (a real fault: let it be a 500)."""
    if isinstance(error, ApiError):
        return JSONResponse({"error": error.message}, status_code=error.status, headers=error.headers)
    if isinstance(error, FormError):
        return JSONResponse({"errors": error.errors or {"body": "Not valid."}}, status_code=422)
    if isinstance(error, RuleError):
        errors = {f"rule:{path}" if path else "rule": text for path, text in error.errors.items()}
        return JSONResponse({"errors": errors}, status_code=422)
    if isinstance(error, RequestValidationError):
        return JSONResponse({"errors": validation_errors(error)}, status_code=422)
    if isinstance(error, NotFoundError):
        return JSONResponse({"error": str(error) or "Not found."}, status_code=404)
    if isinstance(error, PermissionDeniedError):
        return JSONResponse({"error": str(error)}, status_code=403)
    if isinstance(error, ChangedMeanwhileError):
        return JSONResponse({"error": str(error)}, status_code=409)
    if isinstance(error, HTTPException):  # FastAPI's own refusals, which would answer {"detail": ...}
        return JSONResponse({"error": str(error.detail)}, status_code=error.status_code, headers=error.headers)
    return None
