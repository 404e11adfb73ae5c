"""Scenario 14: schemathesis generates requests from the running server's ``/openapi.json``;
none may get a server error (5xx), with or without a valid token and protocol header, and every
answer must be one the document declares: its status code, content type, headers and body shape
(schemathesis's response-conformance checks).
"""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from sync.client import login
from sync.protocol import PROTOCOL, PROTOCOL_HEADER
from tests.support.sync_support import ServerProcess

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


def test_generated_requests_get_declared_answers(shared_server: ServerProcess, tag: str) -> None:
    shared_server.add_user(f"fuzz-{tag}", team=f"fuzz-{tag}")
    token = login(shared_server.base, f"fuzz-{tag}", "pw").token
    schema = schemathesis.openapi.from_url(f"{shared_server.base}/openapi.json")
    good = {PROTOCOL_HEADER: str(PROTOCOL), "Authorization": f"Bearer {token}"}
    header_sets = st.sampled_from(
        [good, {PROTOCOL_HEADER: str(PROTOCOL)}, {}, {**good, PROTOCOL_HEADER: str(PROTOCOL + 1)}]
    )
    checked: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        checked.append(operation.label)

        @settings(
            max_examples=15,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(), headers=header_sets)
        def run(case: schemathesis.Case, headers: dict[str, str]) -> None:
            case.call_and_validate(base_url=shared_server.base, headers=headers, timeout=30, checks=CHECKS)

        run()
    assert {"POST /api/v1/push", "POST /api/v1/pull", "POST /api/v1/login"} <= set(checked)
