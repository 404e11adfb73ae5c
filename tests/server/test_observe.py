"""Issue 15, item 4: one access-log line per request (JSON: user, route, status, duration, rows)
and Prometheus metrics at /metrics. A real server process (SQLite) and real laptops."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path

import httpx

from sync.store import K_CLIENT, K_EPOCH
from tests.support.scale_support import make_laptop
from tests.support.sync_support import ServerProcess, contact, raw_post, sync_state


def _metric(text: str, name: str, **labels: str) -> float:
    """The value of one sample of the Prometheus text ``text``."""
    wanted = ",".join(f'{k}="{v}"' for k, v in labels.items())
    pattern = re.escape(name) + (r"\{" + re.escape(wanted) + r"\}" if labels else "") + r" (\S+)"
    found = re.search(r"^" + pattern + "$", text, re.MULTILINE)
    assert found is not None, f"no {name} {labels} in /metrics"
    return float(found.group(1))


def test_access_log_and_metrics(tmp_path: Path) -> None:
    srv = ServerProcess(
        f"sqlite:///{tmp_path / 'server.sqlite'}", tmp_path / "server.log", extra=("--log-level", "info")
    )
    srv.start()
    try:
        ann, bob = make_laptop(srv, tmp_path, "ann"), make_laptop(srv, tmp_path, "bob")
        ids = [ann.add(contact(f"C{i}")) for i in range(3)]
        ann.sync()
        bob.sync()
        ann.edit("contact", ids[0], role="Buyer")
        bob.edit("contact", ids[0], role="Owner")
        ann.sync()
        bob.sync()  # the same field changed on both sides: a conflict record
        bad = {"mid": 1, "entity": "contact", "row_id": str(uuid.uuid4()), "op": "create", "base": {}}
        body = {
            "client_id": sync_state(ann, K_CLIENT),
            "epoch": sync_state(ann, K_EPOCH),
            "mutations": [{**bad, "mid": 3, "patch": {"name": "x" * 500}}],  # too long: refused
        }
        assert raw_post(ann, "/push", body).json()["results"][0]["status"] == "rejected"
        text = httpx.get(f"{srv.base}/metrics").text
        assert _metric(text, "rapport_rows_pushed_total") == 5  # 3 creates and 2 edits
        # Both first downloads (the 3 rows each; Ann's own come back with their versions), an edit each way.
        assert _metric(text, "rapport_rows_pulled_total") == 8
        assert _metric(text, "rapport_conflicts_total") == 1
        assert _metric(text, "rapport_refused_changes_total") == 1
        assert _metric(text, "rapport_requests_total", route="/api/v1/push", status="200") == 4
        assert _metric(text, "rapport_request_seconds_count", route="/api/v1/pull") >= 4
        assert _metric(text, "rapport_db_pool_size") >= 1
        assert _metric(text, "rapport_db_pool_in_use") == 0  # the scrape itself holds none
        for lap in (ann, bob):
            lap.close()
    finally:
        srv.stop()
        srv.close_admin()
    lines = [json.loads(line) for line in srv.log_path.read_text().splitlines() if line.startswith("{")]
    pushes = [line for line in lines if line["route"] == "/api/v1/push"]
    assert [p["user"] for p in pushes] == ["ann", "ann", "bob", "ann"]  # Bob had nothing to push at first
    assert pushes[0]["rows"] == 3 and pushes[0]["status"] == 200 and pushes[0]["ms"] > 0
    assert {line["route"] for line in lines} >= {"/api/v1/login", "/api/v1/pull", "/metrics"}
    assert all(
        set(line) == {"at", "client", "user", "method", "route", "status", "ms", "rows"} for line in lines
    )
