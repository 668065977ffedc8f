"""`promptdeck webhooks …` (through the Client) and the AsyncClient against a real server
that sends to a real receiver."""

from __future__ import annotations

from collections.abc import Callable

from promptdeck.client import AsyncClient
from tests.cli.helpers import js, ok, run
from tests.support.aio import run as run_async
from tests.support.receiver import Receiver, wait_until
from tests.support.server import ServerProcess
from tests.webhooks.helpers import FAST


def test_webhooks_add_list_test_deliveries_and_rm_from_the_command_line(
    start_server: Callable[..., ServerProcess],
) -> None:
    with Receiver("ok") as rx:
        url = start_server(env=FAST).url
        added = run(url, "webhooks", "add", rx.url, "-e", "version.created", "-d", "ci")
        assert added.exit_code == 0, added.stderr
        secret = added.stdout.strip().splitlines()[-1]
        assert secret.startswith("whsec_")
        assert "shown only now" in added.stderr
        (hook,) = js(url, "webhooks", "list")
        assert hook["events"] == ["version.created"] and "secret" not in hook
        listed = ok(url, "webhooks", "list")
        assert rx.url in listed and secret not in listed
        assert "queued test delivery" in ok(url, "webhooks", "test", str(hook["id"]))
        # The receiver has it before the sender has recorded its answer.
        wait_until(
            lambda: js(url, "webhooks", "deliveries", str(hook["id"]))[0]["status"] != "pending"
        )
        log = js(url, "webhooks", "deliveries", str(hook["id"]))
        assert len(rx.accepted()) == 1
        assert [(d["kind"], d["status"], d["last_status_code"]) for d in log] == [
            ("webhook.test", "delivered", 200)
        ]
        assert "200 in" in ok(url, "webhooks", "deliveries", str(hook["id"]))
        refused = run(url, "webhooks", "add", "ftp://nope", "-e", "version.created")
        assert refused.exit_code == 1 and "url" in refused.stderr
        ok(url, "webhooks", "rm", str(hook["id"]))
        assert js(url, "webhooks", "list") == []
        assert run(url, "webhooks", "rm", str(hook["id"])).exit_code == 1


def test_the_async_client_manages_webhooks(start_server: Callable[..., ServerProcess]) -> None:
    url = start_server(env={**FAST, "PROMPTDECK_WEBHOOKS_DELIVER": "false"}).url

    async def main() -> None:
        async with AsyncClient(url) as c:
            made = await c.create_webhook("http://127.0.0.1:9/", events=["label.moved"])
            assert made.secret.startswith("whsec_")
            paused = await c.update_webhook(made.id, enabled=False, description="later")
            assert (paused.enabled, paused.description) == (False, "later")
            assert (await c.get_webhook(made.id)).events == ["label.moved"]
            queued = await c.send_webhook_test(made.id)
            page = await c.list_webhook_deliveries(made.id, status="pending")
            assert [d.uid for d in page.items] == [queued.uid]
            assert [h.id for h in (await c.list_webhooks()).items] == [made.id]
            await c.delete_webhook(made.id)
            assert (await c.list_webhooks()).items == []

    run_async(main())
