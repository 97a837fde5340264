"""Input tables of test runs: a CSV or Excel file given as the default entity (DESIGN.md §4).

An input comes from an upload (page, API, ``run_test --input``), from one of the version's bundled files,
or from an earlier input by its id. Each is checked to read as CSV or Excel before any run starts, stored
once by content like bundle files (``StoredFile``), and copied to a local file for the worker
(``local_copy``), since the engine reads the default entity from a path.
"""

import os
import re
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from configurations.models import StoredFile
from configurations.storage import CHUNK_SIZE, HashingWriter, opened
from shapeshift.pipeline.inputs import read_input
from testruns.models import RunInput
from testruns.options import InvalidOptions

CSV_SUFFIXES = (".csv", ".tsv", ".txt")
EXCEL_SUFFIXES = (".xlsx", ".xls")
# Rows read to tell that a file is a table the engine can read; the run reads the rest.
CHECK_ROWS = 20


class InvalidInput(InvalidOptions):
    """An input that cannot run: ``field`` is "input" (the file) or "default_entity"."""


@dataclass(frozen=True)
class GivenInput:
    """A run's input table and the entity it stands for, as ``start_run`` takes it."""

    run_input: RunInput
    default_entity: str


def is_table_name(name: str) -> bool:
    return name.lower().endswith(CSV_SUFFIXES + EXCEL_SUFFIXES)


def default_entity_for(project, given: str | None) -> str:
    """The entity an input stands for: ``given``, else the version's ``metadata.default_entity``.

    Raises InvalidInput when neither names one.
    """
    name = (given or "").strip() or project.default_entity
    if not name:
        raise InvalidInput(
            "default_entity",
            "name the entity the input table stands for: this version declares no metadata.default_entity",
        )
    return name


def upload_input(version, source, name: str, default_entity: str | None = None, user=None) -> GivenInput:
    """The input uploaded as ``source`` (a binary stream or a local path) under the file name ``name``.

    1. The bytes are copied to a local file under their own name;
    2. its first rows are read as the run will read them (InvalidInput naming the file if they cannot be);
    3. only then is the file stored by content and the RunInput made, or the existing one reused.
    Raises OSError when the file cannot be written. Queries the database.
    """
    project = _project(version)
    entity = default_entity_for(project, default_entity)
    name = clean_name(name)
    staging = _inputs_root() / ".incoming" / uuid.uuid4().hex
    staging.mkdir(parents=True)
    try:
        local = staging / name
        with opened(source) as stream, open(local, "wb") as out:
            shutil.copyfileobj(stream, out, CHUNK_SIZE)
        check_readable(local, name, project, entity)
        stored = StoredFile.objects.store(local)
        _keep_local_copy(local, stored.sha256)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    run_input, _ = RunInput.objects.get_or_create(stored=stored, name=name, defaults={"uploaded_by": user})
    return GivenInput(run_input, entity)


def bundled_input(version, path: str, default_entity: str | None = None, user=None) -> GivenInput:
    """One of ``version``'s bundled files as the input (no new blob: the file is stored already).

    Raises InvalidInput for a path the version does not bundle, or a file that does not read as a table.
    """
    project = _project(version)
    entity = default_entity_for(project, default_entity)
    bundled = version.files.select_related("stored").filter(path=path).first()
    if bundled is None or not is_table_name(path):
        raise InvalidInput("input", f"{path} is not a CSV or Excel file of {version}")
    bundle = version.bundle()
    if path in bundle.unavailable:
        raise InvalidInput("input", bundle.unavailable[path])
    check_readable(bundle.main.parent / path, path, project, entity)
    run_input, _ = RunInput.objects.get_or_create(
        stored=bundled.stored, name=path, defaults={"uploaded_by": user}
    )
    return GivenInput(run_input, entity)


def earlier_input(version, input_id, default_entity: str | None = None) -> GivenInput:
    """An input given to an earlier run, by its id, checked again for this version's read options."""
    project = _project(version)
    entity = default_entity_for(project, default_entity)
    run_input = RunInput.objects.select_related("stored").filter(pk=input_id).first()
    if run_input is None:
        raise InvalidInput("input", f"no input table has the id {input_id}")
    check_readable(local_copy(run_input), run_input.name, project, entity)
    return GivenInput(run_input, entity)


def check_readable(path: Path, name: str, project, default_entity: str) -> None:
    """Raise InvalidInput naming the file when its first rows do not read as the run would read them."""
    if not is_table_name(name):
        raise InvalidInput(
            "input", f"{name}: an input table is a CSV (.csv, .tsv, .txt) or Excel (.xlsx, .xls) file"
        )
    kind = "Excel" if name.lower().endswith(EXCEL_SUFFIXES) else "CSV"
    try:
        table = read_input(default_entity, path, project, CHECK_ROWS)
    except Exception as exc:  # noqa: BLE001 - whatever pandas raised, the file is not a table it reads
        raise InvalidInput("input", f"{name} cannot be read as {kind}: {_reason(exc)}") from None
    if len(table.columns) == 0:
        raise InvalidInput("input", f"{name} cannot be read as {kind}: it has no columns")


def local_copy(run_input: RunInput) -> Path:
    """The input's bytes in a local file under its own name, for the engine; checked against its sha256.

    Shared by every run of the same content on this machine (``VAR_DIR/inputs/<sha256>/<name>``); a copy
    of the wrong size is made again. Raises OSError when the stored file is missing or corrupt.
    """
    sha256 = run_input.stored_id
    target = _inputs_root() / sha256 / Path(run_input.name).name
    try:
        if target.stat().st_size == run_input.stored.size:
            return target
    except FileNotFoundError:
        pass
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = target.with_name(f".{uuid.uuid4().hex}.part")
    try:
        with run_input.stored.blob.open("rb") as blob, open(temp, "wb") as out:
            writer = HashingWriter(out)
            shutil.copyfileobj(blob, writer, CHUNK_SIZE)
        if writer.sha256 != sha256:
            raise OSError(f"the stored input {run_input.name} is corrupt (sha256 {writer.sha256[:12]}…)")
        os.replace(temp, target)
    finally:
        temp.unlink(missing_ok=True)
    return target


def clean_name(name: str) -> str:
    """A file name safe as one local file name: its last part, odd characters replaced, at most 200 long."""
    base = re.sub(r"[^\w.\- ]", "_", Path(name or "").name).strip(" .") or "input"
    stem, suffix = os.path.splitext(base)
    return stem[: 200 - len(suffix)] + suffix


def _keep_local_copy(local: Path, sha256: str) -> None:
    """Put the checked upload where ``local_copy`` looks, so the run's worker need not copy it again."""
    target = _inputs_root() / sha256 / local.name
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(local, target)


def _project(version):
    project, error = version.project_or_error()
    if project is None:
        raise InvalidInput("input", f"{version} does not load, so it cannot read an input table: {error}")
    return project


def _inputs_root() -> Path:
    return Path(settings.VAR_DIR) / "inputs"


def _reason(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__
