"""The test-run form of a configuration, /configurations/<name>/test-run: its options, and the POST that
starts the run (``start_run``) and goes to the run's page.
"""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from configurations.models import Configuration
from testruns.execution import start_run
from testruns.forms import TestRunForm
from testruns.models import RunNotQueued
from testruns.options import InvalidOptions


@require_http_methods(["GET", "POST"])
def run_start(request, name):
    """The form for a run of the configuration's current version (404 without one), and its POST.

    A version that does not load can still be run (the run fails with the reason); the form says so and
    offers no entities to pick.
    """
    configuration = get_object_or_404(Configuration.objects.select_related("current_version"), name=name)
    version = configuration.current_version
    if version is None:
        raise Http404("This configuration has no version to run.")
    project, project_error = version.project_or_error()
    dependencies = (
        {spec.name: list(spec.dependencies) for spec in project.entities.values()} if project else {}
    )
    form = TestRunForm(request.POST or None, dependencies=dependencies)
    if request.method == "POST" and form.is_valid():
        try:
            run = start_run(version, form.options(), request.user)
        except InvalidOptions as exc:
            form.add_option_error(exc)
        except RunNotQueued as exc:
            messages.error(request, str(exc))
            return redirect(exc.run)
        else:
            return redirect(run)
    return render(
        request,
        "testruns/run_start.html",
        {"configuration": configuration, "version": version, "form": form, "project_error": project_error},
    )
