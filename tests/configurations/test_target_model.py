"""The target model a configuration's runs check their data against: chosen on import (the command's
``--target-model``, the import page) or on the configuration's page, stored with the configuration.

The models are SEAD's own (``../shared/data/upstream-projects/target_models/``); their names and versions are
read from the files themselves.
"""

import importlib
from io import StringIO

import pytest
import yaml
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from configurations.importing import ImportFailed, import_configuration
from configurations.models import Configuration, StoredFile
from tests.factories import CONFORMANCE_V2, DEMO_YAML, UPSTREAM, copy_case

pytestmark = pytest.mark.django_db

MODELS = UPSTREAM / "target_models"
STANDARD, MINIMAL = MODELS / "sead_standard_model.yml", MODELS / "sead_minimal_model.yml"
BROKEN = b"model: {name: No version}\nentities:\n  site: {role: landmark}\n"


def label(path) -> str:
    model = yaml.safe_load(path.read_text())["model"]
    return f"{model['name']} {model['version']}"


def demo() -> Configuration:
    return Configuration.objects.get(name="demo")


def test_the_model_files_name_different_models():
    assert label(STANDARD) != label(MINIMAL)


# --- on import ----------


def test_an_import_can_choose_the_target_model(alice):
    version, created = import_configuration(
        DEMO_YAML, name="demo", user=alice, target_model=(STANDARD.name, STANDARD.read_bytes())
    )

    configuration = Configuration.objects.get(pk=version.configuration_id)
    assert created
    assert (configuration.target_model_file, configuration.target_model_label) == (
        STANDARD.name,
        label(STANDARD),
    )
    assert configuration.target_model.blob.read() == STANDARD.read_bytes()
    assert configuration.chosen_target_model().name == yaml.safe_load(STANDARD.read_text())["model"]["name"]


def test_an_import_of_an_unchanged_bundle_still_changes_the_model(alice, demo_version):
    version, created = import_configuration(
        DEMO_YAML, name="demo", user=alice, target_model=(MINIMAL.name, MINIMAL.read_bytes())
    )

    assert (created, version.pk) == (False, demo_version.pk)
    assert demo().target_model_label == label(MINIMAL)


def test_an_import_without_a_model_keeps_the_chosen_one(alice, demo_version):
    demo().choose_target_model(MINIMAL.read_bytes(), MINIMAL.name)

    import_configuration(DEMO_YAML, name="demo", user=alice)

    assert demo().target_model_file == MINIMAL.name


def test_an_import_refuses_a_model_that_cannot_be_used_and_stores_nothing(alice):
    with pytest.raises(ImportFailed) as failed:
        import_configuration(DEMO_YAML, name="demo", user=alice, target_model=("broken.yml", BROKEN))

    message = str(failed.value)
    assert message.startswith("target model broken.yml: ")
    assert "model.version: is required" in message
    assert "entities.site.role: unknown value 'landmark'" in message
    assert not Configuration.objects.exists()
    assert not StoredFile.objects.exists()


def import_command(*args) -> str:
    out = StringIO()
    call_command("import_configuration", str(DEMO_YAML), "--name", "demo", *args, stdout=out)
    return out.getvalue()


def test_the_command_takes_a_target_model_file():
    out = import_command("--target-model", str(STANDARD))

    assert f"  target model: {label(STANDARD)} ({STANDARD.name})" in out.splitlines()
    assert demo().target_model_label == label(STANDARD)


def test_the_command_refuses_a_model_file_it_cannot_read_or_use(tmp_path):
    with pytest.raises(CommandError, match=r"--target-model .*nope\.yml: No such file or directory"):
        import_command("--target-model", str(tmp_path / "nope.yml"))
    (tmp_path / "broken.yml").write_bytes(BROKEN)
    with pytest.raises(CommandError, match=r"target model broken\.yml: .*model\.version: is required"):
        import_command("--target-model", str(tmp_path / "broken.yml"))
    assert not Configuration.objects.exists()


def test_the_import_page_takes_a_target_model(alice_client):
    survey = DEMO_YAML.parent / "survey.csv"
    upload = {
        "yaml_file": SimpleUploadedFile("demo.yml", DEMO_YAML.read_bytes()),
        "extra_files": [SimpleUploadedFile("survey.csv", survey.read_bytes())],
        "target_model": SimpleUploadedFile(MINIMAL.name, MINIMAL.read_bytes()),
    }

    response = alice_client.post(reverse("configurations:import"), upload)

    assert response.status_code == 302
    assert demo().target_model_label == label(MINIMAL)


