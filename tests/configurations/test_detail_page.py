"""/configurations/<name>/: versions, validation, entities, runs and the Test run button."""

import pytest
from django.urls import reverse
from django.utils.html import escape

from configurations.importing import import_configuration
from tests.factories import make_run

pytestmark = pytest.mark.django_db


def url(name="demo"):
    return reverse("configurations:detail", args=[name])


def test_it_works(alice_client, demo_version):
    response = alice_client.get(url())

    assert response.status_code == 200
    content = response.content.decode()
    assert reverse("testruns:start", args=["demo"]) in content
    assert demo_version.sha256[:10] in content
    # the entities table, from the loaded project
    for entity in ["survey", "record_type", "site", "sample", "abundance"]:
        assert f"<strong>{entity}</strong>" in content
    assert "ProjektNr, Fustel" in content  # site's keys


def test_it_lists_versions_and_shows_an_older_one(alice_client, demo_version, write_config, alice):
    path = write_config(
        "entities:\n  a:\n    type: fixed\n    surrogate_id: a_id\n    columns: [x]\n    values: [[1]]\n",
        name="demo.yml",
    )
    v2, created = import_configuration(path, name="demo", user=alice, message="a smaller one")
    assert created

    response = alice_client.get(url())
    assert b"a smaller one" in response.content
    assert b"<strong>a</strong>" in response.content

    older = alice_client.get(url() + "?version=1")
    assert b"<strong>site</strong>" in older.content
    assert alice_client.get(url() + "?version=9").status_code == 404


def test_it_shows_a_load_error_with_its_location(alice_client, write_config, alice):
    path = write_config("entities:\n  a: [unclosed\n", name="broken.yml")
    version, _ = import_configuration(path, name="broken", user=alice)
    assert version.validation["error"]

    response = alice_client.get(url("broken"))

    assert response.status_code == 200
    assert b"The configuration does not load." in response.content
    assert b"broken.yml:3: invalid YAML: while parsing a flow sequence" in response.content
    assert b"file broken.yml, line 3" in response.content  # the end of the file, where the ] is missing
    assert b"The entities cannot be listed" in response.content
    assert b"bundles" not in response.content  # no server paths


def test_it_groups_issues_by_severity(alice_client, write_config, alice):
    path = write_config("entities:\n  a:\n    source: nowhere\n    columns: [x]\n", name="odd.yml")
    version, _ = import_configuration(path, name="odd", user=alice)
    issues = version.validation["issues"]
    assert issues

    content = alice_client.get(url("odd")).content.decode()

    for issue in issues:
        assert escape(issue["message"]) in content
    for severity in {issue["severity"] for issue in issues}:
        count = sum(1 for issue in issues if issue["severity"] == severity)
        assert f"<h3>{count} {severity}" in content


def test_it_lists_the_configurations_runs(alice_client, demo_version):
    run = make_run(demo_version)

    response = alice_client.get(url())

    assert reverse("testruns:detail", args=[run.pk]).encode() in response.content
