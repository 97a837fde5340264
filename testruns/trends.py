"""A configuration's trend: rows out and duration of each entity over its last completed runs with the same
options, so that like is drawn with like.

The configuration page (the latest run's options) and the run page (that run's options, up to it) draw them
as sparklines: inline SVG computed here, no JavaScript. Each point says its run, date and value on hover
(an SVG <title>), and each entity's values are listed for keyboard and screen-reader users too.
"""

from dataclasses import dataclass, field

from testruns.models import EntityResult, TestRun

WIDTH, HEIGHT, PAD = 120, 24, 2
SCAN = 200  # the latest runs looked through for those with the latest one's options


@dataclass(frozen=True)
class Point:
    """One value of a series where it is drawn, with the run it is of and the band that shows its tooltip."""

    x: float
    y: float
    value: int
    run: TestRun
    band_x: float  # the strip of the box around x that hovering points at this value
    band_width: float


@dataclass
class Sparkline:
    """One series, oldest run first (None where the entity has no value in that run), drawn in a box;
    ``runs`` are the runs of the values (the same length), for each point's tooltip."""

    values: list
    runs: list = field(default_factory=list)

    @property
    def last(self):
        return next((v for v in reversed(self.values) if v is not None), None)

    @property
    def first(self):
        return next((v for v in self.values if v is not None), None)

    @property
    def step(self) -> float:
        return (WIDTH - 2 * PAD) / max(1, len(self.values) - 1)

    @property
    def coordinates(self) -> list[tuple[float, float]]:
        known = [v for v in self.values if v is not None]
        if not known:
            return []
        low, high = min(known), max(known)
        step = self.step

        def y(value):  # higher values higher up; a flat series runs through the middle
            if high == low:
                return HEIGHT / 2
            return PAD + (HEIGHT - 2 * PAD) * (high - value) / (high - low)

        return [
            (round(PAD + i * step, 1), round(y(v), 1)) for i, v in enumerate(self.values) if v is not None
        ]

    @property
    def dots(self) -> list[Point]:
        """The points drawn, each with its run (when ``runs`` are given) and its hover band."""
        runs = self.runs or [None] * len(self.values)
        known = [(value, run) for value, run in zip(self.values, runs, strict=True) if value is not None]
        half, dots = self.step / 2, []
        for (x, y), (value, run) in zip(self.coordinates, known, strict=True):
            left, right = max(0.0, x - half), min(float(WIDTH), x + half)
            dots.append(Point(x, y, value, run, round(left, 1), round(right - left, 1)))
        return dots

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

    @property
    def values(self) -> list[tuple[TestRun, int | None, int | None]]:
        """(run, rows out, duration) per run of the trend, oldest first: the list beside the sparklines."""
        return list(zip(self.rows_out.runs, self.rows_out.values, self.duration_ms.values, strict=True))


@dataclass
class Trend:
    runs: int  # how many runs the series span
    entities: list[EntityTrend] = field(default_factory=list)
    options: dict | None = None  # the options of those runs (the latest run's, or ``until``'s)
    left_out: int = 0  # runs with other options over the same span, not drawn
    until: TestRun | None = None  # the run the trend leads up to (the run page's), None for the latest


def entity_trend(configuration, runs: int = 20, entities: int = 10, until: TestRun | None = None) -> Trend:
    """The last ``runs`` runs of ``configuration`` that ran to their end with the options of the latest one
    (or, with ``until``, with that run's options and created no later than it), for its ``entities``
    entities with most rows.

    Like with like: runs that read other rows, other entities or another input (``TestRun.comparison_key``)
    give other tables, so they are left out and counted (``left_out``, over the span drawn). A run failed by
    the verdict counts (its entities that succeeded give values; a configuration with an entity that always
    fails still has a trend); one that could not start or carry on does not. Two queries: the latest
    SCAN runs (served by the (configuration, status, created_at) index), and the entity results of those
    drawn. Only succeeded entities give values.
    """
    candidates = TestRun.objects.filter(configuration=configuration).ran_to_the_end()
    if until is not None:
        candidates = candidates.filter(created_at__lte=until.created_at)
    recent = list(candidates.order_by("-created_at", "-pk").only("pk", "created_at", "options")[:SCAN])
    current = until or (recent[0] if recent else None)
    if current is None:
        return Trend(runs=0)
    key = current.comparison_key
    drawn = [run for run in recent if run.comparison_key == key][:runs]
    if not drawn:
        return Trend(runs=0, options=current.options, until=until)
    oldest = drawn[-1].created_at
    left_out = sum(1 for run in recent if run.comparison_key != key and run.created_at >= oldest)
    rows = list(
        EntityResult.objects.filter(run__in=[run.pk for run in drawn], status=EntityResult.Status.SUCCESS)
        .values_list("run_id", "entity", "rows_out", "duration_ms")
        .order_by()
    )
    with_values = {run_id for run_id, *_ in rows}
    order = [run for run in reversed(drawn) if run.pk in with_values]  # oldest first
    position = {run.pk: i for i, run in enumerate(order)}
    series: dict[str, tuple[list, list]] = {}
    for run_id, entity, rows_out, duration_ms in rows:
        rows_series, durations = series.setdefault(entity, ([None] * len(order), [None] * len(order)))
        rows_series[position[run_id]] = rows_out
        durations[position[run_id]] = duration_ms
    biggest = sorted(series, key=lambda name: (-max((v or 0) for v in series[name][0]), name))[:entities]
    return Trend(
        runs=len(order),
        entities=[
            EntityTrend(name, Sparkline(series[name][0], order), Sparkline(series[name][1], order))
            for name in biggest
        ],
        options=current.options,
        left_out=left_out,
        until=until,
    )
