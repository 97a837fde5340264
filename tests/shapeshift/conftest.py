"""Fixtures for the engine tests; they need neither Django nor a database."""

from __future__ import annotations

import pytest

from tests.shapeshift.engine_support import Workspace


@pytest.fixture(autouse=True)
def _isolated_settings():
    """Overrides the Django settings fixture of tests/conftest.py: the engine needs no settings."""
    yield


@pytest.fixture
def ws(tmp_path) -> Workspace:
    return Workspace(tmp_path)
