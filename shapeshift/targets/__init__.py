"""Target models (format-v2.md 19): parse a model, check a project's configuration and its data against it.

model = load_target_model_file("sead_standard_model.yml")    # or target_model_of(project)
findings = check_conformance(project, model)                 # the editor's "Check Conformance" (19.2)
results = check_data(tables, project, model)                 # data-level checks of a run's tables (19.4)
"""

from .checks import CheckKind, CheckResult, CheckStatus, check_data
from .conformance import ConformanceCode, Finding, FindingScope, check_conformance, check_model
from .model import (
    ModelColumn,
    ModelEntity,
    ModelForeignKey,
    TargetModel,
    TargetModelError,
    load_target_model,
    load_target_model_file,
    target_model_of,
)

__all__ = [
    "TargetModel",
    "ModelEntity",
    "ModelColumn",
    "ModelForeignKey",
    "TargetModelError",
    "load_target_model",
    "load_target_model_file",
    "target_model_of",
    "Finding",
    "FindingScope",
    "ConformanceCode",
    "check_model",
    "check_conformance",
    "CheckKind",
    "CheckStatus",
    "CheckResult",
    "check_data",
]
