import pytest

from testruns.options import InvalidOptions, RunOptions


@pytest.mark.parametrize("rows", [10, 100, 10_000, None])
def test_it_accepts_sample_sizes_in_range_or_all(rows):
    assert RunOptions(max_rows_per_entity=rows).checked(None).max_rows_per_entity == rows


@pytest.mark.parametrize("rows", [9, 10_001, 0, -1, True, "100", 1.5])
def test_it_rejects_other_sample_sizes(rows):
    with pytest.raises(InvalidOptions) as excinfo:
        RunOptions(max_rows_per_entity=rows).checked(None)
    assert excinfo.value.field == "max_rows_per_entity"


def test_it_rejects_an_empty_entity_list():
    with pytest.raises(InvalidOptions, match="at least one entity"):
        RunOptions(entities=[]).checked(["a"])


def test_it_names_unknown_entities():
    with pytest.raises(InvalidOptions, match="unknown entities: x, y"):
        RunOptions(entities=["a", "x", "y"]).checked(["a", "b"])


def test_it_round_trips_through_a_dict():
    options = RunOptions(entities=["a"], max_rows_per_entity=None, stop_on_error=True)
    assert RunOptions.from_dict(options.to_dict() | {"output_format": "preview"}) == options
