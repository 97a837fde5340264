"""Schedule run retention with django-q2, once a day.

The task prunes only when SHIFTBENCH_RETENTION_DAYS or SHIFTBENCH_RETENTION_KEEP_LAST is set, so the
schedule is harmless on installations that keep every run.
"""

from django.db import migrations


def add_schedule(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.update_or_create(
        name="prune old test runs",
        defaults={"func": "testruns.tasks.prune_runs", "schedule_type": "D", "repeats": -1},
    )


def remove_schedule(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name="prune old test runs").delete()


class Migration(migrations.Migration):
    dependencies = [("testruns", "0002_reaper_schedule")]
    operations = [migrations.RunPython(add_schedule, remove_schedule)]
