"""Importing a configuration from a folder: the YAML plus every file it references, as one version."""

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from django.db import transaction
from django.utils.text import slugify

import shapeshift
from configurations.graph import graph_record
from configurations.loading import (
    ENV_FOLDER,
    References,
    bundled_variable,
    load_project,
    load_staged,
    referenced_files,
)
from configurations.models import Configuration, ConfigurationVersion, StoredFile, VersionFile
from configurations.storage import file_sha256, opened
from shapeshift.config.format import detect_format_version
from shapeshift.config.yaml_reader import safe_load


class ImportFailed(Exception):
    """The configuration could not be imported; the message says what and where."""


def import_configuration(
    path,
    name: str | None = None,
    user=None,
    message: str = "",
    *,
    if_missing: bool = False,
    format_version: int | None = None,
    target_model: tuple[str, bytes] | None = None,
    reuse_files: bool = True,
) -> tuple[ConfigurationVersion, bool]:
    """Store the YAML at ``path`` with everything it references as the newest version of ``name``.

    Returns ``(version, created)``. ``name`` defaults to the file's stem. A new configuration is made if
    none has that name. When the YAML and its files are byte-for-byte those of the current version (and
    it is read in the same way: forced format, bundled variables), no new version is made and ``created``
    is False. Referenced files that do not exist (an MS Access database on another machine, say) are left
    out: the version is stored all the same, and its validation record lists every one of them under
    ``files_missing`` (``missing_files``), besides the issues validation reports about them.

    With ``reuse_files`` (the default) a new version of an existing configuration takes each file its YAML
    names but the folder lacks from the current version's bundle, at the same path (the same stored
    file: nothing is read or copied), so a YAML re-imported alone keeps its survey. The record lists
    them under ``files_reused`` (``{"version": N, "paths": [...]}``).

    A YAML file that cannot be read, or a file the storage cannot take (a full disk), raises ImportFailed
    and makes no version. Files are read as streams, in chunks: a 300 MB survey never sits in memory.

    ``format_version`` (1 or 2) forces the format the version is read in, at every later load; None
    detects it from the file. A file reached through ``${VAR}`` is bundled under ``_env/<VAR>/`` and the
    version loads with ``${VAR}`` pointing there (``bundle_files``), so it never depends on the
    environment of the machine that runs it.

    With ``if_missing`` an existing configuration of that name is left as it is (its current version is
    returned, ``created`` False): `make serve` loads the demo this way, so a restart keeps an author's edits.

    ``target_model`` is ``(file name, content)`` of a target model (format-v2.md 19.1) the configuration's
    runs are to check their data against (``Configuration.choose_target_model``), chosen even when the
    bundle is unchanged. A file that is not a usable model raises ImportFailed before anything is stored.
    """
    path = Path(path)
    if not path.is_file():
        raise ImportFailed(f"{path}: no such file")
    if format_version is not None and format_version not in shapeshift.FORMAT_VERSIONS:
        raise ImportFailed(f"unknown format version {format_version!r} (known: 1, 2)")
    name = slugify(name or path.stem)
    if not name:
        raise ImportFailed(f"{path}: cannot derive a configuration name; give one with --name")
    if if_missing:
        existing = Configuration.objects.filter(name=name, current_version__isnull=False)
        if configuration := existing.select_related("current_version").first():
            return configuration.current_version, False
    if target_model is not None:
        _check_target_model(*target_model)
    try:
        yaml_text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ImportFailed(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None

    configuration = Configuration.objects.filter(name=name).select_related("current_version").first()
    current = configuration.current_version if configuration else None
    reuse = Reuse.of(current) if reuse_files and current is not None else None
    try:
        references = referenced_files(path, reuse.locals if reuse else None)
    except shapeshift.ConfigError as exc:
        references, load_error = References(), exc
    else:
        load_error = None
    files, variables = bundle_files(path, references, reuse)
    local = {rel: reuse.local(rel, content) if reuse else content for rel, (_, content) in files.items()}
    if load_error is None:
        validation = validate_staged(
            path.name, local, format_version=format_version, path_variables=variables
        )
    else:
        validation = {"error": _error_dict(load_error), "issues": []}
    note_files(validation, references, local, reused_from=current, files=files)
    reading = {
        "format_version": format_read_in(format_version, validation, yaml_text),
        "format_forced": format_version is not None,
        "path_variables": variables,
    }
    digest = bundle_hash(files)
    if current is not None and current.sha256 == digest and _reads_as(current, reading):
        _restore_bad_blobs(current, files)
        if target_model is not None:
            _choose_target_model(configuration, *target_model)
        return current, False
    # Stored before the transaction: writing a large survey must not hold the database's write lock.
    files = {rel: (kind, _store(rel, content)) for rel, (kind, content) in files.items()}

    with transaction.atomic():
        configuration, _ = Configuration.objects.select_for_update().get_or_create(
            name=name, defaults={"owner": user, "title": _title(validation, name)}
        )
        if target_model is not None:
            _choose_target_model(configuration, *target_model)
        current = configuration.current_version
        if current is not None and current.sha256 == digest and _reads_as(current, reading):
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
            **reading,
        )
    return version, True


