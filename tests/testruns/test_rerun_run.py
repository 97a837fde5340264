"""Re-running a run: POST /runs/<id>/rerun (its version) and /rerun-current (the current version)."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from configurations.models import ConfigurationVersion
from testruns.execution import rerun_run
from testruns.models import NoVersionToRun, Status, TestRun
from testruns.options import InvalidOptions
from tests.factories import make_run, make_version

pytestmark = pytest.mark.django_db

OPTIONS = {
    "entities": ["site"],
    "max_rows_per_entity": 50,
    "stop_on_error": True,
    "validate_foreign_keys": False,
    "validate_constraints": True,
}


@pytest.fixture
def run(demo_version, alice):
    return make_run(
        demo_version,
        status=Status.COMPLETED,
        requested_by=alice,
        options=OPTIONS,
        started_at=timezone.now(),
        finished_at=timezone.now(),
    )


@pytest.fixture
def newer(run, alice):
    """A second version of the demo, now the current one."""
    return make_version(
        run.configuration,
        2,
        current=True,
        main_file=run.version.main_file,
        yaml_text=run.version.yaml_text,
        created_by=alice,
        validation=run.version.validation,
    )


def forget_site(version):
    """Make ``version`` one without "site" (versions are immutable: the test writes the row itself)."""
    version.validation = {**version.validation, "entities": ["survey", "sample"]}
    ConfigurationVersion.objects.filter(pk=version.pk).update(validation=version.validation)


def rerun(client, run, view="testruns:rerun", **kwargs):
    with_capture = kwargs.pop("capture")
    with with_capture(execute=False):  # started, not executed: the test looks at the new pending run
        return client.post(reverse(view, args=[run.pk]), **kwargs)


def new_run(old):
    return TestRun.objects.exclude(pk=old.pk).get()


def test_it_only_accepts_post(alice_client, run):
    assert alice_client.get(reverse("testruns:rerun", args=[run.pk])).status_code == 405
    assert alice_client.get(reverse("testruns:rerun_current", args=[run.pk])).status_code == 405


def test_it_reruns_the_same_version_with_the_same_options(
    client, bob, run, newer, django_capture_on_commit_callbacks
):
    client.force_login(bob)

    response = rerun(client, run, capture=django_capture_on_commit_callbacks)

    again = new_run(run)
    assert response.status_code == 302
    assert response.url == again.get_absolute_url()
    assert again.version == run.version  # not the newer current one
    assert again.options == run.options
    assert again.status == Status.PENDING
    assert again.requested_by == bob
    messages = [str(m) for m in get_messages(response.wsgi_request)]
    assert messages == [f"Re-running run {run.short_id} on demo v1: this is run {again.short_id}."]


def test_it_reruns_on_the_current_version(alice_client, run, newer, django_capture_on_commit_callbacks):
    response = rerun(alice_client, run, "testruns:rerun_current", capture=django_capture_on_commit_callbacks)

    again = new_run(run)
    assert response.url == again.get_absolute_url()
    assert again.version == newer
    assert again.options == run.options


def test_it_enqueues_the_new_run(alice_client, run, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        alice_client.post(reverse("testruns:rerun", args=[run.pk]))

    assert len(callbacks) == 1


def test_it_tells_htmx_where_to_go(alice_client, run, django_capture_on_commit_callbacks):
    response = rerun(
        alice_client, run, capture=django_capture_on_commit_callbacks, headers={"HX-Request": "true"}
    )

    assert response["HX-Redirect"] == new_run(run).get_absolute_url()


def test_it_says_when_the_options_no_longer_fit(alice_client, run, newer, django_capture_on_commit_callbacks):
    forget_site(newer)

    response = rerun(
        alice_client, run, "testruns:rerun_current", capture=django_capture_on_commit_callbacks, follow=True
    )

    assert response.redirect_chain == [(run.get_absolute_url(), 302)]
    assert "Could not re-run: entities: unknown entities: site" in response.content.decode()
    assert TestRun.objects.count() == 1


def test_rerun_run_refuses_when_there_is_no_current_version(run):
    run.configuration.current_version = None
    run.configuration.save()

    with pytest.raises(NoVersionToRun, match="demo has no current version"):
        rerun_run(run, None, current_version=True)


def test_rerun_run_checks_the_options(run, newer):
    forget_site(newer)

    with pytest.raises(InvalidOptions):
        rerun_run(run, None, current_version=True)


@pytest.mark.django_db(transaction=True)  # the run is enqueued when start_run's own transaction commits
def test_it_says_when_the_new_run_could_not_be_queued(alice_client, run, broker_down):
    response = alice_client.post(reverse("testruns:rerun", args=[run.pk]))

    new_run = TestRun.objects.exclude(pk=run.pk).get()
    assert new_run.status == Status.FAILED
    assert response.status_code == 302
    assert response.url == reverse("testruns:detail", args=[new_run.pk])
    assert any("Could not queue the run" in str(m) for m in get_messages(response.wsgi_request))
