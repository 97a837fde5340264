"""Planning and running: the only layer that knows both `config` and `sources`."""

from .outcomes import EntityOutcome, EntityStatus, Observer, RunResult
from .planning import Plan, plan
from .runner import run

__all__ = ["EntityOutcome", "EntityStatus", "Observer", "Plan", "RunResult", "plan", "run"]
