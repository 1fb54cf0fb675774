"""Schemathesis against the OpenAPI document: generated requests, valid and not, with an owner's and a
viewer's token, and every check Schemathesis has (schemathesis.toml says where a default is changed,
and why) plus the API's own: every 4xx in its one error shape. No answer may be a server error or
differ from what the document promises."""

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from api import PREFIX
from tests.api.conftest import Shop, Tokens, start_app

SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
CONFIG = Path(__file__).with_name("schemathesis.toml")  # why a check's default is changed
HOOKS = Path(__file__).with_name("schemathesis_hooks.py")  # the API's own check: its one error shape
MAX_EXAMPLES = 12  # per operation and phase; the two runs take about 45 s, most of it the coverage phase


@pytest.fixture(scope="module")
def api_url(api_shop: Shop, app_data: Path) -> Iterator[str]:
    with start_app(api_shop, app_data) as url:  # Schemathesis deletes and creates: an app of its own
        yield url


@pytest.mark.parametrize("role", ["owner", "viewer"])
def test_schemathesis_finds_no_server_errors_and_no_schema_violations(
    role: str, api_url: str, app_data: Path, tokens: Tokens, tmp_path: Path
):
    report = tmp_path / "report.json"
    command = [
        str(SCHEMATHESIS),
        "--config-file",
        str(CONFIG),
        "run",
        f"{api_url}{PREFIX}/openapi.json",
        "--url",
        api_url,
        "--header",
        f"Authorization: Bearer {getattr(tokens, role)}",
        "--max-examples",
        str(MAX_EXAMPLES),
        "--seed",
        "2026",
        "--request-timeout",
        "20",
        "--report",
        "json",
        "--report-json-path",
        str(report),
    ]
    environment = {key: value for key, value in os.environ.items() if key != "PYTEST_CURRENT_TEST"}
    environment["SCHEMATHESIS_HOOKS"] = str(HOOKS)
    run = subprocess.run(command, capture_output=True, text=True, timeout=300, env=environment)
    assert report.exists(), run.stdout + run.stderr
    result = json.loads(report.read_text())
    cases = result["test_cases"]
    print(
        f"Schemathesis ({role}): {cases['generated']} requests, {cases['with_failures']} with failures, "
        f"{result['operations']['tested']} operations"
    )
    assert result["operations"]["tested"] == result["operations"]["total"] >= 21
    assert (cases["with_failures"], cases["errored"], result["failures"], result["errors"]) == (0, 0, [], []), (
        run.stdout
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Traceback" not in (app_data / "app.log").read_text()  # nor a fault the app logged and hid
