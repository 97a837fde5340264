"""manage.py create_api_token: a token printed once, stored only as its hash, that the API accepts."""

import io

import pytest
from django.core.management import CommandError, call_command

from accounts.models import ApiToken, hash_token

pytestmark = pytest.mark.django_db


def create_token(*args) -> str:
    out = io.StringIO()
    call_command("create_api_token", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue().strip()


def test_it_prints_a_token_that_authenticates(client, alice):
    token = create_token("alice", "--label", "ci")

    stored = ApiToken.objects.get()
    assert stored.user == alice
    assert stored.label == "ci"
    assert stored.token_hash == hash_token(token)
    assert token not in (stored.prefix, stored.token_hash)  # the clear text is not stored
    assert ApiToken.objects.authenticate(token) == alice
    assert client.get("/api/v1/test-runs", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 200


def test_it_prints_a_new_token_each_time(alice):
    assert create_token("alice") != create_token("alice")
    assert ApiToken.objects.count() == 2


def test_it_rejects_an_unknown_user(db):
    with pytest.raises(CommandError, match="No user named 'nobody'"):
        create_token("nobody")


def test_it_rejects_an_inactive_user(alice):
    alice.is_active = False
    alice.save()

    with pytest.raises(CommandError, match="inactive"):
        create_token("alice")
    assert not ApiToken.objects.exists()
