"""Purge: the content goes for good, the row stays as a tombstone; never the active version."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import sqlalchemy as sa

from promptdeck.core import Registry
from promptdeck.domain.caller import SYSTEM, Caller
from promptdeck.domain.commands import (
    CreatePrompt,
    CreateVersion,
    DeletePrompt,
    PurgePrompt,
    PurgeVersion,
)
from promptdeck.errors import ActiveVersionProtected, InvalidInput
from promptdeck.store.tables import blobs

SECRET = "sk-live-9fQ2xT7bLm4Rz8Kp1Wv6Yc3Hn5Jd0Ga"
BASE = "Summarise the ticket for the on-call engineer in three bullet points. " * 50


def file_bytes(registry: Registry) -> bytes:
    path = Path(registry.engine.url.database or "")
    wal = path.with_name(path.name + "-wal")
    return path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


def blob_count(registry: Registry) -> int:
    with registry.engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(blobs)).scalar_one())


def test_purge_destroys_the_content_and_keeps_a_tombstone_with_who_when_why(
    registry: Registry,
) -> None:
    registry.create_prompt(CreatePrompt("p", content="hello"), SYSTEM)
    leaked = registry.create_version(
        CreateVersion("p", content=f"use key {SECRET}"), SYSTEM
    ).version
    before = blob_count(registry)
    result = registry.purge_version(
        PurgeVersion("p", leaked.id, reason="API key leaked"), Caller.local("alice")
    )
    tomb = result.version
    assert result.changed
    assert (tomb.purged, tomb.purged_by, tomb.purge_reason) == (True, "alice", "API key leaked")
    assert tomb.purged_at is not None and tomb.content is None and tomb.model_config is None
    assert tomb.archived
    assert blob_count(registry) == before - 1
    assert [v.id for v in registry.list_versions("p", SYSTEM).items] == [leaked.id, tomb.id - 1]
    event = registry.list_events("p", SYSTEM, limit=1).items[0]
    assert (event.kind, event.detail["reason"]) == ("version.purged", "API key leaked")
    assert event.detail["content_destroyed"] is True
    assert (
        registry.purge_version(PurgeVersion("p", leaked.id, reason="again"), SYSTEM).changed
        is False
    )


def test_the_active_version_cannot_be_purged(registry: Registry) -> None:
    prompt = registry.create_prompt(CreatePrompt("p", content="hello"), SYSTEM).prompt
    with pytest.raises(ActiveVersionProtected):
        registry.purge_version(PurgeVersion("p", prompt.active_version_id, reason="no"), SYSTEM)
    assert registry.get_active("p", SYSTEM)[1].content == "hello"


def test_a_purge_needs_a_reason(registry: Registry) -> None:
    registry.create_prompt(CreatePrompt("p", content="hello"), SYSTEM)
    v2 = registry.create_version(CreateVersion("p", content="x"), SYSTEM).version
    with pytest.raises(InvalidInput):
        registry.purge_version(PurgeVersion("p", v2.id, reason="  "), SYSTEM)


def test_versions_stored_as_deltas_against_a_purged_one_are_rewritten_and_read_exactly(
    registry: Registry,
) -> None:
    registry.create_prompt(CreatePrompt("p", content="hello"), SYSTEM)
    leaked = registry.create_version(
        CreateVersion("p", content=f"{BASE} key={SECRET}"), SYSTEM
    ).version
    after = [
        registry.create_version(
            CreateVersion("p", content=f"{BASE} key=<removed> {i}"), SYSTEM
        ).version
        for i in range(5)
    ]
    with registry.engine.connect() as conn:
        leaked_blob = conn.execute(
            sa.text("SELECT blob_id FROM versions WHERE id = :id"), {"id": leaked.id}
        ).scalar_one()
        assert (
            conn.execute(
                sa.select(sa.func.count()).select_from(blobs).where(blobs.c.base_id == leaked_blob)
            ).scalar_one()
            == 1
        )
    registry.purge_version(PurgeVersion("p", leaked.id, reason="leak"), SYSTEM)
    fresh = Registry(registry.engine)  # no cached contents
    for i, v in enumerate(after):
        assert fresh.get_version("p", v.id, SYSTEM).content == f"{BASE} key=<removed> {i}"
    with registry.engine.connect() as conn:
        assert (
            conn.execute(
                sa.select(sa.func.count()).select_from(blobs).where(blobs.c.id == leaked_blob)
            ).scalar_one()
            == 0
        )


def test_shared_content_goes_with_the_last_version_that_uses_it(registry: Registry) -> None:
    registry.create_prompt(CreatePrompt("a", content="hello"), SYSTEM)
    registry.create_prompt(CreatePrompt("b", content="hello"), SYSTEM)
    va = registry.create_version(CreateVersion("a", content=f"key {SECRET}"), SYSTEM).version
    vb = registry.create_version(CreateVersion("b", content=f"key {SECRET}"), SYSTEM).version
    before = blob_count(registry)
    assert registry.list_events("a", SYSTEM, limit=1).items[0].kind == "version.created"
    registry.purge_version(PurgeVersion("a", va.id, reason="leak"), SYSTEM)
    assert registry.list_events("a", SYSTEM, limit=1).items[0].detail["content_destroyed"] is False
    assert registry.get_version("b", vb.id, SYSTEM).content == f"key {SECRET}"
    registry.purge_version(PurgeVersion("b", vb.id, reason="leak"), SYSTEM)
    assert registry.list_events("b", SYSTEM, limit=1).items[0].detail["content_destroyed"] is True
    assert blob_count(registry) == before - 1


@pytest.mark.sqlite_only
def test_purge_leaves_no_trace_of_the_content_in_the_database_file_after_compaction(
    registry: Registry,
) -> None:
    registry.create_prompt(CreatePrompt("p", content="hello"), SYSTEM)
    leaked = registry.create_version(CreateVersion("p", content=f"key {SECRET}"), SYSTEM).version
    registry.create_version(CreateVersion("p", content="key rotated"), SYSTEM)
    for i in range(50):  # enough rows that the secret's page is not the last one
        registry.create_version(CreateVersion("p", content=f"{BASE} {i}"), SYSTEM)
    assert SECRET.encode() in file_bytes(registry)  # the search can find it
    registry.purge_version(PurgeVersion("p", leaked.id, reason="leaked key"), SYSTEM)
    report = registry.compact()
    assert SECRET.encode() not in file_bytes(registry)
    assert report.bytes_after <= report.bytes_before
    assert registry.get_version("p", leaked.id, SYSTEM).purged


def test_compaction_runs_on_either_database_and_history_survives_it(registry: Registry) -> None:
    registry.create_prompt(CreatePrompt("p", content="hello"), SYSTEM)
    leaked = registry.create_version(CreateVersion("p", content=f"key {SECRET}"), SYSTEM).version
    keep = registry.create_version(CreateVersion("p", content=f"{BASE} kept"), SYSTEM).version
    registry.purge_version(PurgeVersion("p", leaked.id, reason="leak"), SYSTEM)
    report = registry.compact()
    assert report.backend == registry.engine.dialect.name
    assert report.bytes_after > 0
    assert registry.get_version("p", keep.id, SYSTEM).content == f"{BASE} kept"
    assert len(registry.list_versions("p", SYSTEM).items) == 3


def test_purging_a_deleted_prompt_destroys_the_contents_only_it_used(registry: Registry) -> None:
    registry.create_prompt(CreatePrompt("a", content="shared text"), SYSTEM)
    registry.create_version(CreateVersion("a", content=f"only in a {SECRET}"), SYSTEM)
    registry.create_prompt(CreatePrompt("b", content="shared text"), SYSTEM)
    before = blob_count(registry)
    registry.delete_prompt(DeletePrompt("a"), SYSTEM)
    registry.purge_prompt(PurgePrompt("a"), SYSTEM)
    assert blob_count(registry) == before - 1
    assert registry.get_active("b", SYSTEM)[1].content == "shared text"


@pytest.mark.postgresql_only
def test_purge_leaves_no_trace_in_postgresql_table_files_after_compaction(
    registry: Registry,
) -> None:
    def table_files() -> bytes:
        with registry.engine.connect() as conn:
            conn.exec_driver_sql("CHECKPOINT")  # flush pages to the files
            root = Path(conn.exec_driver_sql("SHOW data_directory").scalar_one())
            out = b""
            for table in ("blobs", "versions", "events"):
                for rel in (
                    f"pg_relation_filepath('{table}')",
                    f"pg_relation_filepath((SELECT reltoastrelid FROM pg_class "
                    f"WHERE oid = '{table}'::regclass))",
                ):
                    path = conn.exec_driver_sql(f"SELECT {rel}").scalar()
                    if path and (root / path).exists():
                        out += (root / path).read_bytes()
            return out

    registry.create_prompt(CreatePrompt("p", content="hello"), SYSTEM)
    leaked = registry.create_version(CreateVersion("p", content=f"key {SECRET}"), SYSTEM).version
    registry.create_version(CreateVersion("p", content="key rotated"), SYSTEM)
    try:
        before = table_files()
    except (PermissionError, OSError) as exc:  # pragma: no cover - data directory not ours
        if os.environ.get("CI"):
            raise
        pytest.skip(f"cannot read PostgreSQL's files: {exc}")
    assert SECRET.encode() in before
    registry.purge_version(PurgeVersion("p", leaked.id, reason="leaked key"), SYSTEM)
    registry.compact()
    assert SECRET.encode() not in table_files()
