"""The options of a test run, checked the same way for the form, the API and the command line."""

from dataclasses import asdict, dataclass, field

MIN_ROWS, MAX_ROWS, DEFAULT_ROWS = 10, 10_000, 100


class InvalidOptions(ValueError):
    """Options that cannot run; ``field`` names the offending option."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class RunOptions:
    """What to run and how.

    ``entities`` None means every entity; ``max_rows_per_entity`` None means all rows (a full run).
    """

    entities: list[str] | None = None
    max_rows_per_entity: int | None = DEFAULT_ROWS
    stop_on_error: bool = False
    validate_foreign_keys: bool = True
    validate_constraints: bool = True
    # The sha256 of the table given as the default entity (a ``RunInput``'s), and that entity's name; set
    # by ``start_run`` from the run's input, never by a caller.
    input: str | None = None
    default_entity: str | None = None
    extra: dict = field(default_factory=dict, compare=False, repr=False)

    def checked(self, known_entities: list[str] | None) -> "RunOptions":
        """These options, or InvalidOptions naming the first problem.

        ``known_entities`` is the configuration's entity list; None skips that check (the worker then
        fails the run with the engine's own message).
        """
        if self.max_rows_per_entity is not None:
            if isinstance(self.max_rows_per_entity, bool) or not isinstance(self.max_rows_per_entity, int):
                raise InvalidOptions("max_rows_per_entity", "must be a whole number or null for all rows")
            if not MIN_ROWS <= self.max_rows_per_entity <= MAX_ROWS:
                raise InvalidOptions(
                    "max_rows_per_entity", f"must be between {MIN_ROWS} and {MAX_ROWS}, or null for all rows"
                )
        if self.entities is not None:
            if not self.entities:
                raise InvalidOptions("entities", "name at least one entity, or leave it out to run all")
            if known_entities is not None:
                unknown = [name for name in self.entities if name not in known_entities]
                if unknown:
                    raise InvalidOptions("entities", "unknown entities: " + ", ".join(unknown))
        if self.input is not None and not self.default_entity:
            raise InvalidOptions(
                "default_entity", "name the entity the input table stands for (the default entity)"
            )
        return self

    def to_dict(self) -> dict:
        """The options as stored on the run; a run without an input keeps the keys it always had."""
        data = asdict(self)
        data.pop("extra")
        for key in ("input", "default_entity"):
            if data[key] is None:
                data.pop(key)
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "RunOptions":
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data and k != "extra"}
        return cls(**known)

    @property
    def sample_label(self) -> str:
        return "all rows" if self.max_rows_per_entity is None else f"first {self.max_rows_per_entity} rows"
