from django.core.management.base import BaseCommand, CommandError

from configurations.importing import ImportFailed, import_configuration


class Command(BaseCommand):
    help = "Import a configuration YAML and every file it references, as a new configuration or version."

    def add_arguments(self, parser):
        parser.add_argument("path", help="the configuration's YAML file")
        parser.add_argument("--name", help="configuration name (default: the file name without .yml)")
        parser.add_argument("--message", default="", help="a note on this version")

    def handle(self, path, name=None, message="", **options):
        try:
            version, created = import_configuration(path, name=name, message=message)
        except ImportFailed as exc:
            raise CommandError(str(exc)) from None
        state = "imported" if created else "unchanged"
        self.stdout.write(
            f"{version.configuration.name} v{version.number} ({state}, "
            f"{version.files.count()} files, {version.error_count} errors, "
            f"{version.warning_count} warnings)"
        )
