"""manage.py prune_runs: lists what would go, asks first, never touches pinned or active runs."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.utils import timezone

from testruns.models import Status, TestRun
from tests import factories
from tests.factories import make_result

pytestmark = pytest.mark.django_db


@pytest.fixture
def make_run(demo_version):
    def make(days_ago: float, status=Status.COMPLETED, pinned=False):
        run = factories.make_run(
            demo_version,
            status=status,
            pinned=pinned,
            created_at=timezone.now() - timedelta(days=days_ago),
        )
        stored = default_storage.save(f"runs/{run.pk}/site.csv", ContentFile(b"site_id\n1\n"))
        make_result(run, "site", 0, status="success", output=stored)
        run.log("info", "done")
        return run

    return make


def prune(*args) -> str:
    out = StringIO()
    call_command("prune_runs", *args, stdout=out)
    return out.getvalue()


def test_it_deletes_old_runs_with_their_files(make_run, django_capture_on_commit_callbacks):
    old, new = make_run(days_ago=40), make_run(days_ago=1)

    with django_capture_on_commit_callbacks(execute=True):
        output = prune("--older-than", "30d", "--noinput")

    assert "1 run(s) would be deleted: 1 entity result(s) (1 stored file(s)), 1 event(s)." in output
    assert "Deleted 1 run(s)" in output
    assert list(TestRun.objects.all()) == [new]
    assert not default_storage.exists(f"runs/{old.pk}/site.csv")


def test_it_counts_hours(make_run):
    make_run(days_ago=0.5)

    assert "Deleted 1 run(s)" in prune("--older-than", "6h", "--noinput")


def test_it_keeps_the_newest_n(make_run):
    runs = [make_run(days_ago=days) for days in (1, 2, 3)]

    prune("--keep-last", "1", "--noinput")

    assert list(TestRun.objects.all()) == [runs[0]]


def test_it_never_deletes_pinned_or_active_runs(make_run):
    make_run(days_ago=40, pinned=True)
    make_run(days_ago=40, status=Status.RUNNING)
    make_run(days_ago=40, status=Status.PENDING)

    assert "No runs to prune." in prune("--older-than", "1d", "--keep-last", "0", "--noinput")
    assert TestRun.objects.count() == 3


def test_it_deletes_nothing_on_a_dry_run(make_run):
    run = make_run(days_ago=40)

    output = prune("--older-than", "30d", "--dry-run")

    assert "1 run(s) would be deleted" in output
    assert "Dry run: nothing deleted." in output
    assert TestRun.objects.filter(pk=run.pk).exists()
    assert default_storage.exists(f"runs/{run.pk}/site.csv")


def test_it_lists_each_run_at_verbosity_2(make_run):
    run = make_run(days_ago=40)

    output = prune("--older-than", "30d", "--dry-run", "--verbosity", "2")

    assert f"demo v1 run {run.short_id} completed" in output


def test_it_asks_before_deleting(make_run, monkeypatch):
    make_run(days_ago=40)
    questions = []

    monkeypatch.setattr("builtins.input", lambda question: questions.append(question) or "no")
    assert "Nothing deleted." in prune("--older-than", "30d")
    assert TestRun.objects.count() == 1

    monkeypatch.setattr("builtins.input", lambda question: questions.append(question) or "yes")
    assert "Deleted 1 run(s)" in prune("--older-than", "30d")
    assert not TestRun.objects.exists()
    assert len(questions) == 2


def test_it_falls_back_to_the_retention_settings(make_run, settings):
    settings.RETENTION_DAYS, settings.RETENTION_KEEP_LAST = 30, None
    make_run(days_ago=40)
    make_run(days_ago=1)

    assert "Deleted 1 run(s)" in prune("--noinput")


def test_it_requires_a_rule(settings):
    settings.RETENTION_DAYS = settings.RETENTION_KEEP_LAST = None

    with pytest.raises(CommandError, match="give --older-than and/or --keep-last"):
        prune("--noinput")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--older-than", "30"], "--older-than: '30' is not an age: write a whole number of days or hours"),
        (["--older-than", "2w"], "like 30d or 12h"),
        (["--keep-last", "-1"], "--keep-last -1: give 0 or more"),
    ],
)
def test_it_rejects_bad_rules(args, message, db):
    with pytest.raises(CommandError, match=message):
        prune(*args, "--noinput")
