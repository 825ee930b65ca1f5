"""Bed flow's links into the rest of the service, registered at start-up so wards need not
know of it: an admission closes the bed request it meets; the board flags a person placed
far from home."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.flow import geo, requests
from app.rules.catalogue import RuleCode
from app.rules.settings import parameters_in_force
from app.wards.models import Admission, Locality, Patient, Site, Ward, WardStay

OUT_OF_AREA = "out_of_area"


async def _out_of_area_flags(
    session: AsyncSession, admission_ids: list[int], now: datetime
) -> dict[int, set[str]]:
    """People on the ward further from home than OAP_DISTANCE allows (50 km by default):
    placed here from another area, so far from family and local services."""
    km = float((await parameters_in_force(session))[RuleCode.OAP_DISTANCE]["km"])
    home = Locality.__table__.alias("home")
    here = Locality.__table__.alias("here")
    rows = await session.execute(
        select(
            WardStay.admission_id,
            home.c.latitude,
            home.c.longitude,
            here.c.latitude,
            here.c.longitude,
        )
        .join(Admission, Admission.id == WardStay.admission_id)
        .join(Patient, Patient.id == Admission.patient_id)
        .join(home, home.c.id == Patient.home_locality_id)
        .join(Ward, Ward.id == WardStay.ward_id)
        .join(Site, Site.id == Ward.site_id)
        .join(here, here.c.id == Site.locality_id)
        .where(WardStay.admission_id.in_(admission_ids), WardStay.ended_at.is_(None))
    )
    return {
        admission_id: {OUT_OF_AREA}
        for admission_id, hlat, hlon, wlat, wlon in rows
        if geo.distance_km((hlat, hlon), (wlat, wlon)) > km
    }


def install() -> None:
    from app.wards import admissions, board

    if requests.close_by_admission not in admissions.admission_links:
        admissions.admission_links.append(requests.close_by_admission)
    if _out_of_area_flags not in board.flag_providers:
        board.flag_providers.append(_out_of_area_flags)
