"""Time the run history, a run page and its status poll with 100,000 runs, on SQLite and PostgreSQL.

Plain script, no pass/fail (the target is every median under 50 ms). For each database, in its own
subprocess (settings are read at import): a throwaway database (SQLite: a file in a temporary
SHIFTBENCH_VAR_DIR; PostgreSQL: ``shiftbench_bench`` on SHIFTBENCH_BENCH_PG, created and dropped here,
skipped with a message if the server does not answer), migrated and filled with bulk_create in batches:
RUNS runs over 4 configurations (5 versions each), 5 users, two years and the usual mix of statuses;
10 % of them with 10 entity results and 5 events. PostgreSQL is ANALYZEd (autovacuum would); SQLite is
not (nothing runs ANALYZE on a deployment). Then Django's test Client, logged in, sends each request
``--requests`` times after one warm-up; the table gives the median and p90 in ms and the SQL queries of
one request. ``--explain`` prints the query plan of each history page.

    .venv/bin/python benchmarks/history.py [--runs 100000] [--requests 30] [--only sqlite|postgres]
                                           [--explain]
"""

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PG_SERVER = os.environ.get("SHIFTBENCH_BENCH_PG", "postgres://postgres@127.0.0.1:5432")
PG_NAME = "shiftbench_bench"
ARBODAT = ROOT.parent / "shared" / "data" / "arbodat" / "reduced-arbodat.yml"
BATCH = 5000
ENTITIES = [
    "site",
    "sample_group",
    "sample",
    "feature",
    "context",
    "taxon",
    "abundance",
    "dating",
    "measurement",
    "reference",
]
STATUS_WEIGHTS = {"completed": 85, "failed": 8, "cancelled": 4, "crashed": 2, "pending": 1}


def setup_django(database: str, var_dir: str) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "shiftbench.settings"
    os.environ["SHIFTBENCH_VAR_DIR"] = var_dir
    os.environ["SHIFTBENCH_LOG_LEVEL"] = "WARNING"
    for name in ("SHIFTBENCH_DATABASE_URL", "SHIFTBENCH_REDIS_URL", "SHIFTBENCH_SYNC_TASKS"):
        os.environ.pop(name, None)
    if database == "postgres":
        os.environ["SHIFTBENCH_DATABASE_URL"] = f"{PG_SERVER}/{PG_NAME}"
    sys.path.insert(0, str(ROOT))
    warnings.filterwarnings("ignore", message="No directory at")  # whitenoise: no collectstatic here
    import django
    from django.conf import settings

    django.setup()
    # Pages link static files by name: no collectstatic (and no manifest) for a throwaway database.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


def pg_admin(sql: str) -> None:
    """Run ``sql`` on the server's ``postgres`` database (CREATE/DROP DATABASE need autocommit)."""
    import psycopg

    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True, connect_timeout=3) as conn:
        conn.execute(sql)