def _check_target_model(filename: str, content: bytes) -> None:
    from shapeshift.targets import load_target_model_file

    try:
        load_target_model_file(content)
    except shapeshift.ConfigError as exc:
        raise ImportFailed(f"target model {filename}: {exc}") from None


def _choose_target_model(configuration: Configuration, filename: str, content: bytes) -> None:
    try:
        configuration.choose_target_model(content, filename)
    except shapeshift.ConfigError as exc:
        raise ImportFailed(f"target model {filename}: {exc}") from None
    except OSError as exc:
        raise ImportFailed(f"target model {filename}: could not be stored: {exc.strerror or exc}") from None


@dataclass
class Reuse:
    """The files of a configuration's current version that an import may take in place of uploads."""

    version: ConfigurationVersion
    root: Path  # the version's materialized bundle folder
    files: dict[str, StoredFile] = field(default_factory=dict)  # path in the bundle: its stored file

    @classmethod
    def of(cls, version: ConfigurationVersion) -> "Reuse":
        """``version``'s files but its main YAML, those reached through ``${VAR}`` (bundled from the
        server's folders at every import) and those unreadable in storage. Materializes its bundle."""
        try:
            bundle = version.bundle()
        except OSError as exc:
            raise ImportFailed(f"the files of {version} could not be read to reuse them: {exc}") from None
        files = {
            vf.path: vf.stored
            for vf in version.files.select_related("stored")
            if vf.kind != "main"
            and vf.path not in bundle.unavailable
            and not vf.path.startswith(f"{ENV_FOLDER}/")
        }
        return cls(version, bundle.main.parent, files)

    @property
    def locals(self) -> dict[str, Path]:
        return {rel: self.root / rel for rel in self.files}

    def local(self, rel: str, content):
        """The local file of bundle entry ``rel`` (a reused StoredFile is read from the version's folder)."""
        return self.root / rel if isinstance(content, StoredFile) else content


def bundle_files(
    path: Path, references: References, reuse: Reuse | None = None
) -> tuple[dict, dict[str, str]]:
    """The bundle of the YAML at ``path``: ``({path in the bundle: (kind, local file)}, path variables)``.

    1. The YAML itself, and each existing file of its folder that it references, at its path there. A
       file outside the folder is never bundled through a plain path ("../../etc/passwd"): a stored
       configuration must never carry (or later read) a file of the server's own.
    2. A file whose path starts with ``${VAR}`` goes under ``_env/<VAR>/``, at its path relative to the
       folder the variable named at import; so does a file reached from such a file by a relative path
       (``FileRef.variable`` names the variable for both). Nothing outside that folder is bundled.
    3. A file the folder lacks that ``reuse`` has at that path (the resolver read it from there) is
       bundled as ``(kind, its StoredFile)``.
    4. The path variables say what each ``${VAR}`` of a file path stands for at every later load: a
       variable a path starts with, ``"_env/<VAR>"`` (even when its file was missing: the version then
       looks for it in its bundle too); one inside a path (``sources/${NAME}.yml``), its value at import.
       So the version never needs a worker's environment to find its files.
    """
    folder = path.parent.resolve()
    leading = list(dict.fromkeys(ref.variable for ref in references.files if ref.variable))
    roots = {
        variable: (folder / references.variables[variable]).resolve()
        for variable in leading
        if references.variables.get(variable)
    }
    files = {path.name: ("main", path)}
    for ref in references.files:
        target = (folder / ref.path).resolve()
        if (
            ref.exists
            and reuse
            and not ref.variable
            and not target.exists()
            and target.is_relative_to(folder)
        ):
            if (inside := target.relative_to(folder).as_posix()) in reuse.files:
                files[inside] = (ref.kind, reuse.files[inside])
            continue
        if not (ref.exists and target.is_file()):
            continue
        # The engine names the variable of a file reached from a ${VAR} file too; a path through none is
        # bundled only inside the folder (an absolute path written out is never read by a stored version).
        root = roots.get(ref.variable) if ref.variable else folder
        if root is not None and target.is_relative_to(root):
            inside = target.relative_to(root).as_posix()
            files[f"{bundled_variable(ref.variable)}/{inside}" if ref.variable else inside] = (
                ref.kind,
                target,
            )
    variables = {name: value for name, value in references.variables.items() if name not in leading}
    return files, {**variables, **{name: bundled_variable(name) for name in leading}}


def note_files(
    validation: dict, references: References, local: dict, *, reused_from=None, files=None
) -> None:
    """Add to the validation record the referenced files that are missing (``files_missing``: path, kind,
    and the "file:line" naming it where known), and those taken from ``reused_from`` (``files_reused``).

    ``local`` maps each path of the bundle to its local file: the YAML files among them are searched for
    the line naming a missing file. ``files`` is the bundle as for ``create_version`` (reused entries hold
    a StoredFile).
    """
    if missing := missing_files(references, local):
        validation["files_missing"] = missing
    reused = sorted(rel for rel, (_, content) in (files or {}).items() if isinstance(content, StoredFile))
    if reused and reused_from is not None:
        validation["files_reused"] = {"version": reused_from.number, "paths": reused}


