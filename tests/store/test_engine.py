"""The SQLite engine's connection set-up holds when many processes open a new file at once."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest
import sqlalchemy as sa

from promptdeck.store.engine import create_engine
from tests.support.load import figure

pytestmark = pytest.mark.sqlite_only

PROCESSES = 4
ROUNDS = 40


def _open(url: str, barrier: multiprocessing.synchronize.Barrier) -> None:
    engine = create_engine(url)
    barrier.wait()
    with engine.connect() as conn:  # the connect hook switches the new file to WAL
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    engine.dispose()


def test_processes_opening_a_new_file_together_all_switch_it_to_wal(tmp_path: Path) -> None:
    # SQLite refuses the WAL switch of a new file at once, busy handler or not, when another
    # process switches it too (about one round in eight failed before the retry).
    context = multiprocessing.get_context("fork")
    failed = 0
    for round_ in range(ROUNDS):
        url = f"sqlite:///{tmp_path / f'new-{round_}.db'}"
        barrier = context.Barrier(PROCESSES, timeout=30)
        processes = [context.Process(target=_open, args=(url, barrier)) for _ in range(PROCESSES)]
        for p in processes:
            p.start()
        for p in processes:
            p.join(60)
        failed += sum(1 for p in processes if p.exitcode != 0)
        with sa.create_engine(url).connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    figure(
        "new-file WAL switch",
        f"{ROUNDS} rounds x {PROCESSES} processes opening one new file: {failed} failed",
    )
    assert failed == 0
