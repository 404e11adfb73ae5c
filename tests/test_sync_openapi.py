"""Scenario 14: schemathesis generates requests from the running server's ``/openapi.json``;
none may get a server error (5xx), with or without a valid token and protocol header.
"""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sync.client import login
from sync.protocol import PROTOCOL, PROTOCOL_HEADER
from tests.sync_support import ServerProcess, backend, shared_server, tag  # fixtures by name


def test_no_server_error_from_generated_requests(shared_server: ServerProcess, tag: str) -> None:
    shared_server.add_user(f"fuzz-{tag}", team=f"fuzz-{tag}")
    token = login(shared_server.base, f"fuzz-{tag}", "pw").token
    schema = schemathesis.openapi.from_url(f"{shared_server.base}/openapi.json")
    good = {PROTOCOL_HEADER: str(PROTOCOL), "Authorization": f"Bearer {token}"}
    header_sets = st.sampled_from([good, {PROTOCOL_HEADER: str(PROTOCOL)}, {}])
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
            response = case.call(base_url=shared_server.base, headers=headers, timeout=30)
            assert response.status_code < 500, f"{case.method} {case.formatted_path}: {response.status_code}"

        run()
    assert {"POST /api/v1/push", "POST /api/v1/pull", "POST /api/v1/login"} <= set(checked)
