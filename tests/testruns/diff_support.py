"""What the baseline and diff tests share: finished runs storing the entity tables a test gives."""

import hashlib

from django.utils import timezone

from testruns.models import Status
from tests.factories import make_result, make_run

# The fields of each entity of a diff, exactly as issue #11 lists them (the per-column match percentages:
# column_match; up to 20 sample rows of each kind: samples).
FIELDS = [
    "entity",
    "matched_on",
    "rows_base",
    "rows_head",
    "only_in_base",
    "only_in_head",
    "changed",
    "unchanged",
    "columns_added",
    "columns_removed",
    "column_match",
    "samples",
]


def store(run, entity: str, text: str, position=None, **fields):
    """An entity result of ``run`` storing the CSV ``text``, with its size and sha256 as runs record them."""
    data = text.encode()
    fields.setdefault("rows_out", text.count("\n") - 1)
    return make_result(
        run,
        entity,
        position,
        content=data,
        status="success",
        output_size=len(data),
        output_sha256=hashlib.sha256(data).hexdigest(),
        **fields,
    )


def finished(version, status=Status.COMPLETED, options=None, **tables):
    """A run of ``version`` that ended in ``status`` (first 100 rows unless ``options`` say otherwise),
    storing each entity's CSV text, in the order given."""
    options = {"max_rows_per_entity": 100} if options is None else options
    run = make_run(version, status, finished_at=timezone.now(), options=options)
    for position, (entity, text) in enumerate(tables.items()):
        store(run, entity, text, position)
    return run
