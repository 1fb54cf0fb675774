"""Requests no well-behaved client sends (hundreds of nested levels, bytes that are not UTF-8,
paths and methods the API does not have, an import past its documented size) still get a 4xx
in the API's one error shape: never a server error, FastAPI's {"detail": ...} or an HTML page."""

import json

import httpx
import pytest

from api import PREFIX
from tests.api.conftest import Tokens, bearer

TOO_DEEP_RULE = "Groups can be nested at most 3 levels deep."
# "Café" goes as "Caf\u00e9": an escape sends the body through the check for broken text too.
CAFE = {"field": "company", "op": "contains", "value": "Café"}


@pytest.fixture
def owner(tokens: Tokens) -> dict[str, str]:
    return bearer(tokens.owner)


def in_the_error_shape(response: httpx.Response) -> dict:
    """The body, after checking it is {"error": text} or {"errors": {field: text}}."""
    assert response.headers["content-type"] == "application/json", response.text[:200]
    body = response.json()
    if set(body) == {"error"}:
        assert isinstance(body["error"], str) and body["error"]
    else:
        assert set(body) == {"errors"}, body
        assert body["errors"] and all(isinstance(text, str) for text in body["errors"].values()), body
    return body


def nest(levels: int, condition: dict) -> dict:
    rule = {"match": "any", "conditions": [condition]}
    for _ in range(levels):
        rule = {"match": "all", "conditions": [rule]}
    return rule


async def test_a_rule_nested_deeper_than_allowed_is_refused_at_the_first_group_too_deep(
    client: httpx.AsyncClient, owner: dict
):
    deep = json.dumps({"rule": nest(20, CAFE)})
    json_headers = {**owner, "Content-Type": "application/json"}

    preview = await client.post(f"{PREFIX}/rules/preview", headers=json_headers, content=deep)
    assert preview.status_code == 422, preview.text[:300]
    assert in_the_error_shape(preview) == {"errors": {"rule:0.0.0.0": TOO_DEEP_RULE}}

    group = {**json.loads(deep), "name": "Deep Thinkers", "code": "DEEP", "type": "automatic"}
    created = await client.post(f"{PREFIX}/groups", headers=json_headers, content=json.dumps(group))
    assert created.status_code == 422, created.text[:300]
    assert TOO_DEEP_RULE in in_the_error_shape(created)["errors"].values()


RULE_400_DEEP = {"rule": nest(400, CAFE)}


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/rules/preview", json.dumps(RULE_400_DEEP)),
        ("/groups", json.dumps({**RULE_400_DEEP, "name": "Deep", "code": "DEEP", "type": "automatic"})),
        ("/rules/preview", json.dumps({"rule": {"match": "all", "conditions": [{**CAFE, "value": nest(400, CAFE)}]}})),
        ("/customers/import", "[" * 1_000 + "]" * 1_000),
        ("/groups", '{"name": ' + "[" * 100_000 + "]" * 100_000 + ', "code": "DEEP"}'),
    ],
    ids=["preview-rule-400", "group-rule-400", "preview-value-800", "import-1000", "group-100000"],
)
async def test_json_nested_deeper_than_any_request_needs_is_refused(
    client: httpx.AsyncClient, owner: dict, path: str, body: str
):
    response = await client.post(f"{PREFIX}{path}", headers={**owner, "Content-Type": "application/json"}, content=body)
    assert response.status_code == 422, response.text[:300]
    errors = in_the_error_shape(response)["errors"]
    assert "nested" in errors["body"], errors


async def test_a_body_that_is_not_utf8_is_refused_in_the_error_shape(client: httpx.AsyncClient, owner: dict):
    latin1 = '{"name": "Café Crowd", "code": "CAFE"}'.encode("latin-1")
    for path in ("/groups", "/customers/import"):
        response = await client.post(
            f"{PREFIX}{path}", headers={**owner, "Content-Type": "application/json"}, content=latin1
        )
        assert response.status_code == 422, f"{path}: {response.status_code} {response.text[:200]}"
        assert "UTF-8" in in_the_error_shape(response)["errors"]["body"]


@pytest.mark.parametrize("token", ["owner", None])
async def test_a_path_the_api_does_not_have_answers_404_in_json(
    client: httpx.AsyncClient, tokens: Tokens, token: str | None
):
    headers = bearer(getattr(tokens, token)) if token else {}
    for method, path in [
        ("GET", "/nothing-here"),
        ("GET", "/"),
        ("GET", "/groups/1/nothing-here"),
        ("POST", "/customers/1/nothing-here"),
        ("DELETE", "/v2/groups"),
    ]:
        response = await client.request(method, f"{PREFIX}{path}", headers=headers)
        assert response.status_code == 404, f"{method} {path}: {response.status_code}"
        assert "openapi.json" in in_the_error_shape(response)["error"]