def missing_files(references: References, local: dict) -> list[dict]:
    """Each referenced file that is not there: ``{"path", "kind", "location"}``.

    ``path`` is the file as the bundle would hold it (relative to the main YAML's folder; one reached
    through ``${VAR}`` by its name and variable, never a server path). ``location`` is "file:line": the
    @include naming a missing YAML file, else the first line of the bundle's YAML files (the main one
    first) that names the file outside a comment; None when no line does.
    """
    texts = {}
    for rel, content in local.items():
        if str(rel).lower().endswith((".yml", ".yaml")):
            try:
                texts[rel] = Path(content).read_text(encoding="utf-8").splitlines()
            except (OSError, UnicodeDecodeError, TypeError):
                continue
    missing = []
    for ref in references.missing:
        shown = f"${{{ref.variable}}}: {PurePosixPath(ref.path).name}" if ref.variable else ref.path
        location = references.include_locations.get(ref.path) or _line_naming(
            PurePosixPath(ref.path).name, texts
        )
        missing.append({"path": shown, "kind": ref.kind, "location": location})
    return missing


def missing_text(missing: list[dict]) -> str:
    """Missing files (``missing_files``) in a sentence: "a.csv (two.yml:6), data/b.csv (two.yml:11)"."""
    return ", ".join(f"{m['path']} ({m['location']})" if m.get("location") else m["path"] for m in missing)


def _line_naming(name: str, texts: dict[str, list[str]]) -> str | None:
    """ "file:line" of the first line of ``texts`` naming the file ``name`` outside a comment, or None."""
    pattern = re.compile(rf"(?<![\w.-]){re.escape(name)}(?![\w.-])")
    for rel, lines in texts.items():
        for number, line in enumerate(lines, 1):
            if pattern.search(line.split(" #", 1)[0]) and not line.lstrip().startswith("#"):
                return f"{rel}:{number}"
    return None


def _reads_as(version: ConfigurationVersion, reading: dict) -> bool:
    return all(getattr(version, key) == value for key, value in reading.items())


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
    format_version: int | None = None,
    format_forced: bool = False,
    path_variables: dict | None = None,
) -> ConfigurationVersion:
    """Store a new version of ``configuration`` bundling ``files`` and make it the current one.

    The one way a version is made (import and editor). ``files`` maps each path in the bundle to
    ``(kind, content)``, the content being the file's bytes, its local path, or a StoredFile already
    holding them (so an edit re-bundles a 100 MB survey without reading it). Call inside
    ``transaction.atomic()`` with the configuration locked (``select_for_update``), so two saves cannot
    take the same number. ``sha256`` is ``bundle_hash(files)`` when the caller has it already.
    ``format_version``, ``format_forced`` and ``path_variables``: how the version is read (see the model).
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
        format_version=format_version,
        format_forced=format_forced,
        path_variables=path_variables or {},
    )
    VersionFile.objects.bulk_create(
        VersionFile(version=version, path=rel, kind=kind, stored=_stored(content))
        for rel, (kind, content) in sorted(files.items())
    )
    configuration.current_version = version
    configuration.save(update_fields=["current_version", "updated_at"])
    return version


def validate(path: Path, *, format_version: int | None = None, path_variables: dict | None = None) -> dict:
    """The validation record kept on a version, of the YAML at ``path`` loaded confined to its folder:
    a load error, or the entity list, the issues and the format it was read in."""
    return validation_record(
        lambda: load_project(path, format_version=format_version, path_variables=path_variables)
    )


def validate_staged(main: str, files: dict, **reading) -> dict:
    """``validate`` for a bundle about to be stored, read as its version will be: ``files`` maps each
    path in the bundle to its local file."""
    return validation_record(lambda: load_staged(main, files, **reading))


def validation_record(load) -> dict:
    try:
        project = load()
    except shapeshift.ConfigError as exc:
        return {"error": _error_dict(exc), "issues": [], "entities": []}
    return {
        "error": None,
        "entities": list(project.entities),
        "issues": [issue.to_dict() for issue in shapeshift.validate(project)],
        "metadata": _metadata(project),
        "format_version": project.format_version,
        "graph": graph_record(project),  # the version's entity graph is drawn from it (configurations.graph)
    }


def format_read_in(forced: int | None, validation: dict, yaml_text: str) -> int | None:
    """The format a version is read in: the forced one, else the one its load found, else (it does not
    load) the one its YAML's root shows, as the engine detects it; None if the YAML does not parse."""
    if forced or validation.get("format_version"):
        return forced or validation["format_version"]
    try:
        root = safe_load(yaml_text, "main")
    except shapeshift.ConfigError:  # a bound exceeded is one too
        return None
    return detect_format_version(root)


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
