import time
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from configurations.models import Configuration
from testruns.execution import execute_run, start_run
from testruns.inputs import bundled_input, upload_input
from testruns.management.commands._runs import all_succeeded, summary
from testruns.models import FINAL_STATUSES, RunNotQueued, Status, TestRun
from testruns.options import DEFAULT_ROWS, InvalidOptions, RunOptions
from testruns.progress import Phase, working_on

POLL_SECONDS = 0.5
NO_WORKER_HINT_SECONDS = 10


def max_rows(value: str) -> int | None:
    if value.lower() == "all":
        return None
    try:
        return int(value)
    except ValueError:
        raise CommandError(f"--max-rows: {value!r} is neither a number nor 'all'") from None


def entity_list(value: str | None) -> list[str] | None:
    """ "site, sample" → ["site", "sample"]; None stays None (every entity)."""
    if value is None:
        return None
    return [name.strip() for name in value.split(",") if name.strip()]


class Command(BaseCommand):
    help = (
        "Start a test run of a configuration's current version. It runs in a worker; --wait follows it "
        "to the end, --sync runs it in this process. With either, exit status 0 means the run completed "
        "(every entity succeeded); 1 that it failed, was cancelled or crashed."
    )

    # The settings' own checks only: the URLconf's import the whole API (13 MiB and 0.3 s of a --sync run's
    # start), and say nothing about a run.
    requires_system_checks = ["shiftbench"]

    def add_arguments(self, parser):
        parser.add_argument("name", help="the configuration's name")
        parser.add_argument("--entities", help="comma-separated entities to run (their dependencies run too)")
        parser.add_argument(
            "--max-rows",
            default=str(DEFAULT_ROWS),
            help=f"rows read from each input file, or 'all' (default {DEFAULT_ROWS})",
        )
        parser.add_argument("--stop-on-error", action="store_true", help="stop at the first failed entity")
        parser.add_argument("--no-validate-foreign-keys", dest="validate_foreign_keys", action="store_false")
        parser.add_argument("--no-validate-constraints", dest="validate_constraints", action="store_false")
        parser.add_argument(
            "--input",
            metavar="FILE",
            help="a CSV or Excel file read as the default entity (a local path, or a file of the version)",
        )
        parser.add_argument(
            "--default-entity",
            metavar="NAME",
            help="the entity --input stands for (default: the version's metadata.default_entity)",
        )
        parser.add_argument("--user", help="record the run as this user's")
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument("--wait", action="store_true", help="follow the run with a progress bar to its end")
        mode.add_argument("--sync", action="store_true", help="run it here instead of in a worker")
        parser.add_argument("--json", action="store_true", help="print the run object (as the API gives it)")

    def handle(self, name, **options):
        configuration = Configuration.objects.select_related("current_version").filter(name=name).first()
        if configuration is None:
            raise CommandError(f"No configuration named {name!r}.")
        if configuration.current_version is None:
            raise CommandError(f"Configuration {name!r} has no version to run.")
        run_options = RunOptions(
            entities=entity_list(options["entities"]),
            max_rows_per_entity=max_rows(options["max_rows"]),
            stop_on_error=options["stop_on_error"],
            validate_foreign_keys=options["validate_foreign_keys"],
            validate_constraints=options["validate_constraints"],
        )
        user = self.get_user(options["user"])
        version = configuration.current_version
        try:
            run_options.checked(version.validation.get("entities"))  # before an input is stored for nothing
            given_input = self.given_input(version, options["input"], options["default_entity"], user)
            run = start_run(
                version, run_options, user, background=not options["sync"], given_input=given_input
            )
        except (InvalidOptions, RunNotQueued) as exc:
            raise CommandError(str(exc)) from None
        except OSError as exc:
            raise CommandError(f"--input {options['input']}: {exc}") from None

        if options["sync"]:
            try:
                execute_run(run.pk)
            except KeyboardInterrupt:
                # No worker will ever pick this run up: end it now rather than leave it to the reaper.
                run.finish(Status.CANCELLED, "Interrupted (Ctrl-C) while running in 'run_test --sync'.")
                raise CommandError(f"Interrupted; run {run.short_id} cancelled.", returncode=130) from None
        elif options["wait"]:
            try:
                self.wait(run)
            except KeyboardInterrupt:
                raise CommandError(
                    f"Stopped waiting; run {run.pk} goes on (it was not cancelled). Follow it with "
                    f"'manage.py show_run {run.short_id}' or at {run.get_absolute_url()}",
                    returncode=130,
                ) from None
        else:
            if options["json"]:
                self.write_json(run)
            else:
                self.stdout.write(f"{run.pk} {run.get_absolute_url()}")
            return

        run.refresh_from_db()
        if options["json"]:
            self.write_json(run)
        if not all_succeeded(run):
            raise CommandError(summary(run))
        # with --json, stdout holds only the JSON
        (self.stderr if options["json"] else self.stdout).write(summary(run))

    def given_input(self, version, path, default_entity, user):
        """The input table ``--input`` names: a local file, else a file the version bundles; or None."""
        if path is None:
            if default_entity:
                raise CommandError("--default-entity needs --input FILE")
            return None
        if Path(path).is_file():
            return upload_input(version, Path(path), Path(path).name, default_entity, user)
        if version.files.filter(path=path).exists():
            return bundled_input(version, path, default_entity, user)
        raise CommandError(f"--input {path}: no such file, here or in {version}")

    def get_user(self, username):
        if not username:
            return None
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        return user

    def write_json(self, run):
        run = TestRun.objects.with_results().get(pk=run.pk)
        from testruns.serializers import run_result, to_json  # the API's shapes: ninja, only for --json

        self.stdout.write(to_json(run_result(run)))

    def wait(self, run):
        """Poll the run until it ends, drawing its entities as a progress bar."""
        started = time.monotonic()
        hinted = False
        with tqdm(total=0, unit="entity", file=self.stderr._out, dynamic_ncols=True, leave=True) as bar:
            while not self.poll(run, bar):
                if (
                    not hinted
                    and run.status == Status.PENDING
                    and time.monotonic() - started > NO_WORKER_HINT_SECONDS
                ):
                    bar.write("Still pending: is a worker running? (manage.py qcluster, or make serve)")
                    hinted = True
                time.sleep(POLL_SECONDS)

    def poll(self, run, bar) -> bool:
        """Refresh the run and the bar; True once the run has ended. One query.

        The bar says what the run page says of the entity at work ("working on result_base — linking
        945,600 rows"), else the run's status.
        """
        run.refresh_from_db(
            fields=[
                "status",
                "entities_total",
                "entities_completed",
                "current_entity",  # the current_* fields are what working_on and Phase.of read
                "current_phase",
                "current_rows",
            ]
        )
        if run.entities_total and bar.total != run.entities_total:
            bar.reset(total=run.entities_total)
        bar.n = run.entities_completed
        bar.set_description(working_on(run, Phase.of(run)) or run.status, refresh=False)
        bar.refresh()
        return run.status in FINAL_STATUSES
