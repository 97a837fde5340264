"""Pages of configurations: the list, the import form, a configuration's detail, the editor, its versions
and their diffs.

What these pages show of test runs (a configuration's last run, its runs and trend) the runs app renders
through template tags its templates load, so this app knows nothing of runs; the test-run form, at
/configurations/<name>/test-run, is a page of the runs app too.
"""

from django.contrib import messages
from django.core.exceptions import BadRequest
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.text import slugify
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from configurations.forms import EditForm, ImportForm, TargetModelForm, VersionPickForm
from configurations.graph import version_drawing
from configurations.importing import ImportFailed
from configurations.models import Configuration
from configurations.outline import outline
from configurations.versioning import EditRefused, diff_versions, save_edited_version, validate_draft
from shiftbench.uploads import RefusedRequest, answers_large_uploads_with, refused_uploads


def configuration_list(request):
    """Every configuration with its current version and last run: one query (see configuration_table)."""
    configurations = Configuration.objects.for_list().order_by("name")
    return render(request, "configurations/configuration_list.html", {"configurations": configurations})


def _import_too_large(request, message):
    """The import page for a request refused unread for its size (see shiftbench.uploads)."""
    form = ImportForm({}, {}, refused=[RefusedRequest(message)])
    form.is_valid()
    return render(request, "configurations/configuration_import.html", {"form": form})


@answers_large_uploads_with(_import_too_large)
@require_http_methods(["GET", "POST"])
def configuration_import(request):
    if request.method == "POST":  # bound even when every file was refused and nothing else sent
        form = ImportForm(request.POST, request.FILES, refused=refused_uploads(request))
    else:
        form = ImportForm()
    if request.method == "POST" and form.is_valid():
        try:
            version, created = form.import_upload(request.user)
        except ImportFailed as exc:
            form.add_error(None, str(exc))
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
    project, project_error = version.project_or_error() if version else (None, None)
    return render(
        request,
        "configurations/configuration_detail.html",
        {
            "configuration": configuration,
            "versions": versions,
            "version": version,
            "outline": outline(project) if project else None,
            "project_error": project_error,
            "issues_by_severity": _issues_by_severity(version.validation if version else {}),
            "target_model_form": TargetModelForm(),
        },
    )


@require_POST
def configuration_target_model(request, name):
    """Choose the target model the configuration's runs check their data against, or stop using it."""
    configuration = get_object_or_404(Configuration, name=name)
    form = TargetModelForm(request.POST, request.FILES)
    if not form.is_valid():
        errors = [message for messages_ in form.errors.values() for message in messages_]
        messages.error(request, f"Target model not changed: {' '.join(errors)}")
    elif form.cleaned_data["remove"]:
        configuration.clear_target_model()
        messages.success(request, f"{configuration.name} no longer uses a chosen target model.")
    else:
        filename, content = form.cleaned_data["model_file"]
        try:
            configuration.choose_target_model(content, filename)
        except OSError as exc:
            messages.error(
                request, f"Target model not changed: it could not be stored: {exc.strerror or exc}"
            )
        else:
            messages.success(
                request,
                f"{configuration.name}'s runs now check their data against "
                f"{configuration.target_model_label} ({filename}).",
            )
    return redirect(reverse("configurations:detail", args=[configuration.name]) + "#target-model")


@require_http_methods(["GET", "POST"])
def configuration_edit(request, name):
    configuration = _get_editable(name)
    current = configuration.current_version
    form = EditForm(request.POST or None, initial={"yaml_text": current.yaml_text, "base": current.number})
    if request.method == "POST" and form.is_valid():
        try:
            version = save_edited_version(
                configuration,
                form.cleaned_data["yaml_text"],
                request.user,
                form.cleaned_data["message"],
                base=form.cleaned_data["base"],
            )
        except EditRefused as exc:
            form.add_error(None, str(exc))
        else:
            error = version.validation.get("error")
            if error:
                messages.warning(request, f"Saved {version}, but it does not load: {error['message']}")
            else:
                messages.success(request, f"Saved {version}.")
            return redirect(configuration)
    return render(
        request,
        "configurations/configuration_edit.html",
        {
            "configuration": configuration,
            "version": current,
            "form": form,
            "files": current.files.order_by("path"),
            **_live_validation(current.validation),
        },
    )


@require_POST
def configuration_validate(request, name):
    """The editor's live validation: the posted YAML with the current bundle, as a partial."""
    configuration = _get_editable(name)
    try:
        record = validate_draft(configuration.current_version, request.POST.get("yaml_text", ""))
    except EditRefused as exc:
        record = {"error": {"message": str(exc)}, "issues": []}
    return render(request, "configurations/partials/validation_live.html", _live_validation(record))


def version_yaml(request, name, number):
    configuration = get_object_or_404(Configuration, name=name)
    version = get_object_or_404(configuration.versions.select_related("created_by"), number=number)
    return render(
        request,
        "configurations/version_yaml.html",
        {
            "configuration": configuration,
            "version": version,
            "lines": version.yaml_text.splitlines(),
        },
    )


def version_graph(request, name, number):
    """The entity graph of a version, each entity linking to its row on the version's page."""
    configuration = get_object_or_404(Configuration, name=name)
    version = get_object_or_404(configuration.versions.select_related("created_by"), number=number)
    drawing = version_drawing(version)
    page = version.get_absolute_url()
    nodes = drawing.graph.nodes if drawing.graph else []
    hrefs = {node.name: f"{page}#entity-{slugify(node.name)}" for node in nodes if node.declared}
    return render(
        request,
        "configurations/version_graph.html",
        {"configuration": configuration, "version": version, "graph": drawing.shown(hrefs)},
    )


def version_diff(request, name, a, b):
    configuration = get_object_or_404(Configuration, name=name)
    chosen = configuration.versions.select_related("created_by").filter(number__in=[a, b])
    versions = {v.number: v for v in chosen}
    if a not in versions or b not in versions:
        raise Http404(f"{name} has no version {a if a not in versions else b}.")
    return render(
        request,
        "configurations/version_diff.html",
        {
            "configuration": configuration,
            "diff": diff_versions(versions[a], versions[b]),
            "pick_form": VersionPickForm(initial={"a": a, "b": b}),
        },
    )


@require_GET
def version_diff_pick(request, name):
    """The version picker's target (a GET form cannot build the a..b path): redirects to the diff."""
    form = VersionPickForm(request.GET)
    if not form.is_valid():
        errors = "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in form.errors.items())
        raise BadRequest(f"Pick two version numbers ({errors}).")
    return redirect(reverse("configurations:diff", args=[name, *(form.cleaned_data[k] for k in "ab")]))


def _get_editable(name) -> Configuration:
    """The configuration with its current version loaded; 404 when there is none to edit."""
    configuration = get_object_or_404(Configuration.objects.select_related("current_version"), name=name)
    if configuration.current_version is None:
        raise Http404("This configuration has no version to edit.")
    return configuration


def _live_validation(record: dict) -> dict:
    return {"record": record, "issues_by_severity": _issues_by_severity(record)}


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


def _issues_by_severity(validation: dict) -> list[tuple[str, list[dict]]]:
    issues = validation.get("issues", [])
    order = ["error", "warning", "info"]
    grouped = {severity: [i for i in issues if i.get("severity") == severity] for severity in order}
    others = [i for i in issues if i.get("severity") not in order]
    if others:
        grouped["other"] = others
    return [(severity, items) for severity, items in grouped.items() if items]
