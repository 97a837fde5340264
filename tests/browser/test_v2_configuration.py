"""A format-2 project in a real browser: uploaded on the import page with its data and target model, then
its configuration page: the format, the project's metadata, merged branches and a deferred foreign key.

Run at a desktop width and a phone width; the screenshots are kept in /tmp for a look.
"""

import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

CONFORMANCE_V2 = Path(__file__).resolve().parents[3] / "shared" / "data" / "conformance-v2"
MODEL = CONFORMANCE_V2 / "35_target_model_conformance" / "mini_model.yml"
ANALYSES = CONFORMANCE_V2 / "27_merged_branches" / "analyses.csv"
PROJECT = """\
metadata:
  type: shapeshifter-project
  name: Analyses of samples
  description: Dendro and pollen analyses merged into one analysis entity.
  version: 1.0.0
  default_entity: analyses
  target_model: "@include: mini_model.yml"
entities:
  analyses:
    type: csv
    public_id: analyses_id
    keys: []
    columns: [sample, method, value]
    options: {filename: analyses.csv}
  dendro:
    type: entity
    source: analyses
    public_id: dendro_id
    keys: [sample]
    columns: [sample, value]
    filters: [{type: query, query: "method == 'dendro'"}]
  pollen:
    type: entity
    source: analyses
    public_id: pollen_id
    keys: [sample]
    columns: [sample, value]
    filters: [{type: query, query: "method == 'pollen'"}]
    foreign_keys:
      - {entity: analysis_entity, local_keys: [sample], remote_keys: [sample], defer_dependency: true}
  analysis_entity:
    type: merged
    public_id: analysis_entity_id
    keys: [sample]
    columns: [sample]
    branches:
      - {name: dendro, source: dendro, keys: [sample]}
      - {name: pollen, source: pollen, keys: [sample]}
"""


@pytest.mark.parametrize("width", [1366, 390])
def test_a_v2_project_is_imported_and_shown(
    log_in, live_server, transactional_db, page, django_user_model, tmp_path, width
):
    from playwright.sync_api import expect

    django_user_model.objects.create_user("alice", "alice@example.org", "password")
    project = tmp_path / "analyses.yml"
    project.write_text(PROJECT)
    page.set_viewport_size({"width": width, "height": 900})

    page.goto(live_server.url + "/configurations/import/")
    log_in(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Import a configuration")
    expect(page.get_by_label("Format")).to_have_value("")  # detected unless the importer forces one
    page.get_by_label("Configuration YAML").set_input_files(str(project))
    page.get_by_label("Referenced files").set_input_files([str(ANALYSES), str(MODEL)])
    page.get_by_role("button", name="Import").click()

    expect(page).to_have_url(re.compile(r"/configurations/analyses/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Analyses of samples")
    expect(page.locator(".chip-format").first).to_have_text("format 2")
    facts = page.locator("dl.project-metadata")
    expect(facts).to_contain_text("Dendro and pollen analyses merged into one analysis entity.")
    expect(facts).to_contain_text("Mini excavation model 1.0.0")  # mini_model.yml's model: name, version
    expect(facts.locator("dd").nth(3)).to_have_text("analyses")
    merged = page.locator("#entity-analysis_entity")
    expect(merged).to_contain_text("merged")
    expect(merged.locator(".branch")).to_have_count(2)
    expect(merged.locator(".branch").first).to_have_text("dendro ← dendro (sample)")
    deferred = page.locator("#entity-pollen .fk-deferred")
    expect(deferred).to_contain_text("analysis_entity")
    expect(deferred.locator(".chip")).to_have_text("deferred")
    expect(page.locator("#entity-pollen td").nth(4)).to_have_text("analyses")  # not analysis_entity

    page.screenshot(path=f"/tmp/v2_configuration_{width}.png", full_page=True)
    # Nothing but the tables' own scroll boxes is wider than the window.
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.goto(live_server.url + "/configurations/import/")
    page.screenshot(path=f"/tmp/v2_import_{width}.png", full_page=True)
