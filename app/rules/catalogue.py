"""The rules catalogue (RULES.md section 2), defined once: code, title, what it checks,
its named parameters with their defaults, severity and source.

A rule's code is spelled once, as a `RuleCode` member; everything else (checks, deadline
chains, pages) names the member. The seclusion and segregation policies are built from
the parameters here, so the catalogue holds the only copy of each default.

Every threshold is a named parameter so a trust can make it stricter; the stored changes
(issue 4's rules page) are applied over these defaults. Durations are ISO 8601 ("PT2H",
"P7D", "P3M"); other values are numbers (85 per cent, 50 km).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from functools import cache
from typing import Literal

from app.deadlines import Interval
from app.errors import FieldError, Invalid

Severity = Literal["high", "medium", "low"]
SEVERITIES: tuple[Severity, ...] = ("high", "medium", "low")
COP = "Mental Health Act 1983 Code of Practice 2015, chapter 26"


class RuleCode(StrEnum):
    """Each rule's code, as stored on alerts and rule settings and as the API spells it (a
    StrEnum member is its string: it compares, hashes, serialises and binds as the value)."""

    SECL_MEDICAL_FIRST = "SECL_MEDICAL_FIRST"
    SECL_MEDICAL_REVIEW = "SECL_MEDICAL_REVIEW"
    SECL_NURSING_REVIEW = "SECL_NURSING_REVIEW"
    SECL_MDT_REVIEW = "SECL_MDT_REVIEW"
    SECL_INDEPENDENT_MDT = "SECL_INDEPENDENT_MDT"
    SECL_OBSERVATION = "SECL_OBSERVATION"
    LTS_AC_REVIEW = "LTS_AC_REVIEW"
    LTS_MDT_REVIEW = "LTS_MDT_REVIEW"
    LTS_EXTERNAL_REVIEW = "LTS_EXTERNAL_REVIEW"
    LTS_NOTIFICATION = "LTS_NOTIFICATION"
    LTS_ICETR = "LTS_ICETR"
    ADM_WAIT = "ADM_WAIT"
    ADM_PURPOSE_REVIEW = "ADM_PURPOSE_REVIEW"
    ADM_UNDER_18_ADULT_WARD = "ADM_UNDER_18_ADULT_WARD"
    ADM_MIXED_SEX = "ADM_MIXED_SEX"
    LOS_LONG = "LOS_LONG"
    CRFD_DELAY = "CRFD_DELAY"
    WARD_OCCUPANCY = "WARD_OCCUPANCY"
    OAP_INAPPROPRIATE = "OAP_INAPPROPRIATE"
    OAP_REVIEW = "OAP_REVIEW"
    OAP_DISTANCE = "OAP_DISTANCE"
    RI_PRONE = "RI_PRONE"
    RI_RECORD_INCOMPLETE = "RI_RECORD_INCOMPLETE"
    RI_DEBRIEF = "RI_DEBRIEF"
    ADM_PURPOSE_MISSING = "ADM_PURPOSE_MISSING"
    FEED_SILENT = "FEED_SILENT"


@dataclass(frozen=True)
class Param:
    kind: Literal["duration", "number"]
    default: str | float
    meaning: str
    minimum: float | None = None
    maximum: float | None = None
    # False where the calculator needs a fixed length (hours or days), not months.
    calendar: bool = True


def duration(default: str, meaning: str, *, calendar: bool = True) -> Param:
    return Param("duration", default, meaning, calendar=calendar)


def number(default: float, meaning: str, minimum: float, maximum: float) -> Param:
    return Param("number", default, meaning, minimum, maximum)


@dataclass(frozen=True)
class Rule:
    code: RuleCode
    title: str
    checks: str
    severity: Severity
    source: str
    subject_type: str
    parameters: Mapping[str, Param] = field(default_factory=dict)

    def defaults(self) -> dict[str, str | float]:
        return {name: p.default for name, p in self.parameters.items()}


RULES: tuple[Rule, ...] = (
    Rule(RuleCode.SECL_MEDICAL_FIRST, "First medical review of seclusion",
         "A medical review within the first hour, unless a psychiatrist authorised seclusion.",
         "high", f"{COP}, 26.116", "seclusion",
         {"within": duration("PT1H", "time from the start to the first medical review")}),
    Rule(RuleCode.SECL_MEDICAL_REVIEW, "Medical reviews of seclusion",
         "Medical reviews every 4 hours until the first MDT review, then every 12 hours.",
         "high", COP, "seclusion",
         {"before_mdt": duration("PT4H", "interval until the first MDT review"),
          "after_mdt": duration("PT12H", "interval after the first MDT review")}),
    Rule(RuleCode.SECL_NURSING_REVIEW, "Nursing reviews of seclusion",
         "A nursing review (two people, one a registered nurse) every 2 hours.",
         "high", COP, "seclusion", {"every": duration("PT2H", "interval between reviews")}),
    Rule(RuleCode.SECL_MDT_REVIEW, "MDT reviews of seclusion",
         "An MDT review every 24 hours from the start.",
         "high", COP, "seclusion", {"every": duration("PT24H", "interval between reviews")}),
    Rule(RuleCode.SECL_INDEPENDENT_MDT, "Independent MDT review of seclusion",
         "An independent MDT review once seclusion lasts 8 hours at once or 12 hours in 48.",
         "high", COP, "seclusion",
         {"single": duration("PT8H", "length of one episode that needs it", calendar=False),
          "total": duration("PT12H", "total within the window that needs it", calendar=False),
          "window": duration("PT48H", "the window for the total", calendar=False)}),
    Rule(RuleCode.SECL_OBSERVATION, "Observation in seclusion",
         "A recorded observation every 15 minutes while secluded.",
         "medium", COP, "seclusion", {"every": duration("PT15M", "interval between observations")}),
    Rule(RuleCode.LTS_AC_REVIEW, "Approved clinician reviews of segregation",
         "A review by an approved clinician every 24 hours.",
         "high", f"{COP}, 26.150 onwards", "segregation",
         {"every": duration("PT24H", "interval between reviews")}),
    Rule(RuleCode.LTS_MDT_REVIEW, "MDT reviews of segregation", "An MDT review every 7 days.",
         "high", COP, "segregation", {"every": duration("P7D", "interval between reviews")}),
    Rule(RuleCode.LTS_EXTERNAL_REVIEW, "External review of segregation",
         "A review by a clinician from outside the hospital every 3 months.",
         "high", COP, "segregation", {"every": duration("P3M", "interval between reviews")}),
    Rule(RuleCode.LTS_NOTIFICATION, "Commissioner and IMHA told of segregation",
         "Both the commissioner and an IMHA informed within 24 hours of the start.",
         "medium", f"{COP} (commissioner in the decision); local-policy default for the time",
         "segregation", {"within": duration("PT24H", "time from the start")}),
    Rule(RuleCode.LTS_ICETR, "IC(E)TR for a person in segregation",
         "A person with a learning disability or an autistic person in segregation has an "
         "independent care (education) and treatment review.",
         "high", "CQC 'Out of sight - who cares?'; local-policy default for the time",
         "segregation", {"within": duration("P28D", "time from the start")}),
    Rule(RuleCode.ADM_WAIT, "Waiting for a bed",
         "A decision to admit waiting longer than 12 hours for a bed.",
         "high", "People will not need to wait to be admitted; 12-hour standard", "bed_request",
         {"threshold": duration("PT12H", "longest wait from the decision to admit")}),
    Rule(RuleCode.ADM_PURPOSE_REVIEW, "Reason and benefit of admission reviewed",
         "The reason and expected benefit reviewed within 72 hours, then every 7 days.",
         "medium", "Always clear on the reason and benefit of admission; local-policy default",
         "admission",
         {"first": duration("PT72H", "time from admission to the first review"),
          "every": duration("P7D", "interval between reviews")}),
    Rule(RuleCode.ADM_UNDER_18_ADULT_WARD, "Under 18 on an adult ward",
         "A person under 18 on a ward for adults.", "high",
         "Mental Health Act 1983 s.131A; CQC notification", "admission"),
    Rule(RuleCode.ADM_MIXED_SEX, "Mixed-sex accommodation",
         "A person on a single-sex ward of the other sex.", "high",
         "Same-sex accommodation standard", "admission"),
    Rule(RuleCode.LOS_LONG, "Long stay",
         "A stay reaching the long-stay threshold for its ward type.", "medium",
         "NHS Digital long-stay measures", "admission",
         {"adult_acute": duration("P60D", "adult acute wards"),
          "picu": duration("P60D", "psychiatric intensive care"),
          "older_adult_acute": duration("P90D", "older adult wards")}),
    Rule(RuleCode.CRFD_DELAY, "Delayed discharge",
         "A clinically-ready-for-discharge period still open after 7 days.", "medium",
         "Discharge statutory guidance 2024; local-policy default for the time",
         "ready_for_discharge", {"threshold": duration("P7D", "longest delay")}),
    Rule(RuleCode.WARD_OCCUPANCY, "Ward occupancy", "A ward fuller than 85 % of its open beds.",
         "medium", "Royal College of Psychiatrists recommended maximum", "ward",
         {"threshold": number(85, "per cent of open beds", 1, 100)}),
    Rule(RuleCode.OAP_INAPPROPRIATE, "Inappropriate out-of-area placement",
         "A placement out of area because no local bed was available.", "high",
         "DH out-of-area placements guidance 2016", "out_of_area_placement"),
    Rule(RuleCode.OAP_REVIEW, "Out-of-area placement reviewed",
         "An open placement reviewed every 3 months.", "medium", "NICE QS159 statement 2",
         "out_of_area_placement", {"every": duration("P3M", "interval between reviews")}),
    Rule(RuleCode.OAP_DISTANCE, "Placed far from home",
         "A placement more than 50 km from the person's home.", "medium",
         "MHSDS distance bands", "out_of_area_placement",
         {"km": number(50, "kilometres from home", 1, 2000)}),
    Rule(RuleCode.RI_PRONE, "Prone restraint",
         "Any prone restraint; high severity if it lasted more than 10 minutes.", "medium",
         "Assuring Transformation Q39b/c; national aim to end prone restraint",
         "restrictive_intervention",
         {"high_after": duration("PT10M", "longer than this is high severity")}),
    Rule(RuleCode.RI_RECORD_INCOMPLETE, "Use-of-force record incomplete",
         "A use-of-force record still missing an item the Act requires 24 hours after it ended.",
         "medium", "Mental Health Units (Use of Force) Act 2018 s.6(5)",
         "restrictive_intervention", {"within": duration("PT24H", "time to complete the record")}),
    Rule(RuleCode.RI_DEBRIEF, "Debrief after use of force",
         "No post-incident review with the patient within 72 hours.", "low",
         "MHSDS MHS505 post-incident review; local-policy default", "restrictive_intervention",
         {"within": duration("PT72H", "time to the debrief")}),
    Rule(RuleCode.ADM_PURPOSE_MISSING, "Reason and benefit of admission not recorded",
         "An admission from the PAS feed still without its reason and expected benefit "
         "24 hours after admission.", "high",
         "People are only admitted if and when they need it, with a clear reason and "
         "expected benefit; local-policy default for the time", "admission",
         {"within": duration("PT24H", "time from admission to recording them")}),
    Rule(RuleCode.FEED_SILENT, "PAS feed silent",
         "No message from the trust's PAS for 30 minutes of the working day: the board may "
         "no longer show who is where.", "high",
         "Clinical risk management (DCB0160): a board that no longer hears its PAS is wrong "
         "without knowing; local-policy default", "pas_feed",
         {"silence": duration("PT30M", "silence in the day that raises it", calendar=False),
          "day_starts": number(8, "hour the day starts (local time)", 0, 23),
          "day_ends": number(20, "hour the day ends (local time; 24 is midnight)", 1, 24)}),
)  # fmt: skip

BY_CODE: dict[str, Rule] = {rule.code: rule for rule in RULES}


def checked_parameters(rule: Rule, changes: Mapping[str, object]) -> dict[str, str | float]:
    """A rule's parameters with changes applied, each checked (422 naming the parameter)."""
    errors: list[FieldError] = []
    result = rule.defaults()
    for name, value in changes.items():
        field_name = f"parameters.{name}"
        param = rule.parameters.get(name)
        if param is None:
            errors.append(FieldError(field_name, f"{rule.code} has no parameter {name!r}"))
        elif param.kind == "duration":
            if not (isinstance(value, str) and _is_duration(value)):
                errors.append(FieldError(field_name, "must be an ISO 8601 duration, e.g. PT2H"))
            elif not param.calendar and Interval.parse(value).fixed_length() is None:
                errors.append(FieldError(field_name, "must be hours or days, not months"))
            else:
                result[name] = value
        elif isinstance(value, bool) or not isinstance(value, int | float):
            errors.append(FieldError(field_name, "must be a number"))
        elif (
            param.minimum is not None
            and param.maximum is not None
            and not (param.minimum <= value <= param.maximum)
        ):
            errors.append(
                FieldError(field_name, f"must be between {param.minimum:g} and {param.maximum:g}")
            )
        else:
            result[name] = value
    if errors:
        raise Invalid(errors)
    return result


