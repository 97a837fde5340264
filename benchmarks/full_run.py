"""A full test run (all rows, every entity) through ShiftBench beside the engine's own CLI on the same data.

For the Arbodat survey repeated k times (made in a temporary folder), times as whole processes:
`manage.py run_test … --sync --max-rows all` (engine + entity results, previews and stored CSVs in a
throwaway SQLite) and `python -m shapeshift run … --out DIR` (engine + CSV files), interleaved and repeated
so that a busy machine slows both alike. Prints min and median seconds, the highest peak RSS and the ratios
(of the mins, of the medians); never passes or fails.

    .venv/bin/python benchmarks/full_run.py [--sizes 1,10,50] [--repeat 3] [--worker] [--target-model FILE]

With --worker a real worker (`manage.py qcluster`, started before and stopped after) also runs the same
test run, enqueued by `run_test` as the pages and the API enqueue one: its time is the run's own, from
enqueue to `finished_at` as the database records them (what a person waiting on the run page waits; the
worker has Django loaded already), and its memory the highest peak RSS (VmHWM) of the worker's processes.
Each worker run waits for the explorer copies the worker writes after it, so they slow nothing measured.

With --target-model the same configuration is also imported with that model chosen, and its test run
(the entities, then the checks of their data) is measured beside the plain one: the last line of each size
gives its time and peak memory, and the ratios to the plain test run's.
"""

import argparse
import os
import pathlib
import signal
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from engine import ROOT, Summary, make_folder, measure  # noqa: E402  (the same scaled copies and measurement)

WAITED = """
import os, time, django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shiftbench.settings")
django.setup()
from django_q.models import Task
from testruns.models import TestRun
run = TestRun.objects.order_by("-created_at").first()
while not run.finished_at or not Task.objects.filter(name=f"copies-{run.pk}").exists():
    time.sleep(0.1)
    run.refresh_from_db()
print((run.finished_at - run.created_at).total_seconds(), run.status)
"""


def _descendants(pid: int) -> list[int]:
    parents = {}
    for stat in pathlib.Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        children = parents.get(todo.pop(), [])
        found += children
        todo += children
    return found


def _largest_mib(pids: list[int], field: str = "VmHWM") -> float:
    """The largest of the processes' VmHWM (peak resident set) or VmRSS (resident now), in MiB."""
    found = [0.0]
    for pid in pids:
        try:
            status = pathlib.Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        found += [int(line.split()[1]) / 1024 for line in status.splitlines() if line.startswith(f"{field}:")]
    return max(found)


class Worker:
    """A real django-q2 cluster for the benchmark's runs: started before them, stopped by its PID after."""

    def __init__(self, python: str, manage: str):
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.process = subprocess.Popen(
            [python, manage, "qcluster"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        self.python, self.manage, self.runs = python, manage, []

    def run(self, name: str) -> None:
        subprocess.run(
            [self.python, self.manage, "run_test", name, "--max-rows", "all"],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        seconds, status = self.settle()
        self.runs.append((float(seconds), status))

    def settle(self) -> tuple[str, str]:
        """Wait until the latest run has ended and the worker has written its copies (also those of a
        `run_test --sync` run, which it takes from the queue): nothing of it may overlap the next
        measurement. Returns the run's seconds from enqueue to finished, and its status."""
        waited = subprocess.run([self.python, "-c", WAITED], check=True, capture_output=True, text=True)
        seconds, status = waited.stdout.split()
        return seconds, status

    def stop(self) -> float:
        """Stop the cluster; returns the peak memory of its processes (read before they exit)."""
        processes = _descendants(self.process.pid)
        peak, self.idle = _largest_mib(processes), _largest_mib(processes, "VmRSS")
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=60)
        return peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1,10,50")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--target-model", help="also measure runs checked against this target model")
    parser.add_argument("--worker", action="store_true", help="also measure the run through a real worker")
    args = parser.parse_args()
    python, manage = sys.executable, str(ROOT / "manage.py")
    header = (
        f"{'size':>5} | {'test run: min':>13} {'median':>6} {'MiB':>5} | {'CLI: min':>8} {'median':>6} "
        f"{'MiB':>5} | {'time: min':>9} {'median':>6} {'memory':>6}"
    )
    print(header)
    print("-" * len(header))
    with tempfile.TemporaryDirectory() as temp:
        base = pathlib.Path(temp)
        os.environ.update(SHIFTBENCH_VAR_DIR=str(base / "var"), SHIFTBENCH_LOG_LEVEL="WARNING")
        subprocess.run([python, manage, "migrate", "-v0"], check=True)
        for times in (int(s) for s in args.sizes.split(",")):
            folder = make_folder(base, times)
            config = folder / "reduced-arbodat.yml"
            name = f"arbodat-x{times}"
            subprocess.run(
                [python, manage, "import_configuration", str(config), "--name", name],
                check=True,
                stdout=subprocess.DEVNULL,
            )
            if args.target_model:
                model = ["--name", f"{name}-model", "--target-model", args.target_model]
                subprocess.run(
                    [python, manage, "import_configuration", str(config), *model],
                    check=True,
                    stdout=subprocess.DEVNULL,
                )
            runs, clis, checked = [], [], []
            worker = Worker(python, manage) if args.worker else None
            try:
                for _ in range(args.repeat):
                    runs.append(measure([python, manage, "run_test", name, "--sync", "--max-rows", "all"]))
                    if worker:
                        worker.settle()
                    clis.append(
                        measure(
                            [python, "-m", "shapeshift", "run", str(config), "--out", str(folder / "out")]
                        )
                    )
                    if worker:
                        worker.run(name)
                    if (
                        args.target_model
                    ):  # checks failing is expected: the run's exit status is not looked at
                        command = [python, manage, "run_test", f"{name}-model", "--sync", "--max-rows", "all"]
                        checked.append(measure(command))
            finally:  # a failed measurement must not leave the worker writing into the temporary folder
                peak = worker.stop() if worker else 0.0
            run, cli = Summary(runs), Summary(clis)
            print(
                f"{times:>4}x | {run.min:>13.2f} {run.median:>6.2f} {run.peak:>5.0f} | {cli.min:>8.2f} "
                f"{cli.median:>6.2f} {cli.peak:>5.0f} | {run.min / cli.min:>8.2f}x "
                f"{run.median / cli.median:>5.2f}x {run.peak / cli.peak:>5.2f}x",
                flush=True,
            )
            if worker:
                seconds = sorted(seconds for seconds, _ in worker.runs)
                statuses = {status for _, status in worker.runs}
                low, middle = seconds[0], statistics.median(seconds)
                print(
                    f"{'':>5} | through a worker, enqueue to finished ({', '.join(sorted(statuses))}): "
                    f"{low:.2f} s min, {middle:.2f} s median, worker peak {peak:.0f} MiB "
                    f"({worker.idle:.0f} MiB after): "
                    f"{low / cli.min:.2f}x {middle / cli.median:.2f}x the CLI's time, "
                    f"{peak / cli.peak:.2f}x its memory",
                    flush=True,
                )
            if checked:
                model = Summary(checked)
                print(
                    f"{'':>5} | with target model: {model.min:.2f} s min, {model.median:.2f} s median, "
                    f"{model.peak:.0f} MiB: {model.min / run.min:.2f}x {model.median / run.median:.2f}x the "
                    f"test run's time, {model.peak / run.peak:.2f}x its memory",
                    flush=True,
                )


if __name__ == "__main__":
    main()
