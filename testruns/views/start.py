"""The test-run form of a configuration, /configurations/<name>/test-run: its options and input table, and
the POST that starts the run (``start_run``) and goes to the run's page.
"""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from configurations.models import Configuration
from shiftbench.uploads import RefusedRequest, answers_large_uploads_with, refused_uploads
from testruns.execution import start_run
from testruns.forms import TestRunForm, cannot_run
from testruns.inputs import is_table_name
from testruns.models import RunNotQueued
from testruns.options import InvalidOptions


def _form_page(request, name, data=None, files=None, refused=()):
    """The configuration, its version, and the form bound to what was sent (404 without a version)."""
    configuration = get_object_or_404(Configuration.objects.select_related("current_version"), name=name)
    version = configuration.current_version
    if version is None:
        raise Http404("This configuration has no version to run.")
    project, project_error = version.project_or_error()
    dependencies = (
        {spec.name: list(spec.dependencies) for spec in project.entities.values()} if project else {}
    )
    form = TestRunForm(
        data,
        files,
        dependencies=dependencies,
        bundled_tables=[f.path for f in version.files.all() if f.kind == "data" and is_table_name(f.path)],
        declared_default=project.default_entity if project else None,
        refused=refused,
        blocked=cannot_run(version.validation, dependencies),
    )
    context = {
        "configuration": configuration,
        "version": version,
        "form": form,
        "project_error": project_error,
    }
    return version, form, context


def _start_too_large(request, message):
    """The form for a request refused unread for its size (see shiftbench.uploads)."""
    _, form, context = _form_page(
        request, request.resolver_match.kwargs["name"], {}, {}, [RefusedRequest(message)]
    )
    form.is_valid()
    return render(request, "testruns/run_start.html", context)


@answers_large_uploads_with(_start_too_large)
@require_http_methods(["GET", "POST"])
def run_start(request, name):
    """The form for a run of the configuration's current version (404 without one), and its POST.

    A version that does not load can still be run (the run fails with the reason); the form says so and
    offers no entities to pick. An input table is checked and stored before the run is made: a file that
    does not read as CSV or Excel is named on the form, and no run starts.
    """
    if request.method == "POST":
        version, form, context = _form_page(
            request, name, request.POST, request.FILES, refused_uploads(request)
        )
    else:
        version, form, context = _form_page(request, name)
    if request.method == "POST" and form.is_valid():
        try:
            options = form.options().checked(version.validation.get("entities"))  # before an input is stored
            given_input = form.given_input(version, request.user)
            run = start_run(version, options, request.user, given_input=given_input)
        except InvalidOptions as exc:
            form.add_option_error(exc)
        except RunNotQueued as exc:
            messages.error(request, str(exc))
            return redirect(exc.run)
        else:
            return redirect(run)
    return render(request, "testruns/run_start.html", context)
