"""/configurations/import/: uploading a YAML and the files it references."""

import re
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from configurations.models import Configuration, ConfigurationVersion

pytestmark = pytest.mark.django_db
URL = reverse("configurations:import")
DEMO_YAML = Path(__file__).resolve().parents[2] / "examples" / "demo" / "demo.yml"


def demo_upload(**data):
    survey = DEMO_YAML.parent / "survey.csv"
    return {
        "yaml_file": SimpleUploadedFile("demo.yml", DEMO_YAML.read_bytes()),
        "extra_files": [SimpleUploadedFile("survey.csv", survey.read_bytes())],
        **data,
    }


def test_it_shows_the_form(alice_client):
    response = alice_client.get(URL)
    assert response.status_code == 200
    assert b'type="file"' in response.content
    assert b"multiple" in response.content


def test_it_imports_a_configuration_with_its_files(alice_client, alice):
    response = alice_client.post(URL, demo_upload(name="survey-demo", message="first try"))

    version = ConfigurationVersion.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("configurations:detail", args=["survey-demo"])
    assert version.configuration.name == "survey-demo"
    assert version.created_by == alice
    assert version.message == "first try"
    assert sorted(version.files.values_list("path", flat=True)) == ["demo.yml", "survey.csv"]
    assert version.is_valid, version.validation


def test_it_names_the_configuration_after_the_file(client, bob):
    client.force_login(bob)
    client.post(URL, demo_upload())
    assert Configuration.objects.get().name == "demo"


def test_it_adds_a_version_only_when_something_changed(alice_client):
    alice_client.post(URL, demo_upload())
    response = alice_client.post(URL, demo_upload(), follow=True)

    assert ConfigurationVersion.objects.count() == 1
    assert b"Nothing changed" in response.content


def test_it_stores_a_yaml_that_does_not_parse_with_its_error(alice_client):
    upload = {"yaml_file": SimpleUploadedFile("broken.yml", b"entities:\n  a: [unclosed\n")}

    response = alice_client.post(URL, upload, follow=True)

    version = ConfigurationVersion.objects.get()
    assert version.validation["error"]
    assert response.status_code == 200
    assert b"does not load" in response.content


def test_it_rejects_a_file_that_is_not_utf8(alice_client):
    upload = {"yaml_file": SimpleUploadedFile("latin.yml", "entities:\n  café: {}\n".encode("latin-1"))}

    response = alice_client.post(URL, upload)

    assert response.status_code == 200
    assert b"not UTF-8" in response.content
    assert b"/tmp/" not in response.content  # the temporary folder is not shown
    assert not Configuration.objects.exists()


def test_it_rejects_a_file_that_is_not_yaml(alice_client):
    response = alice_client.post(URL, {"yaml_file": SimpleUploadedFile("survey.csv", b"a;b\n")})

    assert response.status_code == 200
    assert b"Upload a .yml or .yaml file" in response.content
    assert not Configuration.objects.exists()


def test_it_requires_a_yaml_file(alice_client):
    response = alice_client.post(URL, {"name": "x"})
    assert response.status_code == 200
    assert not Configuration.objects.exists()


def test_it_ignores_folders_in_upload_names(alice_client):
    upload = demo_upload()
    upload["extra_files"] = [
        SimpleUploadedFile("../../survey.csv", (DEMO_YAML.parent / "survey.csv").read_bytes())
    ]

    alice_client.post(URL, upload)

    version = ConfigurationVersion.objects.get()
    assert sorted(version.files.values_list("path", flat=True)) == ["demo.yml", "survey.csv"]


def test_it_puts_referenced_files_in_their_folders(alice_client):
    yaml_text = DEMO_YAML.read_text(encoding="utf-8").replace(
        "filename: survey.csv", "filename: data/survey.csv"
    )
    assert "data/survey.csv" in yaml_text
    upload = demo_upload(name="nested")
    upload["yaml_file"] = SimpleUploadedFile("nested.yml", yaml_text.encode("utf-8"))

    alice_client.post(URL, upload)

    version = ConfigurationVersion.objects.get()
    assert "data/survey.csv" in version.files.values_list("path", flat=True)
    assert version.is_valid, version.validation


def nothing_stored() -> bool:
    from configurations.models import StoredFile

    return not Configuration.objects.exists() and not StoredFile.objects.exists()


def test_it_refuses_a_request_above_the_upload_limit_without_reading_it(alice_client, settings, monkeypatch):
    from django.http.multipartparser import MultiPartParser

    def parse(self):
        raise AssertionError("the body was read")

    monkeypatch.setattr(MultiPartParser, "parse", parse)
    settings.UPLOAD_MAX_BYTES = 20_000  # the survey alone is 47 kB

    response = alice_client.post(URL, demo_upload())

    assert response.status_code == 413
    content = response.content.decode()
    assert "The upload is too large: " in content and "at most 19.5\xa0KB (20,000 bytes)" in content
    assert 'type="file"' in content  # the form, to try again
    assert "This field is required" not in content
    assert nothing_stored()


def test_it_refuses_a_file_above_the_file_limit_and_names_it(alice_client, settings):
    settings.UPLOAD_FILE_MAX_BYTES = 10_000  # the YAML fits, the survey does not

    response = alice_client.post(URL, demo_upload())

    assert response.status_code == 200
    assert "survey.csv is too large: a file may have at most 9.8\xa0KB (10,000 bytes)." in (
        response.content.decode()
    )
    assert nothing_stored()


def test_it_names_a_yaml_file_above_the_file_limit_instead_of_calling_it_missing(alice_client, settings):
    settings.UPLOAD_FILE_MAX_BYTES = 1_000

    response = alice_client.post(URL, demo_upload())

    content = response.content.decode()
    assert "demo.yml is too large" in content and "survey.csv is too large" in content
    assert "This field is required" not in content
    assert nothing_stored()


