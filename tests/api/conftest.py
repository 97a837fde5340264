"""Runs made directly in the database, with whatever entity results a test needs, for the API tests."""

import pytest
from django.utils import timezone

from accounts.models import ApiToken
from testruns.models import EntityResult, Status, TestRun
from tests import factories


@pytest.fixture
def alice_token(alice):
    _, token = ApiToken.objects.issue(alice, label="tests")
    return token


@pytest.fixture
def bearer(alice_token):
    """Headers for the test client that authenticate as alice with her API token."""
    return {"HTTP_AUTHORIZATION": f"Bearer {alice_token}"}


@pytest.fixture
def make_run(demo_version, alice):
    """A run of the demo in ``status`` with ``entities`` finished entity results (each with a preview)."""

    def make(entities: int = 2, status: str = Status.COMPLETED, created_at=None, **fields) -> TestRun:
        now = timezone.now()
        fields = {
            "started_at": now,
            "finished_at": now if status in (Status.COMPLETED, Status.FAILED) else None,
            "entities_total": entities,
            "entities_completed": entities,
            "entities_succeeded": entities,
            **fields,
        }
        results = [
            {
                "entity": f"entity_{i}",
                "status": EntityResult.Status.SUCCESS,
                "rows_in": 20,
                "rows_out": 20,
                "duration_ms": 7,
                "columns": ["id", "name"],
                "preview": [[n, f"row {n}"] for n in range(20)],
                "issues": [
                    {
                        "severity": "warning",
                        "code": "fk_unmatched",
                        "entity": f"entity_{i}",
                        "message": "2 rows without a match",
                        "suggestion": "check the keys",
                        "location": "",
                    }
                ],
            }
            for i in range(entities)
        ]
        return factories.make_run(
            demo_version,
            status,
            results,
            requested_by=alice,
            options={"entities": None, "max_rows_per_entity": 100},
            created_at=created_at or now,
            **fields,
        )

    return make
