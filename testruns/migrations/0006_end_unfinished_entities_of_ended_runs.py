"""Entities left pending/running under runs that already ended: end them as TestRun.finish now does."""

from django.db import migrations

UNFINISHED = ("pending", "running")
ENDED = ("completed", "failed", "cancelled", "crashed")


def end_unfinished_entities(apps, schema_editor):
    EntityResult = apps.get_model("testruns", "EntityResult")
    stuck = EntityResult.objects.filter(status__in=UNFINISHED, run__status__in=ENDED)
    for run_status in ENDED:
        status = "cancelled" if run_status == "cancelled" else "crashed"
        ids = list(stuck.filter(run__status=run_status).values_list("pk", flat=True))
        # In slices: SQLite allows a limited number of query parameters.
        for start in range(0, len(ids), 500):
            EntityResult.objects.filter(pk__in=ids[start : start + 500]).update(
                status=status, error=f"Not finished: the run ended {run_status}."
            )


class Migration(migrations.Migration):
    dependencies = [("testruns", "0005_claim_token_and_crashed_entities")]
    operations = [migrations.RunPython(end_unfinished_entities, migrations.RunPython.noop)]
