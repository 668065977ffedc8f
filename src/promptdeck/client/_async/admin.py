"""Administration: webhooks, API keys, people and model providers (the admin role;
docs/webhooks.md, docs/access.md, docs/evaluations.md), and the history across prompts (any
role: the prompts it may see)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from datetime import datetime

from promptdeck.client import access as access_calls
from promptdeck.client import providers as provider_calls
from promptdeck.client import webhooks as webhook_calls
from promptdeck.client._async.base import AsyncSender
from promptdeck.schemas import (
    AccountOut,
    AuditEventOut,
    DeliveryOut,
    KeyCreated,
    Page,
    ProviderOut,
    WebhookCreated,
    WebhookOut,
)


class AsyncAdminMethods(AsyncSender):
    # --- webhooks (admin; docs/webhooks.md) -------------------------------------------------

    async def create_webhook(
        self,
        url: str,
        *,
        events: list[str] | None = None,
        prompt: str | int | None = None,
        secret: str | None = None,
        description: str | None = None,
        enabled: bool = True,
    ) -> WebhookCreated:
        """A new webhook (all events of every prompt unless ``events``/``prompt`` say
        less); the answer's ``secret`` is shown this once."""
        return await self._send(
            webhook_calls.create(
                url,
                events=events,
                prompt=prompt,
                secret=secret,
                description=description,
                enabled=enabled,
            )
        )

    async def list_webhooks(
        self, *, limit: int | None = None, cursor: str | None = None
    ) -> Page[WebhookOut]:
        return await self._send(webhook_calls.listing(limit=limit, cursor=cursor))

    async def get_webhook(self, hook_id: int) -> WebhookOut:
        return await self._send(webhook_calls.get(hook_id))

    async def update_webhook(
        self,
        hook_id: int,
        *,
        url: str | None = None,
        events: list[str] | None = None,
        secret: str | None = None,
        description: str | None = None,
        enabled: bool | None = None,
    ) -> WebhookOut:
        """Change what is given; ``enabled=False`` pauses the hook."""
        changes = {
            k: v
            for k, v in (
                ("url", url),
                ("events", events),
                ("secret", secret),
                ("description", description),
                ("enabled", enabled),
            )
            if v is not None
        }
        return await self._send(webhook_calls.update(hook_id, changes))

    async def delete_webhook(self, hook_id: int) -> None:
        await self._send(webhook_calls.delete(hook_id))

    async def list_webhook_deliveries(
        self,
        hook_id: int,
        *,
        status: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Page[DeliveryOut]:
        """The hook's delivery log, newest first, each with its last attempt."""
        return await self._send(
            webhook_calls.deliveries(hook_id, status=status, limit=limit, cursor=cursor)
        )

    async def send_webhook_test(self, hook_id: int) -> DeliveryOut:
        """Queue a ``webhook.test`` delivery to the hook ("send a test")."""
        return await self._send(webhook_calls.send_test(hook_id))

    # --- model providers (admin to change; docs/evaluations.md) ----------------------------

    async def add_provider(
        self,
        name: str,
        base_url: str,
        models: list[str],
        *,
        api_key: str | None = None,
        api_key_env: str | None = None,
        prices: Mapping[str, Mapping[str, float]] | None = None,
        timeouts: Mapping[str, float] | None = None,
        retry_attempts: int | None = None,
    ) -> ProviderOut:
        """An OpenAI-compatible endpoint evaluations can call. Its key: ``api_key`` (stored
        sealed by the server, never shown again) or ``api_key_env`` (the server's environment
        variable that holds it), or neither (a local server)."""
        body = provider_calls.body(base_url, models, prices, timeouts, retry_attempts)
        body |= {"name": name} | provider_calls.key_fields(api_key, api_key_env, drop_key=False)
        return await self._send(provider_calls.add(body))

    async def list_providers(self) -> list[ProviderOut]:
        """Every provider, by name (``api_key`` says ``stored``, never the key)."""
        return await self._send(provider_calls.listing())

    async def get_provider(self, name: str) -> ProviderOut:
        return await self._send(provider_calls.get(name))

    async def replace_provider(
        self,
        name: str,
        base_url: str,
        models: list[str],
        *,
        api_key: str | None = None,
        api_key_env: str | None = None,
        drop_key: bool = False,
        prices: Mapping[str, Mapping[str, float]] | None = None,
        timeouts: Mapping[str, float] | None = None,
        retry_attempts: int | None = None,
    ) -> ProviderOut:
        """The provider's whole configuration again. Its key stays unless ``api_key`` (a new
        one: rotation), ``api_key_env`` or ``drop_key`` say otherwise."""
        body = provider_calls.body(base_url, models, prices, timeouts, retry_attempts)
        body |= provider_calls.key_fields(api_key, api_key_env, drop_key=drop_key)
        return await self._send(provider_calls.replace(name, body))

    async def remove_provider(self, name: str) -> None:
        """Remove a provider (refused while evaluations name it)."""
        await self._send(provider_calls.remove(name))

    # --- keys and people (admin; docs/access.md) ------------------------------------------

    async def create_key(
        self,
        name: str,
        role: str,
        *,
        prompts: list[str] | None = None,
        expires: str | None = None,
    ) -> KeyCreated:
        """A new API key (``role``: read, write or admin; ``prompts``: name prefixes it is
        limited to; ``expires``: a lifetime like ``90d``). The answer's ``key`` is shown this
        once: only its hash is kept."""
        return await self._send(
            access_calls.create_key(name, role, prompts=prompts or [], expires=expires)
        )

    async def list_keys(
        self, *, limit: int | None = None, cursor: str | None = None
    ) -> Page[AccountOut]:
        """The API keys, with their visible prefix, role, prompts and expiry (never a key)."""
        return await self._send(access_calls.list_accounts("key", limit=limit, cursor=cursor))

    def iter_keys(self) -> AsyncIterator[AccountOut]:
        return self._items(
            lambda cursor: access_calls.list_accounts("key", limit=200, cursor=cursor)
        )

    async def revoke_key(self, name: str) -> AccountOut:
        """Revoke a key: every server process refuses it from its next request."""
        return await self._send(access_calls.revoke("key", name))

    async def create_user(
        self, name: str, role: str, password: str, *, prompts: list[str] | None = None
    ) -> AccountOut:
        """A person who signs in to the web UI (the password: at least 10 characters)."""
        return await self._send(
            access_calls.create_user(name, role, password, prompts=prompts or [])
        )

    async def list_users(
        self, *, limit: int | None = None, cursor: str | None = None
    ) -> Page[AccountOut]:
        return await self._send(access_calls.list_accounts("user", limit=limit, cursor=cursor))

    def iter_users(self) -> AsyncIterator[AccountOut]:
        return self._items(
            lambda cursor: access_calls.list_accounts("user", limit=200, cursor=cursor)
        )

    async def revoke_user(self, name: str) -> AccountOut:
        """Revoke a person: their sessions end and they cannot sign in again."""
        return await self._send(access_calls.revoke("user", name))

    async def list_audit_events(
        self,
        *,
        prompt: str | int | None = None,
        actor: str | None = None,
        kind: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Page[AuditEventOut]:
        """Every change to every prompt, newest first (the ones the caller may see), filtered
        by prompt, actor, kind (or a family like ``version.``) and time."""
        return await self._send(
            access_calls.list_events(
                limit=limit,
                cursor=cursor,
                prompt=None if prompt is None else str(prompt),
                actor=actor,
                kind=kind,
                since=since,
                until=until,
            )
        )

    def iter_audit_events(
        self,
        *,
        prompt: str | int | None = None,
        actor: str | None = None,
        kind: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> AsyncIterator[AuditEventOut]:
        """`list_audit_events`, page after page."""
        return self._items(
            lambda cursor: access_calls.list_events(
                limit=200,
                cursor=cursor,
                prompt=None if prompt is None else str(prompt),
                actor=actor,
                kind=kind,
                since=since,
                until=until,
            )
        )
