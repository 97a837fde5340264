"""Command line: `python -m shapeshift run|validate CONFIG.yml ...`.

Exit status: 0 all good, 1 some entity failed (or was skipped/cancelled), 2 invalid configuration
or usage. Tables are written one file per entity as soon as they are final, so a full run never
holds every output table in memory.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import sys

import pandas as pd

from .config import load, validate
from .config.format import FORMAT_VERSIONS, format_label
from .csvwriter import write_csv
from .errors import ConfigError
from .excel import MAX_CELL_TEXT, MAX_ROWS, Cells, sheet_names
from .issues import Severity
from .pipeline import EntityStatus
from .pipeline import plan as make_plan
from .pipeline import run as run_project

EXIT_OK, EXIT_FAILED, EXIT_INVALID = 0, 1, 2


class _Writer:
    """Writes final tables in the chosen format and records their shapes."""

    def __init__(self, out: pathlib.Path, fmt: str, stem: str) -> None:
        self.out, self.fmt = out, fmt
        self.shapes: list[tuple[str, int, int]] = []
        self.notes: list[str] = []  # what the workbook could not hold, told after the run
        out.mkdir(parents=True, exist_ok=True)
        self.excel = None
        if fmt == "xlsx":
            from openpyxl import Workbook

            # Write-only: each sheet goes to disk as it is written, and no text is ever taken for a formula.
            self.excel, self.excel_path = Workbook(write_only=True), out / f"{stem}.xlsx"

    def __call__(self, name: str, table: pd.DataFrame) -> None:
        self.shapes.append((name, len(table), len(table.columns)))
        if self.fmt == "csv":
            write_csv(table, self.out / f"{name}.csv")
        elif self.fmt == "json":
            table.to_json(self.out / f"{name}.json", orient="records", force_ascii=False, date_format="iso")
        else:
            self._write_sheet(name, table)

    def _write_sheet(self, name: str, table: pd.DataFrame) -> None:
        """One sheet: the header in bold, then at most Excel's rows; text always text (excel.Cells)."""
        title = sheet_names([name], taken=self.excel.sheetnames)[name]
        cells = Cells(self.excel.create_sheet(title))
        cells.sheet.append([cells.text(str(column), bold=True) for column in table.columns])
        for row in table.head(MAX_ROWS - 1).itertuples(index=False, name=None):
            cells.sheet.append([cells.value(value) for value in row])
        if len(table) >= MAX_ROWS:
            self.notes.append(
                f"{name}: the first {MAX_ROWS - 1:,} of {len(table):,} rows (Excel's sheet limit)"
            )
        if count := cells.truncated:
            self.notes.append(
                f"{name}: {count:,} cell{'s' if count != 1 else ''} cut to Excel's {MAX_CELL_TEXT:,} "
                "characters (each ends with its full length; --format csv keeps them whole)"
            )

    def close(self, order: list[str] | None = None) -> None:
        """Finish the workbook and write table_shapes.tsv in table-store order (input first, then plan)."""
        if order:
            rank = {name: i for i, name in enumerate(order)}
            self.shapes.sort(key=lambda shape: rank.get(shape[0], len(rank)))
        if self.excel is not None:
            if not self.shapes:
                self.excel.create_sheet("empty")
            self.excel.save(self.excel_path)
        with open(self.out / "table_shapes.tsv", "w", encoding="utf-8") as handle:
            handle.write("entity\tnum_rows\tnum_columns\n")
            for name, rows, columns in self.shapes:
                handle.write(f"{name}\t{rows}\t{columns}\n")


def _print_issues(issues, stream) -> None:
    for issue in issues:
        where = f" ({issue.location})" if issue.location else ""
        hint = f"\n      -> {issue.suggestion}" if issue.suggestion else ""
        print(
            f"  [{issue.severity.value}] {issue.code.value}: {issue.entity or '-'}: "
            f"{issue.message}{where}{hint}",
            file=stream,
        )


def _validate(args) -> int:
    try:
        project = load(args.config, format_version=args.format_version)
    except ConfigError as exc:
        print(f"invalid configuration: {exc}", file=sys.stderr)
        return EXIT_INVALID
    issues = validate(project)
    if args.json:
        print(json.dumps([issue.to_dict() for issue in issues], indent=2, ensure_ascii=False))
    else:
        errors = sum(1 for i in issues if i.severity == Severity.ERROR)
        warnings = sum(1 for i in issues if i.severity == Severity.WARNING)
        print(
            f"{args.config}: format {format_label(project.format_version)}, {len(project.entities)} "
            f"entities, {errors} errors, {warnings} warnings, {len(issues) - errors - warnings} notes"
        )
        _print_issues(issues, sys.stdout)
    return EXIT_INVALID if any(i.severity == Severity.ERROR for i in issues) else EXIT_OK


def _default_entity(args, project) -> str | None:
    """--default-entity, else the file's `metadata.default_entity`.

    The reference's CLI ignores `metadata.default_entity` in format 2; we honour it (format-v2.md 20 #16),
    so a project runs the same from the command line and from ShiftBench.
    """
    return args.default_entity or project.default_entity


