"""One client of ``bench/sync_crowd.py``: a rep's laptop speaking the real sync protocol.

Run as its own process (``sync_crowd.py`` starts 50 of them). It imports only the standard
library so that 50 copies stay light on a 2-core machine: the load generator must not be what
is measured. It does what ``sync.client.SyncClient`` does on the wire, without the local
database: log in, register a client id, then per round push one batch (a new contact, plus an
edit of the previous round's contact with its base value) with consecutive mutation ids, and
pull pages from its cursor until the server says there is no more. Every response is checked
(see ``_push`` and ``_pull``); a failed check is an error.

Protocol with the parent, one JSON object per line: the child prints ``{"ready": true}`` once
logged in, registered and caught up; the parent answers on standard input with the wall-clock
instant of round 0 (``{"t0": ...}``); the child prints ``{"done": ...}`` with its figures.
"""

from __future__ import annotations

import argparse
import gzip
import http.client
import json
import ssl
import sys
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

API = "/api/v1"


class CheckFailed(Exception):
    """A response that a correct server would not send."""


@dataclass
class Client:
    port: int
    username: str
    team: str
    protocol: str
    schema: str
    tls: bool = False  # through HAProxy (deploy/haproxy.cfg terminates TLS); its test certificate
    conn: http.client.HTTPConnection = field(init=False)
    token: str = ""
    client_id: str = ""
    epoch: str = ""
    cursor: dict[str, Any] | None = None
    next_mid: int = 1
    previous: tuple[str, str] | None = None  # (row id, role) of the last contact made
    pulled: int = 0

    last_used: float = 0.0

    def __post_init__(self) -> None:
        if self.tls:
            # One connection per client for all its syncs: one handshake, not one per sync.
            context = ssl._create_unverified_context()  # the bench's self-signed certificate
            self.conn = http.client.HTTPSConnection("127.0.0.1", self.port, timeout=60, context=context)
        else:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)

    def post(self, path: str, payload: dict[str, Any]) -> tuple[int, Any]:
        raw = json.dumps(payload).encode()
        headers = {
            "Content-Type": "application/json",
            "Accept-Encoding": "gzip",
            "X-Rapport-Protocol": self.protocol,
            "X-Rapport-Schema": self.schema,
        }
        if len(raw) > 1024:  # as the real client does
            raw = gzip.compress(raw, compresslevel=5)
            headers["Content-Encoding"] = "gzip"
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if time.monotonic() - self.last_used > 4.0:
            # uvicorn closes a keep-alive connection idle for 5 s; a browser or httpx would open a
            # new one, and so do we, before sending rather than after a broken pipe.
            self.conn.close()
        self.conn.request("POST", API + path, body=raw, headers=headers)
        resp = self.conn.getresponse()
        body = resp.read()
        self.last_used = time.monotonic()
        if resp.getheader("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        return resp.status, json.loads(body) if body else None

    def call(self, path: str, payload: dict[str, Any]) -> Any:
        status, body = self.post(path, payload)
        if status != 200:
            raise CheckFailed(f"{path}: HTTP {status} {body}")
        return body

    def start(self, password: str) -> None:
        self.token = self.call("/login", {"username": self.username, "password": password})["token"]
        reg = self.call("/register", {"first_mid": 1})
        self.client_id, self.epoch = reg["client_id"], reg["epoch"]
        self._pull(set())

    def sync(self, round_no: int) -> None:
        """One whole sync as the laptop sees it: push the batch, then pull to the end."""
        self._pull(self._push(round_no))

    def _push(self, round_no: int) -> set[tuple[str, int]]:
        row_id = str(uuid.uuid4())
        role = f"role {round_no}"
        mutations = [
            {
                "mid": self.next_mid,
                "entity": "contact",
                "row_id": row_id,
                "op": "create",
                "patch": {"name": f"{self.team}/{self.username} {round_no}", "role": role, "tags": ["crowd"]},
                "base": {},
            }
        ]
        if self.previous is not None:
            old_id, old_role = self.previous
            mutations.append(
                {
                    "mid": self.next_mid + 1,
                    "entity": "contact",
                    "row_id": old_id,
                    "op": "update",
                    "patch": {"role": f"{old_role}, then {round_no}"},
                    "base": {"role": old_role},
                }
            )
        body = self.call("/push", {"client_id": self.client_id, "epoch": self.epoch, "mutations": mutations})
        results = body["results"]
        last = mutations[-1]["mid"]
        if body["last_mid"] != last or [r["mid"] for r in results] != [m["mid"] for m in mutations]:
            raise CheckFailed(f"push: results do not match the batch: {body}")
        expected: set[tuple[str, int]] = set()
        for m, r in zip(mutations, results, strict=True):
            # Nobody else writes this rep's own contacts: anything but "applied" is wrong.
            if r["status"] != "applied" or not isinstance(r["version"], int):
                raise CheckFailed(f"push: mutation {m['mid']} not applied: {r}")
            expected.add((m["row_id"], r["version"]))
        self.next_mid = last + 1
        self.previous = (row_id, role)
        return expected

    def _pull(self, expected: set[tuple[str, int]]) -> None:
        upper = None
        while True:
            page = self.call(
                "/pull", {"client_id": self.client_id, "cursor": self.cursor, "upper": upper, "limit": 2000}
            )
            cursor = page["cursor"]
            if self.cursor is not None and cursor["version"] < self.cursor["version"]:
                raise CheckFailed(f"pull: cursor went back from {self.cursor} to {cursor}")
            for change in page["changes"]:
                name = change["data"].get("name", "")
                # Teams are territories: a row of another team here would be a leak.
                if change["entity"] == "contact" and not name.startswith(self.team + "/"):
                    raise CheckFailed(f"pull: {self.username} of {self.team} got {name!r}")
                expected.discard((change["id"], change["version"]))
            self.pulled += len(page["changes"])
            self.cursor, upper = cursor, page["upper"]
            if not page["has_more"]:
                break
        if expected:
            raise CheckFailed(f"pull: own changes missing from the pull: {sorted(expected)}")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--username", required=True)
    parser.add_argument("--password", default="pw")
    parser.add_argument("--team", required=True)
    parser.add_argument("--protocol", required=True)
    parser.add_argument("--schema", required=True)
    parser.add_argument("--rounds", type=int, required=True)
    parser.add_argument("--period", type=float, default=0.0, help="seconds between round starts; 0: flat out")
    parser.add_argument("--offset", type=float, default=0.0, help="this client's start within a round")
    parser.add_argument("--tls", action="store_true", help="HTTPS (through HAProxy)")
    args = parser.parse_args()
    client = Client(args.port, args.username, args.team, args.protocol, args.schema, args.tls)
    client.start(args.password)
    client.sync(-1)  # warm-up (connection, first push): not measured
    print(json.dumps({"ready": True}), flush=True)
    t0 = float(json.loads(sys.stdin.readline())["t0"])
    latencies: list[float] = []
    errors: list[str] = []
    late = 0
    for r in range(args.rounds):
        if args.period:
            slot = t0 + r * args.period + args.offset
            wait = slot - time.time()
            if wait > 0:
                time.sleep(wait)
            elif wait < -0.005:
                late += 1  # the previous sync overran this client's slot
        elif r == 0:
            time.sleep(max(0.0, t0 - time.time()))
        start = time.perf_counter()
        try:
            client.sync(r)
        except (CheckFailed, OSError, http.client.HTTPException, ValueError, KeyError) as exc:
            # Counted and reported: the figure is the error count. The connection may be broken,
            # and the mutation ids' fate unknown, so this client stops here.
            errors.append(f"{args.username} round {r}: {type(exc).__name__}: {exc}"[:500])
            break
        latencies.append(time.perf_counter() - start)
    end = time.time()
    print(
        json.dumps(
            {
                "done": True,
                "latencies": latencies,
                "errors": errors,
                "late": late,
                "end": end,
                "pulled": client.pulled,
                "last_mid": client.next_mid - 1,
                "client_id": client.client_id,
            }
        ),
        flush=True,
    )
    # Stay up until every client is done: 50 interpreters shutting down cost the 2 cores tens of
    # milliseconds each, and early finishers would otherwise slow the last round of the others.
    sys.stdin.readline()
    return 0


if __name__ == "__main__":
    sys.exit(main())
