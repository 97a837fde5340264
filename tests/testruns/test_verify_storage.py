"""manage.py verify_storage [--repair]: finds missing or corrupt stored files, bundles and entity tables."""

import hashlib
from io import StringIO

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.urls import reverse

from testruns.models import Status
from tests.factories import make_result, make_run

pytestmark = pytest.mark.django_db
TABLE = b"site_id,name\n1,Lunden\n2,Hedeby\n"


def verify(*args) -> str:
    out = StringIO()
    call_command("verify_storage", *args, stdout=out)
    return out.getvalue()


def verify_failing(*args) -> tuple[str, str]:
    out = StringIO()
    with pytest.raises(CommandError) as refused:
        call_command("verify_storage", *args, stdout=out)
    return out.getvalue(), str(refused.value)


@pytest.fixture
def table(demo_version):
    """A finished run of the demo with one stored entity table, its size and sha256 recorded."""
    run = make_run(demo_version, status=Status.COMPLETED)
    name = default_storage.save(f"runs/{run.pk}/site.csv", ContentFile(TABLE))
    return make_result(
        run,
        "site",
        0,
        status="success",
        output=name,
        output_size=len(TABLE),
        output_sha256=hashlib.sha256(TABLE).hexdigest(),
    )


def survey_of(version):
    return version.files.select_related("stored").get(path="survey.csv").stored


def cut(path, size=1000):
    with open(path, "r+b") as handle:
        handle.truncate(size)


def test_it_reports_nothing_when_all_is_well(demo_version, table):
    demo_version.materialize()

    assert verify() == (
        "Checked 2 stored files, 1 bundle folders, 1 entity tables, 0 explorer copies, 1 run folders, "
        "0 temporary files: 0 problem(s).\n"
    )


def test_it_reports_a_short_blob_and_a_changed_table_and_exits_non_zero(demo_version, table):
    survey = survey_of(demo_version)
    cut(default_storage.path(survey.blob.name))
    with open(default_storage.path(table.output.name), "r+b") as handle:  # same size, other bytes
        handle.write(b"x")

    out, error = verify_failing()

    assert f"stored file {survey.blob.name}: size 1,000, expected {survey.size:,}\n" in out
    assert f"table of 'site' in run {table.run_id} ({table.output.name}): sha256 " in out
    assert out.endswith(
        "Checked 2 stored files, 0 bundle folders, 1 entity tables, 0 explorer copies, 1 run folders, "
        "0 temporary files: 2 problem(s).\n"
    )
    assert error == "2 problem(s) remain; --repair may fix them."
    assert survey.problem() is not None  # nothing changed without --repair


def test_it_repairs_a_blob_from_a_good_bundle_copy(demo_version):
    survey = survey_of(demo_version)
    folder = demo_version.materialize().parent
    cut(default_storage.path(survey.blob.name))

    out = verify("--repair")

    assert f"stored file {survey.blob.name}: size 1,000, expected {survey.size:,} -> restored from " in out
    assert str(folder / "survey.csv") in out
    assert out.endswith("1 problem(s), 1 repaired.\n")
    assert survey.problem() is None
    assert verify().endswith(": 0 problem(s).\n")


def test_it_restores_a_lost_main_yaml_from_the_version_text(demo_version):
    main = demo_version.files.select_related("stored").get(kind="main").stored
    default_storage.delete(main.blob.name)

    out = verify("--repair")

    assert f"-> restored from the text of {demo_version}" in out
    assert main.problem() is None


def test_it_says_when_a_blob_has_no_good_copy_and_keeps_failing(demo_version):
    survey = survey_of(demo_version)
    cut(default_storage.path(survey.blob.name))

    out, error = verify_failing("--repair")

    assert "-> no good copy on this machine: import the file again" in out
    assert error == "1 problem(s) remain."


def test_it_removes_a_corrupt_bundle_folder_which_is_built_again_on_use(demo_version):
    folder = demo_version.materialize().parent
    cut(folder / "survey.csv")

    out = verify("--repair")

    assert f"bundle folder {folder} ({demo_version}): survey.csv: size 1,000, expected " in out
    assert out.splitlines()[0].endswith("-> removed (built again on next use)")
    assert not folder.exists()
    assert demo_version.bundle().unavailable == {}
    assert verify().endswith(": 0 problem(s).\n")


def test_it_marks_a_lost_table_so_its_page_says_so(demo_version, table, alice_client):
    default_storage.delete(table.output.name)

    out = verify("--repair")

    assert f"table of 'site' in run {table.run_id} ({table.output.name}): missing, expected" in out
    assert "-> marked as lost" in out
    table.refresh_from_db()
    assert table.output == ""
    assert table.output_lost.startswith(f"missing, expected {len(TABLE)} bytes (found by verify_storage on ")
    page = alice_client.get(table.get_absolute_url())
    assert "Table lost: missing, expected" in page.content.decode()
    download = alice_client.get(reverse("testruns:entity_csv", args=[table.run_id, "site"]))
    assert download.status_code == 404
    assert verify().endswith(": 0 problem(s).\n")
