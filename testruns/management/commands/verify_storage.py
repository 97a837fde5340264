"""verify_storage: check every stored file, entity table and materialized bundle; optionally repair."""

from django.core.management.base import BaseCommand, CommandError

from configurations.models import ConfigurationVersion, StoredFile
from testruns.models import EntityResult


class Command(BaseCommand):
    help = (
        "Check every stored bundle file (there, size, sha256), every materialized bundle folder on this "
        "machine and every stored entity table; print one line per problem and a summary. Exits non-zero "
        "while problems remain. Reads every file whole."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--repair",
            action="store_true",
            help="Restore bad stored files from a good copy on this machine, remove bad bundle folders "
            "(built again on next use) and mark lost entity tables, saying what was done.",
        )

    def handle(self, *args, repair=False, **options):
        # Stored files first: a good copy in a bundle folder is used before a bad folder is removed.
        parts = [
            ("stored files", StoredFile.objects.verify(repair)),
            ("bundle folders", ConfigurationVersion.objects.verify_bundles(repair)),
            ("entity tables", EntityResult.objects.verify_tables(repair)),
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
