"""The weekly report's shape (API.md, Reports): one Pydantic model per part, so that the
API's OpenAPI schema, the page, the PDF and the CSV read the same typed fields, and a
kept snapshot (stored as `model_dump(mode="json")`) reads back as the same model.

The JSON is a contract: these names are API.md's and only ever added to. Fields added
after the first snapshots were kept (alerts withdrawn, suppression, late records) have
defaults that say what was true then, so an old snapshot still loads and renders.

Counts are `int`; amounts that may be whole or not (hours, days, trend values) are
`Number`, so that a count stays `3` and an amount `4.0` in the JSON and the CSV, as they
always were.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_serializer

Number = int | float


class Figures(BaseModel):
    # A made report is shared by every request while it is kept (app/reports/heavy.py).
    model_config = ConfigDict(frozen=True)


# --- the week's figures -------------------------------------------------------------------


class Night(Figures):
    """One midnight of the week (the one that ends `midnight`'s day before it)."""

    midnight: date
    occupied: int
    open: int
    rate: float | None = Field(description="occupied / open; null with no open bed")


class Occupancy(Figures):
    """Bed days: the midnights Tuesday to the next Monday at which a bed was occupied, open."""

    occupied_bed_days: int
    available_bed_days: int
    occupancy_rate: float | None = Field(description="null when no bed was open")
    occupancy_nights: list[Night] = Field(
        default_factory=list, description="the week's seven midnights (the report's week only)"
    )
    nights_over_85: int = Field(description="midnights above the RCPsych 85 % maximum")


class Waits(Figures):
    """Decisions to admit, trust-wide."""

    requests: int
    over_12h: int
    waiting_at_end: int
    median_minutes: float | None


class RestrictiveInterventions(Figures):
    count: int
    people: int
    per_1000_obd: float | None
    prone: int


class Seclusion(Figures):
    episodes: int
    started: int
    people: int
    hours: Number
    median_hours: float | None
    open_at_end: int


class Segregation(Figures):
    episodes: int
    started: int
    people: int
    days: Number
    median_days: float | None
    open_at_end: int


class OutOfArea(Figures):
    """NHS Digital's OAP01-04 for inappropriate placements, trust-wide."""

    inappropriate_started: int
    inappropriate_bed_days: int
    active_at_end: int
    ended: int
    all_active_at_end: int
    active_at_end_by_distance: dict[str, int] = Field(description="km from home: count")


class DelayedDischarge(Figures):
    delay_days: int
    people_at_end: int
    by_reason: dict[str, int]
    by_attributable: dict[str, int]


class LongStays(Figures):
    over_60_days: int = Field(description="discharged in the week after 60+ days")
    over_90_days: int
    in_hospital_over_60_days: int = Field(description="in hospital 60+ days at the week's end")
    in_hospital_over_90_days: int


class RuleAlerts(Figures):
    raised: int
    open_at_end: int


class Alerts(Figures):
    raised: int
    cleared: int
    acknowledged: int
    resolved: int
    open_at_end: int
    awaiting_review_at_end: int
    withdrawn: int = 0  # counted since issue 22; none were withdrawn before
    by_rule: dict[str, RuleAlerts] = Field(
        default_factory=dict, description="the report's week only"
    )


class WeekFigures(Occupancy):
    """Every figure of one week (the report's, or one of its trend's)."""

    week_start: date
    week_ending: date
    admissions: int
    discharges: int
    waits: Waits
    restrictive_interventions: RestrictiveInterventions
    seclusion: Seclusion
    segregation: Segregation
    out_of_area: OutOfArea
    all_active_at_end: int
    delayed_discharge: DelayedDischarge
    long_stays: LongStays
    alerts: Alerts


# --- records typed in late (issue 22) ---------------------------------------------------------


class LateSummary(Figures):
    recorded: int
    late: int
    over_a_day: int
    median_minutes_late: int | None


class LateRecords(LateSummary):
    threshold_minutes: int
    by_kind: dict[str, LateSummary]
    by_ward: dict[str, LateSummary]


# --- equality ----------------------------------------------------------------------------


class PerMeasure(Figures):
    """A rate or a ratio for each rights measure (app/reports/equality.py MEASURES)."""

    restrictive_interventions: float | None
    prone: float | None
    seclusion_episodes: float | None
    seclusion_hours: float | None
    segregation_episodes: float | None
    segregation_days: float | None

    def of(self, measure: str) -> float | None:
        value: float | None = getattr(self, measure)
        return value


class GroupFigures(Figures):
    """One group's counts (null where suppressed), rates per 1,000 of its bed days and
    ratios to the reference group's rates."""

    occupied_bed_days: int
    restrictive_interventions: int | None
    prone: int | None
    seclusion_episodes: int | None
    seclusion_hours: Number | None
    segregation_episodes: int | None
    segregation_days: Number | None
    rates: PerMeasure
    ratios: PerMeasure
    per_1000_obd: float | None = Field(description="restrictive interventions (API.md)")

    def count(self, measure: str) -> Number | None:
        value: Number | None = getattr(self, measure)
        return value


class EthnicGroupFigures(GroupFigures):
    ratio_to_white: float | None = Field(description="null where the White rate is zero")
    suppressed: list[str] = Field(default_factory=list)


class ReferenceGroupFigures(GroupFigures):
    ratio_to_reference: float | None
    suppressed: list[str] = Field(default_factory=list)


class EthnicTable(Figures):
    reference: str
    groups: dict[str, EthnicGroupFigures]
    reference_suppressed: list[str] = Field(default_factory=list)


class ReferenceTable(Figures):
    reference: str = Field(description="the group with the most bed days in the week")
    groups: dict[str, ReferenceGroupFigures]
    reference_suppressed: list[str] = Field(default_factory=list)


class Equality(Figures):
    ethnic_group: EthnicTable
    sex: ReferenceTable
    age_band: ReferenceTable
    learning_disability_or_autism: ReferenceTable

    def tables(self) -> Iterator[tuple[str, EthnicTable | ReferenceTable]]:
        """(breakdown, table), in the report's order."""
        for name in type(self).model_fields:
            yield name, getattr(self, name)


class EqualitySuppression(Figures):
    below: int = 1
    suppressed_as: str | None = None
    note: str = ""


# --- trends ------------------------------------------------------------------------------


class Limits(Figures):
    """An XmR chart's limits and its special causes per week (app/reports/spc.py)."""

    mean: float | None
    mr_mean: float | None
    upper: float | None
    lower: float | None
    signals: list[list[str]]
    provisional: bool


class Trend(Figures):
    label: str
    unit: str
    concern: Literal["up", "down"]
    decimals: int
    weeks: list[date] = Field(description="week endings, oldest first")
    values: list[Number | None]
    spc: Limits
    reading: str


# --- the report ----------------------------------------------------------------------------


class ReportScope(Figures):
    type: Literal["trust", "site", "ward"]
    code: str | None
    name: str


class WeeklyReport(WeekFigures):
    """The director's weekly report: the week's figures, the equality breakdowns and the
    headline figures' 26-week trends."""

    version: int
    scope: ReportScope
    late_records: LateRecords | None = None  # none in snapshots kept before issue 22
    by_ethnic_group: dict[str, EthnicGroupFigures]
    equality: Equality
    equality_suppression: EqualitySuppression = Field(default_factory=EqualitySuppression)
    trends: dict[str, Trend]
    generated_at: datetime

    @field_serializer("generated_at")
    def _iso(self, value: datetime) -> str:
        # As it has always been written: "+00:00", not "Z".
        return value.isoformat()
