"""/configurations/<name>/test-run: the options form that starts a run (a page of testruns)."""

import pytest
from django.urls import reverse

from configurations.importing import import_configuration
from testruns.models import EntityResult, Status, TestRun

pytestmark = pytest.mark.django_db


def url(name="demo"):
    return reverse("testruns:start", args=[name])


def test_it_keeps_its_address_beside_the_configuration_pages():
    assert url() == "/configurations/demo/test-run"


def test_it_shows_entities_with_their_dependencies(alice_client, demo_version):
    response = alice_client.get(url())

    assert response.status_code == 200
    content = response.content.decode()
    assert 'name="entities" value="abundance"' in content
    assert "site (needs project, survey)" in content
    assert 'value="100"' in content  # default sample size


def test_it_starts_a_run_that_completes(
    alice_client, alice, demo_version, django_capture_on_commit_callbacks
):
    form = {"entities": ["site"], "max_rows": 20, "validate_foreign_keys": "on", "validate_constraints": "on"}
    with django_capture_on_commit_callbacks(execute=True):
        response = alice_client.post(url(), form)

    run = TestRun.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("testruns:detail", args=[run.pk])
    assert run.status == Status.COMPLETED, run.error_message
    assert run.requested_by == alice
    assert run.options["entities"] == ["site"]
    assert run.options["max_rows_per_entity"] == 20
    assert run.options["stop_on_error"] is False
    roles = dict(run.entity_results.values_list("entity", "role"))
    assert roles == {"site": "requested", "project": "dependency", "survey": "dependency"}
    assert set(run.entity_results.values_list("status", flat=True)) == {EntityResult.Status.SUCCESS}


def test_it_runs_all_entities_on_all_rows(alice_client, demo_version, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        alice_client.post(url(), {"all_rows": "on", "stop_on_error": "on"})

    run = TestRun.objects.get()
    assert run.options["entities"] is None
    assert run.options["max_rows_per_entity"] is None
    assert run.options["stop_on_error"] is True
    assert run.options["validate_foreign_keys"] is False  # unticked boxes are off
    assert run.entities_total == 11


@pytest.mark.parametrize("rows", ["9", "10001", "many"])
def test_it_rejects_a_bad_row_count(alice_client, demo_version, rows):
    response = alice_client.post(url(), {"max_rows": rows})

    assert response.status_code == 200
    assert b'class="error"' in response.content
    assert not TestRun.objects.exists()


def test_it_requires_a_row_count_or_all_rows(alice_client, demo_version):
    response = alice_client.post(url(), {"max_rows": ""})

    assert b"All rows" in response.content
    assert b'class="error"' in response.content
    assert not TestRun.objects.exists()


def test_it_rejects_an_unknown_entity(alice_client, demo_version):
    response = alice_client.post(url(), {"entities": ["nope"], "max_rows": 100})

    assert response.status_code == 200
    assert b"nope" in response.content
    assert not TestRun.objects.exists()


def test_it_runs_a_configuration_that_does_not_load_to_a_clear_failure(
    alice_client, alice, write_config, django_capture_on_commit_callbacks
):
    path = write_config("entities:\n  a: [unclosed\n", name="broken.yml")
    import_configuration(path, name="broken", user=alice)

    form = alice_client.get(url("broken"))
    assert b"This version does not load" in form.content

    with django_capture_on_commit_callbacks(execute=True):
        alice_client.post(url("broken"), {"max_rows": 100})

    run = TestRun.objects.get()
    assert run.status == Status.FAILED
    assert "broken.yml" in run.error_message
    page = alice_client.get(reverse("testruns:detail", args=[run.pk]))
    assert run.error_message.encode() in page.content or b"invalid YAML" in page.content


@pytest.mark.django_db(transaction=True)  # the run is enqueued when start_run's own transaction commits
def test_it_says_when_the_run_could_not_be_queued(alice_client, demo_version, broker_down):
    form = {"max_rows": 20, "validate_foreign_keys": "on", "validate_constraints": "on"}
    response = alice_client.post(url(), form, follow=True)

    run = TestRun.objects.get()
    assert response.status_code == 200
    assert response.redirect_chain == [(reverse("testruns:detail", args=[run.pk]), 302)]
    assert run.status == Status.FAILED
    messages = [str(message) for message in response.context["messages"]]
    assert any("Could not queue the run" in message for message in messages)
    assert "Could not queue the run" in response.content.decode()


def test_it_marks_the_entities_that_cannot_run_and_those_needing_them(alice_client, write_config):
    path = write_config(
        "entities:\n"
        "  survey:\n    type: csv\n    options: {filename: gone.csv}\n    columns: [a]\n"
        "  site:\n    source: survey\n    columns: [a]\n"
        "  kind:\n    type: fixed\n    surrogate_id: kind_id\n    columns: [k]\n    values: [[x]]\n",
        "broken.yml",
    )
    import_configuration(path)

    content = alice_client.get(url("broken")).content.decode()

    assert 'data-name="survey" data-blocked>' in content
    assert "cannot run: file not found: gone.csv" in content
    assert 'data-name="site" data-blocked>' in content
    assert "cannot run: needs survey, which cannot run" in content
    assert 'data-name="kind">' in content
    assert 'class="entity-runnable-only"' in content


def test_it_has_the_entity_tools_for_javascript_and_a_start_button_in_a_footer(alice_client, demo_version):
    content = alice_client.get(url()).content.decode()

    assert '<div class="entity-tools" hidden>' in content  # shown by run_start.js; no use without it
    assert 'src="/static/js/run_start.js" defer' in content
    footer = '<div class="form-footer">\n    <button type="submit" class="button primary">Start test run'
    assert footer in content
    assert "entity-runnable-only" not in content  # every demo entity can run
