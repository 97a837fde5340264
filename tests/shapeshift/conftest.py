"""Fixtures for the engine tests; they need neither Django nor a database."""

from __future__ import annotations

import pathlib
import sys

import pytest

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[1]
for path in (str(ROOT), str(HERE)):
    if path not in sys.path:
        sys.path.insert(0, path)

from engine_support import Workspace  # noqa: E402


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: takes a few seconds (real data, subprocesses)")


@pytest.fixture(autouse=True)
def _isolated_settings():
    """Overrides the Django settings fixture of tests/conftest.py: the engine needs no settings."""
    yield


@pytest.fixture
def ws(tmp_path) -> Workspace:
    return Workspace(tmp_path)
