"""Who may open each URL: anonymous visitors are sent to log in (the API answers 401), any logged-in user sees
another's objects, and an object that does not exist is a 404 (the styled page; JSON for the API).

The cases are read from the URLconf: a URL added without a case here fails ``test_every_url_has_a_case``.
"""

import uuid
from dataclasses import dataclass, field

import pytest
from django.urls import URLResolver, get_resolver, reverse

from configurations.models import Configuration, ConfigurationVersion
from testruns.models import Baseline, TestRun
from tests.factories import make_exportable_run

pytestmark = pytest.mark.django_db

RUN = "<run>"  # the run the test makes (a finished run of alice's demo, with a stored "site" table)
UNKNOWN = uuid.UUID(int=1)  # a run id that names no run


@dataclass(frozen=True)
class Case:
    """How to call one URL: ``known`` names alice's objects, ``unknown`` names none (None: no object)."""

    method: str = "get"
    known: dict = field(default_factory=dict)
    unknown: dict | None = None
    query: str = ""
    unknown_query: str = ""
    data: dict = field(default_factory=dict)
    ok: int = 200  # what another logged-in user gets for alice's object (GET cases)


DEMO = {"name": "demo"}
NOPE = {"name": "nope"}
A_RUN, NO_RUN = {"run_id": RUN}, {"run_id": UNKNOWN}

CASES = {
    # pages of the whole site
    "dashboard": Case(),
    "configurations:list": Case(),
    "configurations:import": Case(),
    "testruns:list": Case(),
    "api-1:openapi-view": Case(),
    # /configurations/<name>/
    "configurations:detail": Case(known=DEMO, unknown=NOPE),
    "testruns:start": Case(known=DEMO, unknown=NOPE),
    "configurations:edit": Case(known=DEMO, unknown=NOPE),
    "configurations:validate": Case("post", known=DEMO, unknown=NOPE, data={"yaml_text": "x"}),
    "configurations:target_model": Case("post", known=DEMO, unknown=NOPE, data={"remove": "on"}),
    "configurations:version": Case(known={**DEMO, "number": 1}, unknown={**DEMO, "number": 9}),
    "configurations:diff": Case(known={**DEMO, "a": 1, "b": 1}, unknown={**DEMO, "a": 1, "b": 9}),
    "configurations:diff_pick": Case(known=DEMO, query="?a=1&b=1", ok=302),  # a redirect to the diff
    # GET: the restore's confirmation page
    "configurations:restore": Case(known={**DEMO, "number": 1}, unknown={**DEMO, "number": 9}),
    "configurations:download_yaml": Case(known={**DEMO, "number": 1}, unknown={**DEMO, "number": 9}),
    "configurations:download_bundle": Case(known={**DEMO, "number": 1}, unknown={**DEMO, "number": 9}),
    # /runs/
    "testruns:compare": Case(
        query=f"?base={RUN}&head={RUN}", unknown={}, unknown_query=f"?base={RUN}&head={UNKNOWN}"
    ),
    "testruns:compare_diff": Case(
        query=f"?base={RUN}&head={RUN}", unknown={}, unknown_query=f"?base={RUN}&head={UNKNOWN}"
    ),
    "testruns:detail": Case(known=A_RUN, unknown=NO_RUN),
    "testruns:status": Case(known=A_RUN, unknown=NO_RUN),
    "testruns:cancel": Case("post", known=A_RUN, unknown=NO_RUN),
    "testruns:rerun": Case("post", known=A_RUN, unknown=NO_RUN),
    "testruns:rerun_current": Case("post", known=A_RUN, unknown=NO_RUN),
    "testruns:delete": Case(known=A_RUN, unknown=NO_RUN),  # GET: the confirmation page
    "testruns:pin": Case("post", known=A_RUN, unknown=NO_RUN),
    "testruns:baseline": Case(known=A_RUN, unknown=NO_RUN),
    "testruns:make_baseline": Case("post", known=A_RUN, unknown=NO_RUN),
    "testruns:clear_baseline": Case("post", known=A_RUN, unknown=NO_RUN),
    "testruns:entity": Case(known={**A_RUN, "name": "site"}, unknown={**A_RUN, "name": "nope"}),
    "testruns:entity_csv": Case(known={**A_RUN, "name": "site"}, unknown={**A_RUN, "name": "nope"}),
    "testruns:entity_view_csv": Case(known={**A_RUN, "name": "site"}, unknown={**A_RUN, "name": "nope"}),
    "testruns:entity_view_xlsx": Case(known={**A_RUN, "name": "site"}, unknown={**A_RUN, "name": "nope"}),
    "testruns:export_json": Case(known=A_RUN, unknown=NO_RUN),
    "testruns:export_zip": Case(known=A_RUN, unknown=NO_RUN),
    "testruns:export_xlsx": Case(known=A_RUN, unknown=NO_RUN),
}
API_CASES = {
    "api-1:openapi-json": Case(),
    "api-1:list_test_runs": Case(),
    "api-1:create_test_run": Case("post", data={"config_name": "demo", "options": {"entities": ["site"]}}),
    "api-1:get_test_run": Case(known=A_RUN, unknown=NO_RUN),
    "api-1:delete_test_run": Case("delete", known=A_RUN, unknown=NO_RUN),
    "api-1:get_test_run_progress": Case(known=A_RUN, unknown=NO_RUN),
    "api-1:cancel_test_run": Case("post", known=A_RUN, unknown=NO_RUN),
    "api-1:make_test_run_baseline": Case("post", known=A_RUN, unknown=NO_RUN),
    "api-1:clear_test_run_baseline": Case("delete", known=A_RUN, unknown=NO_RUN),
    "api-1:get_test_run_diff": Case(known=A_RUN, unknown=NO_RUN, query=f"?base={RUN}"),
    "api-1:import_configuration_files": Case("post", data={"name": "demo"}),
    "api-1:list_configurations": Case(),
    "api-1:get_configuration": Case(known=DEMO, unknown=NOPE),
    "api-1:list_versions": Case(known=DEMO, unknown=NOPE),
    "api-1:get_version": Case(known={**DEMO, "number": 1}, unknown={**DEMO, "number": 9}),
}
# Open to everyone by design, or guarded by their own login page (the admin's, tested in test_admin_pages).
PUBLIC = {"login", "logout", "api-1:api-root"}


