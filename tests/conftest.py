"""Test-only overrides in one place, and the fixed cast: alice owns, bob is a colleague, charlie an outsider."""

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DEMO_YAML = REPO / "examples" / "demo" / "demo.yml"


@pytest.fixture(autouse=True)
def _isolated_settings(settings, tmp_path, monkeypatch):
    """Each test gets its own media and var folders, a fast hasher and django-q2 in sync mode.

    In sync mode ``async_task`` runs the task in the calling process, so a test of a run sees it end
    without any worker or waiting. Tests that need a real worker start one themselves.
    """
    from django_q.conf import Conf

    settings.MEDIA_ROOT = tmp_path / "media"
    settings.VAR_DIR = tmp_path / "var"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.HEARTBEAT_INTERVAL = 0  # no heartbeat thread inside a test transaction
    monkeypatch.setattr(Conf, "SYNC", True)


@pytest.fixture
def alice(django_user_model):
    return django_user_model.objects.create_user("alice", "alice@example.org", "password")


@pytest.fixture
def bob(django_user_model):
    return django_user_model.objects.create_user("bob", "bob@example.org", "password")


@pytest.fixture
def charlie(django_user_model):
    return django_user_model.objects.create_user("charlie", "charlie@example.org", "password")


@pytest.fixture
def alice_client(client, alice):
    client.force_login(alice)
    return client


@pytest.fixture
def demo_version(db, alice):
    """The demo configuration imported as alice's, version 1."""
    from configurations.importing import import_configuration

    version, _ = import_configuration(DEMO_YAML, name="demo", user=alice)
    return version


@pytest.fixture
def write_config(tmp_path):
    """Write a YAML configuration (and optional side files) into a fresh folder; returns the YAML's path."""

    def write(yaml_text: str, name: str = "config.yml", **files: str) -> Path:
        folder = tmp_path / "configs" / name.removesuffix(".yml")
        folder.mkdir(parents=True, exist_ok=True)
        for filename, content in files.items():
            (folder / filename.replace("__", ".")).write_text(content, encoding="utf-8")
        path = folder / name
        path.write_text(yaml_text, encoding="utf-8")
        return path

    return write
