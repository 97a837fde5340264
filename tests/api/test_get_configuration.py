"""GET /api/v1/configurations[/<name>[/versions[/<number>]]]: configurations and versions, each with the
format it is read in, at a fixed query cost."""

import pytest

from configurations.importing import import_configuration
from tests.factories import CONFORMANCE_V2, copy_case

pytestmark = pytest.mark.django_db


@pytest.fixture
def old(tmp_path, alice):
    """A format-1 file imported as detected (v1), then with format 2 forced (v2, current)."""
    path = copy_case(CONFORMANCE_V2 / "02_old_format_under_v2", tmp_path) / "shapeshifter.yml"
    detected, _ = import_configuration(path, name="old", user=alice, message="as written")
    forced, _ = import_configuration(path, name="old", user=alice, format_version=2)
    return detected, forced


def test_it_returns_a_configuration_with_its_current_versions_format(client, bearer, old):
    response = client.get("/api/v1/configurations/old", **bearer)

    assert response.status_code == 200
    data = response.json()
    assert data["name"] == "old" and data["format_version"] == 2
    current = data["current_version"]
    assert (current["number"], current["format_version"], current["format_forced"]) == (2, 2, True)
    assert data["url"] == "http://testserver/configurations/old/"


def test_it_lists_versions_newest_first(client, bearer, old):
    response = client.get("/api/v1/configurations/old/versions", **bearer)

    assert [(v["number"], v["format_version"], v["format_forced"]) for v in response.json()] == [
        (2, 2, True),
        (1, 1, False),
    ]


def test_it_returns_one_version(client, bearer, old):
    data = client.get("/api/v1/configurations/old/versions/1", **bearer).json()

    assert (data["config_name"], data["number"], data["message"]) == ("old", 1, "as written")
    assert (data["format_version"], data["format_forced"], data["path_variables"]) == (1, False, {})
    assert data["sha256"] == old[0].sha256 and data["created_by"] == "alice"


def test_it_shows_the_variables_bundled_with_a_version(
    client, bearer, tmp_path, settings, monkeypatch, alice
):
    case = copy_case(CONFORMANCE_V2 / "10_env_vars_and_include", tmp_path)
    variables = dict(line.split("=", 1) for line in (case / "run.env").read_text().split())
    settings.CONFIG_ENV = list(variables)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    import_configuration(case / "shapeshifter.yml", name="env", user=alice)

    data = client.get("/api/v1/configurations/env/versions/1", **bearer).json()

    assert data["path_variables"] == {"DS_NAME": variables["DS_NAME"], "LABEL_DIR": "_env/LABEL_DIR"}


def test_it_lists_configurations(client, bearer, old, demo_version):
    data = client.get("/api/v1/configurations", **bearer).json()

    assert [(c["name"], c["current_version"]["number"]) for c in data] == [("demo", 1), ("old", 2)]


def test_it_answers_404_for_what_does_not_exist(client, bearer, old):
    assert client.get("/api/v1/configurations/nope", **bearer).status_code == 404
    assert client.get("/api/v1/configurations/nope/versions", **bearer).status_code == 404
    assert client.get("/api/v1/configurations/old/versions/9", **bearer).status_code == 404


def test_it_costs_a_fixed_number_of_queries(client, bearer, old, django_assert_num_queries):
    # the token (2: login throttling, the token); the configurations, each with its current version and
    # its author; for the versions, the configuration and then the versions with their authors
    with django_assert_num_queries(3):
        client.get("/api/v1/configurations/old", **bearer)
    with django_assert_num_queries(4):
        client.get("/api/v1/configurations/old/versions", **bearer)
    with django_assert_num_queries(3):
        client.get("/api/v1/configurations", **bearer)
    with django_assert_num_queries(3):
        client.get("/api/v1/configurations/old/versions/1", **bearer)
