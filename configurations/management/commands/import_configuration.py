from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

import shapeshift
from configurations.importing import ImportFailed, import_configuration


class Command(BaseCommand):
    help = "Import a configuration YAML and every file it references, as a new configuration or version."

    def add_arguments(self, parser):
        parser.add_argument("path", help="the configuration's YAML file")
        parser.add_argument("--name", help="configuration name (default: the file name without .yml)")
        parser.add_argument("--message", default="", help="a note on this version")
        parser.add_argument(
            "--format-version",
            type=int,
            choices=shapeshift.FORMAT_VERSIONS,
            help="read the version in this configuration format on every load (default: detect it)",
        )
        parser.add_argument(
            "--target-model",
            metavar="FILE",
            help="a target model (YAML) the configuration's runs check their data against",
        )
        parser.add_argument(
            "--no-reuse",
            dest="reuse_files",
            action="store_false",
            help="bundle only the files in the YAML's folder: by default a file the YAML names but the "
            "folder lacks is taken from the configuration's current version, if it has one at that path",
        )
        parser.add_argument(
            "--if-missing",
            action="store_true",
            help="do nothing if a configuration of that name exists (keeps the edits made since)",
        )

    def handle(
        self,
        path,
        name=None,
        message="",
        if_missing=False,
        format_version=None,
        target_model=None,
        reuse_files=True,
        **options,
    ):
        model = None
        if target_model:
            try:
                model = (Path(target_model).name, Path(target_model).read_bytes())
            except OSError as exc:
                raise CommandError(f"--target-model {target_model}: {exc.strerror or exc}") from None
        try:
            version, created = import_configuration(
                path,
                name=name,
                message=message,
                if_missing=if_missing,
                format_version=format_version,
                target_model=model,
                reuse_files=reuse_files,
            )
        except ImportFailed as exc:
            raise CommandError(str(exc)) from None
        if created:
            state = "imported"
        else:
            state = "already there, left as it is" if if_missing else "unchanged"
        self.stdout.write(
            f"{version.configuration.name} v{version.number} ({state}, {version.format_display}, "
            f"{version.files.count()} files, {version.error_count} errors, "
            f"{version.warning_count} warnings)"
        )
        configuration = version.configuration
        if configuration.target_model_id:
            self.stdout.write(
                f"  target model: {configuration.target_model_label} ({configuration.target_model_file})"
            )
        for variable, folder in version.bundled_variables.items():
            bundled = version.files.filter(path__startswith=f"{folder}/").count()
            files = "file" if bundled == 1 else "files"
            self.stdout.write(f"  ${{{variable}}}: {bundled} {files} bundled in {folder}/")
        if created:
            self._report_files(version)

    def _report_files(self, version):
        """The files the new version reused, then each one its YAML names but lacks (as a warning: the
        version is stored all the same)."""
        if reused := version.files_reused:
            self.stdout.write(f"  reused from v{reused['version']}: {', '.join(reused['paths'])}")
        for missing in version.files_missing:
            where = f" (named at {missing['location']})" if missing.get("location") else ""
            self.stdout.write(
                self.style.WARNING(
                    f"  missing: {missing['path']}{where}: runs of the entities that read it will fail"
                )
            )
