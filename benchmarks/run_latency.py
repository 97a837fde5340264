"""Time from enqueue to `running`, and to the end, of small test runs taken by a real worker.

Sets up a throwaway SQLite database (ORM broker) in a temporary folder, imports the demo, starts one
`qcluster`, starts runs one after another and reads `created_at`, `started_at` and `finished_at` back.
Prints figures; never passes or fails. Usage: .venv/bin/python benchmarks/run_latency.py [RUNS]
"""

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def main(count: int) -> None:
    with tempfile.TemporaryDirectory() as var:
        os.environ.update(
            SHIFTBENCH_VAR_DIR=var, SHIFTBENCH_WORKERS="1", DJANGO_SETTINGS_MODULE="shiftbench.settings"
        )
        sys.path.insert(0, str(REPO))
        import django

        django.setup()
        from django.core.management import call_command

        from configurations.importing import import_configuration
        from testruns.execution import start_run
        from testruns.models import ACTIVE_STATUSES, TestRun
        from testruns.options import RunOptions

        call_command("migrate", verbosity=0)
        version, _ = import_configuration(REPO / "examples/demo/demo.yml", name="demo")
        worker = subprocess.Popen(
            [sys.executable, "manage.py", "qcluster"],
            cwd=REPO,
            env=os.environ.copy(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            to_running, to_end = [], []
            for _ in range(count + 1):  # the first run warms the worker up and is not counted
                run = start_run(version, RunOptions(entities=["project"]))
                deadline = time.monotonic() + 60
                while run.status in ACTIVE_STATUSES and time.monotonic() < deadline:
                    time.sleep(0.01)
                    run = TestRun.objects.get(pk=run.pk)
                if run.started_at is None:
                    raise SystemExit(f"run {run.pk} never started: {run.status} {run.error_message}")
                to_running.append((run.started_at - run.created_at).total_seconds() * 1000)
                to_end.append((run.finished_at - run.created_at).total_seconds() * 1000)
        finally:
            worker.terminate()
            worker.wait()
    to_running, to_end = to_running[1:], to_end[1:]
    print(f"{count} runs of the demo's `project` entity, one worker, SQLite + ORM broker (poll 0.2 s)")
    print(f"{'':24} {'median':>9} {'p90':>9} {'max':>9}")
    for label, values in (("enqueue -> running (ms)", to_running), ("enqueue -> finished (ms)", to_end)):
        p90 = statistics.quantiles(values, n=10)[-1]
        print(f"{label:24} {statistics.median(values):9.1f} {p90:9.1f} {max(values):9.1f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20)
