"""A configuration's trend: rows out and duration of each entity over its last completed runs with the same
options, so that like is drawn with like.

The configuration page draws them as sparklines: inline SVG computed here, no JavaScript.
"""

from dataclasses import dataclass, field

from testruns.models import EntityResult, TestRun

WIDTH, HEIGHT, PAD = 120, 24, 2
SCAN = 200  # the latest runs looked through for those with the latest one's options


@dataclass
class Sparkline:
    """One series, oldest run first (None where the entity has no value in that run), drawn in a box."""

    values: list

    @property
    def last(self):
        return next((v for v in reversed(self.values) if v is not None), None)

    @property
    def coordinates(self) -> list[tuple[float, float]]:
        known = [v for v in self.values if v is not None]
        if not known:
            return []
        low, high = min(known), max(known)
        step = (WIDTH - 2 * PAD) / max(1, len(self.values) - 1)

        def y(value):  # higher values higher up; a flat series runs through the middle
            if high == low:
                return HEIGHT / 2
            return PAD + (HEIGHT - 2 * PAD) * (high - value) / (high - low)

        return [
            (round(PAD + i * step, 1), round(y(v), 1)) for i, v in enumerate(self.values) if v is not None
        ]

    @property
    def points(self) -> str:
        """The SVG polyline's ``points``; runs where the entity has no value are left out."""
        return " ".join(f"{x},{y}" for x, y in self.coordinates)

    @property
    def end(self) -> tuple[float, float] | None:
        """Where the last value is drawn (a dot), or None for an empty series."""
        coordinates = self.coordinates
        return coordinates[-1] if coordinates else None


@dataclass
class EntityTrend:
    entity: str
    rows_out: Sparkline
    duration_ms: Sparkline


@dataclass
class Trend:
    runs: int  # how many runs the series span
    entities: list[EntityTrend] = field(default_factory=list)
    options: dict | None = None  # the options of those runs (the latest run's)
    left_out: int = 0  # runs with other options over the same span, not drawn


def entity_trend(configuration, runs: int = 20, entities: int = 10) -> Trend:
    """The last ``runs`` runs of ``configuration`` that ran to their end with the options of the latest one,
    for its ``entities`` entities with most rows.

    Like with like: runs that read other rows, other entities or another input (``TestRun.comparison_key``)
    give other tables, so they are left out and counted (``left_out``, over the span drawn). A run failed by
    the verdict counts (its entities that succeeded give values; a configuration with an entity that always
    fails still has a trend); one that could not start or carry on does not. Two queries: the latest
    SCAN runs (served by the (configuration, status, created_at) index), and the entity results of those
    drawn. Only succeeded entities give values.
    """
    recent = list(
        TestRun.objects.filter(configuration=configuration)
        .ran_to_the_end()
        .order_by("-created_at", "-pk")
        .only("pk", "created_at", "options")[:SCAN]
    )
    if not recent:
        return Trend(runs=0)
    key = recent[0].comparison_key
    drawn = [run for run in recent if run.comparison_key == key][:runs]
    oldest = drawn[-1].created_at
    left_out = sum(1 for run in recent if run.comparison_key != key and run.created_at >= oldest)
    rows = list(
        EntityResult.objects.filter(run__in=[run.pk for run in drawn], status=EntityResult.Status.SUCCESS)
        .values_list("run_id", "entity", "rows_out", "duration_ms")
        .order_by()
    )
    with_values = {run_id for run_id, *_ in rows}
    order = [run.pk for run in reversed(drawn) if run.pk in with_values]  # oldest first
    position = {run_id: i for i, run_id in enumerate(order)}
    series: dict[str, tuple[list, list]] = {}
    for run_id, entity, rows_out, duration_ms in rows:
        rows_series, durations = series.setdefault(entity, ([None] * len(order), [None] * len(order)))
        rows_series[position[run_id]] = rows_out
        durations[position[run_id]] = duration_ms
    biggest = sorted(series, key=lambda name: (-max((v or 0) for v in series[name][0]), name))[:entities]
    return Trend(
        runs=len(order),
        entities=[
            EntityTrend(name, Sparkline(series[name][0]), Sparkline(series[name][1])) for name in biggest
        ],
        options=recent[0].options,
        left_out=left_out,
    )
