"""Throttling against real servers (two processes over one database): forty parallel
wrong passwords, spread over both, are all counted, so only the free ones are checked (and
one more each time a wait has passed), for a known name and an unknown one alike; wrong
keys sent to two processes add up."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx

from promptdeck.core import Registry
from promptdeck.core.access import Access
from promptdeck.core.throttle import subject_of
from promptdeck.domain.access import KEY_ADDRESS, SIGN_IN_NAME
from tests.access.conftest import bearer
from tests.support.load import figure
from tests.support.server import ServerProcess

PARALLEL = 40


def wrong_passwords(urls: list[str], name: str) -> list[httpx.Response]:
    """PARALLEL wrong passwords for ``name`` at once, each on its own connection, spread
    over the servers at ``urls``."""
    with httpx.Client(base_url=urls[0]) as browser:
        page = browser.get("/ui/sign-in").text
        token = page.split('name="csrf" value="')[1].split('"')[0]
        cookies = dict(browser.cookies)

    def attempt(i: int) -> httpx.Response:
        with httpx.Client(base_url=urls[i % len(urls)], cookies=cookies, timeout=60) as http:
            return http.post(
                "/ui/sign-in",
                data={"name": name, "password": "wrong password!", "csrf": token},
            )

    with ThreadPoolExecutor(PARALLEL) as pool:
        return list(pool.map(attempt, range(PARALLEL)))


def failures(registry: Registry, name: str) -> int:
    subject = subject_of(SIGN_IN_NAME, name)
    with registry.engine.connect() as conn:
        found = conn.exec_driver_sql(
            "SELECT failures FROM auth_failures WHERE scope = ? AND subject = ?"
            if conn.dialect.name == "sqlite"
            else "SELECT failures FROM auth_failures WHERE scope = %s AND subject = %s",
            (SIGN_IN_NAME.scope, subject),
        ).scalar()
    return int(found or 0)


def test_forty_parallel_wrong_passwords_are_all_counted_for_known_and_unknown_names_alike(
    start_server: Callable[..., ServerProcess], registry: Registry
) -> None:
    Access(registry.engine).create_user("ana", "write", "a long enough password")
    urls = [start_server().url, start_server().url]
    seen = {}
    for name in ("ana", "bob"):  # bob does not exist
        answers = wrong_passwords(urls, name)
        seen[name] = Counter(r.status_code for r in answers)
        assert all(("retry-after" in r.headers) == (r.status_code == 429) for r in answers), (
            "a wait without Retry-After"
        )
        # Every attempt is counted before its password is checked, in the transaction that
        # decides whether it may be: the database holds exactly the number checked (none
        # lost, none checked while the name had to wait). Past the free ones, an attempt
        # is checked only once a wait (2 s, then 4 s, 8 s…) has passed during the burst.
        checked = seen[name][401]
        assert checked + seen[name][429] == PARALLEL
        assert failures(registry, name) == checked
        assert SIGN_IN_NAME.free <= checked <= SIGN_IN_NAME.free + 5, seen[name]
    figure(
        "parallel wrong passwords (2 processes)",
        f"{PARALLEL} at once: known name {seen['ana'][401]} checked and counted, "
        f"{seen['ana'][429]} told to wait; unknown name {seen['bob'][401]} and "
        f"{seen['bob'][429]} (free: {SIGN_IN_NAME.free})",
    )


def test_wrong_keys_sent_to_two_processes_add_up_in_the_database(
    start_server: Callable[..., ServerProcess], registry: Registry
) -> None:
    good = bearer(Access(registry.engine).create_key("app", "read").secret)
    one, two = start_server(), start_server()
    half = KEY_ADDRESS.free // 2
    with httpx.Client(timeout=30) as http:
        assert http.get(f"{one.url}/prompts", headers=good).status_code == 200
        statuses = [
            http.get(
                f"{server.url}/prompts", headers=bearer(f"pdk_{i:08x}_" + "w" * 40)
            ).status_code
            for i, server in enumerate([one] * half + [two] * half + [one, two])
        ]
        assert statuses == [401] * (2 * half) + [429, 429]
        assert http.get(f"{one.url}/prompts", headers=good).status_code == 200
    figure(
        "wrong keys across processes",
        f"{2 * half} wrong keys over 2 processes, then both answer 429",
    )