def _is_duration(value: str) -> bool:
    try:
        Interval.parse(value)
    except ValueError:
        return False
    return True


def _fixed(iso: str | float) -> timedelta:
    length = Interval.parse(str(iso)).fixed_length()
    if length is None:
        raise ValueError(f"{iso!r} must be a fixed length (hours or days), not months")
    return length


Parameters = Mapping[str, Mapping[str, str | float]]


@dataclass(frozen=True)
class SeclusionPolicy:
    """The seclusion rules' thresholds in force (no defaults of its own: built from the
    catalogue's parameters, with the trust's changes over them)."""

    medical_first: Interval
    medical_before_mdt: Interval
    medical_after_mdt: Interval
    nursing: Interval
    mdt: Interval
    independent_single: timedelta
    independent_total: timedelta
    independent_window: timedelta
    observation: Interval


@dataclass(frozen=True)
class SegregationPolicy:
    """The segregation rules' thresholds in force, as SeclusionPolicy."""

    approved_clinician: Interval
    mdt: Interval
    external: Interval
    notification: Interval
    icetr: Interval


def seclusion_policy(parameters: Parameters) -> SeclusionPolicy:
    """The seclusion thresholds in force, from each rule's parameters by rule code."""

    def interval(code: RuleCode, name: str) -> Interval:
        return Interval.parse(str(parameters[code][name]))

    independent = parameters[RuleCode.SECL_INDEPENDENT_MDT]
    return SeclusionPolicy(
        medical_first=interval(RuleCode.SECL_MEDICAL_FIRST, "within"),
        medical_before_mdt=interval(RuleCode.SECL_MEDICAL_REVIEW, "before_mdt"),
        medical_after_mdt=interval(RuleCode.SECL_MEDICAL_REVIEW, "after_mdt"),
        nursing=interval(RuleCode.SECL_NURSING_REVIEW, "every"),
        mdt=interval(RuleCode.SECL_MDT_REVIEW, "every"),
        independent_single=_fixed(independent["single"]),
        independent_total=_fixed(independent["total"]),
        independent_window=_fixed(independent["window"]),
        observation=interval(RuleCode.SECL_OBSERVATION, "every"),
    )


def segregation_policy(parameters: Parameters) -> SegregationPolicy:
    def interval(code: RuleCode, name: str) -> Interval:
        return Interval.parse(str(parameters[code][name]))

    return SegregationPolicy(
        approved_clinician=interval(RuleCode.LTS_AC_REVIEW, "every"),
        mdt=interval(RuleCode.LTS_MDT_REVIEW, "every"),
        external=interval(RuleCode.LTS_EXTERNAL_REVIEW, "every"),
        notification=interval(RuleCode.LTS_NOTIFICATION, "within"),
        icetr=interval(RuleCode.LTS_ICETR, "within"),
    )


def default_parameters() -> dict[str, dict[str, str | float]]:
    return {rule.code: rule.defaults() for rule in RULES}


@cache
def default_seclusion_policy() -> SeclusionPolicy:
    """The seclusion thresholds with no trust changes (the policies are immutable, so one
    instance serves every caller)."""
    return seclusion_policy(default_parameters())


@cache
def default_segregation_policy() -> SegregationPolicy:
    return segregation_policy(default_parameters())
