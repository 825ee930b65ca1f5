"""``/fhir/r4``: read and search, JSON only, with the API's authentication (bearer token or
browser session) and its scope. Every answer is ``application/fhir+json``; every refusal is an
OperationOutcome: 401 when no one is signed in, 403 for a role or ward not allowed, 404 for
an unknown id or path, 400 for a search we cannot read, 405 for anything but reading."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from app.audit import reads
from app.config import get_settings
from app.deps import ApiUser, NowDep, SessionDep
from app.errors import DomainError
from app.interop.fhir import params, queries
from app.interop.fhir import resources as fr

FHIR_JSON = "application/fhir+json"
SEARCH_PARAMS: dict[str, dict[str, tuple[str, str]]] = {
    "Location": {
        "_id": ("token", "site-{id}, ward-{id} or bed-{id}"),
        "type": ("token", "si, wa, bd (physical type), HOSP, or a ward type code"),
        "partof": ("reference", "the site of a ward, the ward of a bed"),
        "operational-status": ("token", "beds: O occupied, U unoccupied, C closed (v2-0116)"),
    },
    "Encounter": {
        "_id": ("token", "the admission's id"),
        "patient": ("reference", "Patient/{id} or the id"),
        "status": ("token", "in-progress or finished"),
        "location": ("reference", "a ward or bed the person was on (Location/ward-{id})"),
        "date": ("date", "against the admission's period: eq, ne, gt, lt, ge, le, sa, eb"),
    },
    "Patient": {
        "_id": ("token", "the patient's id"),
        "identifier": ("token", "https://fhir.nhs.uk/Id/nhs-number|{NHS number}"),
    },
    "Flag": {
        "_id": ("token", "the alert's id"),
        "patient": ("reference", "Patient/{id} or the id"),
        "encounter": ("reference", "Encounter/{id} or the id"),
        "status": ("token", "active (open or acknowledged alerts) or inactive"),
    },
}


def fhir_response(body: fr.Resource, status: int = 200, **headers: str) -> JSONResponse:
    return JSONResponse(body, status_code=status, media_type=FHIR_JSON, headers=headers or None)


def outcome(status: int, detail: str) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else {}
    return fhir_response(fr.operation_outcome(status, detail), status, **headers)


class FhirRoute(APIRoute):
    """Turns the errors the rest of the service raises (from the authentication dependency
    too) into OperationOutcomes, instead of the API's problem+json."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except DomainError as exc:
                return outcome(exc.status, exc.detail)
            except RequestValidationError as exc:
                return outcome(400, "; ".join(str(e.get("msg", "")) for e in exc.errors()))

        return route


router = APIRouter(prefix="/fhir/r4", route_class=FhirRoute, tags=["FHIR R4"])


def base_url() -> str:
    """The FHIR base every link starts with: from WARDFLOW_BASE_URL (or PUBLIC_URL), never
    from the request's Host header, which the client chooses (a link to another site)."""
    return get_settings().api_base_url + "/fhir/r4"


def _links(
    request: Request, resource_type: str, paging: params.Paging, total: int
) -> dict[str, str]:
    kept = [(k, v) for k, v in request.query_params.multi_items() if k not in {"_count", "_offset"}]

    def url(offset: int) -> str:
        query = urlencode([*kept, ("_count", str(paging.count)), ("_offset", str(offset))])
        return f"{base_url()}/{resource_type}?{query}"

    links = {"self": url(paging.offset)}
    if paging.count and paging.offset + paging.count < total:
        links["next"] = url(paging.offset + paging.count)
    if paging.offset > 0:
        links["previous"] = url(max(0, paging.offset - max(paging.count, 1)))
    return links


async def _search(
    request: Request,
    resource_type: str,
    run: Callable[[dict[str, list[str]], params.Paging], Awaitable[queries.Page]],
) -> JSONResponse:
    values, paging = params.read(
        list(request.query_params.multi_items()), set(SEARCH_PARAMS[resource_type])
    )
    entries, total = await run(values, paging)
    links = _links(request, resource_type, paging, total)
    return fhir_response(fr.bundle(base_url(), entries, total, links))


@router.get("/metadata")
async def metadata(request: Request, now: NowDep) -> JSONResponse:
    """The CapabilityStatement: open to anyone, as FHIR expects, and holding no records."""
    return fhir_response(capability_statement(base_url(), now))


def capability_statement(base: str, now: datetime) -> fr.Resource:
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": now.date().isoformat(),
        "publisher": "Wardflow",
        "kind": "instance",
        "software": {"name": "Wardflow", "version": "0.1.0"},
        "implementation": {"description": "Wardflow FHIR R4 read API", "url": base},
        "fhirVersion": "4.0.1",
        "format": ["json"],
        "rest": [
            {
                "mode": "server",
                "security": {
                    "description": (
                        "Authorization: Bearer <token> (wardflow users token NAME) or a signed-in"
                        " browser session. Ward staff see only people on their own wards."
                    )
                },
                "resource": [
                    {
                        "type": resource_type,
                        "interaction": [{"code": "read"}, {"code": "search-type"}],
                        "searchParam": [
                            {"name": name, "type": kind, "documentation": doc}
                            for name, (kind, doc) in search.items()
                        ],
                    }
                    for resource_type, search in SEARCH_PARAMS.items()
                ],
            }
        ],
    }


