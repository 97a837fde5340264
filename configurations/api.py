"""The configuration endpoints of the JSON API (/api/v1/configurations): import a configuration (a new
configuration or version), read configurations and their versions, each with the format it is read in.
``shiftbench/api.py`` mounts this router and sets authentication for it.
"""

from datetime import datetime
from typing import Literal

from django.shortcuts import get_object_or_404
from ninja import Field, File, Form, Router, Schema, UploadedFile
from ninja.responses import Status as Reply

from configurations.forms import ImportForm
from configurations.importing import ImportFailed
from configurations.models import Configuration, ConfigurationVersion
from shiftbench.uploads import refused_uploads

router = Router(tags=["configurations"])


class Error(Schema):
    detail: str


class FormErrors(Schema):
    detail: list[dict] = Field(description="as ninja's own validation errors: type, loc, msg")


class MissingFile(Schema):
    path: str = Field(description="as the bundle would hold it, relative to the main YAML's folder")
    kind: str = Field(description="include, load or data")
    location: str | None = Field(description='"file:line" of the YAML naming it, where known')


class ReusedFiles(Schema):
    version: int = Field(description="the version the files were taken from")
    paths: list[str]


class VersionOut(Schema):
    config_name: str
    number: int
    main_file: str
    sha256: str
    message: str
    created_at: datetime
    created_by: str | None
    format_version: int | None = Field(
        description="the configuration format (1 or 2) it is read in; null when its YAML does not parse"
    )
    format_forced: bool = Field(description="the format was forced at import instead of detected")
    path_variables: dict[str, str] = Field(
        description="each ${VAR} its file paths went through at import, and the folder of the bundle it "
        "stands for at every load"
    )
    loads: bool
    errors: int
    warnings: int
    files_missing: list[MissingFile] = Field(
        description="each file its YAML names that its bundle lacks: runs of the entities reading one fail"
    )
    files_reused: ReusedFiles | None = Field(
        description="the files the import took from the version before, not uploaded but still named"
    )
    url: str


class ImportedVersion(VersionOut):
    created: bool = Field(description="false when the upload was the current version, unchanged")


class ConfigurationOut(Schema):
    name: str
    title: str
    description: str
    format_version: int | None = Field(description="the format its current version is read in")
    current_version: VersionOut | None
    url: str


class ImportIn(Schema):
    """The import form's text fields (read, with the files, by ``ImportForm``, as the import page does)."""

    name: str = Field("", description="defaults to the YAML file's name; an existing name adds a version")
    message: str = ""
    format_version: Literal["", "1", "2"] = Field(
        "", description="1 or 2 forces the format on every load of the version; empty detects it"
    )
    reuse_files: bool = Field(
        True,
        description="take each file the YAML names but the upload lacks from the current version, if it "
        "has one at that path",
    )


def version_out(version: ConfigurationVersion, configuration: Configuration, request) -> VersionOut:
    """``version`` of ``configuration``; reads ``version.created_by`` (select it with the version)."""
    return VersionOut(
        config_name=configuration.name,
        number=version.number,
        main_file=version.main_file,
        sha256=version.sha256,
        message=version.message,
        created_at=version.created_at,
        created_by=version.created_by.get_username() if version.created_by else None,
        format_version=version.format_version,
        format_forced=version.format_forced,
        path_variables=version.path_variables,
        loads=not version.validation.get("error"),
        errors=version.error_count,
        warnings=version.warning_count,
        files_missing=version.files_missing,
        files_reused=version.files_reused,
        url=request.build_absolute_uri(f"{configuration.get_absolute_url()}?version={version.number}"),
    )


def configuration_out(configuration: Configuration, request) -> ConfigurationOut:
    """Load ``configuration`` with ``Configuration.objects.for_list()``: no query here then."""
    current = configuration.current_version
    return ConfigurationOut(
        name=configuration.name,
        title=configuration.title,
        description=configuration.description,
        format_version=current.format_version if current else None,
        current_version=version_out(current, configuration, request) if current else None,
        url=request.build_absolute_uri(configuration.get_absolute_url()),
    )


@router.post("", response={200: ImportedVersion, 201: ImportedVersion, 422: FormErrors})
def import_configuration_files(
    request,
    payload: Form[ImportIn],
    yaml_file: File[UploadedFile] = None,
    extra_files: File[list[UploadedFile]] = None,
):
    """Import a configuration: its YAML and the files it reads, as multipart form data.

    The same as the import page: 201 with the new version, or 200 when the upload is the current version
    unchanged (read in the same format). ``format_version`` forces the format. Files reached through
    ``${VAR}`` are bundled from the server's folders (``SHIFTBENCH_CONFIG_ENV`` variables only).
    A file the YAML names but the upload lacks is taken from the current version (``reuse_files``,
    default true) or else listed in ``files_missing``: the version is stored all the same.
    """
    data = request.POST.copy()
    # A checkbox left out means "no" to the form; to the API, a field left out means its default.
    data["reuse_files"] = "true" if payload.reuse_files else "false"
    form = ImportForm(data, request.FILES, refused=refused_uploads(request))
    if not form.is_valid():
        return Reply(422, {"detail": _errors(form.errors.items())})
    try:
        version, created = form.import_upload(request.auth)
    except ImportFailed as exc:
        return Reply(422, {"detail": _errors([("__all__", [str(exc)])])})
    out = version_out(version, version.configuration, request)
    return Reply(201 if created else 200, ImportedVersion(**out.model_dump(), created=created))


def _errors(items) -> list[dict]:
    """Form errors in the shape of ninja's validation errors (a non-field error's loc is ["form"])."""
    return [
        {"type": "value_error", "loc": ["form"] if field == "__all__" else ["form", field], "msg": message}
        for field, messages in items
        for message in messages
    ]


@router.get("", response=list[ConfigurationOut])
def list_configurations(request):
    """Every configuration with its current version, by name."""
    return [configuration_out(c, request) for c in Configuration.objects.for_list().order_by("name")]


@router.get("/{slug:name}", response={200: ConfigurationOut, 404: Error})
def get_configuration(request, name: str):
    """One configuration with its current version."""
    return configuration_out(get_object_or_404(Configuration.objects.for_list(), name=name), request)


@router.get("/{slug:name}/versions", response={200: list[VersionOut], 404: Error})
def list_versions(request, name: str):
    """Every version of a configuration, newest first."""
    configuration = get_object_or_404(Configuration, name=name)
    versions = configuration.versions.select_related("created_by").order_by("-number")
    return [version_out(version, configuration, request) for version in versions]


@router.get("/{slug:name}/versions/{int:number}", response={200: VersionOut, 404: Error})
def get_version(request, name: str, number: int):
    """One version of a configuration."""
    version = get_object_or_404(
        ConfigurationVersion.objects.select_related("configuration", "created_by"),
        configuration__name=name,
        number=number,
    )
    return version_out(version, version.configuration, request)
