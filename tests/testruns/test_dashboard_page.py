"""/: active runs, recent runs and configurations."""

import pytest
from django.urls import reverse

from testruns.models import Status
from tests.factories import make_run, make_runs, run_with_a_failing_entity

pytestmark = pytest.mark.django_db
URL = reverse("dashboard")


def test_it_shows_active_and_recent_runs_and_configurations(alice_client, demo_version):
    running = make_run(demo_version, status=Status.RUNNING)
    done = make_run(demo_version, status=Status.COMPLETED)

    response = alice_client.get(URL)

    content = response.content.decode()
    active = content.split("Active runs")[1].split("Recent runs")[0]
    assert running.short_id in active
    assert done.short_id not in active
    assert done.short_id in content.split("Recent runs")[1]
    assert reverse("configurations:detail", args=["demo"]) in content
    assert reverse("testruns:start", args=["demo"]) in content


def test_it_shows_entity_counts_with_thousands_separators(alice_client, demo_version):
    make_run(
        demo_version,
        status=Status.RUNNING,
        entities_completed=1000,
        entities_total=1200,
        entities_failed=1001,
    )

    content = alice_client.get(URL).content.decode()

    assert '1,000 / 1,200 <span class="bad run-verdict">(1,001 entities failed)</span>' in content


def test_it_has_the_navigation_and_logout_form(alice_client):
    content = alice_client.get(URL).content.decode()

    for name in ["configurations:list", "testruns:list", "configurations:import"]:
        assert f'href="{reverse(name)}"' in content
    assert f'method="post" action="{reverse("logout")}"' in content
    assert "alice" in content


def test_it_costs_a_fixed_number_of_queries(alice_client, demo_version, django_assert_num_queries):
    make_runs(demo_version, [{"status": Status.RUNNING}] * 3 + [{"status": Status.FAILED}] * 15)
    # session, user, active runs, recent runs, configurations
    with django_assert_num_queries(5):
        alice_client.get(URL)


def test_it_sends_anonymous_users_through_the_login_form(client, alice):
    login = client.get(URL, follow=True)
    assert login.status_code == 200
    assert b'name="username"' in login.content

    response = client.post(
        reverse("login") + "?next=/", {"username": "alice", "password": "password", "next": "/"}, follow=True
    )

    assert response.redirect_chain[-1][0] == "/"
    assert b"Active runs" in response.content


def test_it_rejects_a_wrong_password(client, alice):
    response = client.post(reverse("login"), {"username": "alice", "password": "nope"})

    assert response.status_code == 200
    assert b"did not match" in response.content


def test_it_shows_a_run_whose_entity_failed_as_failed_with_why(
    alice_client, alice, write_config, django_capture_on_commit_callbacks
):
    failed = run_with_a_failing_entity(write_config, alice, django_capture_on_commit_callbacks)

    content = alice_client.get(URL).content.decode()

    recent = content.split("Recent runs")[1].split("<h2>Configurations")[0]
    assert failed.short_id in recent
    assert 'data-status="failed"' in recent
    assert "(1 entity failed, 1 skipped)" in recent
    configurations = content.split("<h2>Configurations")[1]
    assert 'data-status="failed"' in configurations  # the configuration's last run
    assert 'data-status="completed"' not in content