BILLION_LAUGHS = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
    f"{n}: &{n} [{','.join([f'*{p}'] * 9)}]\n" for p, n in zip("abcdefgh", "bcdefghi", strict=True)
)
FIVE_HUNDRED_LEVELS = "entities:\n  x:\n    columns: " + "[" * 500 + "]" * 500 + "\n"


@pytest.mark.parametrize(
    "text, message",
    [
        (BILLION_LAUGHS, "bomb.yml:6: YAML alias expansion exceeds 250,000 nodes"),
        (FIVE_HUNDRED_LEVELS, "bomb.yml:3: nesting deeper than 64 levels"),
    ],
    ids=["billion-laughs", "500-levels"],
)
def test_it_stores_hostile_yaml_with_the_reason_it_does_not_load(alice_client, text, message):
    upload = {"yaml_file": SimpleUploadedFile("bomb.yml", text.encode())}

    response = alice_client.post(URL, upload, follow=True)

    assert response.status_code == 200
    assert message in response.content.decode()
    assert message in ConfigurationVersion.objects.get().validation["error"]["message"]


def test_it_offers_to_force_the_format(alice_client):
    content = alice_client.get(URL).content.decode()

    assert '<select name="format_version"' in content
    assert '<option value="" selected>Detect from the file</option>' in content
    assert '<option value="2">Force format 2' in content


def test_it_stores_a_forced_format(alice_client):
    alice_client.post(URL, demo_upload(format_version="1"))

    version = ConfigurationVersion.objects.get()
    assert (version.format_version, version.format_forced) == (1, True)


def test_it_detects_the_format_when_none_is_forced(alice_client):
    alice_client.post(URL, demo_upload(format_version=""))

    version = ConfigurationVersion.objects.get()
    assert version.format_forced is False and version.format_version == version.validation["format_version"]


def test_it_rejects_an_unknown_format(alice_client):
    response = alice_client.post(URL, demo_upload(format_version="3"))

    assert response.status_code == 200
    assert b"Select a valid choice" in response.content
    assert not ConfigurationVersion.objects.exists()


# --- files the YAML names that were not uploaded ----------------------------------------------------------

TWO_CSVS = b"""\
entities:
  a: {type: csv, options: {filename: a.csv}, columns: [x]}
  b: {type: csv, options: {filename: data/b.csv}, columns: [y]}
"""


def messages_of(response) -> list[tuple[str, str]]:
    return [(m.level_tag, m.message) for m in response.context["messages"]]


def test_missing_files_are_a_warning_naming_each_with_its_line(alice_client):
    upload = {"yaml_file": SimpleUploadedFile("two.yml", TWO_CSVS), "reuse_files": "on"}

    response = alice_client.post(URL, upload, follow=True)

    assert ConfigurationVersion.objects.get().number == 1  # stored all the same
    assert messages_of(response) == [
        (
            "warning",
            "Imported two v1, but 2 files it names are missing: a.csv (two.yml:2), data/b.csv (two.yml:3). "
            "Runs of the entities that read them will fail until a version has them.",
        )
    ]
    page = response.content.decode()
    assert 'id="bundle-files"' in page and "2 missing" in page
    assert f'href="{reverse("configurations:edit", args=["two"])}?line=3">two.yml:3</a>' in page


def test_the_form_offers_to_reuse_the_current_versions_files_checked(alice_client):
    page = alice_client.get(URL).content.decode()

    assert re.search(r"<input type=\"checkbox\" name=\"reuse_files\"[^>]* checked>", page)
    assert "Reuse the files of the current version that this YAML still names" in page


def test_a_yaml_uploaded_alone_reuses_the_files_of_the_current_version(alice_client):
    alice_client.post(URL, demo_upload(name="demo"), follow=True)
    yaml_text = DEMO_YAML.read_text(encoding="utf-8") + "# edited\n"
    upload = {"yaml_file": SimpleUploadedFile("demo.yml", yaml_text.encode()), "name": "demo"}
    upload["reuse_files"] = "on"

    response = alice_client.post(URL, upload, follow=True)

    v1, v2 = ConfigurationVersion.objects.order_by("number")
    assert v2.files.get(path="survey.csv").stored_id == v1.files.get(path="survey.csv").stored_id
    assert v2.is_valid, v2.validation
    assert messages_of(response) == [
        ("success", "Imported demo v2."),
        ("info", "Reused 1 file of v1: survey.csv."),
    ]
    assert "Reused from" in response.content.decode()


def test_unchecking_reuse_stores_the_yaml_alone_and_says_what_is_missing(alice_client):
    alice_client.post(URL, demo_upload(name="demo"), follow=True)
    yaml_text = DEMO_YAML.read_text(encoding="utf-8") + "# edited\n"
    upload = {"yaml_file": SimpleUploadedFile("demo.yml", yaml_text.encode()), "name": "demo"}

    response = alice_client.post(URL, upload, follow=True)

    v2 = ConfigurationVersion.objects.get(number=2)
    assert list(v2.files.values_list("path", flat=True)) == ["demo.yml"]
    [(level, message)] = messages_of(response)
    assert level == "warning" and "1 file it names is missing: survey.csv (demo.yml:" in message


def test_the_same_yaml_uploaded_alone_changes_nothing(alice_client):
    alice_client.post(URL, demo_upload(name="demo"))
    upload = {"yaml_file": SimpleUploadedFile("demo.yml", DEMO_YAML.read_bytes()), "name": "demo"}

    response = alice_client.post(URL, {**upload, "reuse_files": "on"}, follow=True)

    assert ConfigurationVersion.objects.count() == 1
    assert b"Nothing changed" in response.content
