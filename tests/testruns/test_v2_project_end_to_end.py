"""A format-2 project goes through the product like a format-1 one: imported on the import page, validated,
run from the test-run page (django-q2 sync mode), its tables read, downloaded, compared and exported.

The project is conformance case 01 (``../shared/data/conformance-v2/01_identity_basic``); its tables must be
the reference tool's, byte for byte (``expected/*.csv``), in its processing order (``expected/_run.json``).
"""

import io
import json
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from configurations.models import Configuration
from testruns.models import Status, TestRun
from tests.factories import CONFORMANCE_V2

pytestmark = pytest.mark.django_db

CASE = CONFORMANCE_V2 / "01_identity_basic"
EXPECTED = json.loads((CASE / "expected" / "_run.json").read_text())


def import_case(client):
    upload = {
        "yaml_file": SimpleUploadedFile("shapeshifter.yml", (CASE / "shapeshifter.yml").read_bytes()),
        "extra_files": [SimpleUploadedFile("finds.csv", (CASE / "finds.csv").read_bytes())],
        "name": "identity",
    }
    response = client.post(reverse("configurations:import"), upload)
    assert response.status_code == 302, response.content
    return Configuration.objects.select_related("current_version").get(name="identity")


def start_full_run(client, capture) -> TestRun:
    with capture(execute=True):
        response = client.post(reverse("testruns:start", args=["identity"]), {"all_rows": "on"})
    assert response.status_code == 302
    return TestRun.objects.order_by("-created_at").first()


def test_a_v2_project_imports_runs_compares_and_exports_like_any(
    alice_client, django_capture_on_commit_callbacks
):
    configuration = import_case(alice_client)
    version = configuration.current_version
    assert (version.format_version, version.format_forced) == (2, False)
    assert version.validation["error"] is None
    page = alice_client.get(configuration.get_absolute_url()).content.decode()
    assert "format 2</span>" in page and "public_id: find_id" in page

    run = start_full_run(alice_client, django_capture_on_commit_callbacks)

    assert run.status == Status.COMPLETED, run.error_message
    results = list(run.entity_results.order_by("position"))
    assert [r.entity for r in results] == EXPECTED["order"]
    for result in results:
        expected = (CASE / "expected" / f"{result.entity}.csv").read_bytes()
        assert [result.rows_out, len(result.columns)] == EXPECTED["shapes"][result.entity]
        download = alice_client.get(reverse("testruns:entity_csv", args=[run.pk, result.entity]))
        assert b"".join(download.streaming_content) == expected, result.entity

    again = start_full_run(alice_client, django_capture_on_commit_callbacks)
    compare = alice_client.get(f"{reverse('testruns:compare')}?base={run.pk}&head={again.pk}")
    assert compare.status_code == 200
    assert f"0 of {len(EXPECTED['order'])} entities changed" in compare.content.decode()

    export = alice_client.get(reverse("testruns:export_zip", args=[run.pk]))
    archive = zipfile.ZipFile(io.BytesIO(b"".join(export.streaming_content)))
    for name in EXPECTED["order"]:
        assert archive.read(f"{name}.csv") == (CASE / "expected" / f"{name}.csv").read_bytes()
