"""Pages of configurations: the list, the import form, a configuration's detail and its test-run form."""

import tempfile
from pathlib import Path

from django.contrib import messages
from django.db.models import OuterRef, Subquery
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

import shapeshift
from configurations.forms import ImportForm
from configurations.importing import ImportFailed, import_configuration
from configurations.models import Configuration
from testruns.execution import start_run
from testruns.forms import TestRunForm
from testruns.models import TestRun
from testruns.options import InvalidOptions
from testruns.trends import entity_trend


def with_last_run(configurations):
    """``configurations`` with their current version and their latest run's id, status and time: one query."""
    latest = TestRun.objects.filter(configuration=OuterRef("pk")).order_by("-created_at", "-pk")
    return configurations.select_related("current_version", "current_version__created_by").annotate(
        last_run_id=Subquery(latest.values("pk")[:1]),
        last_run_status=Subquery(latest.values("status")[:1]),
        last_run_at=Subquery(latest.values("created_at")[:1]),
    )


def configuration_list(request):
    configurations = with_last_run(Configuration.objects.order_by("name"))
    return render(request, "configurations/configuration_list.html", {"configurations": configurations})


@require_http_methods(["GET", "POST"])
def configuration_import(request):
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        with tempfile.TemporaryDirectory(prefix="shiftbench-import-") as folder:
            main = form.write_bundle(Path(folder))
            try:
                version, created = import_configuration(
                    main, form.cleaned_data["name"] or None, request.user, form.cleaned_data["message"]
                )
            except ImportFailed as exc:
                # The message names the temporary folder; the user knows the file by its own name.
                form.add_error(None, str(exc).replace(str(main), main.name))
            else:
                if created:
                    messages.success(request, f"Imported {version}.")
                else:
                    messages.info(request, f"Nothing changed: the upload is the same as {version}.")
                return redirect(version.configuration)
    return render(request, "configurations/configuration_import.html", {"form": form})


def configuration_detail(request, name):
    configuration = get_object_or_404(Configuration.objects.select_related("owner"), name=name)
    versions = list(configuration.versions.select_related("created_by").order_by("-number"))
    version = _chosen_version(request, configuration, versions)
    project, project_error = _load_project(version)
    runs = configuration.runs.for_list()[:20]
    return render(
        request,
        "configurations/configuration_detail.html",
        {
            "configuration": configuration,
            "versions": versions,
            "version": version,
            "entities": project.entities.values() if project else [],
            "project_error": project_error,
            "issues_by_severity": _issues_by_severity(version),
            "runs": runs,
            "trend": entity_trend(configuration),
        },
    )


@require_http_methods(["GET", "POST"])
def test_run(request, name):
    configuration = get_object_or_404(Configuration.objects.select_related("current_version"), name=name)
    version = configuration.current_version
    if version is None:
        raise Http404("This configuration has no version to run.")
    project, project_error = _load_project(version)
    dependencies = (
        {spec.name: list(spec.dependencies) for spec in project.entities.values()} if project else {}
    )
    form = TestRunForm(request.POST or None, dependencies=dependencies)
    if request.method == "POST" and form.is_valid():
        try:
            run = start_run(version, form.options(), request.user)
        except InvalidOptions as exc:
            form.add_option_error(exc)
        else:
            return redirect(run)
    return render(
        request,
        "configurations/test_run_form.html",
        {"configuration": configuration, "version": version, "form": form, "project_error": project_error},
    )


def _chosen_version(request, configuration, versions):
    """The version named by ``?version=N``, else the current one (None for a configuration with none)."""
    wanted = request.GET.get("version")
    if wanted:
        for version in versions:
            if str(version.number) == wanted:
                return version
        raise Http404("No such version.")
    current = next((v for v in versions if v.pk == configuration.current_version_id), None)
    return current or (versions[0] if versions else None)


def _load_project(version):
    """``(project, None)`` or ``(None, error message)``: a stored version may not load; that is shown."""
    if version is None:
        return None, None
    try:
        return version.project, None
    except shapeshift.ConfigError as exc:
        return None, str(exc).replace(str(version.materialize().parent) + "/", "")
    except OSError as exc:
        return None, f"The bundle could not be read: {exc}"


def _issues_by_severity(version) -> list[tuple[str, list[dict]]]:
    if version is None:
        return []
    issues = version.validation.get("issues", [])
    order = ["error", "warning", "info"]
    grouped = {severity: [i for i in issues if i.get("severity") == severity] for severity in order}
    others = [i for i in issues if i.get("severity") not in order]
    if others:
        grouped["other"] = others
    return [(severity, items) for severity, items in grouped.items() if items]
