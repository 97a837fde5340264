"""verify_storage: check every stored file, entity table, explorer copy and materialized bundle, the run
folders and temporary files; optionally repair."""

from django.core.files.storage import default_storage
from django.core.management.base import BaseCommand, CommandError

from configurations.models import ConfigurationVersion, StoredFile
from configurations.storage import verify_parts
from testruns.models import EntityResult, TestRun


class Command(BaseCommand):
    help = (
        "Check every stored bundle file (there, size, sha256), every materialized bundle folder on this "
        "machine, every stored entity table and its explorer copy (columns and rows), run folders whose "
        "run is gone and temporary files left by killed writers; print one line per problem and a "
        "summary. Exits non-zero while problems remain. Reads every stored file whole."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--repair",
            action="store_true",
            help="Restore bad stored files from a good copy on this machine, remove bad bundle folders "
            "(built again on next use), mark lost entity tables, delete bad explorer copies (made again "
            "from the CSV), folders of deleted runs and old temporary files, saying what was done.",
        )

    def handle(self, *args, repair=False, **options):
        # Stored files first: a good copy in a bundle folder is used before a bad folder is removed.
        run_folders = TestRun.objects.verify_folders(repair)
        parts = [
            ("stored files", StoredFile.objects.verify(repair)),
            ("bundle folders", ConfigurationVersion.objects.verify_bundles(repair)),
            ("entity tables", EntityResult.objects.verify_tables(repair)),
            ("explorer copies", EntityResult.objects.verify_copies(repair)),
            ("run folders", run_folders),
            # StagedFile's folders: the blobs' and those of the runs that exist (a gone run's went whole).
            (
                "temporary files",
                verify_parts(default_storage, ["blobs/incoming", *run_folders.folders], repair),
            ),
        ]
        findings = [finding for _, verified in parts for finding in verified.findings]
        for finding in findings:
            self.stdout.write(str(finding))
        remaining = sum(1 for finding in findings if not finding.fixed)
        checked = ", ".join(f"{verified.checked} {what}" for what, verified in parts)
        summary = f"Checked {checked}: {len(findings)} problem(s)"
        if repair:
            summary += f", {len(findings) - remaining} repaired"
        self.stdout.write(summary + ".")
        if remaining:
            raise CommandError(
                f"{remaining} problem(s) remain" + ("." if repair else "; --repair may fix them.")
            )