async def test_a_method_a_path_does_not_take_answers_405_naming_those_it_takes(client: httpx.AsyncClient, owner: dict):
    for method, path, allowed in [
        ("PUT", "/groups", {"GET", "POST"}),
        ("DELETE", "/customers", {"GET", "POST"}),
        ("POST", "/groups/1", {"GET", "PATCH", "DELETE"}),
        ("GET", "/groups/1/members/remove", {"POST"}),
        ("PATCH", "/customers/import", {"POST"}),  # a path without parameters, not customer "import"
    ]:
        response = await client.request(method, f"{PREFIX}{path}", headers=owner)
        assert response.status_code == 405, f"{method} {path}: {response.status_code}"
        assert {m.strip() for m in response.headers["allow"].split(",")} == allowed, f"{method} {path}"
        assert method in in_the_error_shape(response)["error"]


async def documented_import_limit(client: httpx.AsyncClient) -> int:
    document = (await client.get(f"{PREFIX}/openapi.json")).json()
    body = document["paths"][f"{PREFIX}/customers/import"]["post"]["requestBody"]
    return body["content"]["application/json"]["schema"]["maxItems"]


async def customer_count(client: httpx.AsyncClient, owner: dict) -> int:
    return (await client.get(f"{PREFIX}/customers", headers=owner, params={"per_page": 1})).json()["total"]


async def test_an_import_past_the_documented_limit_is_refused_before_any_row_is_read(
    client: httpx.AsyncClient, owner: dict
):
    limit = await documented_import_limit(client)
    assert limit == 100_000
    before = await customer_count(client, owner)

    rows = [{"email": f"buyer{n}@example.com", "name": f"Buyer {n}"} for n in range(limit + 1)]
    refused = await client.post(f"{PREFIX}/customers/import", headers=owner, json=rows)
    assert refused.status_code == 422, refused.text[:300]
    assert "100,000" in in_the_error_shape(refused)["errors"]["body"]
    assert await customer_count(client, owner) == before


async def test_an_import_with_many_bad_rows_lists_the_first_hundred_errors_and_counts_them_all(
    client: httpx.AsyncClient, owner: dict
):
    rows = [{"email": f"not an email {n}", "name": f"Nobody {n}"} for n in range(150)]
    answer = await client.post(f"{PREFIX}/customers/import", headers=owner, json=rows)
    assert answer.status_code == 200, answer.text[:300]
    result = answer.json()
    assert (result["created"], result["error_rows"], result["error_count"]) == (0, 150, 150)
    assert [error["row"] for error in result["errors"]] == list(range(2, 102))  # row 1 is the header

    document = (await client.get(f"{PREFIX}/openapi.json")).json()
    answered = document["paths"][f"{PREFIX}/customers/import"]["post"]["responses"]["200"]
    schema = answered["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    assert document["components"]["schemas"][schema]["properties"]["errors"]["maxItems"] == 100


async def test_an_import_reads_its_json_as_its_schema_says(client: httpx.AsyncClient, owner: dict):
    # A date is a "YYYY-MM-DD" string, not 0 read as 1 January 1970.
    row = {"email": "epoch@example.com", "name": "Epoch", "created_at": 0}
    refused = await client.post(f"{PREFIX}/customers/import", headers=owner, json=[row])
    assert refused.status_code == 422, refused.text[:300]
    assert "0.created_at" in in_the_error_shape(refused)["errors"]

    saved = await client.post(f"{PREFIX}/customers/import", headers=owner, json=[{**row, "created_at": "1970-01-01"}])
    assert (saved.status_code, saved.json()["created"]) == (200, 1), saved.text[:300]


async def test_a_day_sent_as_a_number_or_a_yes_sent_as_1_is_refused_not_guessed(client: httpx.AsyncClient, owner: dict):
    guessed = {"name": "Spring Sale", "percent": 10, "valid_from": 0, "include_subgroups": 1}
    refused = await client.post(f"{PREFIX}/promotions", headers=owner, json=guessed)
    assert refused.status_code == 422, refused.text[:300]
    assert set(in_the_error_shape(refused)["errors"]) == {"valid_from", "include_subgroups"}

    meant = {"name": "Spring Sale", "percent": 10, "valid_from": "2026-03-01", "include_subgroups": True}
    created = await client.post(f"{PREFIX}/promotions", headers=owner, json=meant)
    assert created.status_code == 201, created.text[:300]
    assert created.json()["valid_from"] == "2026-03-01"


async def test_a_body_larger_than_the_largest_import_is_refused_before_it_is_read(
    client: httpx.AsyncClient, owner: dict
):
    oversized = b"[" + b" " * (50 * 1024 * 1024) + b"]"
    refused = await client.post(
        f"{PREFIX}/customers/import", headers={**owner, "Content-Type": "application/json"}, content=oversized
    )
    assert refused.status_code == 413
    assert in_the_error_shape(refused) == {"error": "The request is larger than 50 MB: split it into parts."}
