"""Errors stay small: after a 4xx the connection is reused; HEAD works on every GET route;
a 405 names every allowed method; UI errors are pages with the UI's security headers."""

from __future__ import annotations

import http.client
import json

from starlette.testclient import TestClient

from tests.support.server import ServerProcess


def test_the_keep_alive_connection_stays_usable_after_each_kind_of_4xx(
    shared_server: ServerProcess,
) -> None:
    port = int(shared_server.url.rsplit(":", 1)[1])
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    json_type = {"Content-Type": "application/json"}
    requests = [
        ("GET", "/prompts/no-such-prompt", None, {}, 404),
        ("PUT", "/prompts/x", b"{}", json_type, 405),
        ("POST", "/prompts", b"{not json", json_type, 400),
        ("POST", "/prompts", json.dumps({"name": "UPPER"}).encode(), json_type, 422),
        ("POST", "/prompts", b'{"name": "n", "model_config": {"a": NaN}}', json_type, 422),
        ("GET", "/prompts?limit=0", None, {}, 422),
        ("GET", "/prompts?cursor=%00", None, {}, 422),
        ("GET", "/ui/prompts/no-such-prompt", None, {}, 404),
    ]
    conn.request("GET", "/healthz")
    conn.getresponse().read()
    sock = conn.sock
    for method, path, body, headers, status in requests:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        response.read()
        assert response.status == status, (method, path, response.status)
        assert response.getheader("connection") != "close", path
        assert conn.sock is sock, f"the server closed the connection after {method} {path}"
    conn.request("GET", "/healthz")
    assert conn.getresponse().status == 200
    assert conn.sock is sock
    conn.close()


def test_head_answers_on_get_routes_without_a_body(api: TestClient) -> None:
    api.post("/prompts", json={"name": "h"})
    for path in ("/prompts", "/prompts/h", "/prompts/h/versions", "/export", "/ui/prompts/h"):
        get, head = api.get(path), api.head(path)
        assert head.status_code == get.status_code == 200, path
        assert head.content == b""
        assert head.headers["content-type"] == get.headers["content-type"]


def test_a_405_names_every_method_the_path_allows(api: TestClient) -> None:
    assert api.put("/prompts").headers["allow"] == "GET, HEAD, POST"
    assert api.put("/prompts/x").headers["allow"] == "DELETE, GET, HEAD, PATCH"
    assert api.put("/prompts/x/versions/1").headers["allow"] == "DELETE, GET, HEAD"


def test_ui_errors_are_html_pages_with_the_security_headers(api: TestClient) -> None:
    page = api.put("/ui/prompts/x")
    assert page.status_code == 405
    assert page.headers["content-type"].startswith("text/html")
    assert "content-security-policy" in page.headers
    assert page.headers["allow"] == "GET, HEAD, POST"
