"""Run each backend-specific test only in its own pass, even without scripts/test.sh's -m."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.databases import BACKEND

HERE = Path(__file__).parent
OTHER = {"sqlite": "postgresql_only", "postgresql": "sqlite_only"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    other = OTHER.get(BACKEND)
    keep, drop = [], []
    for item in items:
        mine = HERE in Path(str(item.path)).parents
        (drop if mine and other and item.get_closest_marker(other) else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
