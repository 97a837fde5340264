"""Importing a format-2 project bundles every file it references: @include'd target models, @load'ed parquet,
and files reached through ``${VAR}`` paths, read from the importing process's (allowed) environment, so a
stored version loads the same with the variable unset or pointing elsewhere (format-v2.md 2.3-2.5)."""

import re
import shutil

import pytest

import shapeshift
from configurations.importing import import_configuration
from configurations.loading import load_version
from configurations.models import ConfigurationVersion
from tests.factories import CONFORMANCE_V2, UPSTREAM, copy_case

pytestmark = pytest.mark.django_db


def bundled(version) -> dict[str, str]:
    return dict(version.files.values_list("path", "kind"))


@pytest.fixture
def arbodat(tmp_path, settings, monkeypatch):
    """The upstream arbodat project and its shared data sources, copied side by side as upstream has them;
    GLOBAL_DATA_SOURCE_DIR names the data sources' folder (upstream/README.md) and configurations may read
    it. Returns the project's main YAML."""
    project = copy_case(UPSTREAM / "projects" / "arbodat", tmp_path / "projects")
    sources = copy_case(UPSTREAM / "shared" / "data-sources", tmp_path / "shared")
    settings.CONFIG_ENV = ["GLOBAL_DATA_SOURCE_DIR", "GLOBAL_DATA_DIR"]
    monkeypatch.setenv("GLOBAL_DATA_SOURCE_DIR", str(sources))
    monkeypatch.delenv("GLOBAL_DATA_DIR", raising=False)
    return project / "shapeshifter.yml"


def test_it_bundles_the_files_of_a_variable_path_under_env(arbodat, alice):
    included = re.findall(r"@include: \$\{GLOBAL_DATA_SOURCE_DIR\}/([\w.-]+)", arbodat.read_text())
    loaded = re.findall(r"@load:\s*(materialized/[\w.-]+\.parquet)", arbodat.read_text())
    assert len(included) == 3 and len(loaded) == 3

    version, _ = import_configuration(arbodat, name="arbodat", user=alice)

    files = bundled(version)
    for name in included:
        assert files[f"_env/GLOBAL_DATA_SOURCE_DIR/{name}"] == "include"
    for name in loaded:
        assert files[name] == "load"
    assert files["relative_ages_arbodat_pilot_subset.xlsx"] == "data"
    # the Access databases are behind ${GLOBAL_DATA_DIR}, unset here: not bundled, yet looked for inside
    assert version.path_variables == {
        "GLOBAL_DATA_SOURCE_DIR": "_env/GLOBAL_DATA_SOURCE_DIR",
        "GLOBAL_DATA_DIR": "_env/GLOBAL_DATA_DIR",
    }
    assert version.validation["error"] is None
    assert version.format_version == 2


def test_the_stored_version_loads_with_the_variable_unset_and_its_folder_gone(arbodat, alice, monkeypatch):
    sources = arbodat.parents[2] / "shared" / "data-sources"
    version, _ = import_configuration(arbodat, name="arbodat", user=alice)
    monkeypatch.delenv("GLOBAL_DATA_SOURCE_DIR")
    shutil.rmtree(sources)

    project = load_version(ConfigurationVersion.objects.get(pk=version.pk))

    assert project.data_sources["sead"]["driver"] == "postgresql"  # shared/data-sources/sead-options.yml
    assert project.data_sources["arbodat_data"]["driver"] == "ucanaccess"
    assert (
        project.data_sources["arbodat_data"]["options"]["filename"] == "_env/GLOBAL_DATA_DIR/ArchBotDaten.mdb"
    )
    # validated again with the variable unset, it says what it said at import, in the variable's presence
    assert [issue.to_dict() for issue in shapeshift.validate(project)] == version.validation["issues"]


def test_a_workers_own_value_of_the_variable_is_not_used(arbodat, alice, monkeypatch, tmp_path):
    version, _ = import_configuration(arbodat, name="arbodat", user=alice)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    for name in ("sead-options.yml", "arbodat-data-options.yml", "arbodat-lookup-options.yml"):
        (elsewhere / name).write_text("driver: sqlite\noptions: {filename: other.db}\n")
    monkeypatch.setenv("GLOBAL_DATA_SOURCE_DIR", str(elsewhere))

    project = load_version(ConfigurationVersion.objects.get(pk=version.pk))

    assert project.data_sources["sead"]["driver"] == "postgresql"


