"""Runs that ended ``completed`` although entities failed, were skipped or never finished: ``failed`` now.

The rule of ``TestRun.verdict``, restated for the historical model (a migration cannot call the model's
methods). ``error_message`` stays empty: the pages derive why from the counters. Cancelled and crashed runs
keep their status. Not reversible in meaning (which failed runs were once "completed" is not recorded),
so the reverse does nothing.
"""

from django.db import migrations
from django.db.models import F, Q


def fail_completed_runs_that_fell_short(apps, schema_editor):
    TestRun = apps.get_model("testruns", "TestRun")
    TestRun.objects.filter(status="completed").filter(
        Q(entities_failed__gt=0) | Q(entities_skipped__gt=0) | Q(entities_succeeded__lt=F("entities_total"))
    ).update(status="failed")


class Migration(migrations.Migration):
    dependencies = [("testruns", "0007_entity_table_checks")]
    operations = [migrations.RunPython(fail_completed_runs_that_fell_short, migrations.RunPython.noop)]
