"""/configurations/<name>/: versions, validation, entities, runs and the Test run button."""

import re

import pytest
import yaml
from django.urls import reverse
from django.utils.html import escape

from configurations.importing import import_configuration
from tests.factories import CONFORMANCE_V2, UPSTREAM, copy_case, make_run

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


# --- format 2 (format-v2.md): the format, the project's metadata, v2 entity kinds ---------------------------


def entity_row(content: str, name: str) -> str:
    """The entity table's row of ``name`` (its HTML), failing the test when there is none."""
    found = re.search(rf'<tr id="entity-{name}">(.*?)</tr>', content, re.S)
    assert found, f"no row for {name}"
    return found.group(1)


def import_case(case: str, tmp_path, user, **options):
    path = copy_case(CONFORMANCE_V2 / case, tmp_path) / "shapeshifter.yml"
    version, _ = import_configuration(path, name=case.replace("_", "-"), user=user, **options)
    return version


def test_it_shows_the_format_each_version_is_read_in(alice_client, tmp_path, alice):
    old = copy_case(CONFORMANCE_V2 / "02_old_format_under_v2", tmp_path) / "shapeshifter.yml"
    import_configuration(old, name="old", user=alice)
    import_configuration(old, name="old", user=alice, format_version=2)

    content = alice_client.get(url("old")).content.decode()
    older = alice_client.get(url("old") + "?version=1").content.decode()

    assert "format 2 · forced" in content and "format 1</span>" in content  # current, and v1 in the list
    assert "<strong>trench</strong>" in content
    assert "id: trench_id" not in content  # surrogate_id means nothing in format 2 (format-v2.md 5.2)
    assert "id: trench_id" in older  # v1 reads the same file in format 1
    assert "format 2 · forced" in older  # v2 is still listed while v1 is shown


def test_it_shows_a_projects_metadata_and_target_model(alice_client, write_config, alice):
    model = UPSTREAM / "target_models" / "sead_minimal_model.yml"
    declared = yaml.safe_load(model.read_text())["model"]
    path = write_config(
        "metadata:\n  type: shapeshifter-project\n  name: Pollen import\n"
        "  description: Pollen counts into SEAD.\n"
        "  version: 1.2.0\n  default_entity: survey\n  target_model: '@include: model.yml'\n"
        "entities:\n  survey:\n    type: fixed\n    public_id: survey_id\n    keys: [a]\n    columns: [a]\n"
        "    values: [[1]]\n",
        name="pollen.yml",
        model__yml=model.read_text(),
    )
    import_configuration(path, name="pollen", user=alice)

    content = alice_client.get(url("pollen")).content.decode()

    facts = re.search(r'<dl class="facts project-metadata">(.*?)</dl>', content, re.S).group(1)
    assert "<dt>Name</dt><dd>Pollen import</dd>" in facts
    assert "<dt>Description</dt><dd>Pollen counts into SEAD.</dd>" in facts
    assert '<dt>Project version</dt><dd class="mono">1.2.0</dd>' in facts
    assert '<span class="mono">survey</span>' in facts
    assert f"<dt>Target model</dt><dd>{declared['name']} {declared['version']}</dd>" in facts
    assert "format 2</span>" in content


def test_a_format_1_configuration_has_no_project_section(alice_client, tmp_path, alice):
    version = import_case("02_old_format_under_v2", tmp_path, alice)

    content = alice_client.get(url(version.configuration.name)).content.decode()

    assert "project-metadata" not in content
    assert "format 1</span>" in content


def test_it_shows_loader_types_and_public_ids(alice_client, tmp_path, alice):
    version = import_case("01_identity_basic", tmp_path, alice)
    spec = yaml.safe_load(version.yaml_text)["entities"]

    content = alice_client.get(url(version.configuration.name)).content.decode()

    for name, raw in spec.items():
        row = entity_row(content, name)
        assert f"<td>{raw['type']}</td>" in row
        assert f"public_id: {raw['public_id']}" in row


def test_it_shows_the_branches_of_a_merged_entity(alice_client, tmp_path, alice):
    version = import_case("27_merged_branches", tmp_path, alice)
    branches = yaml.safe_load(version.yaml_text)["entities"]["analysis_entity"]["branches"]

    row = entity_row(alice_client.get(url(version.configuration.name)).content.decode(), "analysis_entity")

    assert "<td>merged</td>" in row
    for branch in branches:
        assert f"{branch['name']} ← <strong>{branch['source']}</strong>" in row


def test_it_tells_deferred_foreign_keys_apart(alice_client, tmp_path, alice):
    version = import_case("22_defer_dependency_cycle", tmp_path, alice)

    content = alice_client.get(url(version.configuration.name)).content.decode()

    group = entity_row(content, "sample_group")  # its FK to sample has defer_dependency: true
    deferred = re.search(r'<div class="fk-deferred">(.*?)</div>', group, re.S).group(1)
    assert "<strong>sample</strong>" in deferred and ">deferred</span>" in deferred
    assert "<td>samples_raw</td>" in group  # depends on its source only: not on sample
    sample = entity_row(content, "sample")  # its FK to sample_group is an ordinary one
    assert "fk-deferred" not in sample and "→ <strong>sample_group</strong>" in sample


def test_it_shows_what_the_variables_of_its_paths_stand_for(
    alice_client, tmp_path, settings, monkeypatch, alice
):
    case = copy_case(CONFORMANCE_V2 / "10_env_vars_and_include", tmp_path)
    variables = dict(line.split("=", 1) for line in (case / "run.env").read_text().split())
    settings.CONFIG_ENV = list(variables)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    import_configuration(case / "shapeshifter.yml", name="env", user=alice)

    content = alice_client.get(url("env")).content.decode()

    assert '<span class="mono">${LABEL_DIR}</span> → <span class="mono">_env/LABEL_DIR/</span>' in content
    assert f'<span class="mono">${{DS_NAME}} = “{variables["DS_NAME"]}”</span>' in content


def test_a_v2_page_costs_a_fixed_number_of_queries(alice_client, tmp_path, alice, django_assert_num_queries):
    version = import_case("27_merged_branches", tmp_path, alice)
    alice_client.get(url(version.configuration.name))  # the bundle is materialized once per machine

    # session, user, configuration, its versions, the bundle's files (checked), its runs and their trend
    with django_assert_num_queries(7):
        response = alice_client.get(url(version.configuration.name))
    assert response.status_code == 200
