"""Hostile values (issue 10, items 3, 4 and 12): a value the server cannot store, or could not
send back, refuses that one change (listed on the laptop, in words) and never the batch, never a
teammate's pull; malformed requests are a 4xx in the documented shape, never a 500.
Real server process on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import date

import httpx

from models.entities import Account
from models.services.briefing import person_brief
from sync.protocol import API, PROTOCOL, PROTOCOL_HEADER
from sync.status import list_rejections
from tests.support.sync_support import Laptop, ServerProcess, contact, raw_post


def _post_bytes(base: str, path: str, body: bytes, token: str | None = None) -> httpx.Response:
    """A hand-written body: NaN, Infinity and ``\\ud800`` escapes are not what json.dumps of
    httpx writes."""
    headers = {PROTOCOL_HEADER: str(PROTOCOL), "Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return httpx.post(f"{base}{API}{path}", content=body, headers=headers, timeout=60)


def test_a_value_the_server_cannot_store_refuses_that_change_and_the_rest_syncs(
    laptops: Callable[..., Laptop],
) -> None:
    """Item 3 (and 5): NUL in a role (PostgreSQL refused the whole push with 422: nothing pushed,
    nothing pulled, nothing recorded), a role and a tier longer than the server's limit (written
    by a build of the app that did not check them), among good changes in one batch."""
    a, b = laptops("ana"), laptops("ben")
    first = a.add(contact("Kept", role="Buyer"))
    a.sync()
    b.sync()
    # Written through the ORM, as an older build of the app would have let a rep save them.
    good = a.add(contact("Good"))
    a.edit("contact", first, role="Head\x00buyer")
    a.edit("contact", good, tags=["vip"])
    # 300 levels deep: pydantic would not even serialise the push, and no sync of this laptop
    # would ever get through again.
    a.edit("contact", first, personal_dates=json.loads("[" * 300 + "]" * 300))
    too_long = a.add(contact("Long role", role="r" * 250))
    account = a.add(Account(name="Tiered", tier="t" * 60))
    summary = a.sync()

    assert summary.rejected == 4
    with a.db.read() as s:
        reasons = {(r.row_id, r.reason) for r in list_rejections(s)}
    assert reasons == {
        (first, "Role contains a NUL character, which cannot be stored"),
        (first, "Personal dates must be a list of {label, date} entries"),
        (too_long, "Role is too long: 250 characters (at most 200)"),
        (account, "Tier is too long: 60 characters (at most 50)"),
    }
    assert a.outbox() == 0
    # The refused edits are undone on their laptop: the team holds "Buyer", so does this laptop.
    assert (a.get("contact", first).role, a.get("contact", first).personal_dates) == ("Buyer", [])
    b.sync()
    assert b.get("contact", good).tags == ["vip"]
    assert b.get("contact", too_long) is None and b.get("account", account) is None
    # The two laptops agree on everything but the refused creates, which only their author has
    # (listed as refused, so the rep can redo them).
    mine = a.snapshot()
    assert {key[1] for key in set(mine) - set(b.snapshot())} == {str(too_long), str(account)}
    assert b.snapshot() == {k: v for k, v in mine.items() if k in b.snapshot()}


def test_values_that_could_not_be_sent_back_are_refused_one_by_one(laptops: Callable[..., Laptop]) -> None:
    """Item 4: a lone surrogate (SQLite server: 500 on every pull), NaN and Infinity, JSON 900
    deep (500 on every pull), a personal date that is not an object (crashed a teammate's
    briefing sheet), an unknown choice, a date that is not one, a field name with NUL: each
    refuses its own change; the good ones around them apply, and every teammate still syncs."""
    a, b = laptops("ana"), laptops("ben")
    b.sync()  # b pulls page by page afterwards; c below downloads a snapshot
    client = raw_post(a, "/register", {}).json()
    good = str(uuid.uuid4())
    deep = "[" * 900 + "]" * 900
    patches = [
        '{"name": "Good"}',
        '{"name": "Bro\\ud800ken"}',
        '{"name": "Nan", "tags": [NaN]}',
        '{"name": "Deep", "tags": ' + deep + "}",
        '{"name": "Deep dates", "personal_dates": [' + deep + "]}",
        '{"name": "Dates", "personal_dates": ["not an object"]}',
        '{"name": "Dates", "personal_dates": [{"label": "x", "date": "soon"}]}',
        '{"name": "Kind", "kind": "boss"}',
        '{"name": "Birthday", "birthday": "yesterday"}',
        '{"name": "Key", "\\u0000": 1}',
        '{"name": "Inf", "cadence_days": Infinity}',
        '{"name": "Emails", "emails": ["a\\u0000@b.de"]}',
    ]
    mutations = [
        f'{{"mid": {i + 1}, "entity": "contact", "row_id": "{good if i == 0 else uuid.uuid4()}", '
        f'"op": "create", "patch": {patch}}}'
        for i, patch in enumerate(patches)
    ]
    # A base is compared, never stored: NaN there is just a value that differs from the current
    # one (a conflict, whose record every teammate pulls).
    mutations.append(
        f'{{"mid": {len(patches) + 1}, "entity": "contact", "row_id": "{good}", "op": "update", '
        '"patch": {"role": "Buyer"}, "base": {"role": NaN}}'
    )
    body = (
        f'{{"client_id": "{client["client_id"]}", "epoch": "{client["epoch"]}", '
        f'"mutations": [{", ".join(mutations)}]}}'
    )
    resp = _post_bytes(a.server.base, "/push", body.encode(), a.token)
    assert resp.status_code == 200, resp.text
    results = resp.json()["results"]
    assert [r["status"] for r in results] == ["applied"] + ["rejected"] * (len(patches) - 1) + ["conflict"]
    reasons = [r["reason"] for r in results[1:-1]]
    assert reasons == [
        "Name contains a broken character (a lone surrogate), which cannot be stored",
        "Tags must be a list of texts",
        "Tags must be a list of texts",
        "Personal dates must be a list of {label, date} entries",
        "Personal dates must be a list of {label, date} entries",
        "Personal dates must be a list of {label, date} entries",
        "Kind must be one of: customer, partner, supplier, colleague, other",
        "Birthday is not a date (use YYYY-MM-DD)",
        "unknown field contact.'\\x00'",
        "Cadence days must be a whole number",
        "Emails must be a list of texts",
    ]

    b.sync()  # a paged pull
    c = laptops("cleo")
    c.sync()  # a snapshot
    for lap in (a, b, c):
        lap.sync()
        row = lap.get("contact", uuid.UUID(good))
        assert (row.name, row.role) == ("Good", "Buyer")
        assert lap.count("contact") == 1
        with lap.db.read() as s:  # the teammate's briefing sheet
            assert person_brief(s, uuid.UUID(good), date.today()).contact.name == "Good"


def test_malformed_requests_get_a_4xx_in_the_documented_shape(shared_server: ServerProcess, tag: str) -> None:
    """Item 12: NaN anywhere in a body, even the unauthenticated /login, and a lone surrogate in
    a user name answered 500. Every one is the client's mistake: a 4xx with ``detail``."""
    shared_server.add_user(f"ana-{tag}", team=f"north-{tag}")
    token = _post_bytes(
        shared_server.base, "/login", json.dumps({"username": f"ana-{tag}", "password": "pw"}).encode()
    ).json()["token"]
    client = json.loads(_post_bytes(shared_server.base, "/register", b"{}", token).text)

    def push(mutation: str) -> str:
        return json.dumps({"client_id": client["client_id"], "epoch": client["epoch"]})[:-1] + (
            f', "mutations": [{mutation}]}}'
        )

    row = uuid.uuid4()
    cases: list[tuple[str, str, str | None]] = [
        ("/login", '{"username": NaN, "password": "pw"}', None),
        ("/login", f'{{"username": "ana-{tag}", "password": "pw", "x": NaN}}', None),
        ("/login", '{"username": "\\ud800", "password": "pw"}', None),
        ("/login", f'{{"username": "ana-{tag}", "password": "\\udfff"}}', None),
        ("/login", '{"username": "ana\\u0000", "password": "pw"}', None),
        ("/login", '{"username": Infinity, "password": -Infinity}', None),
        ("/register", '{"first_mid": NaN}', token),
        ("/pull", '{"limit": NaN}', token),
        ("/pull", '{"cursor": {"epoch": "\\ud800", "version": 1}}', token),
        ("/push", push(f'{{"mid": NaN, "entity": "contact", "row_id": "{row}", "op": "create"}}'), token),
        ("/push", push(f'{{"mid": 1, "entity": "\\ud800", "row_id": "{row}", "op": "create"}}'), token),
        ("/push", '{"mutations": ' + "[" * 100_000 + "]" * 100_000 + "}", token),
    ]
    for path, body, bearer in cases:
        resp = _post_bytes(shared_server.base, path, body.encode(), bearer)
        assert 400 <= resp.status_code < 500, (path, body[:80], resp.status_code, resp.text[:200])
        assert "detail" in resp.json(), (path, body[:80], resp.text[:200])
    # The same user still logs in: nothing above broke the server or its state.
    again = _post_bytes(
        shared_server.base, "/login", json.dumps({"username": f"ana-{tag}", "password": "pw"}).encode()
    )
    assert again.status_code == 200
