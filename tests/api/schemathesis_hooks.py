"""A check of the API's own for Schemathesis (loaded by tests/api/test_schemathesis.py): every 4xx
answer carries the API's one error shape, whatever Schemathesis sent: documented operations,
methods they do not take, requests without a valid token."""

import json

import schemathesis


@schemathesis.check
def api_error_shape(ctx, response, case) -> None:
    """A 4xx answer is {"error": text} or {"errors": {field: text}}, in JSON."""
    if not 400 <= response.status_code < 500:
        return
    content_type = response.headers.get("content-type", [""])[0]
    assert content_type == "application/json", f"{response.status_code} answered as {content_type!r}, not JSON"
    body = json.loads(response.content)
    if isinstance(body, dict) and set(body) == {"error"}:
        assert isinstance(body["error"], str) and body["error"], f"'error' is not a message: {body}"
        return
    assert isinstance(body, dict) and set(body) == {"errors"}, f"not the API's error shape: {body}"
    errors = body["errors"]
    assert isinstance(errors, dict) and errors, f"'errors' names no field: {body}"
    assert all(isinstance(text, str) and text for text in errors.values()), f"'errors' holds more than messages: {body}"
