"""The phases the engine reports for each entity, with the rows of the table each phase starts from
(Observer.entity_phase), in both formats."""

from __future__ import annotations

from shapeshift import Observer
from tests.shapeshift.engine_support import SURVEY_CSV, frame


class Phases(Observer):
    def __init__(self) -> None:
        self.phases: list[tuple[str, str, int | None]] = []

    def entity_phase(self, name: str, phase: str, rows: int | None = None) -> None:
        self.phases.append((name, phase, rows))


FORMAT_1 = """
entities:
  survey:
    columns: [site, site_name, sample, taxon, count]
  site:
    surrogate_id: site_id
    keys: [site]
    columns: [site_name, site]
    drop_duplicates: true
  reading:
    surrogate_id: reading_id
    columns: [sample, site, taxon, count]
    filters: [{type: exists_in, column: site, other_entity: site}]
    unnest: {id_vars: [sample, site], value_vars: [taxon, count], var_name: var, value_name: value}
    drop_duplicates: true
    drop_empty_rows: [value]
    foreign_keys:
      - {entity: site, local_keys: [site], remote_keys: [site]}
"""


def test_format_1_reports_each_phase_with_the_rows_it_starts_from(ws):
    observer = Phases()
    result = ws.run(FORMAT_1, inputs={"survey": frame(SURVEY_CSV, sep=";")}, observer=observer)

    assert result.ok
    assert observer.phases == [
        ("site", "load", None),  # nothing read yet
        ("site", "subset", 4),  # the survey's 4 rows
        ("reading", "load", None),
        ("reading", "subset", 4),
        ("reading", "filter", 3),  # the subset dropped the repeated row
        ("reading", "link", 3),
        ("reading", "unnest", 3),
        ("reading", "link", 6),  # two value columns melted: twice the rows
        ("reading", "drop_empty_rows", 6),
    ]
    assert result.outcome("reading").rows_out == 5  # the empty count went


FORMAT_2 = """
metadata: {type: shapeshifter-project}
entities:
  taxa:
    type: fixed
    public_id: taxon_id
    keys: [code]
    columns: [code, name]
    values: [[Oak, Quercus], [Pine, Pinus], [Elm, Ulmus]]
  abundance:
    type: csv
    public_id: abundance_id
    keys: [sample]
    columns: [sample, taxon, count]
    options: {filename: samples.csv}
    filters:
      - {type: query, query: "sample != 'P4'"}
    foreign_keys:
      - {entity: taxa, local_keys: [taxon], remote_keys: [code]}
    unnest: {id_vars: [sample, taxon], value_vars: [count], var_name: what, value_name: value}
    drop_duplicates: true
    drop_empty_rows: [value]
"""


def test_format_2_reports_each_phase_with_the_rows_it_starts_from(ws):
    ws.write("samples.csv", "sample,taxon,count\nP1,Oak,3\nP2,Pine,\nP3,Oak,7\nP3,Oak,7\nP4,Elm,1\n")
    observer = Phases()
    result = ws.run(FORMAT_2, observer=observer)

    assert result.ok
    assert observer.phases == [
        ("taxa", "load", None),
        ("taxa", "subset", 3),
        ("abundance", "load", None),
        ("abundance", "subset", 5),  # the file's 5 rows
        ("abundance", "filter", 4),  # extract-stage filter after the sub-table's own de-duplication
        ("abundance", "dedupe", 3),  # P4 filtered out
        ("abundance", "link", 3),
        ("abundance", "filter", 3),  # after_link stage
        ("abundance", "unnest", 3),
        ("abundance", "link", 3),
        ("abundance", "filter", 3),  # after_unnest stage
        ("abundance", "drop_empty_rows", 3),
    ]
    assert result.outcome("abundance").rows_out == 2  # P2's empty count went


MERGED = """
metadata: {type: shapeshifter-project}
entities:
  oak:
    type: fixed
    public_id: oak_id
    keys: [code]
    columns: [code]
    values: [[O1], [O2]]
  pine:
    type: fixed
    public_id: pine_id
    keys: [code]
    columns: [code]
    values: [[P1], [P2], [P3]]
  tree:
    type: merged
    public_id: tree_id
    branches:
      - {name: oak, source: oak}
      - {name: pine, source: pine}
"""


def test_a_merged_entity_reports_the_rows_it_reads_from_its_branches(ws):
    observer = Phases()
    result = ws.run(MERGED, observer=observer)

    assert result.ok
    assert [phase for phase in observer.phases if phase[0] == "tree"] == [
        ("tree", "load", None),
        ("tree", "subset", 5),  # its branches' 2 + 3 rows, counted as read like a source's
    ]
    assert result.outcome("tree").rows_in == 5