def fill(runs: int) -> dict:
    """The database filled as described in the module docstring; returns what the requests need."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from configurations.models import Configuration, ConfigurationVersion
    from testruns.models import EntityResult, RunEvent, TestRun

    rnd = random.Random(42)
    users = [get_user_model().objects.create_user(name) for name in ("alice", "bob", "carol", "dave", "erin")]
    configurations = [
        Configuration.objects.create(name=name, title=title, owner=users[0])
        for name, title in [
            ("arbodat", "Arbodat survey"),
            ("dendro", "Dendrochronology"),
            ("ceramics", "Ceramics"),
            ("isotopes", "Stable isotopes"),
        ]
    ]
    # Versions as big as real ones: the Arbodat YAML (~30 kB) and ~50 validation issues each.
    yaml_text = ARBODAT.read_text(encoding="utf-8") if ARBODAT.exists() else "entities: {}\n" + "#" * 30_000
    issues = [
        {
            "severity": "warning",
            "code": "unused_column",
            "entity": f"entity_{i}",
            "message": "x" * 120,
            "suggestion": "",
            "location": f"reduced-arbodat.yml:{i}",
        }
        for i in range(50)
    ]
    versions = ConfigurationVersion.objects.bulk_create(
        ConfigurationVersion(
            configuration=c,
            number=n,
            main_file="config.yml",
            yaml_text=yaml_text,
            validation={"issues": issues},
            sha256=f"{c.pk:02d}{n:02d}".ljust(64, "0"),
            created_by=users[0],
        )
        for c in configurations
        for n in range(1, 6)
    )
    by_configuration = {c.pk: [v for v in versions if v.configuration_id == c.pk] for c in configurations}
    now = timezone.now()
    statuses = list(STATUS_WEIGHTS)
    weights = list(STATUS_WEIGHTS.values())
    preview = [[f"value {r}-{c}" for c in range(6)] for r in range(10)]
    with_results = []
    for start in range(0, runs, BATCH):
        batch = []
        for _ in range(min(BATCH, runs - start)):
            configuration = rnd.choice(configurations)
            created = now - timedelta(seconds=rnd.uniform(60, 2 * 365 * 86400))
            status = rnd.choices(statuses, weights)[0]
            started = None if status == "pending" else created + timedelta(seconds=rnd.uniform(0.1, 2))
            batch.append(
                TestRun(
                    configuration=configuration,
                    version=rnd.choice(by_configuration[configuration.pk]),
                    options={"max_rows_per_entity": 100},
                    status=status,
                    requested_by=rnd.choice(users),
                    created_at=created,
                    started_at=started,
                    finished_at=started and started + timedelta(seconds=rnd.uniform(1, 120)),
                    entities_total=10,
                    entities_completed=0 if status == "pending" else 10,
                    entities_succeeded=0 if status == "pending" else 9,
                    entities_failed=0 if status == "pending" else 1,
                )
            )
        TestRun.objects.bulk_create(batch)
        with_results += [run for run in batch if rnd.random() < 0.1 and run.status != "pending"]
    # The run the run page and the status poll look at: the newest, running, half-way.
    watched = TestRun.objects.create(
        configuration=configurations[0],
        version=by_configuration[configurations[0].pk][-1],
        status="running",
        requested_by=users[0],
        started_at=now,
        heartbeat_at=now,
        entities_total=10,
        entities_completed=5,
        entities_succeeded=5,
        current_entity=ENTITIES[5],
    )
    with_results.append(watched)
    for start in range(0, len(with_results), BATCH // 10):
        chunk = with_results[start : start + BATCH // 10]
        EntityResult.objects.bulk_create(
            EntityResult(
                run=run,
                position=i,
                entity=name,
                status="success" if i != 7 else "failed",
                rows_in=rnd.randint(100, 5000),
                rows_out=rnd.randint(50, 5000),
                columns=["a", "b", "c"],
                duration_ms=rnd.randint(5, 3000),
                preview=preview,
                error="" if i != 7 else "KeyError: 'Fustel' not found",
            )
            for run in chunk
            for i, name in enumerate(ENTITIES)
        )
        RunEvent.objects.bulk_create(
            RunEvent(run=run, created_at=run.created_at, message=f"step {i}")
            for run in chunk
            for i in range(5)
        )
    EntityResult.objects.filter(run=watched, position__gte=5).update(status="pending", rows_out=None)
    return {
        "users": users,
        "configurations": configurations,
        "watched": watched,
        "entity_results": EntityResult.objects.count(),
    }


def measure(client, url: str, requests: int, headers=None) -> dict:
    """Median and p90 ms of ``requests`` GETs of ``url`` (after one warm-up) and one request's queries."""
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    headers = headers or {}
    response = client.get(url, headers=headers)
    assert response.status_code == 200, (url, response.status_code, response.content[:500])
    reset_queries()  # each request starts a fresh log: the capture has to start from an empty one
    with CaptureQueriesContext(connection) as queries:
        client.get(url, headers=headers)
    captured = list(queries.captured_queries)  # read now: the next request empties the log
    durations = []
    for _ in range(requests):
        started = time.perf_counter()
        client.get(url, headers=headers)
        durations.append((time.perf_counter() - started) * 1000)
    ordered = sorted(durations)
    return {
        "median": statistics.median(ordered),
        "min": ordered[0],
        "p90": ordered[max(0, round(0.9 * len(ordered)) - 1)],
        "queries": len(captured),
        "sql": captured[-1]["sql"],
        "sql_ms": sum(float(q["time"]) for q in captured) * 1000,
        "bytes": len(response.content),
    }


def explain(sql: str) -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("EXPLAIN QUERY PLAN " + sql)
            return "\n".join(f"    {row[-1]}" for row in cursor.fetchall())
        cursor.execute("EXPLAIN ANALYZE " + sql)
        return "\n".join(f"    {row[0]}" for row in cursor.fetchall())


