"""Managing keys and people never widens power (issue 22): a caller makes, revokes and
lists only keys and people with no higher role and prompts within its own; and on an open
server the first key or person made over the API is an admin."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from promptdeck.config import Settings
from promptdeck.core import Registry
from promptdeck.core.access import Access
from promptdeck.domain.access import OPEN, Principal, Role, within
from promptdeck.errors import AccountNotFound, Forbidden, InvalidInput
from promptdeck.server import create_app
from tests.access.conftest import bearer
from tests.support.load import figure

# --- the rule, against what it means -----------------------------------------------------

PREFIX = st.text(alphabet="ab-", min_size=1, max_size=4).map(lambda s: "p" + s)
PREFIXES = st.lists(PREFIX, max_size=3, unique=True).map(tuple)
NAME = st.text(alphabet="ab-", max_size=6).map(lambda s: "p" + s)


def allows(prefixes: tuple[str, ...], name: str) -> bool:
    return not prefixes or name.startswith(prefixes)


@settings(max_examples=400, deadline=None)
@given(inner=PREFIXES, outer=PREFIXES, names=st.lists(NAME, max_size=10))
def test_prefixes_lie_within_others_exactly_when_every_name_they_allow_is_allowed_by_the_others(
    inner: tuple[str, ...], outer: tuple[str, ...], names: list[str]
) -> None:
    if within(inner, outer):
        assert all(allows(outer, n) for n in names if allows(inner, n))
    else:
        # A name that ``inner`` allows and ``outer`` does not: one of inner's own prefixes,
        # or (inner allowing everything) a name no outer prefix starts.
        witnesses = [p for p in inner if not allows(outer, p)] or ["q" * 5]
        assert any(allows(inner, w) and not allows(outer, w) for w in witnesses)


# --- through the API, every caller against every key it might make or revoke ---------------

CALLER_PREFIXES = [(), ("pub-",), ("pub-a",), ("pub-", "team-")]
TARGET_PREFIXES = [(), ("pub-",), ("pub-a",), ("pub-ab", "team-x"), ("team-",), ("pu",)]


def expected(caller: tuple[str, ...], role: str, target: tuple[str, ...]) -> bool:
    """Written from the issue, not from the code: an admin caller reaches any role; a
    prompt prefix lies within the caller's when it starts with one of them."""
    if not caller:
        return True
    return bool(target) and all(any(t.startswith(c) for c in caller) for t in target)


@pytest.fixture
def admins(registry: Registry) -> dict[tuple[str, ...], str]:
    access = Access(registry.engine)
    return {
        p: access.create_key(f"admin{i}", "admin", prefixes=p).secret
        for i, p in enumerate(CALLER_PREFIXES)
    }


def test_an_admin_makes_and_revokes_only_keys_and_people_within_its_own_prompts(
    settings: Settings, registry: Registry, admins: dict[tuple[str, ...], str]
) -> None:
    access = Access(registry.engine)
    cells = wrong = 0
    with TestClient(create_app(settings, registry), raise_server_exceptions=False) as http:
        for n, (caller, role, target) in enumerate(
            itertools.product(CALLER_PREFIXES, ["read", "write", "admin"], TARGET_PREFIXES)
        ):
            key = bearer(admins[caller])
            allowed = expected(caller, role, target)
            body = {"name": f"k{n}", "role": role, "prompts": list(target)}
            made = http.post("/keys", json=body, headers=key)
            person = {**body, "name": f"u{n}", "password": "a long password"}
            user = http.post("/users", json=person, headers=key)
            # Made by the operator, to be revoked by the caller.
            access.create_key(f"r{n}", role, prefixes=target)
            revoked = http.delete(f"/keys/r{n}", headers=key)
            statuses = (made.status_code, user.status_code, revoked.status_code)
            cells += 1
            if statuses != ((201, 201, 200) if allowed else (403, 403, 403)):
                wrong += 1
                print(caller, role, target, statuses, made.text)
            if not allowed:
                assert "within its own" in made.json()["detail"]
                assert access.get(f"r{n}").revoked_at is None
                with pytest.raises(AccountNotFound):
                    access.get(f"k{n}")
    figure("key management within reach", f"{cells - wrong}/{cells} cells answered as the rule")
    assert wrong == 0


def test_a_limited_admin_lists_only_the_keys_and_people_within_its_reach(
    settings: Settings, registry: Registry, admins: dict[tuple[str, ...], str]
) -> None:
    access = Access(registry.engine)
    for i, target in enumerate(TARGET_PREFIXES):
        access.create_key(f"k{i}", "read", prefixes=target)
        access.create_user(f"u{i}", "read", "a long password", prefixes=target)
    with TestClient(create_app(settings, registry), raise_server_exceptions=False) as http:
        for caller, secret in admins.items():
            for path, kind in (("/keys", "key"), ("/users", "user")):
                names: list[str] = []
                cursor = None
                while True:  # pages of 2: the filter holds across pages
                    query = {"limit": 2, **({"cursor": cursor} if cursor else {})}
                    page = http.get(path, params=query, headers=bearer(secret)).json()
                    names += [a["name"] for a in page["items"]]
                    if not (cursor := page["next_cursor"]):
                        break
                everyone = access.list_accounts(kind, limit=200).items
                wanted = [a.name for a in everyone if expected(caller, a.role.name, a.prefixes)]
                assert names == wanted, (caller, path)


def test_no_role_above_its_own_is_given_or_revoked(registry: Registry) -> None:
    access = Access(registry.engine)
    access.create_key("boss", "admin")
    for role in (Role.read, Role.write):
        by = Principal(name="w", role=role, kind="key", id=1)
        for wanted in Role:
            if wanted > role:
                with pytest.raises(Forbidden):
                    access.create_key(f"x{role}{wanted}", wanted.name, by=by)
                with pytest.raises(Forbidden):
                    access.revoke("boss", "key", by=by)
            else:
                assert access.create_key(f"x{role}{wanted}", wanted.name, by=by).secret


# --- an open server ------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/keys", "/users"])
def test_the_first_key_or_person_made_over_the_api_on_an_open_server_must_be_an_admin(
    api: TestClient, registry: Registry, path: str
) -> None:
    body: dict[str, object] = {"name": "first", "prompts": []}
    if path == "/users":
        body["password"] = "a long password"
    for role in ("read", "write"):
        refused = api.post(path, json={**body, "role": role})
        assert refused.status_code == 422, refused.text
        problem = refused.json()
        assert problem["field"] == "role"
        assert "first" in problem["detail"] and "admin" in problem["detail"]
        assert Access(registry.engine).state() == (0, False)  # still open: nothing made
        assert api.get("/prompts").status_code == 200
    made = api.post(path, json={**body, "role": "admin"})
    assert made.status_code == 201, made.text
    assert api.get("/prompts").status_code == 401  # closed now, with an admin to run it


def test_on_an_open_server_an_admin_limited_to_prefixes_may_be_first_too(
    registry: Registry,
) -> None:
    access = Access(registry.engine)
    with pytest.raises(InvalidInput):
        access.create_key("r", "read", by=OPEN)
    assert access.create_key("a", "admin", prefixes=["pub-"], by=OPEN).account.prefixes == ("pub-",)