def _run(args) -> int:
    try:
        project = load(args.config, format_version=args.format_version)
    except ConfigError as exc:
        print(f"invalid configuration: {exc}", file=sys.stderr)
        return EXIT_INVALID
    print(f"{args.config}: format {format_label(project.format_version)}")
    errors = [i for i in validate(project) if i.severity == Severity.ERROR]
    if errors:
        print("invalid configuration:", file=sys.stderr)
        _print_issues(errors, sys.stderr)
        return EXIT_INVALID
    default = _default_entity(args, project)
    inputs = None
    if args.input:
        if not default:
            print("--input needs --default-entity NAME", file=sys.stderr)
            return EXIT_INVALID
        if not pathlib.Path(args.input).is_file():
            print(f"input file not found: {args.input}", file=sys.stderr)
            return EXIT_INVALID
        inputs = {default: pathlib.Path(args.input).resolve()}
    entities = [e.strip() for e in args.entities.split(",") if e.strip()] if args.entities else None
    try:
        plan = make_plan(project, entities, default_entity=default)
    except ConfigError as exc:
        print(f"invalid configuration: {exc}", file=sys.stderr)
        return EXIT_INVALID
    writer = _Writer(pathlib.Path(args.out), args.format, project.name)
    order = list(inputs or {}) + [name for name in plan.order if name not in (inputs or {})]
    try:
        result = run_project(
            project,
            plan,
            inputs=inputs,
            max_rows=args.max_rows,
            keep_tables=False,
            on_table=writer,
            compact_text=True,  # the files hold the same text either way
            translate=args.translate,
            drop_foreign_keys=args.drop_foreign_keys,
        )
    finally:
        writer.close(order)
    for outcome in result.outcomes:
        rows = "" if outcome.rows_out is None else f"{outcome.rows_out} rows"
        print(f"{outcome.status:9} {outcome.name} {rows}".rstrip())
        if outcome.error:
            print(
                f"          {outcome.error}",
                file=sys.stderr if outcome.status == EntityStatus.FAILED else sys.stdout,
            )
        if args.verbose:
            for warning in outcome.warnings:
                print(f"          warning: {warning}")
    for note in writer.notes:
        print(note)
    print(f"{len(writer.shapes)} tables written to {args.out} in {result.duration_ms} ms")
    return EXIT_OK if result.ok else EXIT_FAILED


def _migrate(args) -> int:
    """Write the format-2 rewrite (format-v2.md 1.4); what needs a person's eye goes to stderr."""
    import yaml

    from .config.migrate import header_renames, migrate_to_v2

    try:
        project = load(args.config, format_version=1)
    except ConfigError as exc:
        print(f"invalid configuration: {exc}", file=sys.stderr)
        return EXIT_INVALID
    if project.raw.get("metadata") is not None:
        print(f"{args.config} is already a format-2 project (it has metadata:)", file=sys.stderr)
        return EXIT_INVALID
    renames = header_renames(project)
    tree, notes = migrate_to_v2(
        project, default_entity=args.default_entity, rename=lambda name: renames.get(name, name)
    )
    text = f"# {pathlib.Path(args.config).name} as a format-2 project (python -m shapeshift migrate)\n"
    text += yaml.safe_dump(tree, sort_keys=False, allow_unicode=True, width=110)
    if args.out:
        pathlib.Path(args.out).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    for note in notes:
        print(f"check: {note}", file=sys.stderr)
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m shapeshift", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="process a configuration and write one file per entity")
    run.add_argument("config")
    run.add_argument("--out", required=True, help="output folder")
    run.add_argument("--format", choices=["csv", "xlsx", "json"], default="csv")
    run.add_argument("--entities", help="comma-separated entities (their dependencies are added)")
    run.add_argument("--max-rows", type=int, help="read only the first N rows of every file input")
    run.add_argument("--input", help="input table (CSV/Excel) for the default entity")
    run.add_argument("--default-entity", help="name of the default entity (input table)")
    run.add_argument("--translate", action="store_true", help="rename columns via the translation table")
    run.add_argument("--drop-foreign-keys", action="store_true", help="drop FK local-key columns")
    run.add_argument("-v", "--verbose", action="store_true", help="print every warning")
    migrate = commands.add_parser("migrate", help="rewrite a format-1 configuration as a format-2 project")
    migrate.add_argument("config")
    migrate.add_argument("--out", help="file to write (default: standard output)")
    migrate.add_argument("--default-entity", help="entity read by entities without source (made explicit)")
    check = commands.add_parser("validate", help="report configuration issues")
    check.add_argument("config")
    check.add_argument("--json", action="store_true", help="issues as JSON")
    for command in (run, check):
        command.add_argument(
            "--format-version",
            type=int,
            choices=FORMAT_VERSIONS,
            help="read the file in this format (default: detected; 2 when it has a metadata: mapping)",
        )
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return EXIT_INVALID if exc.code else EXIT_OK
    if args.command == "validate":
        return _validate(args)
    if args.command == "migrate":
        return _migrate(args)
    if args.max_rows is not None and args.max_rows < 0:
        print("--max-rows must be >= 0", file=sys.stderr)
        return EXIT_INVALID
    return _run(args)
