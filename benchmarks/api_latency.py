"""Time POST /api/v1/test-runs: how long starting a run keeps an API client waiting.

Plain script, no pass/fail. In a throwaway SQLite database (a temporary SHIFTBENCH_VAR_DIR) it migrates,
imports the demo, creates an API token, then sends the reference's request body 50 times through
Django's test Client with a bearer token. The broker is django-q2's ORM broker and no worker runs, so
each call creates the run and enqueues its task (a row in the same database) and nothing else. For
scale it also times GET of one run and of its progress. Prints median, p90 and max in ms.

    .venv/bin/python benchmarks/api_latency.py [--calls 50]
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "examples" / "demo" / "demo.yml"
BODY = {
    "config_name": "demo",
    "options": {"entities": ["sample_type"], "max_rows_per_entity": 100, "stop_on_error": False},
}


def setup_django(var_dir: str) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "shiftbench.settings"
    os.environ["SHIFTBENCH_VAR_DIR"] = var_dir
    os.environ.setdefault("SHIFTBENCH_LOG_LEVEL", "WARNING")  # django-q2 logs every enqueue at INFO
    for name in ("SHIFTBENCH_DATABASE_URL", "SHIFTBENCH_REDIS_URL", "SHIFTBENCH_SYNC_TASKS"):
        os.environ.pop(name, None)  # the embedded default: SQLite and the ORM broker
    sys.path.insert(0, str(ROOT))
    warnings.filterwarnings("ignore", message="No directory at")  # whitenoise: no collectstatic here
    import django

    django.setup()


def timed(call, times: int) -> list[float]:
    """Milliseconds of each of ``times`` calls of ``call``."""
    durations = []
    for _ in range(times):
        started = time.perf_counter()
        call()
        durations.append((time.perf_counter() - started) * 1000)
    return durations


def report(label: str, durations: list[float]) -> None:
    ordered = sorted(durations)
    p90 = ordered[max(0, round(0.9 * len(ordered)) - 1)]
    print(
        f"{label:<38} n={len(ordered):<3} median {statistics.median(ordered):6.2f} ms   "
        f"p90 {p90:6.2f} ms   max {ordered[-1]:6.2f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=50)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="shiftbench-bench-") as var_dir:
        setup_django(var_dir)
        from django.contrib.auth import get_user_model
        from django.core.management import call_command
        from django.test import Client
        from django_q.models import OrmQ

        from accounts.models import ApiToken
        from configurations.importing import import_configuration
        from testruns.models import TestRun

        call_command("migrate", verbosity=0)
        user = get_user_model().objects.create_user("alice")
        import_configuration(DEMO, name="demo", user=user)
        _, token = ApiToken.objects.issue(user, label="benchmark")
        client = Client(HTTP_HOST="localhost", HTTP_AUTHORIZATION=f"Bearer {token}")

        def start():
            response = client.post("/api/v1/test-runs", BODY, content_type="application/json")
            assert response.status_code == 202, response.content

        start()  # warm-up: first request imports and builds what later ones reuse
        run_id = TestRun.objects.get().pk
        posts = timed(start, args.calls)
        gets = timed(lambda: client.get(f"/api/v1/test-runs/{run_id}"), args.calls)
        progress = timed(lambda: client.get(f"/api/v1/test-runs/{run_id}/progress"), args.calls)

        assert TestRun.objects.filter(status="pending").count() == args.calls + 1
        assert OrmQ.objects.count() == args.calls + 1  # each run enqueued exactly once, none executed
        print(f"SQLite in {var_dir}, ORM broker, no worker, bearer token, Django test Client\n")
        report("POST /api/v1/test-runs", posts)
        report("GET  /api/v1/test-runs/<id>", gets)
        report("GET  /api/v1/test-runs/<id>/progress", progress)
        print(
            f"\nPOST median / progress median: {statistics.median(posts) / statistics.median(progress):.1f}x"
        )


if __name__ == "__main__":
    main()
