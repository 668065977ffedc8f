"""The issue's story, tried as a new user would, with real processes: a server bound to
0.0.0.0 refuses to start open; the first admin key is made on the database; with it, a write
key for one application and a read key for another; the read key fetches but cannot roll
back; every change in GET /events names its key; no key or password is left in the database
or the logs."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import httpx
import sqlalchemy as sa

from promptdeck.core import Registry
from tests.support.load import figure
from tests.support.server import PROMPTDECK, free_port

PASSWORD = "correct horse battery staple"


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PROMPTDECK, *args],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200", **(env or {})},
        timeout=120,
    )


def serve(database_url: str, port: int, log: Path, *extra: str) -> subprocess.Popen[bytes]:
    out = open(log, "ab")  # noqa: SIM115
    return subprocess.Popen(
        [
            PROMPTDECK,
            "serve",
            "--host",
            "0.0.0.0",
            "--port",
            str(port),
            "--database-url",
            database_url,
            "--access-log",
            "--log-level",
            "info",
            *extra,
        ],
        stdout=out,
        stderr=out,
        start_new_session=True,
    )


def wait_healthy(url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the server exited"
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise AssertionError("the server did not start")


def dump(registry: Registry) -> str:
    """Every row of every table, as text."""
    lines = []
    with registry.engine.connect() as conn:
        for table in sa.inspect(conn).get_table_names():
            lines += [repr(tuple(r)) for r in conn.execute(sa.text(f'SELECT * FROM "{table}"'))]
    return "\n".join(lines)


def test_a_new_user_secures_a_server_on_the_network_and_every_change_names_its_key(
    database_url: str, registry: Registry, tmp_path: Path
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path / "server.log"

    refused = cli("serve", "--host", "0.0.0.0", "--port", str(port), "--database-url", database_url)
    assert refused.returncode == 2
    assert len(refused.stderr.strip().splitlines()) == 1, refused.stderr
    assert "refusing to serve 0.0.0.0 with no API key and no user" in refused.stderr

    made = cli(
        "keys", "create", "--name", "admin", "--role", "admin", "--database-url", database_url
    )
    assert made.returncode == 0, made.stderr
    admin = made.stdout.strip()
    assert admin.startswith("pdk_") and "\n" not in admin  # the key alone, once, on stdout
    listed = json.loads(cli("keys", "list", "--json", "--database-url", database_url).stdout)
    assert [(k["name"], k["key_prefix"]) for k in listed] == [("admin", admin[:12])]
    assert admin not in json.dumps(listed)

    server = serve(database_url, port, log)
    try:
        wait_healthy(url, server)
        as_admin = {"PROMPTDECK_URL": url, "PROMPTDECK_API_KEY": admin}
        write = cli("keys", "create", "--name", "support-app", "--role", "write", env=as_admin)
        read = cli(
            "keys", "create", "--name", "dashboard", "--role", "read", "--json", env=as_admin
        )
        assert write.returncode == 0 and read.returncode == 0, write.stderr + read.stderr
        writer = {
            "PROMPTDECK_URL": url,
            "PROMPTDECK_API_KEY": write.stdout.strip(),
            "PROMPTDECK_ACTOR": "someone-else",
        }
        reader = {"PROMPTDECK_URL": url, "PROMPTDECK_API_KEY": json.loads(read.stdout)["key"]}
        assert cli("prompts", "create", "greet", "-c", "Hello", env=writer).returncode == 0
        assert cli("versions", "create", "greet", "-c", "Hi", env=writer).returncode == 0
        users = cli(
            "users", "create", "ana", "--role", "write", "--password", PASSWORD, env=as_admin
        )
        assert users.returncode == 0, users.stderr

        fetched = httpx.get(
            f"{url}/prompts/greet/active",
            headers={"Authorization": f"Bearer {reader['PROMPTDECK_API_KEY']}"},
        )
        assert fetched.status_code == 200 and fetched.json()["content"] == "Hello"
        rollback = cli("versions", "rollback", "greet", "1", env=reader)
        assert rollback.returncode == 1 and "403" in rollback.stderr
        assert cli("prompts", "show", "greet", env={"PROMPTDECK_URL": url}).returncode == 1

        # Signing in through the UI, with a wrong password first.
        with httpx.Client(base_url=url) as browser:
            form = browser.get("/ui/sign-in").text
            token = form.split('name="csrf" value="')[1].split('"')[0]
            wrong = browser.post(
                "/ui/sign-in", data={"name": "ana", "password": "nope" * 3, "csrf": token}
            )
            assert wrong.status_code == 401
            right = browser.post(
                "/ui/sign-in", data={"name": "ana", "password": PASSWORD, "csrf": token}
            )
            assert right.status_code == 303 and "promptdeck_session" in browser.cookies

        events = json.loads(cli("events", "--json", env=as_admin).stdout)
        actors = {(e["prompt_name"], e["kind"], e["actor"]) for e in events}
        assert ("greet", "prompt.created", "support-app") in actors
        assert ("greet", "version.created", "support-app") in actors
        assert {e["actor"] for e in events} == {"support-app"}  # X-Actor did not replace it
    finally:
        os.killpg(server.pid, 15)
        server.wait(15)

    secrets = [admin, write.stdout.strip(), reader["PROMPTDECK_API_KEY"], PASSWORD]
    text = dump(registry) + log.read_text(errors="replace")
    found = sum(text.count(s) for s in secrets)
    figure(
        "secrets at rest",
        f"{found} raw keys or passwords in a database dump and the log "
        f"({len(secrets)} secrets used, {len(text):,} characters searched)",
    )
    assert found == 0
    assert "GET /prompts/greet/active" in log.read_text()  # the log was on, and was read


def test_an_open_server_says_so_at_start_and_insecure_serves_open_off_loopback(
    database_url: str, tmp_path: Path
) -> None:
    for extra, bound in (((), "127.0.0.1"), (("--insecure",), "0.0.0.0")):
        port = free_port()
        log = tmp_path / f"{bound}.log"
        out = open(log, "ab")  # noqa: SIM115
        proc = subprocess.Popen(
            [
                PROMPTDECK,
                "serve",
                "--host",
                bound,
                "--port",
                str(port),
                "--database-url",
                database_url,
                *extra,
            ],
            stdout=out,
            stderr=out,
            start_new_session=True,
        )
        try:
            wait_healthy(f"http://127.0.0.1:{port}", proc)
            assert httpx.get(f"http://127.0.0.1:{port}/prompts").status_code == 200
        finally:
            os.killpg(proc.pid, 15)
            proc.wait(15)
        assert "OPEN: no key or user" in log.read_text()
