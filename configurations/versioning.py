"""Editing a configuration: validating a YAML draft against the current bundle, saving it as a new version,
restoring an older version as a new one, and diffing two versions."""

import difflib
import os
import shutil
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import transaction

import shapeshift
from configurations.importing import bundle_hash, create_version, format_read_in, note_files, validate
from configurations.loading import References, collect_references, stored_env
from configurations.models import Configuration, ConfigurationVersion, StoredFile

# A draft larger than this is refused before anything reads it (the editor posts it on every pause).
MAX_YAML_CHARS = 1_000_000


class EditRefused(Exception):
    """The edit cannot be saved; the message says why (nothing changed, too large, saved meanwhile…)."""


class DraftDoesNotLoad(EditRefused):
    """The YAML does not load, and saving it anyway was not asked for; ``validation`` says why."""

    def __init__(self, validation: dict):
        self.validation = validation
        super().__init__(f"The YAML does not load: {validation['error']['message']}")


def normalize(yaml_text: str) -> str:
    """The YAML as stored from the editor: browsers send a textarea's lines ending in CRLF."""
    return yaml_text.replace("\r\n", "\n").replace("\r", "\n")


@contextmanager
def draft_bundle(version: ConfigurationVersion, yaml_text: str):
    """A temporary folder holding ``version``'s bundle with its main YAML replaced by ``yaml_text``.

    Yields the main YAML's path. The bundle's files are hard links into the version's materialized
    folder (copies where the file system refuses links), so a draft of a configuration with a 100 MB
    survey costs no copy; the folder is removed on exit. It lives under VAR_DIR, beside the bundles,
    and it is loaded confined to itself like any stored version. Queries the database the first time a
    version is materialized on this machine.
    """
    if len(yaml_text) > MAX_YAML_CHARS:
        raise EditRefused(
            f"The YAML is too large ({len(yaml_text):,} characters; at most {MAX_YAML_CHARS:,})."
        )
    try:
        bundle = version.bundle()
    except OSError as exc:  # the folder cannot be written: say so rather than fail the request
        raise EditRefused(f"The files of {version} could not be read: {exc}") from None
    if bundle.unavailable:  # a blob lost or corrupt in storage: re-importing the files repairs it
        reasons = "; ".join(bundle.unavailable.values())
        raise EditRefused(f"The files of {version} could not be read: {reasons}. Import them again.")
    source = bundle.main.parent
    parent = Path(settings.VAR_DIR) / "drafts"
    parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=parent) as folder:
        folder = Path(folder)
        for path in source.rglob("*"):
            target = folder / path.relative_to(source)
            if path.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            if path.name == version.main_file and path.parent == source:
                continue
            try:
                os.link(path, target)
            except OSError:
                shutil.copyfile(path, target)
        main = folder / version.main_file
        main.write_text(yaml_text, encoding="utf-8")
        yield main


def validate_draft(version: ConfigurationVersion, yaml_text: str, *, with_files: bool = False) -> dict:
    """The validation record (as stored on a version) of ``yaml_text`` bundled with ``version``'s files.

    Runs the real ``shapeshift.load`` and ``shapeshift.validate``, in the version's forced format and with
    its bundled variables, as its edit will be read. ``with_files`` adds the files the YAML names that
    the bundle lacks (``files_missing``, as an import records them): a version about to be saved needs
    them, the editor's live panel does without (its issues name them, at a third of the cost). Raises
    EditRefused for a draft that is too large or a bundle that cannot be read.
    """
    with draft_bundle(version, normalize(yaml_text)) as main:
        record = validate(main, format_version=version.forced_format, path_variables=version.path_variables)
        if with_files:
            note_files(record, _draft_references(main, version), _yaml_files(main))
        prefix = str(main.parent) + os.sep
    if record.get("error"):  # messages name files inside the bundle, never the temporary folder
        error = record["error"]
        error["message"] = error["message"].replace(prefix, "")
        if error.get("file"):
            error["file"] = error["file"].replace(prefix, "")
    return record


def _draft_references(main: Path, version: ConfigurationVersion) -> References:
    """What the draft at ``main`` names, read as ``version`` is (confined, its bundled variables)."""
    resolver = shapeshift.DirectoryResolver(main.parent, confined=True)
    try:
        return collect_references(main.name, resolver, stored_env(version.path_variables))
    except shapeshift.ConfigError:  # the record has the load error
        return References()


def _yaml_files(main: Path) -> dict[str, Path]:
    """The YAML files of the draft bundle by path in it, the main one first (searched for file names)."""
    others = {
        path.relative_to(main.parent).as_posix(): path
        for path in sorted(main.parent.rglob("*"))
        if path.suffix.lower() in (".yml", ".yaml") and path != main and path.is_file()
    }
    return {main.name: main, **others}


