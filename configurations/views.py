"""Pages of configurations: the list, the import form, a configuration's detail, the editor, its versions
(restore, downloads) and their diffs.

What these pages show of test runs (a configuration's last run, its runs and trend) the runs app renders
through template tags its templates load, so this app knows nothing of runs; the test-run form, at
/configurations/<name>/test-run, is a page of the runs app too.
"""

from django.contrib import messages
from django.core.exceptions import BadRequest
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.text import slugify
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from configurations import downloads
from configurations.forms import EditForm, ImportForm, TargetModelForm, VersionPickForm
from configurations.graph import version_drawing
from configurations.importing import ImportFailed, missing_text
from configurations.models import Configuration
from configurations.outline import outline
from configurations.templatetags.configurations import main_file_line
from configurations.versioning import (
    DraftDoesNotLoad,
    EditRefused,
    diff_versions,
    restore_refused,
    restore_version,
    save_edited_version,
    validate_draft,
)
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
                _report_files(request, version, "Imported")
            else:
                messages.info(request, f"Nothing changed: the upload is the same as {version}.")
            return redirect(version.configuration)
    return render(request, "configurations/configuration_import.html", {"form": form})


def _report_files(request, version, done: str) -> None:
    """The message of a new version: a warning naming every file its YAML names but lacks (it is stored
    all the same; runs of the entities reading them fail), else success; and the files reused, if any."""
    if missing := version.files_missing:
        files = f"{len(missing)} file{pluralize(len(missing))} it names {pluralize(len(missing), 'is,are')}"
        messages.warning(
            request,
            f"{done} {version}, but {files} missing: {missing_text(missing)}. Runs of the entities that read "
            "them will fail until a version has them.",
        )
    else:
        messages.success(request, f"{done} {version}.")
    if reused := version.files_reused:
        paths = reused["paths"]
        messages.info(
            request,
            f"Reused {len(paths)} file{pluralize(len(paths))} of v{reused['version']}: {', '.join(paths)}.",
        )


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
    """The editor. GET ``?line=N`` opens it at line N. A YAML that does not load is saved only when the
    POST confirms it (``save_anyway``); else the page comes back asking, with the load error."""
    configuration = _get_editable(name)
    current = configuration.current_version
    form = EditForm(request.POST or None, initial={"yaml_text": current.yaml_text, "base": current.number})
    record, unloadable = current.validation, None
    if request.method == "POST" and form.is_valid():
        try:
            version = save_edited_version(
                configuration,
                form.cleaned_data["yaml_text"],
                request.user,
                form.cleaned_data["message"],
                base=form.cleaned_data["base"],
                allow_broken=form.cleaned_data["save_anyway"],
            )
        except DraftDoesNotLoad as exc:
            record = unloadable = exc.validation
        except EditRefused as exc:
            form.add_error(None, str(exc))
        else:
            error = version.validation.get("error")
            if error:
                messages.warning(request, f"Saved {version}, but it does not load: {error['message']}")
            else:
                _report_files(request, version, "Saved")
            return redirect(configuration)
    return render(
        request,
        "configurations/configuration_edit.html",
        {
            "configuration": configuration,
            "version": current,
            "form": form,
            "files": current.files.order_by("path"),
            "unloadable": unloadable,
            **_line_to_open(request, form["yaml_text"].value() or "", unloadable, current),
            **_live_validation(record, configuration, current),
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
    return render(
        request,
        "configurations/partials/validation_live.html",
        _live_validation(record, configuration, configuration.current_version),
    )


def version_yaml(request, name, number):
    """A version's YAML with numbered lines (``#L80`` is line 80), its validation, restore and downloads."""
    configuration, version = _get_version(name, number)
    severities = {}  # line → the gravest severity of the issues on it, for the listing's marks
    for issue in version.validation.get("issues", []):
        line = main_file_line(issue.get("location"), version)
        if line and severities.get(line) != "error":
            severities[line] = issue.get("severity")
    return render(
        request,
        "configurations/version_yaml.html",
        {
            "configuration": configuration,
            "version": version,
            "lines": [(text, severities.get(n)) for n, text in enumerate(version.yaml_text.splitlines(), 1)],
            "issues_by_severity": _issues_by_severity(version.validation),
        },
    )


def version_graph(request, name, number):
    """The entity graph of a version, each entity linking to its row on the version's page."""
    configuration, version = _get_version(name, number)
    drawing = version_drawing(version)
    page = version.get_absolute_url()
    nodes = drawing.graph.nodes if drawing.graph else []
    hrefs = {node.name: f"{page}#entity-{slugify(node.name)}" for node in nodes if node.declared}
    return render(
        request,
        "configurations/version_graph.html",
        {"configuration": configuration, "version": version, "graph": drawing.shown(hrefs)},
    )


@require_http_methods(["GET", "POST"])
def version_restore(request, name, number):
    """GET: what restoring the version makes, and a form to confirm. POST: save it as the next version."""
    configuration, version = _get_version(name, number)
    current = configuration.current_version
    if request.method == "POST":
        try:
            restored = restore_version(version, request.user)
        except EditRefused as exc:
            messages.error(request, str(exc))
            return redirect("configurations:version", name, number)
        messages.success(request, f"Saved {restored}, restored from v{version.number}.")
        return redirect(configuration)
    diff = diff_versions(current, version) if current else None
    return render(
        request,
        "configurations/version_restore.html",
        {
            "configuration": configuration,
            "version": version,
            "current": current,
            "refused": restore_refused(version, current),
            "next_number": configuration.next_version_number(),
            "diff": diff,
            "data_changes": [f for f in diff.changed_files if f.path != version.main_file] if diff else [],
        },
    )


@require_GET
def version_download_yaml(request, name, number):
    _, version = _get_version(name, number)
    return HttpResponse(
        downloads.yaml_bytes(version),
        content_type=downloads.YAML_CONTENT_TYPE,
        headers=_attachment(downloads.yaml_filename(version)),
    )


@require_GET
def version_download_bundle(request, name, number):
    """The ZIP streams as it is made; a bundle with a file missing in storage goes back to the version."""
    _, version = _get_version(name, number)
    try:
        archive = downloads.bundle_zip(version)
    except downloads.BundleUnavailable as exc:
        messages.error(request, str(exc))
        return redirect("configurations:version", name, number)
    return StreamingHttpResponse(
        archive,
        content_type=downloads.ZIP_CONTENT_TYPE,
        headers=_attachment(downloads.bundle_filename(version)),
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


def _get_version(name, number):
    """The configuration (with its current version) and its version ``number`` (knowing its
    configuration), in two queries; 404 if either is missing."""
    configuration = get_object_or_404(Configuration.objects.select_related("current_version"), name=name)
    version = get_object_or_404(configuration.versions.select_related("created_by"), number=number)
    return configuration, version


def _attachment(filename: str) -> dict:
    return {"Content-Disposition": content_disposition_header(True, filename)}


def _line_to_open(request, text: str, unloadable: dict | None, version) -> dict:
    """The line the editor opens at, and its text: ``{"line": N, "line_text": …}``, or ``{"line": None}``.

    The line ``?line=N`` asks for; else, when a save was refused because the YAML does not load, the line
    where it fails (the last one for an error at the end of the text, which YAML places past it). None
    when ``text`` has no such line.
    """
    wanted, lines = request.GET.get("line", ""), text.splitlines()
    if not wanted and unloadable:
        error = unloadable["error"]
        failing = main_file_line(f"{error.get('file')}:{error.get('line')}", version)
        wanted = str(min(failing, len(lines))) if failing else ""
    if not (wanted.isdigit() and len(wanted) < 10 and 1 <= int(wanted) <= len(lines)):
        return {"line": None}
    return {"line": int(wanted), "line_text": lines[int(wanted) - 1].strip()}


def _live_validation(record: dict, configuration, version) -> dict:
    """The live panel's context: the record, its issues by severity, and what its line links need."""
    return {
        "record": record,
        "issues_by_severity": _issues_by_severity(record),
        "configuration": configuration,
        "version": version,
    }


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
