"""HL7 v2 over HTTP: ``POST /api/v1/hl7/v2`` takes one message in ER7 and answers its ACK
in ER7, for integration engines that speak HTTP rather than MLLP. The same service as the
MLLP listener. An ACK (AA, AE or AR) is always a 200: the HL7 answer is in the body.

For the roles that integrate (admin, service); token clients need no CSRF token, a browser
session does (app/deps.api_user), as for every API write.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from app.auth import access
from app.deps import ApiUser, NowDep, SessionDep
from app.errors import DomainError
from app.pas import service

router = APIRouter(prefix="/api/v1", tags=["hl7"])

HL7_MEDIA_TYPE = "application/hl7-v2"
# What senders put on ER7 besides the registered type.
ACCEPTED = {HL7_MEDIA_TYPE, "application/hl7-v2+er7", "x-application/hl7-v2+er7", "text/plain"}
FEEDERS = {"admin", "service"}


class UnsupportedMediaType(DomainError):
    status = 415
    title = "Unsupported media type"


@router.post(
    "/hl7/v2",
    response_class=Response,
    responses={
        200: {
            "description": "The ACK (MSA-1 AA, AE or AR), in ER7",
            "content": {HL7_MEDIA_TYPE: {"schema": {"type": "string"}}},
        },
        415: {
            "description": "The body is not an HL7 v2 message in ER7",
            "content": {
                "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
            },
        },
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {HL7_MEDIA_TYPE: {"schema": {"type": "string"}}},
        }
    },
)
async def receive_hl7(
    request: Request, user: ApiUser, session: SessionDep, now: NowDep
) -> Response:
    """One HL7 v2 message (ER7); the answer is its ACK."""
    access.require_role(user, FEEDERS, "send HL7 messages")
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type not in ACCEPTED:
        raise UnsupportedMediaType(
            f"Send the message as {HL7_MEDIA_TYPE} (ER7 pipe form), not {media_type or 'nothing'}."
        )
    body = await request.body()
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        text = body.decode("latin-1")  # ISO 8859-1 (MSH-18 8859/1), as many PAS systems send
    result = await service.receive(session, text, now)
    return Response(result.ack, media_type=HL7_MEDIA_TYPE)
