"""Contract test: schemathesis reads /api/v1/openapi.json from a RUNNING engine and sends what the document
allows (and some of what it forbids) to every operation; every response must be documented and match its
schema, and none may be a server error. Bounded: few examples per operation, a fixed seed."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.integration.api_engine import create_key, pulsewatch, running_engine

if TYPE_CHECKING:
    from collections.abc import Iterator

pytestmark = pytest.mark.slow

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]


@pytest.fixture(scope="module")
def engine_and_key(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    folder = tmp_path_factory.mktemp("contract")
    config = folder / "pulsewatch.yaml"
    config.write_text("""
database: {url: "sqlite:///contract.db"}
engine: {name: contract, listen: "127.0.0.1:0"}
api: {rate: 100000, burst: 100000}
channels: [{name: ops, urls: ["json://127.0.0.1:9/hook"]}]
checks:
  - {name: web, url: "http://127.0.0.1:9/", interval: 1s, timeout: 1s, tags: [public]}
status_pages: [{groups: [{name: All, tags: [public]}]}]
""")
    pulsewatch(config, "config", "apply")
    key = create_key(config, "default", "owner", "contract")
    with running_engine(config) as engine:
        yield engine.base, key


@pytest.fixture(scope="module")
def api_schema(engine_and_key: tuple[str, str]) -> Any:
    base, _ = engine_and_key
    return schemathesis.openapi.from_url(f"{base}/api/v1/openapi.json")


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=8,
    derandomize=True,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_every_response_matches_the_document(case: Any, engine_and_key: tuple[str, str]) -> None:
    _, key = engine_and_key
    case.call_and_validate(headers={"Authorization": f"Bearer {key}"}, checks=CHECKS)


def test_the_document_covers_every_resource(api_schema: Any) -> None:
    paths = set(api_schema.raw_schema["paths"])
    assert {
        "/api/v1/checks",
        "/api/v1/checks/{check_id}",
        "/api/v1/checks/{check_id}/pause",
        "/api/v1/checks/{check_id}/resume",
        "/api/v1/checks/{check_id}/run",
        "/api/v1/states",
        "/api/v1/checks/{check_id}/results",
        "/api/v1/flips",
        "/api/v1/incidents",
        "/api/v1/incidents/{incident_id}/ack",
        "/api/v1/incidents/{incident_id}/resolve",
        "/api/v1/incidents/{incident_id}/notes",
        "/api/v1/channels",
        "/api/v1/channels/{name}/test",
        "/api/v1/maintenance",
        "/api/v1/silences",
        "/api/v1/reports/uptime",
        "/api/v1/reports/sla",
        "/api/v1/audit",
    } <= paths
    security = api_schema.raw_schema["components"]["securitySchemes"]
    assert security["ApiKey"] == {
        "type": "http",
        "scheme": "bearer",
        "description": security["ApiKey"]["description"],
    }
