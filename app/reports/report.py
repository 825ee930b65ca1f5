"""The weekly report as data: every figure of API.md's Reports for the week, the 26-week
trends of the headline figures, and the equality breakdowns, as one typed
`WeeklyReport` (app/reports/schemas.py), so that a stored snapshot, the API, the page,
the PDF and the CSV all show the same thing."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.config import get_settings
from app.reports import flow_figures as flow
from app.reports import rights_figures as rights
from app.reports.equality import equality, suppression
from app.reports.late_figures import late_records
from app.reports.period import Scope, Week
from app.reports.schemas import WeekFigures, WeeklyReport
from app.reports.span import Span
from app.reports.trends import trends
from app.segregation.models import Seclusion, Segregation

VERSION = 1


async def build(
    session: AsyncSession, *, scope: Scope, week: Week, now: datetime, weeks: int = 26
) -> WeeklyReport:
    span = Span(week.series(weeks))
    stays = await flow.load_stays(session, scope, span)
    available = await flow.available_per_day(session, scope, span, stays)
    occupancy = flow.occupancy(span, stays, available)
    in_hospital = flow.in_hospital_long(span, stays)
    moves = await flow.admissions_and_discharges(session, scope, span)
    waits = await flow.waits(session, span)
    delays = await flow.delays(session, span, stays)
    placements = await flow.out_of_area(session, span)
    interventions = await rights.interventions(session, scope, span)
    seclusions = await rights.episodes(session, scope, span, Seclusion)
    segregations = await rights.episodes(session, scope, span, Segregation)
    obd = [o["occupied_bed_days"] for o in occupancy]
    force = rights.intervention_figures(span, interventions, obd)
    seclusion = rights.episode_figures(span, seclusions, "hours")
    segregation = rights.episode_figures(span, segregations, "days")
    alerts = await rights.alerts(session, scope, span)

    series: list[WeekFigures] = []
    for i, w in enumerate(span.weeks):
        moved = moves[i]
        series.append(
            WeekFigures.model_validate(
                {
                    "week_start": w.monday,
                    "week_ending": w.ending,
                    **occupancy[i],
                    "admissions": moved["admissions"],
                    "discharges": moved["discharges"],
                    "waits": waits[i],
                    "restrictive_interventions": force[i],
                    "seclusion": seclusion[i],
                    "segregation": segregation[i],
                    "out_of_area": placements[i],
                    "all_active_at_end": placements[i]["all_active_at_end"],
                    "delayed_discharge": delays[i],
                    "long_stays": {
                        "over_60_days": moved["over_60_days"],
                        "over_90_days": moved["over_90_days"],
                        **in_hospital[i],
                    },
                    "alerts": alerts[i],
                }
            )
        )
    last = len(span.weeks) - 1
    below = get_settings().equality_min_count
    breakdowns = equality(span, last, stays, interventions, seclusions, segregations, below)
    return WeeklyReport.model_validate(
        {
            "version": VERSION,
            "scope": scope.as_dict(),
            **dict(series[-1]),
            # Records typed in late, by ward (issue 22): the report's week only.
            "late_records": await late_records(session, scope, week),
            "by_ethnic_group": breakdowns["ethnic_group"]["groups"],
            "equality": breakdowns,
            "equality_suppression": suppression(below),
            "trends": trends(series),
            "generated_at": now,
        }
    )
