"""A configuration's trend: rows out and duration of each entity over its last completed runs.

The configuration page draws them as sparklines: inline SVG computed here, no JavaScript.
"""

from dataclasses import dataclass, field

from testruns.models import EntityResult, TestRun

WIDTH, HEIGHT, PAD = 120, 24, 2


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


def entity_trend(configuration, runs: int = 20, entities: int = 10) -> Trend:
    """The last ``runs`` runs of ``configuration`` that ran to their end, for its ``entities`` entities with
    most rows.

    A run failed by the verdict counts (its entities that succeeded give values; a configuration with an
    entity that always fails still has a trend); one that could not start or carry on does not. One query:
    the entity results of those runs (a LIMIT subquery served by the (configuration, status, created_at)
    index), with each run's time. Only succeeded entities give values.
    """
    last_runs = (
        TestRun.objects.filter(configuration=configuration)
        .ran_to_the_end()
        .order_by("-created_at", "-pk")
        .values("pk")[:runs]
    )
    rows = list(
        EntityResult.objects.filter(run__in=last_runs, status=EntityResult.Status.SUCCESS)
        .values_list("run_id", "run__created_at", "entity", "rows_out", "duration_ms")
        .order_by()
    )
    order = sorted({(created_at, run_id) for run_id, created_at, *_ in rows})
    position = {run_id: i for i, (_, run_id) in enumerate(order)}
    series: dict[str, tuple[list, list]] = {}
    for run_id, _, entity, rows_out, duration_ms in rows:
        rows_series, durations = series.setdefault(entity, ([None] * len(order), [None] * len(order)))
        rows_series[position[run_id]] = rows_out
        durations[position[run_id]] = duration_ms
    biggest = sorted(series, key=lambda name: (-max((v or 0) for v in series[name][0]), name))[:entities]
    return Trend(
        runs=len(order),
        entities=[
            EntityTrend(name, Sparkline(series[name][0]), Sparkline(series[name][1])) for name in biggest
        ],
    )