def url_names(patterns=None, namespace=""):
    """Every named URL of the project, namespaced, outside the admin."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            if pattern.namespace != "admin":
                inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
                yield from url_names(pattern.url_patterns, inner)
        elif pattern.name:
            yield namespace + pattern.name


@pytest.fixture
def run(demo_version, alice):
    return make_exportable_run(demo_version, alice)


def address(name, case, run, unknown=False):
    kwargs = case.unknown if unknown else case.known
    query = case.unknown_query if unknown else case.query
    kwargs = {key: run.pk if value == RUN else value for key, value in kwargs.items()}
    return reverse(name, kwargs=kwargs) + query.replace(RUN, str(run.pk))


def call(client, name, case, run, unknown=False):
    path = address(name, case, run, unknown)
    if name in API_CASES:
        return getattr(client, case.method)(path, case.data, content_type="application/json")
    return getattr(client, case.method)(path, case.data)


def state():
    """What an anonymous request must leave as it was."""
    runs = TestRun.objects.order_by("pk").values_list("pk", "status", "pinned", "cancel_requested_at")
    counts = Configuration.objects.count(), ConfigurationVersion.objects.count(), Baseline.objects.count()
    return list(runs), counts


def test_every_url_has_a_case(db):
    names = set(url_names())

    assert names - PUBLIC - set(CASES) - set(API_CASES) == set(), "add a case for each new URL"
    assert set(CASES) | set(API_CASES) | PUBLIC <= names  # no case for a URL that is gone


@pytest.mark.parametrize("name", sorted(CASES))
def test_it_sends_anonymous_visitors_to_log_in(client, run, name):
    before = state()

    response = call(client, name, CASES[name], run)

    assert response.status_code == 302
    assert response.url.startswith(reverse("login") + "?next=")
    assert state() == before


@pytest.mark.parametrize("name", sorted(API_CASES))
def test_it_answers_anonymous_api_callers_401_json(client, run, name):
    before = state()

    response = call(client, name, API_CASES[name], run)

    assert response.status_code == 401
    assert response.json() == {"detail": "Unauthorized"}
    assert state() == before


@pytest.mark.parametrize(
    "name", sorted(n for n, case in {**CASES, **API_CASES}.items() if case.method == "get")
)
def test_it_allows_other_users(client, bob, run, name):
    client.force_login(bob)
    case = {**CASES, **API_CASES}[name]

    response = call(client, name, case, run)

    assert response.status_code == case.ok


@pytest.mark.parametrize("name", sorted(n for n, case in CASES.items() if case.unknown is not None))
def test_it_shows_the_styled_404_for_an_unknown_object(alice_client, run, name):
    response = call(alice_client, name, CASES[name], run, unknown=True)

    assert response.status_code == 404
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert 'class="topbar"' in response.content.decode()  # a page of the site, not the bare default


@pytest.mark.parametrize("name", sorted(n for n, case in API_CASES.items() if case.unknown is not None))
def test_it_answers_404_json_for_an_unknown_object(alice_client, run, name):
    response = call(alice_client, name, API_CASES[name], run, unknown=True)

    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found"}
