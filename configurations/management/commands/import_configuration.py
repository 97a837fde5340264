from django.core.management.base import BaseCommand, CommandError

from configurations.importing import ImportFailed, import_configuration


class Command(BaseCommand):
    help = "Import a configuration YAML and every file it references, as a new configuration or version."

    def add_arguments(self, parser):
        parser.add_argument("path", help="the configuration's YAML file")
        parser.add_argument("--name", help="configuration name (default: the file name without .yml)")
        parser.add_argument("--message", default="", help="a note on this version")
        parser.add_argument(
            "--if-missing",
            action="store_true",
            help="do nothing if a configuration of that name exists (keeps the edits made since)",
        )

    def handle(self, path, name=None, message="", if_missing=False, **options):
        try:
            version, created = import_configuration(path, name=name, message=message, if_missing=if_missing)
        except ImportFailed as exc:
            raise CommandError(str(exc)) from None
        if created:
            state = "imported"
        else:
            state = "already there, left as it is" if if_missing else "unchanged"
        self.stdout.write(
            f"{version.configuration.name} v{version.number} ({state}, "
            f"{version.files.count()} files, {version.error_count} errors, "
            f"{version.warning_count} warnings)"
        )