@router.get("/Location")
async def search_locations(request: Request, user: ApiUser, session: SessionDep) -> JSONResponse:
    return await _search(request, "Location", lambda v, p: queries.search_locations(session, v, p))


@router.get("/Location/{location_id}")
async def read_location(location_id: str, user: ApiUser, session: SessionDep) -> JSONResponse:
    return fhir_response(await queries.read_location(session, location_id))


@router.get("/Encounter")
async def search_encounters(
    request: Request, user: ApiUser, session: SessionDep, now: NowDep
) -> JSONResponse:
    async def run(v: dict[str, list[str]], p: params.Paging) -> queries.Page:
        entries, total = await queries.search_encounters(session, user, v, p, now)
        await _audit(request, session, user, now, "encounter.search", entries, "subject")
        return entries, total

    return await _search(request, "Encounter", run)


@router.get("/Encounter/{encounter_id}")
async def read_encounter(
    encounter_id: str, request: Request, user: ApiUser, session: SessionDep, now: NowDep
) -> JSONResponse:
    resource, patient_id = await queries.read_encounter(session, user, encounter_id, now)
    await reads.record_reads(
        session,
        request,
        actor=user,
        action="encounter.read",
        patient_ids=[patient_id],
        now=now,
        details={"admission_id": resource["id"]},
    )
    return fhir_response(resource)


@router.get("/Patient")
async def search_patients(
    request: Request, user: ApiUser, session: SessionDep, now: NowDep
) -> JSONResponse:
    async def run(v: dict[str, list[str]], p: params.Paging) -> queries.Page:
        entries, total = await queries.search_patients(session, user, v, p, now)
        await _audit(request, session, user, now, "patient.search", entries, None)
        return entries, total

    return await _search(request, "Patient", run)


@router.get("/Patient/{patient_id}")
async def read_patient(
    patient_id: str, request: Request, user: ApiUser, session: SessionDep, now: NowDep
) -> JSONResponse:
    resource = await queries.read_patient(session, user, patient_id, now)
    await reads.record_reads(
        session, request, actor=user, action="patient.read", patient_ids=[resource["id"]], now=now
    )
    return fhir_response(resource)


async def _audit(
    request: Request,
    session: SessionDep,
    user: ApiUser,
    now: datetime,
    action: str,
    entries: list[fr.Resource],
    reference: str | None,
) -> None:
    """One audit entry per person a search returned (in one batched insert)."""
    ids: list[int] = []
    for entry in entries:
        raw = entry["id"] if reference is None else entry[reference]["reference"].split("/")[-1]
        ids.append(int(raw))
    await reads.record_reads(session, request, actor=user, action=action, patient_ids=ids, now=now)


@router.get("/Flag")
async def search_flags(
    request: Request, user: ApiUser, session: SessionDep, now: NowDep
) -> JSONResponse:
    async def run(v: dict[str, list[str]], p: params.Paging) -> queries.Page:
        entries, total = await queries.search_flags(session, user, v, p, now)
        await _audit_flags(request, session, user, now, "flag.search", entries)
        return entries, total

    return await _search(request, "Flag", run)


@router.get("/Flag/{flag_id}")
async def read_flag(
    flag_id: str, request: Request, user: ApiUser, session: SessionDep, now: NowDep
) -> JSONResponse:
    resource = await queries.read_flag(session, user, flag_id, now)
    await _audit_flags(request, session, user, now, "flag.read", [resource])
    return fhir_response(resource)


async def _audit_flags(
    request: Request,
    session: SessionDep,
    user: ApiUser,
    now: datetime,
    action: str,
    flags: list[fr.Resource],
) -> None:
    """A Flag about a person names them (a ward's Flag names no one): one entry each."""
    ids = [
        int(reference.removeprefix("Patient/"))
        for flag in flags
        if (reference := str(flag.get("subject", {}).get("reference", ""))).startswith("Patient/")
    ]
    await reads.record_reads(session, request, actor=user, action=action, patient_ids=ids, now=now)


@router.api_route(
    "/{rest:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"], include_in_schema=False
)
async def elsewhere(request: Request, rest: str, user: ApiUser) -> Any:
    """Anything else under /fhir/r4, once signed in: a write (this API only reads) or an
    unknown path."""
    if request.method != "GET":
        return outcome(405, "This FHIR API is read-only.")
    return outcome(404, f"Nothing at /fhir/r4/{rest}: supported are {', '.join(SEARCH_PARAMS)}.")
