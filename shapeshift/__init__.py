"""shapeshift: load, validate, plan and run Shape Shifter configurations (pure Python + pandas).

project = shapeshift.load("config.yml")
issues = shapeshift.validate(project)
plan = shapeshift.plan(project, entities=None)
result = shapeshift.run(project, plan, inputs=None, max_rows=None, observer=None)
shapeshift.write_csv(table, path_or_binary_file)  # what table.to_csv(..., index=False) writes, faster
graph = shapeshift.entity_graph(project)  # entities and why each needs another, for drawing
"""

from .config import (
    FORMAT_V1,
    FORMAT_V2,
    FORMAT_VERSIONS,
    DirectoryResolver,
    EntitySpec,
    FileRef,
    FileResolver,
    FileUnavailable,
    ForeignKeySpec,
    Project,
    collect_files,
    load,
    validate,
)
from .csvwriter import write_csv
from .errors import ConfigError
from .graph import EntityGraph, GraphEdge, GraphNode, entity_graph
from .issues import Issue, IssueCode, Severity
from .pipeline import EntityOutcome, EntityStatus, Observer, Plan, RunResult, plan, run
from .sqlpolicy import SqlPolicy, SqlTarget

__all__ = [
    "FORMAT_V1",
    "FORMAT_V2",
    "FORMAT_VERSIONS",
    "load",
    "validate",
    "plan",
    "run",
    "write_csv",
    "entity_graph",
    "EntityGraph",
    "GraphNode",
    "GraphEdge",
    "collect_files",
    "ConfigError",
    "Issue",
    "Severity",
    "IssueCode",
    "Project",
    "Plan",
    "EntityOutcome",
    "EntityStatus",
    "RunResult",
    "Observer",
    "DirectoryResolver",
    "FileResolver",
    "FileUnavailable",
    "EntitySpec",
    "ForeignKeySpec",
    "FileRef",
    "SqlPolicy",
    "SqlTarget",
]
