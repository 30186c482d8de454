"""A schemathesis run over the API's own OpenAPI schema: generated requests to every route, with and without
an API key, never get a 5xx, an undocumented status, or a response that violates the schema.

Requests the schema allows may still be refused (a date with no such day → 422), so the one check left out
is "a schema-valid request is accepted"."""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from policykb.config import Settings
from policykb.index.store import KnowledgeBase
from policykb.ui.api import create_app
from policykb.ui.api_keys import add_key
from policykb.ui.ingesting import ingest_paths

CORPUS = Path(__file__).resolve().parents[2] / "corpus"


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory):
    home = tmp_path_factory.mktemp("policykb-home")
    mp = pytest.MonkeyPatch()
    mp.setenv("POLICYKB_HOME", str(home))
    mp.setenv("POLICYKB_EMBEDDING_MODEL", "fake")
    mp.setenv("POLICYKB_API_RATE_LIMIT", "0")
    mp.delenv("POLICYKB_API_TOKEN", raising=False)
    kb = KnowledgeBase.open(Settings.load())
    ingest_paths(kb, [CORPUS / "shenzhen_weishi_2020.txt"], max_chars=360)
    yield schemathesis.openapi.from_asgi("/openapi.json", create_app())
    mp.undo()


def run_every_operation(schema, headers: dict[str, str]) -> list[str]:
    """Generated cases for each operation of ``schema``; the failures, one line each."""
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 12  # every route of the API is in the schema

    for op in operations:

        @given(case=op.as_strategy())
        @settings(
            max_examples=25,
            deadline=None,
            database=None,
            derandomize=True,  # the same cases on every run: a failure in CI is one a developer can replay
            suppress_health_check=list(HealthCheck),
        )
        def check(case):
            case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance])

        try:
            check()
        except Exception as exc:  # noqa: BLE001 — every operation is run; failures are listed together
            failures.append(f"{op.label}: {str(exc)[:500]}")
    return failures


def test_no_request_without_a_key_breaks_the_schema(api_schema):
    assert run_every_operation(api_schema, {}) == []


def test_no_request_with_a_key_breaks_the_schema(api_schema):
    secret = add_key(Path(Settings.load().home), "schemathesis")[1]
    assert run_every_operation(api_schema, {"authorization": f"Bearer {secret}"}) == []
