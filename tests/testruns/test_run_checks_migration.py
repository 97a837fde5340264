"""Migration 0009: runs get check counters (0 for the runs before: they made no checks) and RunCheck."""

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("testruns", "0008_completed_runs_with_failures_failed")]
AFTER = [("testruns", "0009_run_checks")]


@pytest.mark.django_db(transaction=True)
def test_it_adds_the_check_counters_and_the_checks_table(demo_version):
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE[0]).apps
    run = old.get_model("testruns", "TestRun").objects.create(
        configuration_id=demo_version.configuration_id, version_id=demo_version.pk, status="failed"
    )

    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)
    new = executor.loader.project_state(AFTER[0]).apps
    try:
        migrated = new.get_model("testruns", "TestRun").objects.get(pk=run.pk)
        assert (migrated.checks_total, migrated.checks_failed) == (0, 0)
        assert new.get_model("testruns", "RunCheck").objects.filter(run_id=run.pk).count() == 0
    finally:
        call_command("migrate", verbosity=0)  # back to the newest state for the tests after this one


def test_the_models_need_no_migration_beyond_those_written(db):
    call_command("makemigrations", "testruns", "configurations", check=True, dry_run=True, verbosity=0)
