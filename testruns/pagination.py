"""Keyset pages of the run history: a position in it (``Cursor``) and one page (``RunPage``).

``TestRunQuerySet.keyset_page`` makes the pages; the history form reads cursors back from the URL.
"""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta


@dataclass(frozen=True)
class Cursor:
    """A position in the run history: a run's (created_at, id); ``<µs since 1970>_<id hex>`` in URLs."""

    created_at: datetime
    pk: uuid.UUID

    EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

    def __str__(self) -> str:
        return f"{(self.created_at - self.EPOCH) // timedelta(microseconds=1)}_{self.pk.hex}"

    @classmethod
    def of(cls, run) -> "Cursor":
        return cls(run.created_at, run.pk)

    @classmethod
    def parse(cls, text: str) -> "Cursor":
        """The cursor written in ``text``; ValueError if it is not one."""
        micros, _, hex_id = text.partition("_")
        if not micros.lstrip("-").isdigit() or len(micros) > 18:
            raise ValueError(f"{text!r} is not a position in the history.")
        try:
            return cls(cls.EPOCH + timedelta(microseconds=int(micros)), uuid.UUID(hex=hex_id))
        except (ValueError, OverflowError):
            raise ValueError(f"{text!r} is not a position in the history.") from None


@dataclass
class RunPage:
    """A page of the history: its runs and the cursors of the pages beside it (None at either end)."""

    runs: list
    newer: Cursor | None
    older: Cursor | None
    is_first: bool
