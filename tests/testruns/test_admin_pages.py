"""The admin: every model is listed, and run history cannot be edited."""

import re

import pytest
from django.urls import reverse

from accounts.models import ApiToken
from testruns.models import Status, TestRun
from testruns.options import RunOptions
from tests.factories import make_result, make_run

pytestmark = pytest.mark.django_db


@pytest.fixture
def run(demo_version, alice):
    run = make_run(
        demo_version,
        status=Status.COMPLETED,
        requested_by=alice,
    )
    make_result(run, "site", 0, status="success")
    run.log("info", "done")
    return run


@pytest.mark.parametrize(
    "model",
    [
        "configurations/configuration",
        "configurations/configurationversion",
        "configurations/versionfile",
        "configurations/storedfile",
        "testruns/testrun",
        "testruns/entityresult",
        "testruns/runevent",
        "accounts/apitoken",
    ],
)
def test_it_lists_every_model(admin_client, run, alice, model):
    ApiToken.objects.issue(alice, "laptop")
    app, name = model.split("/")

    assert admin_client.get(reverse(f"admin:{app}_{name}_changelist")).status_code == 200


def test_it_does_not_let_run_history_be_edited(admin_client, run):
    page = admin_client.get(reverse("admin:testruns_testrun_change", args=[run.pk]))
    assert page.status_code == 200
    assert b'name="status"' not in page.content
    assert b'name="current_phase"' not in page.content
    assert b'name="current_rows_in"' not in page.content
    assert b'name="pinned"' in page.content

    admin_client.post(
        reverse("admin:testruns_testrun_change", args=[run.pk]),
        {
            "status": "failed",
            "pinned": "on",
            "entity_results-TOTAL_FORMS": "1",
            "entity_results-INITIAL_FORMS": "1",
        },
    )
    run.refresh_from_db()
    assert run.status == Status.COMPLETED


def test_it_says_what_a_runs_entity_at_work_is_doing_as_the_run_page_does(admin_client, demo_version):
    run = make_run(
        demo_version,
        Status.RUNNING,
        [{"entity": "result_base", "status": "running"}],
        current_entity="result_base",
        current_phase="link",
        current_rows=945_600,
    )

    page = admin_client.get(reverse("admin:testruns_testrun_change", args=[run.pk])).content.decode()

    assert '<div class="readonly">working on result_base — linking 945,600 rows</div>' in page


def test_it_never_shows_a_tokens_hash(admin_client, alice):
    token, _ = ApiToken.objects.issue(alice, "laptop")

    page = admin_client.get(reverse("admin:accounts_apitoken_change", args=[token.pk]))

    assert token.prefix.encode() in page.content
    assert token.token_hash.encode() not in page.content


def run_action(admin_client, action, *runs):
    return admin_client.post(
        reverse("admin:testruns_testrun_changelist"),
        {"action": action, "_selected_action": [str(run.pk) for run in runs]},
        follow=True,
    )


def test_its_cancel_action_cancels_active_runs_and_refuses_finished_ones(admin_client, run, demo_version):
    pending = make_run(demo_version)

    response = run_action(admin_client, "cancel_runs", pending, run)

    pending.refresh_from_db()
    assert pending.status == Status.CANCELLED
    assert "already finished" in response.content.decode()
    run.refresh_from_db()
    assert run.status == Status.COMPLETED


def test_its_rerun_action_starts_a_new_run_of_the_same_version(
    admin_client, admin_user, run, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        run_action(admin_client, "rerun_runs", run)

    new = TestRun.objects.exclude(pk=run.pk).get()
    assert new.version_id == run.version_id
    assert new.options == RunOptions.from_dict(run.options).to_dict()
    assert new.requested_by == admin_user  # the one who clicked, not the run's requester (alice)


def test_its_pin_actions_pin_and_unpin(admin_client, run):
    run_action(admin_client, "pin_runs", run)
    run.refresh_from_db()
    assert run.pinned

    run_action(admin_client, "unpin_runs", run)
    run.refresh_from_db()
    assert not run.pinned


def test_it_numbers_entity_positions_from_1_as_the_run_page_does(admin_client, run):
    # the fixture's only result is stored at position 0; the run page shows it as 1
    listing = admin_client.get(reverse("admin:testruns_entityresult_changelist")).content.decode()
    inline = admin_client.get(reverse("admin:testruns_testrun_change", args=[run.pk])).content.decode()

    assert '<td class="field-shown_position">1</td>' in listing
    assert re.search(r'<td class="field-shown_position">\s*<p>1</p>\s*</td>', inline)
    assert "field-position" not in listing + inline
