"""Login throttling (django-axes, accounts/throttling.py): wrong passwords lock a user name at one address."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

pytestmark = pytest.mark.django_db

LIMIT = 5  # SHIFTBENCH_LOGIN_FAILURE_LIMIT's default


def log_in(client, password, username="alice", address="10.0.0.1", **extra):
    return client.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address, **extra
    )


def is_logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_it_locks_a_user_name_after_too_many_wrong_passwords(client, alice):
    for _ in range(LIMIT - 1):
        assert log_in(client, "wrong").status_code == 200  # the form again, with its error
    response = log_in(client, "wrong")

    assert response.status_code == 429
    assert response["Retry-After"] == str(15 * 60)
    content = response.content.decode()
    assert "<title>Locked out · ShiftBench</title>" in content
    assert "Too many failed attempts: locked for 15 minutes." in content

    response = log_in(client, "password")  # the right one no longer helps

    assert response.status_code == 429
    assert not is_logged_in(client)


def test_it_lets_the_user_in_from_another_address(client, alice):
    for _ in range(LIMIT):
        log_in(client, "wrong", address="10.0.0.1")

    response = log_in(client, "password", address="10.0.0.2")

    assert response.status_code == 302
    assert is_logged_in(client)


def test_it_forgets_the_failures_after_a_successful_login(client, alice):
    for _ in range(LIMIT - 1):
        log_in(client, "wrong")
    assert log_in(client, "password").status_code == 302
    client.logout()

    for _ in range(LIMIT - 1):
        assert log_in(client, "wrong").status_code == 200
    assert log_in(client, "password").status_code == 302


def test_it_unlocks_after_the_cool_off(client, alice):
    for _ in range(LIMIT):
        log_in(client, "wrong")
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))

    assert log_in(client, "password").status_code == 302


def test_it_lets_an_admin_see_and_clear_the_lock(client, alice, django_user_model):
    for _ in range(LIMIT):
        log_in(client, "wrong")
    admin = django_user_model.objects.create_superuser("root", "root@example.org", "password")
    client.force_login(admin)

    listing = client.get(reverse("admin:axes_accessattempt_changelist"))
    assert listing.status_code == 200
    assert "alice" in listing.content.decode()
    client.logout()

    call_command("axes_reset_username", "alice", stdout=None)

    assert log_in(client, "password").status_code == 302


def test_it_counts_the_address_the_proxy_saw(client, alice, settings):
    # Behind the proxy every request comes from its address; the client's is the last X-Forwarded-For entry.
    # Entries before it are the client's own word: changing them must not escape the lock.
    settings.BEHIND_PROXY = True
    for n in range(LIMIT):
        log_in(client, "wrong", address="192.0.2.1", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}, 203.0.113.7")

    assert (
        log_in(client, "password", address="192.0.2.1", HTTP_X_FORWARDED_FOR="203.0.113.7").status_code == 429
    )
    response = log_in(client, "password", address="192.0.2.1", HTTP_X_FORWARDED_FOR="203.0.113.8")
    assert response.status_code == 302
