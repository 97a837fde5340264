import os
import shutil
import tempfile
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from testruns import exports
from testruns.management.commands._runs import find_run
from testruns.models import TestRun


class Command(BaseCommand):
    help = (
        "Export a finished test run: its manifest (json), its entity tables as CSVs with the manifest (zip), "
        "or an Excel workbook with a summary sheet and one sheet per entity (xlsx)."
    )

    def add_arguments(self, parser):
        parser.add_argument("run_id", help="the run's id, or its first 6 or more characters")
        parser.add_argument(
            "--format", choices=exports.FORMATS, help="default: the --out file's extension, else zip"
        )
        parser.add_argument(
            "--out", metavar="PATH", help="file or folder to write to (default: demo-v1-<id>.zip here)"
        )

    def handle(self, run_id, **options):
        run = find_run(run_id, TestRun.objects.for_export())
        fmt = options["format"] or _format_of(options["out"]) or "zip"
        target = Path(options["out"] or ".")
        if options["out"] is None or target.is_dir():
            target = target / exports.export_filename(run, fmt)
        if not target.parent.is_dir():
            raise CommandError(f"--out {options['out']}: folder {target.parent} does not exist.")
        try:
            export = exports.export(run, fmt)
        except exports.ExportError as error:
            raise CommandError(str(error)) from None
        size = _write(export, target)
        self.stdout.write(f"Wrote {target} ({size:,} bytes): {fmt} export of run {run.short_id}.")


def _format_of(out: str | None) -> str | None:
    suffix = Path(out).suffix.lstrip(".").lower() if out else ""
    return suffix if suffix in exports.FORMATS else None


def _write(export, target: Path) -> int:
    """Write the export beside ``target`` and rename it into place, so a failure leaves no half file."""
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            if isinstance(export, bytes):
                out.write(export)
            elif hasattr(export, "read"):
                with export:
                    shutil.copyfileobj(export, out)
            else:
                for chunk in export:
                    out.write(chunk)
        os.chmod(temporary, 0o644)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target.stat().st_size
