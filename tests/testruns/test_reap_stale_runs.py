from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from testruns.models import Status
from tests.factories import make_run


@pytest.mark.django_db
def test_it_reports_what_it_reaped(demo_version, settings, capsys):
    settings.HEARTBEAT_TIMEOUT = 60
    beat = timezone.now() - timedelta(minutes=5)
    run = make_run(
        demo_version,
        status=Status.RUNNING,
        started_at=beat,
        heartbeat_at=beat,
        worker="gone:1",
    )

    call_command("reap_stale_runs")

    assert capsys.readouterr().out.strip() == "1 run(s) marked crashed, 0 pending run(s) marked failed"
    run.refresh_from_db()
    assert run.status == Status.CRASHED