def test_a_variable_inside_a_path_keeps_its_value_from_the_import(tmp_path, settings, monkeypatch, alice):
    case = copy_case(CONFORMANCE_V2 / "10_env_vars_and_include", tmp_path)
    variables = dict(line.split("=", 1) for line in (case / "run.env").read_text().split())
    settings.CONFIG_ENV = list(variables)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)

    version, _ = import_configuration(case / "shapeshifter.yml", user=alice)
    for name in variables:
        monkeypatch.delenv(name)
    project = load_version(ConfigurationVersion.objects.get(pk=version.pk))

    # @include: sources/${DS_NAME}.yml, whose data file is ${LABEL_DIR}/labels.csv
    assert bundled(version) == {
        "shapeshifter.yml": "main",
        "sources/labels_ds.yml": "include",
        "_env/LABEL_DIR/labels.csv": "data",
    }
    assert version.path_variables == {"DS_NAME": variables["DS_NAME"], "LABEL_DIR": "_env/LABEL_DIR"}
    assert project.data_sources["labels_ds"]["options"]["filename"] == "_env/LABEL_DIR/labels.csv"
    assert project.resolver.exists("_env/LABEL_DIR/labels.csv")


def test_it_bundles_an_included_target_model_and_loaded_parquet(tmp_path, alice):
    model = copy_case(CONFORMANCE_V2 / "35_target_model_conformance", tmp_path) / "shapeshifter.yml"
    parquet = copy_case(CONFORMANCE_V2 / "06_load_parquet_materialized", tmp_path) / "shapeshifter.yml"

    with_model, _ = import_configuration(model, name="model", user=alice)
    with_parquet, _ = import_configuration(parquet, name="parquet", user=alice)

    assert bundled(with_model)["mini_model.yml"] == "include"
    assert load_version(with_model).metadata["target_model"]["model"]["name"] == "Mini excavation model"
    assert bundled(with_parquet)["units.parquet"] == "load"
    assert bundled(with_parquet)["factors.csv"] == "load"
    values = load_version(with_parquet).entities["unit"].raw["values"]
    assert isinstance(values, list) and values  # the @load was read from the bundle, not left as text


def test_it_reads_no_variable_the_operator_has_not_allowed(tmp_path, settings, monkeypatch, alice):
    private = tmp_path / "private"
    private.mkdir()
    (private / "sources.yml").write_text("labels: {driver: csv, options: {filename: x.csv}}\n")
    monkeypatch.setenv("PRIVATE_DIR", str(private))
    settings.CONFIG_ENV = []
    folder = tmp_path / "config"
    folder.mkdir()
    path = folder / "config.yml"
    path.write_text(
        "metadata: {type: shapeshifter-project}\n"
        "options:\n  data_sources: '@include: ${PRIVATE_DIR}/sources.yml'\n"
    )

    version, _ = import_configuration(path, user=alice)

    assert list(bundled(version)) == ["config.yml"]
    assert "sources.yml" in version.validation["error"]["message"]


def test_it_never_bundles_a_file_outside_the_variables_folder(tmp_path, settings, monkeypatch, alice):
    (tmp_path / "secret.csv").write_text("password\nhunter2\n")
    shared = tmp_path / "shared"
    shared.mkdir()
    monkeypatch.setenv("SHARED_DIR", str(shared))
    settings.CONFIG_ENV = ["SHARED_DIR"]
    folder = tmp_path / "config"
    folder.mkdir()
    path = folder / "config.yml"
    path.write_text(
        "metadata: {type: shapeshifter-project}\n"
        "entities:\n  leak:\n    type: fixed\n    public_id: leak_id\n"
        "    keys: []\n    columns: [password]\n    values: '@load: ${SHARED_DIR}/../secret.csv'\n"
    )

    version, _ = import_configuration(path, user=alice)

    assert list(bundled(version)) == ["config.yml"]
    assert "hunter2" not in str(load_version(version).raw)


def test_a_file_included_from_a_variables_file_is_bundled_beside_it(tmp_path, settings, monkeypatch, alice):
    shared = tmp_path / "shared"
    (shared / "more").mkdir(parents=True)
    (shared / "sources.yml").write_text("labels: '@include: more/labels.yml'\n")
    (shared / "more" / "labels.yml").write_text("driver: csv\noptions: {filename: labels.csv}\n")
    monkeypatch.setenv("SHARED_DIR", str(shared))
    settings.CONFIG_ENV = ["SHARED_DIR"]
    folder = tmp_path / "config"
    folder.mkdir()
    path = folder / "config.yml"
    path.write_text(
        "metadata: {type: shapeshifter-project}\n"
        "options:\n  data_sources: '@include: ${SHARED_DIR}/sources.yml'\n"
    )

    version, _ = import_configuration(path, user=alice)
    monkeypatch.delenv("SHARED_DIR")
    project = load_version(ConfigurationVersion.objects.get(pk=version.pk))

    assert bundled(version) == {
        "config.yml": "main",
        "_env/SHARED_DIR/sources.yml": "include",
        "_env/SHARED_DIR/more/labels.yml": "include",
    }
    assert project.data_sources["labels"] == {"driver": "csv", "options": {"filename": "labels.csv"}}
