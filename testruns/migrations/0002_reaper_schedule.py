"""Schedule the reaper with django-q2, every minute, so crashed runs are found without anyone asking."""

from django.db import migrations


def add_schedule(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.update_or_create(
        name="reap stale test runs",
        defaults={
            "func": "testruns.tasks.reap_stale_runs",
            "schedule_type": "I",
            "minutes": 1,
            "repeats": -1,
        },
    )


def remove_schedule(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name="reap stale test runs").delete()


class Migration(migrations.Migration):
    dependencies = [("testruns", "0001_initial"), ("django_q", "0018_task_success_index")]
    operations = [migrations.RunPython(add_schedule, remove_schedule)]
