"""NHS-style ADT messages for the PAS feed's tests."""

from __future__ import annotations

import itertools
from typing import Any

import httpx

from tests.factories import World

_ids = itertools.count(1)
HL7 = {"Content-Type": "application/hl7-v2"}


def adt(
    event: str,
    *,
    nhs: str | None,
    dob: str = "19900102",
    family: str = "SMITH",
    given: str = "JANE",
    sex: str = "F",
    ethnic: str = "A",
    ward: str = "ASH",
    bed: str = "A1",
    evn: str = "202603100900",
    pv1_44: str = "",
    pv1_45: str = "",
    local: str | None = None,
    control_id: str | None = None,
    version: str = "2.4",
    extra: str = "",
) -> str:
    control_id = control_id or f"MSG{next(_ids):06d}"
    ids = []
    if nhs is not None:
        ids.append(f"{nhs}^^^NHS^NH")
    if local is not None:
        ids.append(f"{local}^^^RXX^PI")
    structure = {"A02": "ADT_A02", "A03": "ADT_A03", "A40": "ADT_A39"}.get(event, "ADT_A01")
    segments = [
        f"MSH|^~\\&|PAS|RXX|WARDFLOW|RXX|{evn}||ADT^{event}^{structure}|{control_id}|P|{version}",
        f"EVN|{event}|{evn}",
        _segment(
            "PID",
            {
                1: "1",
                3: "~".join(ids),
                5: f"{family}^{given}^^^MS",
                7: dob,
                8: sex,
                11: "1 HIGH ST^^LEEDS^^LS1 1AA",
                22: ethnic,
            },
        ),
        _segment("PV1", {1: "1", 2: "I", 3: f"{ward}^^{bed}^RXX", 44: pv1_44, 45: pv1_45}),
    ]
    if extra:
        segments.append(extra)
    return "\r".join(segments) + "\r"


def _segment(name: str, fields: dict[int, str]) -> str:
    values = [""] * (max(fields) + 1)
    values[0] = name
    for n, value in fields.items():
        values[n] = value
    return "|".join(values)


def ack_fields(ack: str) -> dict[str, Any]:
    """MSA-1, MSA-2, MSA-3 and the ERR segment's user message (ERR-8), if any."""
    segments = {s.split("|", 1)[0]: s.split("|") for s in ack.strip("\r").split("\r")}
    msa = segments["MSA"]
    err = segments.get("ERR")
    return {
        "code": msa[1],
        "control_id": msa[2],
        "text": msa[3] if len(msa) > 3 else "",
        "error": err[8] if err else None,
        "err": err,
    }


async def send(
    client: httpx.AsyncClient, world: World, message: str, user: str = "admin"
) -> dict[str, Any]:
    r = await client.post("/api/v1/hl7/v2", content=message, headers={**HL7, **world.auth(user)})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/hl7-v2")
    return {**ack_fields(r.text), "raw": r.text}
