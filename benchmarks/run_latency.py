"""Time from enqueue to `running`, and to the end, of small test runs taken by a real worker.

Sets up a throwaway SQLite database (ORM broker) in a temporary folder, imports the demo, and for each
broker poll interval starts one `qcluster`, starts runs one after another and reads `created_at`,
`started_at` and `finished_at` back; then leaves the cluster idle for a while and reads the CPU time its
processes used (the price of polling more often). Prints figures; never passes or fails.

    .venv/bin/python benchmarks/run_latency.py [RUNS] [--polls 0.2,0.05] [--idle SECONDS]
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def cluster_cpu_seconds(session: int) -> float:
    """User + system CPU seconds of every live process in ``session`` (the cluster and its workers)."""
    ticks = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rpartition(")")[2].split()
        except OSError:  # the process ended meanwhile
            continue
        if int(fields[3]) == session:  # fields after "(comm)": state ppid pgrp session … utime stime
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def measure(version, count: int, poll: float, idle: float) -> tuple[list[float], list[float], float]:
    from testruns.execution import start_run
    from testruns.models import ACTIVE_STATUSES, TestRun
    from testruns.options import RunOptions

    worker = subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"],
        cwd=REPO,
        env={**os.environ, "SHIFTBENCH_BROKER_POLL": str(poll)},
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
        before = cluster_cpu_seconds(worker.pid)
        time.sleep(idle)
        idle_cpu = (cluster_cpu_seconds(worker.pid) - before) / idle * 100
    finally:
        worker.terminate()
        worker.wait()
    return to_running[1:], to_end[1:], idle_cpu


def main(count: int, polls: list[float], idle: float) -> None:
    with tempfile.TemporaryDirectory() as var:
        os.environ.update(
            SHIFTBENCH_VAR_DIR=var,
            SHIFTBENCH_WORKERS="1",
            SHIFTBENCH_LOG_LEVEL="WARNING",  # not a line per enqueued task
            DJANGO_SETTINGS_MODULE="shiftbench.settings",
        )
        sys.path.insert(0, str(REPO))
        import django

        django.setup()
        from django.core.management import call_command

        from configurations.importing import import_configuration

        call_command("migrate", verbosity=0)
        version, _ = import_configuration(REPO / "examples/demo/demo.yml", name="demo")
        figures = {poll: measure(version, count, poll, idle) for poll in polls}
    print(f"{count} runs of the demo's `project` entity per poll interval, one worker, SQLite + ORM broker")
    print(
        f"{'poll (s)':>8} {'to running: median':>19} {'p90':>7} {'max':>7}"
        f" {'to finished: median':>21} {'idle cluster CPU':>17}"
    )
    for poll, (to_running, to_end, idle_cpu) in figures.items():
        p90 = statistics.quantiles(to_running, n=10)[-1]
        print(
            f"{poll:8.2f} {statistics.median(to_running):16.1f} ms {p90:7.1f} {max(to_running):7.1f}"
            f" {statistics.median(to_end):18.1f} ms {idle_cpu:15.1f} %"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="?", type=int, default=20)
    parser.add_argument("--polls", default="0.2,0.05", help="broker poll intervals to compare, in seconds")
    parser.add_argument("--idle", type=float, default=10.0, help="seconds the idle cluster is watched")
    args = parser.parse_args()
    main(args.runs, [float(p) for p in args.polls.split(",")], args.idle)
