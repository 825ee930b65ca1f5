"""The report in long form for spreadsheets: one row per (measure, breakdown, group, value).
Figures for the whole scope have breakdown and group `all`."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

from app import csvsafe
from app.reports.equality import MEASURES
from app.reports.schemas import (
    EthnicTable,
    Figures,
    LateRecords,
    LateSummary,
    ReferenceTable,
    WeeklyReport,
)

Row = tuple[str, str, str, Any]
HEADLINE = (
    "occupied_bed_days",
    "available_bed_days",
    "occupancy_rate",
    "nights_over_85",
    "admissions",
    "discharges",
    "all_active_at_end",
)
SECTIONS = (
    "waits",
    "restrictive_interventions",
    "seclusion",
    "segregation",
    "out_of_area",
    "delayed_discharge",
    "long_stays",
    "alerts",
)
# Figures inside a section broken down by something: (key, measure, breakdown).
BROKEN_DOWN = {
    ("delayed_discharge", "by_reason"): ("delayed_discharge.delay_days", "reason"),
    ("delayed_discharge", "by_attributable"): ("delayed_discharge.delay_days", "attributable_to"),
    ("out_of_area", "active_at_end_by_distance"): ("out_of_area.active_at_end", "distance_band"),
}


def rows(report: WeeklyReport) -> Iterator[Row]:
    yield from _headline(report)
    for night in report.occupancy_nights:
        day = night.midnight.isoformat()
        yield ("occupied_beds", "midnight", day, night.occupied)
        yield ("open_beds", "midnight", day, night.open)
        yield ("occupancy_rate", "midnight", day, night.rate)
    for section in SECTIONS:
        yield from _section(section, getattr(report, section))
    if report.late_records is not None:  # snapshots kept before issue 22 have none
        yield from _late(report.late_records)
    for breakdown, table in report.equality.tables():
        yield from _equality(breakdown, table)
    for key, trend in report.trends.items():
        for week, value in zip(trend.weeks, trend.values, strict=True):
            yield (f"trend.{key}", "week_ending", week.isoformat(), value)
        for name in ("mean", "upper", "lower"):
            yield (f"trend.{key}.{name}", "all", "all", getattr(trend.spc, name))


def _headline(report: WeeklyReport) -> Iterator[Row]:
    scope = report.scope
    yield ("scope", "all", "all", scope.type + (f":{scope.code}" if scope.code else ""))
    yield ("week_start", "all", "all", report.week_start.isoformat())
    yield ("week_ending", "all", "all", report.week_ending.isoformat())
    yield ("generated_at", "all", "all", report.generated_at.isoformat())
    for key in HEADLINE:
        yield (key, "all", "all", getattr(report, key))


def _section(section: str, figures: Figures) -> Iterator[Row]:
    """A section's figures, as `section.figure`; those broken down one row per group."""
    for key, value in figures:
        if (section, key) in BROKEN_DOWN:
            measure, breakdown = BROKEN_DOWN[section, key]
            for group, n in value.items():
                yield (measure, breakdown, group, n)
        elif section == "alerts" and key == "by_rule":
            for rule, counts in value.items():
                for name, n in counts:
                    yield (f"alerts.{name}", "rule", rule, n)
        else:
            yield (f"{section}.{key}", "all", "all", value)


def _late(late: LateRecords) -> Iterator[Row]:
    for key in LateSummary.model_fields:
        yield (f"late_records.{key}", "all", "all", getattr(late, key))
    for breakdown, groups in (("kind", late.by_kind), ("ward", late.by_ward)):
        for group, figures in groups.items():
            for key, value in figures:
                yield (f"late_records.{key}", breakdown, group, value)


def _equality(breakdown: str, table: EthnicTable | ReferenceTable) -> Iterator[Row]:
    """Each group's bed days, and each measure's count, rate and ratio to the reference
    group; a suppressed count, its rate and its ratio are `*` (equality.suppress), as NHS
    statistics show them."""
    hidden = "*"
    ratio = f"ratio_to_{table.reference}"
    for group, figures in table.groups.items():
        yield ("occupied_bed_days", breakdown, group, figures.occupied_bed_days)
        for measure, _what in MEASURES:
            shown = measure not in figures.suppressed
            yield (measure, breakdown, group, figures.count(measure) if shown else hidden)
            rate = figures.rates.of(measure) if shown else hidden
            yield (f"{measure}.per_1000_obd", breakdown, group, rate)
            yield (
                f"{measure}.{ratio}",
                breakdown,
                group,
                figures.ratios.of(measure) if shown else hidden,
            )


def to_csv(report: WeeklyReport) -> str:
    buffer = io.StringIO()
    writer = csvsafe.writer(buffer, lineterminator="\n")
    writer.writerow(("measure", "breakdown", "group", "value"))
    for measure, breakdown, group, value in rows(report):
        writer.writerow((measure, breakdown, group, "" if value is None else value))
    return buffer.getvalue()