def save_edited_version(
    configuration: Configuration,
    yaml_text: str,
    user,
    message: str,
    *,
    base: int | None = None,
    allow_broken: bool = True,
) -> ConfigurationVersion:
    """Save ``yaml_text`` as the next version of ``configuration``, bundling the current version's files.

    1. The new version keeps every file of the current bundle (the same StoredFile rows: no blob is
       read or written again), so a file the new YAML starts to reference is there if the current
       bundle has it; only the main YAML is new.
    2. Its validation is run on that bundle. A YAML that does not load is saved all the same, with its
       error, as an import would; with ``allow_broken=False`` it raises DraftDoesNotLoad instead (the
       editor asks before saving such a YAML).
    3. It is read as the current version is: in its forced format if it has one (else the format is
       detected again, from the new YAML), with the same bundled variables.
    4. It becomes the current version.

    Raises EditRefused when the configuration has no version to edit, when ``base`` (the version number
    the editor started from) is no longer the current one (someone saved meanwhile), when the YAML is
    the current one's (line endings aside) or too large.
    """
    yaml_text = normalize(yaml_text)
    current = Configuration.objects.select_related("current_version").get(pk=configuration.pk).current_version
    if current is None:
        raise EditRefused(f"{configuration.name} has no version to edit; import one first.")
    if base is not None and current.number != base:
        raise _saved_meanwhile(current, base)
    if yaml_text == normalize(current.yaml_text):
        raise EditRefused(f"Nothing changed: the YAML is the same as v{current.number}.")
    files = {vf.path: (vf.kind, vf.stored) for vf in current.files.select_related("stored")}
    # Validated and stored before the lock is taken: loading may read a large survey, and SQLite has one
    # writer.
    validation = validate_draft(current, yaml_text, with_files=True)
    if validation.get("error") and not allow_broken:
        raise DraftDoesNotLoad(validation)
    try:
        files[current.main_file] = ("main", StoredFile.objects.store(yaml_text.encode("utf-8")))
    except OSError as exc:
        raise EditRefused(f"The YAML could not be stored: {exc.strerror or type(exc).__name__}.") from None
    with transaction.atomic():
        configuration = Configuration.objects.select_for_update().get(pk=configuration.pk)
        if configuration.current_version_id != current.pk:
            raise _saved_meanwhile(configuration.current_version, current.number)
        return create_version(
            configuration,
            main_file=current.main_file,
            yaml_text=yaml_text,
            files=files,
            validation=validation,
            user=user,
            message=message,
            sha256=bundle_hash(files),
            format_version=format_read_in(current.forced_format, validation, yaml_text),
            format_forced=current.format_forced,
            path_variables=current.path_variables,
        )


def restore_version(version: ConfigurationVersion, user) -> ConfigurationVersion:
    """Make ``version``'s content current again, as the next version: versions never change.

    The new version has ``version``'s YAML and bundles the same stored files (no blob is read or
    written), is read as ``version`` is (its forced format, its path variables), and its message says
    "restored from vN". Its validation is run again on that bundle, as for an edit: the engine may read
    it differently today. Raises EditRefused when ``version`` is the current one or has the same YAML and
    files (read in the same format), or when a file of it is missing or damaged in storage (the new version
    would share the loss).
    """
    configuration = version.configuration
    bundled = list(version.files.select_related("stored"))
    if damaged := damaged_files(bundled):
        raise EditRefused(f"The files of {version} could not be read: {damaged}. Import them again.")
    files = {vf.path: (vf.kind, vf.stored) for vf in bundled}
    validation = validate_draft(version, version.yaml_text, with_files=True)
    with transaction.atomic():
        # Not select_related: PostgreSQL locks no row on the nullable side of an outer join.
        configuration = Configuration.objects.select_for_update().get(pk=configuration.pk)
        _check_restorable(version, configuration.current_version)
        return create_version(
            configuration,
            main_file=version.main_file,
            yaml_text=version.yaml_text,
            files=files,
            validation=validation,
            user=user,
            message=f"restored from v{version.number}",
            sha256=bundle_hash(files),
            format_version=format_read_in(version.forced_format, validation, version.yaml_text),
            format_forced=version.format_forced,
            path_variables=version.path_variables,
        )


def damaged_files(bundled) -> str:
    """The VersionFiles of ``bundled`` whose blob is missing or of the wrong size in storage, with why:
    ``"survey.csv (missing, expected 1,234 bytes)"``, joined by "; "; "" for none. A stat per file."""
    return "; ".join(f"{vf.path} ({problem})" for vf in bundled if (problem := vf.stored.problem(full=False)))


