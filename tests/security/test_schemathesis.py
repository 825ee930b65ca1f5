"""Hostile input through every operation of /openapi.json: never a server error, and every
answer is one the schema describes (its status, its content type and its body).

Schemathesis generates each operation's requests from the schema, both valid ones and
ones that break it (wrong types, missing fields, out-of-range numbers, odd strings), and
sends them as the admin or as ASH's ward staff (a bearer token). Half the time the path's
ids and codes are real records (an admission on ASH, its seclusion, an alert...), so the
requests reach past "not found" into the services. Each request is rolled back, so every
one meets the same records.

Deterministic for CI: derandomized (the same examples every run, no example database) and
a bounded number of examples per operation.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.security.test_route_access import Trust, build_trust, rolled_back

EXAMPLES_PER_OPERATION = 24
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
USERS = ["admin", "nurse"]


@schemathesis.serializer("application/hl7-v2")
def _hl7_v2(_ctx: Any, value: Any) -> bytes:
    """POST /api/v1/hl7/v2 takes an HL7 v2 message as text (issue 21): any string is sent
    as it is, so the feed meets whatever the fuzzer makes."""
    return value if isinstance(value, bytes) else str(value).encode("utf-8")


def _real_values(trust: Trust) -> dict[str, list[Any]]:
    """Path parameters with real values, by name (ASH's records and BIRCH's)."""
    values: dict[str, list[Any]] = {}
    for records in trust.on.values():
        ids = records.ids
        for name in (
            "admission_id",
            "patient_id",
            "seclusion_id",
            "segregation_id",
            "period_id",
            "intervention_id",
            "alert_id",
            "request_id",
            "placement_id",
        ):
            values.setdefault(name, []).append(ids[name])
        values.setdefault("label", []).extend([ids["label"], ids["empty_bed"]])
    values["code"] = ["ASH", "BIRCH", "SECL_MEDICAL_FIRST", "LTS_IMHA"]
    return values


async def test_every_operation_survives_hostile_input(app, session, client, world, clock):
    trust = await build_trust(session, client, world, clock.now)
    loop = asyncio.get_running_loop()
    schema = schemathesis.openapi.from_dict(app.openapi())
    operations = [result.ok() for result in schema.get_all_operations()]
    assert operations, "the schema has no operations"
    real = _real_values(trust)

    async def send(kwargs: dict[str, Any], user: str) -> httpx.Response:
        headers = {
            k: v
            for k, v in kwargs.get("headers", {}).items()
            if k.lower() not in ("authorization", "cookie")
        }
        headers["Authorization"] = f"Bearer {trust.world.tokens[user]}"
        body: dict[str, Any] = {}
        if "json" in kwargs:
            body["json"] = kwargs["json"]
        elif kwargs.get("data") is not None:
            body["content"] = kwargs["data"]
        async with rolled_back(session):
            transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
            async with httpx.AsyncClient(transport=transport) as http:
                response = await http.request(
                    kwargs["method"],
                    kwargs["url"],
                    params=kwargs.get("params") or None,
                    headers=headers,
                    **body,
                )
                await response.aread()
        return response

    def fuzz(operation: Any) -> None:
        names = [p.name for p in operation.path_parameters]
        reals = st.fixed_dictionaries(
            {n: st.sampled_from(real[n]) for n in names if n in real}
        ) | st.just({})
        cases = operation.as_strategy(GenerationMode.POSITIVE) | operation.as_strategy(
            GenerationMode.NEGATIVE
        )

        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            derandomize=True,
            database=None,
            deadline=None,
            phases=[Phase.explicit, Phase.generate, Phase.shrink],
            suppress_health_check=list(HealthCheck),
            report_multiple_bugs=False,
        )
        @given(case=cases, user=st.sampled_from(USERS), path=reals)
        def check(case: Any, user: str, path: dict[str, Any]) -> None:
            if path and case.path_parameters is not None:
                case.path_parameters.update(path)
            kwargs = case.as_transport_kwargs(base_url="http://testserver")
            response = asyncio.run_coroutine_threadsafe(send(kwargs, user), loop).result(60)
            case.validate_response(response, checks=CHECKS)

        check()

    def run_all() -> list[str]:
        failures = []
        for operation in operations:
            try:
                fuzz(operation)
            except (Exception, BaseExceptionGroup) as exc:  # each operation's, reported together
                failures.append(f"{operation.label}: {exc}")
        return failures

    failures = await asyncio.to_thread(run_all)
    assert not failures, f"{len(failures)} operations failed:\n\n" + "\n\n".join(failures)


@pytest.mark.parametrize("path", ["/openapi.json"])
async def test_the_schema_documents_errors_as_problems(client, path):
    """Every operation says what its refusals look like: problem+json for 401, 403, 404 and
    422 (the API's contract), not FastAPI's default validation error."""
    spec = (await client.get(path)).json()
    missing = []
    for route, methods in spec["paths"].items():
        for method, operation in methods.items():
            responses = operation.get("responses", {})
            for status in ("401", "403", "404", "422"):
                content = responses.get(status, {}).get("content", {})
                if "application/problem+json" not in content:
                    missing.append(f"{method.upper()} {route}: {status}")
    assert not missing, "\n".join(missing)
