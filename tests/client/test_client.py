"""Client: every operation against a real server, and the server's errors as typed errors."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest

import promptdeck
from promptdeck import errors
from promptdeck.client import Client
from tests.support.server import ServerProcess


@pytest.fixture
def client(shared_server: ServerProcess) -> Iterator[Client]:
    with Client(shared_server.url, actor="alice") as c:
        yield c


def test_create_then_read_a_prompt_with_its_first_active_version(client: Client, name: str) -> None:
    created = client.create_prompt(
        name, "Hello {{who}}", description="d", tags=["a"], model_config={"model": "m"},
        version_name="v1", version_description="first",
    )  # fmt: skip
    assert created.active_version is not None
    assert created.active_version.version_name == "v1"
    assert created.active_version.created_by == "alice"
    read = client.get_prompt(name)
    assert (read.id, read.content, read.llm_config, read.tags) == (
        created.id, "Hello {{who}}", {"model": "m"}, ["a"],
    )  # fmt: skip
    assert client.get_prompt(created.id).name == name


def test_list_prompts_pages_with_a_cursor_and_iter_prompts_reads_every_page(
    client: Client, name: str
) -> None:
    for i in range(3):
        client.create_prompt(f"{name}-{i}", "x", tags=[name])
    first = client.list_prompts(limit=2, tag=name)
    assert len(first.items) == 2 and first.next_cursor
    assert [p.name for p in client.iter_prompts(tag=name)] == [f"{name}-{i}" for i in range(3)]
    assert [p.name for p in client.list_prompts(q=f"{name}-1").items] == [f"{name}-1"]


def test_update_prompt_changes_only_the_given_fields_and_checks_if_match(
    client: Client, name: str
) -> None:
    prompt = client.create_prompt(name, "a", description="keep")
    updated = client.update_prompt(name, content="b", if_match=prompt.etag)
    assert (updated.content, updated.description) == ("b", "keep")
    with pytest.raises(errors.PreconditionFailed) as caught:
        client.update_prompt(name, content="c", if_match=prompt.etag)
    assert caught.value.status == 412
    assert caught.value.title == "Precondition failed"
    assert prompt.etag in caught.value.detail
    assert client.update_prompt(name, max_versions=None).max_versions is None


def test_delete_restore_and_purge(client: Client, name: str) -> None:
    client.create_prompt(name, "a")
    client.delete_prompt(name)
    with pytest.raises(errors.PromptNotFound) as caught:
        client.get_prompt(name)
    assert (caught.value.status, caught.value.title) == (404, "Prompt not found")
    assert client.restore_prompt(name).name == name
    with pytest.raises(errors.PromptNotDeleted):
        client.purge_prompt(name)
    client.delete_prompt(name)
    client.purge_prompt(name)
    with pytest.raises(errors.PromptNotFound):
        client.restore_prompt(name)


def test_list_prompts_with_deleted_finds_deleted_prompts_to_restore(
    client: Client, name: str
) -> None:
    for i in range(3):
        client.create_prompt(f"{name}-{i}", "x", tags=[name])
    client.delete_prompt(f"{name}-2")
    client.delete_prompt(f"{name}-0")
    page = client.list_prompts(tag=name, deleted=True, limit=1)
    assert [p.name for p in page.items] == [f"{name}-0"] and page.next_cursor
    assert page.items[0].deleted_at is not None
    gone = [p.name for p in client.iter_prompts(tag=name, deleted=True)]
    assert gone == [f"{name}-0", f"{name}-2"]
    assert [p.name for p in client.iter_prompts(tag=name)] == [f"{name}-1"]
    client.restore_prompt(gone[0])
    assert [p.name for p in client.list_prompts(tag=name, deleted=True).items] == [f"{name}-2"]


def test_versions_create_list_get_by_id_or_name_and_rollback(client: Client, name: str) -> None:
    client.create_prompt(name, "one", version_name="v1")
    v2 = client.create_version(name, "two", version_name="v2", description="why")
    assert not v2.active and v2.number == 2 and v2.content == "two"
    v3 = client.create_version(name, "three", activate=True)
    assert v3.active and v3.version_name.endswith("Z")
    history = client.list_versions(name)
    assert [v.number for v in history.items] == [3, 2, 1]
    assert client.get_version(name, v2.id).description == "why"
    assert client.get_version(name, "v1").content == "one"
    result = client.rollback(name, "v2")
    assert result.changed and result.version.id == v2.id and result.prompt.active_version
    assert client.rollback(name, v2.id).changed is False
    kinds = [e.kind for e in client.iter_events(name)]
    assert kinds[0] == "version.rolled_back" and kinds[-1] == "prompt.created"


def test_an_all_digit_version_name_is_found_when_no_version_has_that_id(
    client: Client, name: str
) -> None:
    client.create_prompt(name, "a", version_name="2025")
    assert client.get_version(name, "2025").version_name == "2025"


def test_create_version_with_one_idempotency_key_creates_once(client: Client, name: str) -> None:
    client.create_prompt(name, "a")
    first = client.create_version(name, "b", idempotency_key="k1")
    again = client.create_version(name, "b", idempotency_key="k1")
    assert again.id == first.id
    assert client.get_prompt(name).version_count == 2
    with pytest.raises(errors.IdempotencyKeyReused):
        client.create_version(name, "other", idempotency_key="k1")


def test_server_problems_become_the_same_error_classes_with_their_fields(
    client: Client, name: str
) -> None:
    client.create_prompt(name, "a", version_name="v1")
    with pytest.raises(errors.VersionNameTaken) as taken:
        client.create_version(name, "b", version_name="v1")
    assert isinstance(taken.value, errors.Conflict)
    assert (taken.value.status, taken.value.field) == (409, "version_name")
    assert taken.value.title == "Version name taken" and "v1" in taken.value.detail
    with pytest.raises(errors.PromptNameTaken):
        client.create_prompt(name, "again")
    with pytest.raises(errors.InvalidInput) as invalid:
        client.create_prompt("Not A Slug", "x")
    assert (invalid.value.status, invalid.value.field) == (422, "name")
    other = client.create_prompt(f"{name}-other", "x")
    assert other.active_version is not None
    with pytest.raises(errors.VersionNotFound) as missing:
        client.get_version(name, other.active_version.id)
    assert isinstance(missing.value, errors.NotFound) and missing.value.status == 404


def test_an_unreachable_server_raises_connection_failed_after_bounded_retries() -> None:
    from tests.support.server import free_port

    sent: list[str] = []
    client = Client(
        f"http://127.0.0.1:{free_port()}", retries=2, backoff=0.01,
        event_hooks={"request": [lambda r: sent.append(r.method)]},
    )  # fmt: skip
    with pytest.raises(errors.ConnectionFailed) as caught:
        client.get_prompt("anything")
    assert len(sent) == 3
    assert caught.value.title == "Connection failed"


def test_export_and_import_round_trip_through_the_client(client: Client, name: str) -> None:
    client.create_prompt(name, "a", version_name="v1")
    client.create_version(name, "b", version_name="v2", activate=True)
    record = client.export_prompt(name)
    assert [v.version_name for v in record.versions] == ["v1", "v2"]
    assert record.active_version_number == 2
    again = client.import_prompt(record)
    assert again.created is False and again.prompt.name == name
    changed = record.model_copy(update={"description": "different"})
    with pytest.raises(errors.PromptNameTaken):
        client.import_prompt(changed)


def test_the_package_exports_the_client_without_loading_the_server() -> None:
    code = (
        "import sys, promptdeck; promptdeck.Client; promptdeck.AsyncClient; "
        "bad = [m for m in sys.modules if m.startswith(('promptdeck.server', 'sqlalchemy', "
        "'fastapi'))]; print(bad); sys.exit(1 if bad else 0)"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    assert promptdeck.PreconditionFailed is errors.StaleEtag


def test_import_refuses_a_version_whose_hash_does_not_match_its_content(
    client: Client, name: str
) -> None:
    client.create_prompt(name, "a")
    record = client.export_prompt(name).to_record()
    record["name"] = f"{name}-copy"
    record["versions"][0]["content"] = "tampered"
    with pytest.raises(errors.InvalidInput) as caught:
        client.import_prompt(record)
    assert caught.value.field == "versions[0].content_hash"
    with pytest.raises(errors.PromptNotFound):
        client.get_prompt(f"{name}-copy")


def test_archive_restore_and_list_versions_filtered_on_archived(client: Client, name: str) -> None:
    client.create_prompt(name, "one", version_name="v1")
    v2 = client.create_version(name, "two", version_name="v2")
    client.create_version(name, "three", version_name="v3", activate=True)
    archived = client.archive_version(name, "v1")
    assert archived.archived and archived.archived_at is not None and archived.content == "one"
    assert client.archive_version(name, archived.id).archived  # again: a no-op
    assert [v.version_name for v in client.list_versions(name, archived=True).items] == ["v1"]
    assert [v.version_name for v in client.list_versions(name, archived=False).items] == [
        "v3", "v2",
    ]  # fmt: skip
    assert [v.archived for v in client.iter_versions(name)] == [False, False, True]
    assert [v.version_name for v in client.iter_versions(name, archived=True)] == ["v1"]
    with pytest.raises(errors.ActiveVersionProtected) as caught:
        client.archive_version(name, "v3")
    assert caught.value.status == 409
    restored = client.restore_version(name, "v1")
    assert not restored.archived and restored.archived_at is None and restored.content == "one"
    assert client.restore_version(name, v2.id).archived is False  # not archived: a no-op
    kinds = [e.kind for e in client.iter_events(name)]
    assert kinds[:2] == ["version.restored", "version.archived"]


def test_purge_version_keeps_a_tombstone_and_needs_a_reason(client: Client, name: str) -> None:
    client.create_prompt(name, "one", version_name="v1")
    client.create_version(name, "secret sk-123", version_name="leak", model_config={"k": "x"})
    client.create_version(name, "three", version_name="v3", activate=True)
    with pytest.raises(errors.InvalidInput) as invalid:
        client.purge_version(name, "leak", reason="")
    assert invalid.value.field == "reason"
    tomb = client.purge_version(name, "leak", reason="an API key was pasted")
    assert (tomb.purged, tomb.purged_by, tomb.purge_reason) == (
        True,
        "alice",
        "an API key was pasted",
    )
    assert tomb.purged_at is not None and tomb.archived
    assert tomb.content is None and tomb.llm_config is None
    assert client.get_version(name, tomb.id).purged  # the row stays, by id or name
    assert (
        client.purge_version(name, tomb.id, reason="again").purge_reason == "an API key was pasted"
    )
    with pytest.raises(errors.VersionUnavailable):
        client.restore_version(name, "leak")
    with pytest.raises(errors.ActiveVersionProtected):
        client.purge_version(name, "v3", reason="no")
    with pytest.raises(errors.VersionNotFound):
        client.purge_version(name, "v9", reason="no")
    event = next(client.iter_events(name))
    assert event.kind == "version.purged" and event.detail["reason"] == "an API key was pasted"


def test_get_storage_and_max_versions_on_create_and_update(client: Client, name: str) -> None:
    prompt = client.create_prompt(name, "one " * 50, version_name="v1", max_versions=2)
    assert prompt.max_versions == 2
    for i in (2, 3):
        client.create_version(name, f"one {i} " * 50, version_name=f"v{i}", activate=True)
    storage = client.get_storage(name)
    assert storage.prompt_id == prompt.id
    assert (storage.versions, storage.archived, storage.purged) == (3, 1, 0)
    assert storage.raw_bytes > 0 and 0 < storage.stored_bytes < storage.raw_bytes
    assert [v.version_name for v in client.list_versions(name, archived=True).items] == ["v1"]
    assert client.update_prompt(name, max_versions=1).max_versions == 1
    assert client.get_storage(prompt.id).archived == 2
    assert client.update_prompt(name, max_versions=None).max_versions is None
    with pytest.raises(errors.InvalidInput) as invalid:
        client.update_prompt(name, max_versions=0)
    assert invalid.value.field == "max_versions"
    with pytest.raises(errors.PromptNotFound):
        client.get_storage(f"{name}-missing")
