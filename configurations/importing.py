"""Importing a configuration from a folder: the YAML plus every file it references, as one version."""

import hashlib
from pathlib import Path

from django.db import transaction
from django.utils.text import slugify

import shapeshift
from configurations.loading import load_project, referenced_files
from configurations.models import Configuration, ConfigurationVersion, StoredFile, VersionFile
from configurations.storage import file_sha256, opened


class ImportFailed(Exception):
    """The configuration could not be imported; the message says what and where."""


def import_configuration(
    path, name: str | None = None, user=None, message: str = "", *, if_missing: bool = False
) -> tuple[ConfigurationVersion, bool]:
    """Store the YAML at ``path`` with everything it references as the newest version of ``name``.

    Returns ``(version, created)``. ``name`` defaults to the file's stem. A new configuration is made if
    none has that name. When the YAML and its files are byte-for-byte those of the current version, no new
    version is made and ``created`` is False. Referenced files that do not exist (an MS Access database
    on another machine, say) are left out; the version's validation reports them. A YAML file that cannot
    be read, or a file the storage cannot take (a full disk), raises ImportFailed and makes no version.
    Files are read as streams, in chunks: a 300 MB survey never sits in memory.

    With ``if_missing`` an existing configuration of that name is left as it is (its current version is
    returned, ``created`` False): `make serve` loads the demo this way, so a restart keeps an author's edits.
    """
    path = Path(path)
    if not path.is_file():
        raise ImportFailed(f"{path}: no such file")
    name = slugify(name or path.stem)
    if not name:
        raise ImportFailed(f"{path}: cannot derive a configuration name; give one with --name")
    if if_missing:
        existing = Configuration.objects.filter(name=name, current_version__isnull=False)
        if configuration := existing.select_related("current_version").first():
            return configuration.current_version, False
    try:
        yaml_text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ImportFailed(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None

    files = {path.name: ("main", path)}
    try:
        references = referenced_files(path)
    except shapeshift.ConfigError as exc:
        references = []
        load_error = exc
    else:
        load_error = None
    folder = path.parent.resolve()
    for ref in references:
        # Only files inside the configuration's folder are bundled: a stored configuration must never
        # carry (or later read) a file of the server's own, such as "../../etc/passwd".
        target = (folder / ref.path).resolve()
        if ref.exists and target.is_relative_to(folder) and target.is_file():
            files[target.relative_to(folder).as_posix()] = (ref.kind, target)
    validation = validate(path) if load_error is None else {"error": _error_dict(load_error), "issues": []}
    digest = bundle_hash(files)
    current = Configuration.objects.filter(name=name).values_list(
        "current_version", "current_version__sha256"
    )
    current_id, current_sha = current.first() or (None, None)
    if current_sha == digest:
        version = ConfigurationVersion.objects.get(pk=current_id)
        _restore_bad_blobs(version, files)
        return version, False
    # Stored before the transaction: writing a large survey must not hold the database's write lock.
    files = {rel: (kind, _store(rel, content)) for rel, (kind, content) in files.items()}

    with transaction.atomic():
        configuration, _ = Configuration.objects.select_for_update().get_or_create(
            name=name, defaults={"owner": user, "title": _title(validation, name)}
        )
        current = configuration.current_version
        if current is not None and current.sha256 == digest:
            return current, False
        version = create_version(
            configuration,
            main_file=path.name,
            yaml_text=yaml_text,
            files=files,
            validation=validation,
            user=user,
            message=message,
            sha256=digest,
        )
    return version, True


def create_version(
    configuration,
    *,
    main_file: str,
    yaml_text: str,
    files: dict,
    validation: dict,
    user,
    message: str,
    sha256: str | None = None,
) -> ConfigurationVersion:
    """Store a new version of ``configuration`` bundling ``files`` and make it the current one.

    The one way a version is made (import and editor). ``files`` maps each path in the bundle to
    ``(kind, content)``, the content being the file's bytes, its local path, or a StoredFile already
    holding them (so an edit re-bundles a 100 MB survey without reading it). Call inside
    ``transaction.atomic()`` with the configuration locked (``select_for_update``), so two saves cannot
    take the same number. ``sha256`` is ``bundle_hash(files)`` when the caller has it already.
    """
    version = ConfigurationVersion.objects.create(
        configuration=configuration,
        number=configuration.next_version_number(),
        main_file=main_file,
        yaml_text=yaml_text,
        sha256=sha256 or bundle_hash(files),
        message=message,
        validation=validation,
        created_by=user,
    )
    VersionFile.objects.bulk_create(
        VersionFile(version=version, path=rel, kind=kind, stored=_stored(content))
        for rel, (kind, content) in sorted(files.items())
    )
    configuration.current_version = version
    configuration.save(update_fields=["current_version", "updated_at"])
    return version


def validate(path: Path) -> dict:
    """The validation record kept on a version: a load error, or the entity list and the issues."""
    try:
        project = load_project(path)
    except shapeshift.ConfigError as exc:
        return {"error": _error_dict(exc), "issues": [], "entities": []}
    return {
        "error": None,
        "entities": list(project.entities),
        "issues": [issue.to_dict() for issue in shapeshift.validate(project)],
        "metadata": _metadata(project),
    }


def _metadata(project) -> dict:
    metadata = project.raw.get("metadata") if isinstance(project.raw, dict) else None
    return {k: str(v) for k, v in (metadata or {}).items() if isinstance(v, str | int | float)}


def _title(validation: dict, name: str) -> str:
    return validation.get("metadata", {}).get("name", "") or name


def _error_dict(exc) -> dict:
    return {
        "message": str(exc),
        "file": getattr(exc, "file", None),
        "line": getattr(exc, "line", None),
        "key_path": getattr(exc, "key_path", None),
    }


def bundle_hash(files: dict) -> str:
    """The version hash of a bundle given as for ``create_version``: each path with its content's sha256."""
    digest = hashlib.sha256()
    for rel, (_, content) in sorted(files.items()):
        if isinstance(content, StoredFile):
            sha = content.sha256
        else:
            with opened(content) as stream:
                sha = file_sha256(stream)
        digest.update(rel.encode() + b"\0" + bytes.fromhex(sha))
    return digest.hexdigest()


def _stored(content) -> StoredFile:
    return content if isinstance(content, StoredFile) else StoredFile.objects.store(content)


def _restore_bad_blobs(version: ConfigurationVersion, files: dict) -> None:
    """Store again, from ``files``, the blobs of ``version`` whose size is wrong (a retry after a failure).

    Only a stat per file: an unchanged re-import stays cheap, and still repairs what a full disk broke.
    """
    for bundled in version.files.select_related("stored"):
        if bundled.path in files and bundled.stored.problem(full=False):
            _store(bundled.path, files[bundled.path][1])


def _store(rel: str, content) -> StoredFile:
    """``content`` stored for the bundle path ``rel``; ImportFailed naming the file if storage refuses it."""
    try:
        return _stored(content)
    except OSError as exc:  # the message names the file by its place in the bundle, not the server's paths
        raise ImportFailed(f"{rel}: could not be stored: {exc.strerror or type(exc).__name__}") from None
