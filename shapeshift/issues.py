"""Validation and run issues: a severity, a stable code, the entity and a human message.

Codes are an Enum so tests and the UI match codes, never message text. The code names follow the
rule numbers of the specification (section 3.2) where one exists. One code, one meaning: a new kind of
finding gets a new code, and a code's value never changes (issues of old runs are stored with it).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum, unique


class Severity(StrEnum):
    """How bad an issue is; only ERROR makes processing impossible."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@unique
class IssueCode(StrEnum):
    """Stable reason codes for issues."""

    # loading / structure
    ENTITIES_MISSING = "entities_missing"  # X1
    ENTITY_EMPTY = "entity_empty"
    ENTITY_NOT_MAPPING = "entity_not_mapping"
    UNRESOLVED_REFERENCE = "unresolved_reference"  # a literal "@value: ..." survived
    LOAD_DIRECTIVE_FAILED = "load_directive_failed"
    # required fields
    FIXED_MISSING_SURROGATE_ID = "fixed_missing_surrogate_id"  # R1
    FIXED_MISSING_COLUMNS = "fixed_missing_columns"  # R2 / F2
    FIXED_MISSING_VALUES = "fixed_missing_values"  # R3 / F1
    DATA_MISSING_COLUMNS = "data_missing_columns"  # R4
    DEFAULT_ENTITY_NEEDED = "default_entity_needed"  # entities read an input table none declares
    COLUMNS_NOT_LIST = "columns_not_list"
    KEYS_NOT_LIST = "keys_not_list"
    INVALID_TYPE = "invalid_type"  # the value of type is not an entity type
    # references
    FK_MISSING_ENTITY = "fk_missing_entity"  # X2 / K1
    FK_UNKNOWN_ENTITY = "fk_unknown_entity"  # X3
    DEPENDS_ON_UNKNOWN = "depends_on_unknown"  # X4
    SOURCE_UNKNOWN = "source_unknown"  # X5
    CIRCULAR_DEPENDENCY = "circular_dependency"  # C1
    DATA_SOURCE_UNKNOWN = "data_source_unknown"  # D1 / D2
    DRIVER_UNKNOWN = "driver_unknown"
    SOURCE_UNAVAILABLE = "source_unavailable"
    FILE_MISSING = "file_missing"  # the file a file entity names is not there
    FILENAME_MISSING = "filename_missing"  # a csv/tsv/xlsx entity without options.filename
    FILE_UNREADABLE = "file_unreadable"  # the file is there but its header cannot be read
    # sql
    SQL_MISSING_DATA_SOURCE = "sql_missing_data_source"  # S1
    SQL_MISSING_QUERY = "sql_missing_query"  # S2
    SQL_EMPTY_QUERY = "sql_empty_query"  # S3
    SQL_HAS_SOURCE = "sql_has_source"  # S4
    SQL_LEGACY_VALUES = "sql_legacy_values"
    SQL_MISSING_TYPE = "sql_missing_type"  # uses an SQL data source but is not type: sql
    # fixed
    FIXED_ROW_LENGTH = "fixed_row_length"  # F3
    FIXED_ROW_NOT_LIST = "fixed_row_not_list"  # F4
    FIXED_ROW_IS_LIST = "fixed_row_is_list"  # a single-column fixed entity with list rows
    FIXED_HAS_SOURCE = "fixed_has_source"  # F5
    FIXED_VALUES_LOST = "fixed_values_lost"
    # foreign keys
    FOREIGN_KEYS_NOT_LIST = "foreign_keys_not_list"
    FK_NOT_MAPPING = "fk_not_mapping"
    FK_MISSING_LOCAL_KEYS = "fk_missing_local_keys"  # K2
    FK_MISSING_REMOTE_KEYS = "fk_missing_remote_keys"  # K3
    FK_KEY_COUNT = "fk_key_count"  # K4
    FK_EXTRA_COLUMNS_TYPE = "fk_extra_columns_type"  # K5
    FK_CROSS_WITH_KEYS = "fk_cross_with_keys"
    FK_INVALID_HOW = "fk_invalid_how"
    FK_SELF_REFERENCE = "fk_self_reference"
    FK_CHECK_FAILED = "fk_check_failed"  # a key check failed: not linked
    FK_ALREADY_LINKED = "fk_already_linked"  # its id (or extra) columns are already there: skipped
    FK_DEFERRED = "fk_deferred"
    FK_UNMATCHED = "fk_unmatched"
    FK_ROWS_CHANGED = "fk_rows_changed"
    FK_EXTRA_COLUMNS_MISSING = "fk_extra_columns_missing"
    FK_CONSTRAINT_UNKNOWN = "fk_constraint_unknown"
    FK_CARDINALITY_HYPHENATED = "fk_cardinality_hyphenated"  # one-to-one read as one_to_one
    FK_CONSTRAINT_VIOLATION = "fk_constraint_violation"
    # unnest
    UNNEST_NOT_MAPPING = "unnest_not_mapping"
    UNNEST_MISSING_VALUE_VARS = "unnest_missing_value_vars"  # U1
    UNNEST_MISSING_VAR_NAME = "unnest_missing_var_name"  # U2
    UNNEST_MISSING_VALUE_NAME = "unnest_missing_value_name"  # U3
    UNNEST_MISSING_ID_VARS = "unnest_missing_id_vars"  # U4
    UNNEST_FAILED = "unnest_failed"
    # misc rules
    DROP_DUPLICATES_TYPE = "drop_duplicates_type"  # DD1
    SURROGATE_ID_NAMING = "surrogate_id_naming"  # SI1
    SURROGATE_ID_SHARED = "surrogate_id_shared"  # SI2
    APPEND_MODE_INVALID = "append_mode_invalid"  # A1
    APPEND_NO_TYPE_OR_SOURCE = "append_no_type_or_source"  # A2
    APPEND_TYPE_AND_SOURCE = "append_type_and_source"  # A3
    APPEND_FIXED_MISSING_VALUES = "append_fixed_missing_values"  # A5
    APPEND_FIXED_VALUES_NOT_LIST = "append_fixed_values_not_list"  # A6
    APPEND_SQL_MISSING_QUERY = "append_sql_missing_query"  # A7
    APPEND_SOURCE_UNKNOWN = "append_source_unknown"  # A8
    APPEND_SOURCE_NO_COLUMNS = "append_source_no_columns"  # A9
    FILTER_TARGET_NOT_DEPENDENCY = "filter_target_not_dependency"
    FILTER_INVALID = "filter_invalid"
    FILTER_UNKNOWN_ENTITY = "filter_unknown_entity"
    # run time
    COLUMNS_MISSING = "columns_missing"  # requested columns the source does not have
    DROP_DUPLICATES_COLUMNS_MISSING = "drop_duplicates_columns_missing"
    DROP_EMPTY_COLUMNS_MISSING = "drop_empty_columns_missing"
    ENTITY_FAILED = "entity_failed"
    VALIDATION_CRASHED = "validation_crashed"
    ROWS_TRUNCATED = "rows_truncated"
    ENTITY_SKIPPED = "entity_skipped"
    MAPPING_INVALID = "mapping_invalid"  # an entity's value mapping (mappings:)
    TRANSLATION_INVALID = "translation_invalid"  # the column translation table (translation:)
    IGNORED_FIELD = "ignored_field"
    # format 2: pipeline
    SUB_TABLES_EMPTY = "sub_tables_empty"  # every sub-table of an entity was empty (format-v2.md 6.5)
    DUPLICATE_KEYS = "duplicate_keys"  # rows repeat a combination of the entity's keys (6.3 step 13)
    FK_DEFERRED_UNRESOLVED = "fk_deferred_unresolved"  # a deferred link never made (12.5)
    SYSTEM_ID_RENUMBERED = "system_id_renumbered"  # a given system_id was not a usable row identity (5.1)
    APPEND_DISTINCT = "append_distinct"  # append_mode: distinct removed repeated rows (15.4)
    # format 2: link
    FK_COLUMNS_UNEXPECTED = "fk_columns_unexpected"  # a join added other columns than its selection
    # format 2: transforms (extra_columns, drop_duplicates, replacements, filters)
    DROP_DUPLICATES_FD_VIOLATION = "drop_duplicates_fd_violation"  # non-strict FD check failed
    REPLACEMENT_RULE_INVALID = "replacement_rule_invalid"  # unknown rule/fill/coerce/normalize: skipped
    REPLACEMENT_REPORT = "replacement_report"  # report_replaced / report_unmatched counts
    EXTRA_COLUMNS_UNRESOLVED = "extra_columns_unresolved"  # items still missing at the end (8.2)


@dataclass
class Issue:
    """One finding about a configuration or a run.

    `location` is "file:line" (or a dotted key path) when known; `suggestion` says what to do next.
    """

    severity: Severity
    code: IssueCode
    entity: str | None
    message: str
    suggestion: str = ""
    location: str = ""

    def to_dict(self) -> dict:
        data = asdict(self)
        data["severity"] = self.severity.value
        data["code"] = self.code.value
        return data

    def __str__(self) -> str:
        who = f"{self.entity}: " if self.entity else ""
        return f"[{self.severity.value}] {who}{self.message}"
