import json

from django.core.management.base import BaseCommand, CommandError

from testruns.diffs import DiffRefused, compute, diff_json, request_diff
from testruns.management.commands._runs import find_run
from testruns.models import RunDiff


class Command(BaseCommand):
    help = (
        "Diff two finished runs' whole stored tables, rows matched by identity (keys, public ids, the target "
        "model's identity columns, else the whole row), foreign keys by the row they point to."
    )

    def add_arguments(self, parser):
        parser.add_argument("base", help="the base run's id, or its first 6 or more characters")
        parser.add_argument("head", help="the head run's id, or its first 6 or more characters")
        parser.add_argument(
            "--json", action="store_true", dest="as_json", help="print the diff as the API gives it"
        )

    def handle(self, base, head, as_json=False, **options):
        base, head = find_run(base), find_run(head)
        try:
            # No web worker waits here: whatever its size, the diff is computed in this process (and kept).
            diff = request_diff(base, head, inline_bytes=float("inf"))
        except DiffRefused as exc:
            raise CommandError(str(exc)) from None
        if diff.is_working:  # a worker has it (or is about to): compute it here rather than wait
            entities, notes = compute(base, head)
            diff = RunDiff(base=base, head=head, entities=entities, notes=notes)
            diff.entities_compared = len(entities)
            diff.entities_differing = len(diff.differing)
        if diff.status == RunDiff.Status.FAILED:
            raise CommandError(diff.error)
        if as_json:
            self.stdout.write(json.dumps(diff_json(diff), ensure_ascii=False, indent=2))
            return
        self.write_table(diff)

    def write_table(self, diff: RunDiff):
        for note in diff.notes:
            self.stdout.write(f"note: {note}")
        rows = [
            (
                entity["entity"],
                entity["matched_on"],
                f"{entity['rows_base']} → {entity['rows_head']}",
                f"-{entity['only_in_base']} +{entity['only_in_head']} ~{entity['changed']}",
                " ".join(
                    [f"+{c}" for c in entity["columns_added"]] + [f"-{c}" for c in entity["columns_removed"]]
                ),
            )
            for entity in diff.differing
        ]
        if rows:
            header = ("entity", "matched on", "rows", "only base/head, changed", "columns")
            widths = [max(len(row[i]) for row in [header, *rows]) for i in range(4)]
            for row in [header, *rows]:
                line = "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False))
                self.stdout.write(f"{line}  {row[4]}".rstrip())
        differing, compared = len(diff.differing), len(diff.entities)
        self.stdout.write(
            f"Run {diff.head_id} differs from run {diff.base_id} in {differing} of {compared} entities."
        )