def restore_refused(version: ConfigurationVersion, current: ConfigurationVersion | None) -> str | None:
    """Why ``version`` cannot be restored over ``current`` (the current version), or None."""
    try:
        _check_restorable(version, current)
    except EditRefused as exc:
        return str(exc)
    return None


def _check_restorable(version: ConfigurationVersion, current: ConfigurationVersion | None) -> None:
    if current is None:
        return
    if current.pk == version.pk:
        raise EditRefused(f"v{version.number} is the current version already.")
    same_reading = (current.forced_format, current.path_variables) == (
        version.forced_format,
        version.path_variables,
    )
    if current.sha256 == version.sha256 and same_reading:
        raise EditRefused(
            f"Nothing to restore: the current v{current.number} has the same YAML and files as "
            f"v{version.number}."
        )


def _saved_meanwhile(current, base: int) -> EditRefused:
    number = current.number if current else "?"
    return EditRefused(
        f"v{number} was saved while you edited v{base}; open the editor again to start from v{number}."
    )


# --- diffs ------------------------------------------------------------------------------------------


@dataclass
class DiffLine:
    kind: str  # "context" | "added" | "removed" | "hunk"
    old: int | None  # line number in a (1-based), None where the line is not in a
    new: int | None
    text: str


@dataclass
class FileChange:
    path: str
    change: str  # "added" | "removed" | "changed" | "same"
    old_sha256: str | None = None
    new_sha256: str | None = None
    old_size: int | None = None
    new_size: int | None = None


@dataclass
class VersionDiff:
    a: ConfigurationVersion
    b: ConfigurationVersion
    lines: list[DiffLine] = field(default_factory=list)
    files: list[FileChange] = field(default_factory=list)
    added: int = 0
    removed: int = 0

    @property
    def identical(self) -> bool:
        return self.a.sha256 == self.b.sha256

    @property
    def format_changed(self) -> bool:
        """Whether the two are read in different formats (one forced, or its YAML detected as the other)."""
        return self.a.format_version != self.b.format_version

    @property
    def yaml_changed(self) -> bool:
        return bool(self.added or self.removed)

    @property
    def changed_files(self) -> list[FileChange]:
        return [f for f in self.files if f.change != "same"]

    @property
    def unchanged_file_count(self) -> int:
        return sum(1 for f in self.files if f.change == "same")


def diff_versions(a: ConfigurationVersion, b: ConfigurationVersion, context: int = 3) -> VersionDiff:
    """What changed from version ``a`` to version ``b``: the YAML's lines and the bundled files.

    The YAML diff is a unified diff (difflib, ``context`` lines around each change) given as rows with
    both line numbers; files are compared by path and sha256. Two queries (each version's files).
    """
    diff = VersionDiff(a=a, b=b)
    old, new = a.yaml_text.splitlines(), b.yaml_text.splitlines()
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for group in matcher.get_grouped_opcodes(context):
        first, last = group[0], group[-1]
        diff.lines.append(
            DiffLine(
                "hunk",
                None,
                None,
                f"@@ -{first[1] + 1},{last[2] - first[1]} +{first[3] + 1},{last[4] - first[3]} @@",
            )
        )
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                diff.lines += [DiffLine("context", i + 1, j1 + i - i1 + 1, old[i]) for i in range(i1, i2)]
                continue
            if tag in ("replace", "delete"):
                diff.lines += [DiffLine("removed", i + 1, None, old[i]) for i in range(i1, i2)]
                diff.removed += i2 - i1
            if tag in ("replace", "insert"):
                diff.lines += [DiffLine("added", None, j + 1, new[j]) for j in range(j1, j2)]
                diff.added += j2 - j1
    diff.files = _file_changes(a, b)
    return diff


def _file_changes(a: ConfigurationVersion, b: ConfigurationVersion) -> list[FileChange]:
    before = {f.path: f.stored for f in a.files.select_related("stored")}
    after = {f.path: f.stored for f in b.files.select_related("stored")}
    changes = []
    for path in sorted(before.keys() | after.keys()):
        old, new = before.get(path), after.get(path)
        if old is None:
            change = "added"
        elif new is None:
            change = "removed"
        else:
            change = "same" if old.sha256 == new.sha256 else "changed"
        changes.append(
            FileChange(
                path,
                change,
                old_sha256=old and old.sha256,
                new_sha256=new and new.sha256,
                old_size=old and old.size,
                new_size=new and new.size,
            )
        )
    return changes