def test_the_import_page_says_why_a_model_cannot_be_used(alice_client):
    upload = {
        "yaml_file": SimpleUploadedFile("demo.yml", DEMO_YAML.read_bytes()),
        "target_model": SimpleUploadedFile("broken.yml", BROKEN),
    }

    response = alice_client.post(reverse("configurations:import"), upload)

    assert response.status_code == 200
    assert "broken.yml: " in response.context["form"].errors["target_model"][0]
    assert not Configuration.objects.exists()


# --- on the configuration's page ----------


def detail(client, name="demo") -> str:
    return client.get(reverse("configurations:detail", args=[name])).content.decode()


def target_model_section(content: str) -> str:
    start = content.index('<section id="target-model">')
    return content[start : content.index("</section>", start)]


def post(client, data, name="demo"):
    return client.post(reverse("configurations:target_model", args=[name]), data)


def test_the_page_says_when_there_is_no_target_model(alice_client, demo_version):
    shown = target_model_section(detail(alice_client))

    assert "None: runs check only the configuration's own" in shown
    assert 'type="file"' in shown and "Stop using" not in shown


def test_the_page_shows_a_format_2_projects_own_target_model(alice_client, alice, tmp_path):
    case = copy_case(CONFORMANCE_V2 / "35_target_model_conformance", tmp_path)
    import_configuration(case / "shapeshifter.yml", name="c35", user=alice)
    model = yaml.safe_load((case / "mini_model.yml").read_text())["model"]

    shown = target_model_section(detail(alice_client, "c35"))

    assert (
        f"<strong>{model['name']} {model['version']}</strong>, the project's metadata.target_model" in shown
    )


def test_the_page_chooses_a_model_from_an_upload(alice_client, demo_version):
    response = post(alice_client, {"model_file": SimpleUploadedFile(STANDARD.name, STANDARD.read_bytes())})

    assert response.status_code == 302
    assert response.url == reverse("configurations:detail", args=["demo"]) + "#target-model"
    assert demo().target_model_label == label(STANDARD)
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        f"demo's runs now check their data against {label(STANDARD)} ({STANDARD.name})."
    ]
    shown = target_model_section(detail(alice_client))
    assert f"<strong>{label(STANDARD)}</strong>" in shown
    assert f"Stop using {STANDARD.name}" in shown
    assert demo().versions.count() == 1  # a setting of the configuration: no new version


def test_the_page_refuses_a_file_that_is_no_model_and_keeps_the_chosen_one(alice_client, demo_version):
    demo().choose_target_model(MINIMAL.read_bytes(), MINIMAL.name)

    response = post(alice_client, {"model_file": SimpleUploadedFile("broken.yml", BROKEN)})

    (message,) = [str(m) for m in get_messages(response.wsgi_request)]
    assert message.startswith("Target model not changed: broken.yml: ")
    assert "model.version: is required" in message
    assert demo().target_model_file == MINIMAL.name


def test_the_page_asks_for_a_file(alice_client, demo_version):
    response = post(alice_client, {})

    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "Target model not changed: Choose a target model file to upload."
    ]


def test_the_page_stops_using_the_chosen_model(alice_client, demo_version):
    demo().choose_target_model(MINIMAL.read_bytes(), MINIMAL.name)

    post(alice_client, {"remove": "on"})

    configuration = demo()
    assert (
        configuration.target_model,
        configuration.target_model_file,
        configuration.target_model_label,
    ) == (
        None,
        "",
        "",
    )
    assert configuration.chosen_target_model() is None


def test_the_page_refuses_a_get(alice_client, demo_version):
    assert alice_client.get(reverse("configurations:target_model", args=["demo"])).status_code == 405


# --- the migration ----------


def test_the_migration_adds_the_fields_empty(demo_version):
    migration = importlib.import_module("configurations.migrations.0003_configuration_target_model")
    added = {operation.name for operation in migration.Migration.operations}

    assert added == {"target_model", "target_model_file", "target_model_label"}
    configuration = demo()
    assert (
        configuration.target_model_id,
        configuration.target_model_file,
        configuration.target_model_label,
    ) == (
        None,
        "",
        "",
    )
