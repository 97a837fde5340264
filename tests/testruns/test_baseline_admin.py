"""The admin's "Make selected runs their configuration's baseline" action, and the baselines and kept diffs
it lists."""

import pytest
from django.urls import reverse

from testruns import diffs
from testruns.models import Baseline, Status
from tests.factories import make_run, make_version
from tests.testruns.diff_support import finished

pytestmark = pytest.mark.django_db

SITE = "system_id,ProjektNr,Fustel\n1,P,a\n"


def run_action(admin_client, *runs):
    return admin_client.post(
        reverse("admin:testruns_testrun_changelist"),
        {"action": "make_baselines", "_selected_action": [str(run.pk) for run in runs]},
        follow=True,
    )


def test_it_makes_a_run_the_baseline(admin_client, admin_user, demo_version):
    run = finished(demo_version)

    response = run_action(admin_client, run)

    assert f"Run {run.short_id} is now the baseline of demo." in response.content.decode()
    baseline = Baseline.objects.get()
    assert (baseline.run, baseline.set_by) == (run, admin_user)


def test_it_makes_one_baseline_per_configuration(admin_client, demo_version):
    first, second = finished(demo_version), finished(demo_version)
    other = finished(make_version("other"))

    content = run_action(admin_client, first, second, other).content.decode()

    short_ids = ", ".join(sorted([first.short_id, second.short_id]))
    assert f"A configuration has one baseline: select one run of demo, not {short_ids}." in content
    assert list(Baseline.objects.values_list("run", flat=True)) == [other.pk]


def test_it_refuses_runs_that_cannot_be_the_baseline(admin_client, demo_version):
    running = make_run(demo_version, Status.RUNNING)
    cancelled = finished(make_version("other"), Status.CANCELLED)

    content = run_action(admin_client, running, cancelled).content.decode()

    assert f"Run {running.short_id} is still running" in content
    assert f"Run {cancelled.short_id} did not go through every entity (cancelled)" in content
    assert not Baseline.objects.exists()


def test_it_lists_baselines_and_kept_diffs(admin_client, demo_version):
    base, head = finished(demo_version, site=SITE), finished(demo_version, site=SITE)
    base.make_baseline()
    diff = diffs.request_diff(base, head)

    baselines = admin_client.get(reverse("admin:testruns_baseline_changelist"))
    kept = admin_client.get(reverse("admin:testruns_rundiff_changelist"))
    one = admin_client.get(reverse("admin:testruns_rundiff_change", args=[diff.pk]))

    assert baselines.status_code == kept.status_code == one.status_code == 200
    assert b'name="status"' not in one.content  # kept diffs are read-only
