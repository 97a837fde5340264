"""The format a version is read in (detected or forced at import) and the ${VAR}s bundled with it.

Versions saved before were all read in format 1, the only one there was. They keep that meaning: a
version whose YAML is now detected as format 2 (it has a root `metadata:` mapping) is recorded as forced
to format 1, so its past runs and its next run read it alike; re-importing it reads it as format 2.
"""

from django.db import migrations, models


def detect_formats(apps, schema_editor):
    from shapeshift.config.format import detect_format_version
    from shapeshift.config.yaml_reader import safe_load
    from shapeshift.errors import ConfigError

    ConfigurationVersion = apps.get_model("configurations", "ConfigurationVersion")
    found: dict[int, list[int]] = {}
    for pk, text in ConfigurationVersion.objects.values_list("pk", "yaml_text").iterator():
        try:
            root = safe_load(text, "main")
        except ConfigError:
            continue  # unparsable: the format stays unknown, as for such an import
        found.setdefault(detect_format_version(root), []).append(pk)
    for version, ids in found.items():
        # In slices: SQLite allows a limited number of query parameters.
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            ConfigurationVersion.objects.filter(pk__in=chunk).update(
                format_version=1, format_forced=version != 1
            )


class Migration(migrations.Migration):
    dependencies = [("configurations", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="configurationversion",
            name="format_forced",
            field=models.BooleanField(
                default=False, help_text="The format was chosen at import instead of detected from the file."
            ),
        ),
        migrations.AddField(
            model_name="configurationversion",
            name="format_version",
            field=models.PositiveSmallIntegerField(
                blank=True,
                choices=[(1, "1"), (2, "2")],
                help_text="The configuration format it is read in; empty when the YAML could not be parsed.",
                null=True,
            ),
        ),
        migrations.AddField(
            model_name="configurationversion",
            name="path_variables",
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.RunPython(detect_formats, migrations.RunPython.noop),
    ]