def child(database: str, runs: int, requests: int, show_plans: bool) -> None:
    """Fill one database, measure, print one JSON line of results (and plans on stderr)."""
    if database == "postgres":
        try:
            pg_admin(f"DROP DATABASE IF EXISTS {PG_NAME}")
            pg_admin(f"CREATE DATABASE {PG_NAME}")
        except Exception as exc:  # any failure to reach the server: say so and skip
            print(json.dumps({"skipped": f"PostgreSQL at {PG_SERVER} unreachable: {exc}".strip()}))
            return
    try:
        with tempfile.TemporaryDirectory(prefix="shiftbench-history-") as var_dir:
            setup_django(database, var_dir)
            from django.core.management import call_command
            from django.db import connection
            from django.test import Client
            from django.urls import reverse

            from testruns.models import TestRun
            from testruns.pagination import Cursor

            call_command("migrate", verbosity=0)
            started = time.perf_counter()
            data = fill(runs)
            fill_seconds = time.perf_counter() - started
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("ANALYZE")
            client = Client(HTTP_HOST="localhost")
            client.force_login(data["users"][0])
            history = reverse("testruns:list")
            depth = min(1999, runs // 8)  # 2,000 runs deep at full size; less in a small trial
            deep = TestRun.objects.order_by("-created_at", "-pk")[depth]
            arbodat = data["configurations"][0]
            deep_filtered = TestRun.objects.filter(configuration=arbodat).order_by("-created_at", "-pk")[
                depth
            ]
            watched = data["watched"]
            cases = [
                ("history, first page", history, None),
                ("history, configuration + status", f"{history}?configuration=arbodat&status=failed", None),
                ("history, 2,000 runs deep", f"{history}?before={Cursor.of(deep)}", None),
                (
                    "history, configuration, 2,000 deep",
                    f"{history}?configuration=arbodat&before={Cursor.of(deep_filtered)}",
                    None,
                ),
                (
                    "history, version + user + dates",
                    f"{history}?configuration=arbodat&version=3&user=bob&from_date=2025-01-01&to_date=2099-01-01",
                    None,
                ),
                ("history, search id prefix", f"{history}?q={deep.short_id[:6]}", None),
                ("history, search configuration", f"{history}?q=isotop", None),
                ("run page", reverse("testruns:detail", args=[watched.pk]), None),
                (
                    "status partial (htmx poll)",
                    reverse("testruns:status", args=[watched.pk]),
                    {"HX-Request": "true"},
                ),
                ("configuration page", reverse("configurations:detail", args=["arbodat"]), None),
            ]
            results = {}
            for label, url, headers in cases:
                try:
                    results[label] = measure(client, url, requests, headers)
                except AssertionError as exc:
                    results[label] = {"error": str(exc)[:300]}
                    continue
                if show_plans and label.startswith("history"):
                    print(f"--- {database}: {label}\n{explain(results[label]['sql'])}", file=sys.stderr)
            summary = {
                "runs": TestRun.objects.count(),
                "entity_results": data["entity_results"],
                "fill_seconds": round(fill_seconds, 1),
                "vendor": connection.vendor,
            }
            connection.close()
        print(json.dumps({"summary": summary, "results": results}))
    finally:
        if database == "postgres":
            pg_admin(f"DROP DATABASE IF EXISTS {PG_NAME} WITH (FORCE)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--only", choices=["sqlite", "postgres"])
    parser.add_argument("--explain", action="store_true", help="print each history query's plan")
    parser.add_argument("--child", choices=["sqlite", "postgres"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.runs, args.requests, args.explain)
        return

    columns = {}
    # Other work on the machine slows every figure alike: the load average says how busy it was.
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())} ({os.cpu_count()} CPUs)")
    for database in [args.only] if args.only else ["sqlite", "postgres"]:
        command = [
            sys.executable,
            __file__,
            "--child",
            database,
            "--runs",
            str(args.runs),
            "--requests",
            str(args.requests),
        ] + (["--explain"] if args.explain else [])
        done = subprocess.run(command, stdout=subprocess.PIPE, text=True, cwd=ROOT)
        lines = done.stdout.strip().splitlines()
        if done.returncode or not lines:
            print(f"{database}: the benchmark failed (exit status {done.returncode})")
            continue
        outcome = json.loads(lines[-1])
        if "skipped" in outcome:
            print(f"{database}: skipped: {outcome['skipped']}")
            continue
        columns[database] = outcome
        s = outcome["summary"]
        print(
            f"{database}: {s['runs']:,} runs, {s['entity_results']:,} entity results, filled in "
            f"{s['fill_seconds']} s"
        )
    if not columns:
        return
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    labels = list(next(iter(columns.values()))["results"])
    header = f"\n{'request (Django test Client, logged in)':<36}" + "".join(
        f" | {db + ' median':>15} {'min':>6} {'p90':>6} {'SQL':>4} {'in SQL':>6}" for db in columns
    )
    print(header)
    print("-" * len(header.strip()))
    for label in labels:
        cells = []
        for outcome in columns.values():
            r = outcome["results"].get(label, {})
            if "error" in r:
                cells.append(f" | {'error':>15} {'':>6} {'':>6} {'':>4} {'':>6}")
            else:
                figures = f"{r['min']:6.1f} {r['p90']:6.1f} {r['queries']:4d} {r['sql_ms']:6.1f}"
                cells.append(f" | {r['median']:12.1f} ms {figures}")
        print(f"{label:<36}" + "".join(cells))
    for db, outcome in columns.items():
        for label, r in outcome["results"].items():
            if "error" in r:
                print(f"{db}: {label}: {r['error']}")
    print(
        f"\n{args.requests} requests each after one warm-up; times in ms (min and p90 too: min is the"
        " cost without contention); SQL: queries of one "
        "request, 'in SQL': their time in ms. Target: every median under 50 ms."
    )


if __name__ == "__main__":
    main()
