"""A run's timeline: when each entity ran and for how long, as bars on one time axis.

The engine runs a plan's entities one after another in position order and a run stores each entity's
duration, not its start; so each bar starts where the durations before it end. (A format-2 entity whose
deferred links are made later has that time added to its duration: its bar covers it too.)
"""

from dataclasses import dataclass

MIN_WIDTH = 0.2  # percent: an entity of 0 ms still shows as a sliver


@dataclass
class Bar:
    """One entity's bar: ``x`` and ``width`` in percent of the run's total, formatted for SVG attributes."""

    result: object  # an EntityResult (status, entity, position, duration_ms)
    start_ms: int
    x: str = ""
    width: str = ""  # "" when the entity has no duration (not run, or not yet finished)


@dataclass
class Timeline:
    bars: list[Bar]
    total_ms: int

    @property
    def has_durations(self) -> bool:
        return self.total_ms > 0 or any(bar.width for bar in self.bars)


def timeline(results) -> Timeline:
    """The bars of ``results`` (a run's entity results, in position order, already loaded: no query)."""
    total = sum(result.duration_ms or 0 for result in results)
    bars, start = [], 0
    for result in results:
        bar = Bar(result, start)
        if result.duration_ms is not None and total:
            bar.x = _percent(start / total * 100)
            bar.width = _percent(max(result.duration_ms / total * 100, MIN_WIDTH))
        elif result.duration_ms is not None:  # every entity took 0 ms
            bar.x, bar.width = "0", _percent(MIN_WIDTH)
        bars.append(bar)
        start += result.duration_ms or 0
    return Timeline(bars, total)


def _percent(value: float) -> str:
    """A percentage for an SVG attribute: a dot as the decimal mark whatever the locale, at most 100."""
    return f"{min(value, 100.0):.3f}%"
