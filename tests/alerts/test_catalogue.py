"""The rules catalogue: every rule of RULES.md with its documented defaults, parameter
changes checked, and the thresholds in force feeding the one deadline calculator."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from app.deadlines import Interval
from app.errors import Invalid
from app.rules import catalogue
from app.segregation import evaluate
from app.segregation.evaluate import Episode

# RULES.md section 2, by code: (severity, defaults).
DOCUMENTED = {
    "SECL_MEDICAL_FIRST": ("high", {"within": "PT1H"}),
    "SECL_MEDICAL_REVIEW": ("high", {"before_mdt": "PT4H", "after_mdt": "PT12H"}),
    "SECL_NURSING_REVIEW": ("high", {"every": "PT2H"}),
    "SECL_MDT_REVIEW": ("high", {"every": "PT24H"}),
    "SECL_INDEPENDENT_MDT": ("high", {"single": "PT8H", "total": "PT12H", "window": "PT48H"}),
    "SECL_OBSERVATION": ("medium", {"every": "PT15M"}),
    "LTS_AC_REVIEW": ("high", {"every": "PT24H"}),
    "LTS_MDT_REVIEW": ("high", {"every": "P7D"}),
    "LTS_EXTERNAL_REVIEW": ("high", {"every": "P3M"}),
    "LTS_NOTIFICATION": ("medium", {"within": "PT24H"}),
    "LTS_ICETR": ("high", {"within": "P28D"}),
    "ADM_WAIT": ("high", {"threshold": "PT12H"}),
    "ADM_PURPOSE_REVIEW": ("medium", {"first": "PT72H", "every": "P7D"}),
    "ADM_UNDER_18_ADULT_WARD": ("high", {}),
    "ADM_MIXED_SEX": ("high", {}),
    "LOS_LONG": ("medium", {"adult_acute": "P60D", "picu": "P60D", "older_adult_acute": "P90D"}),
    "CRFD_DELAY": ("medium", {"threshold": "P7D"}),
    "WARD_OCCUPANCY": ("medium", {"threshold": 85}),
    "OAP_INAPPROPRIATE": ("high", {}),
    "OAP_REVIEW": ("medium", {"every": "P3M"}),
    "OAP_DISTANCE": ("medium", {"km": 50}),
    "RI_PRONE": ("medium", {"high_after": "PT10M"}),
    "RI_RECORD_INCOMPLETE": ("medium", {"within": "PT24H"}),
    "RI_DEBRIEF": ("low", {"within": "PT72H"}),
    # Issue 21 (the PAS feed), local-policy defaults.
    "ADM_PURPOSE_MISSING": ("high", {"within": "PT24H"}),
    "FEED_SILENT": ("high", {"silence": "PT30M", "day_starts": 8, "day_ends": 20}),
}


def test_every_rule_of_rules_md_is_in_the_catalogue_once_with_its_defaults():
    assert [r.code for r in catalogue.RULES] == list(DOCUMENTED)
    for rule in catalogue.RULES:
        severity, defaults = DOCUMENTED[rule.code]
        assert (rule.severity, rule.defaults()) == (severity, defaults), rule.code
        assert rule.title and rule.checks.endswith(".") and rule.source


def test_a_change_is_applied_over_the_defaults():
    rule = catalogue.BY_CODE["SECL_MEDICAL_REVIEW"]
    assert catalogue.checked_parameters(rule, {"before_mdt": "PT3H"}) == {
        "before_mdt": "PT3H",
        "after_mdt": "PT12H",
    }
    occupancy = catalogue.BY_CODE["WARD_OCCUPANCY"]
    assert catalogue.checked_parameters(occupancy, {"threshold": 90}) == {"threshold": 90}


@pytest.mark.parametrize(
    ("code", "changes", "field", "message"),
    [
        ("SECL_NURSING_REVIEW", {"often": "PT1H"}, "parameters.often", "no parameter"),
        ("SECL_NURSING_REVIEW", {"every": "2 hours"}, "parameters.every", "ISO 8601"),
        ("SECL_NURSING_REVIEW", {"every": "PT0S"}, "parameters.every", "ISO 8601"),
        ("SECL_NURSING_REVIEW", {"every": 2}, "parameters.every", "ISO 8601"),
        ("WARD_OCCUPANCY", {"threshold": "85"}, "parameters.threshold", "number"),
        ("WARD_OCCUPANCY", {"threshold": True}, "parameters.threshold", "number"),
        ("WARD_OCCUPANCY", {"threshold": 0}, "parameters.threshold", "between 1 and 100"),
        ("WARD_OCCUPANCY", {"threshold": 100.5}, "parameters.threshold", "between 1 and 100"),
        ("OAP_DISTANCE", {"km": -1}, "parameters.km", "between"),
        ("SECL_INDEPENDENT_MDT", {"window": "P2M"}, "parameters.window", "not months"),
    ],
)
def test_unknown_or_malformed_parameters_are_refused_naming_the_parameter(
    code, changes, field, message
):
    with pytest.raises(Invalid) as refused:
        catalogue.checked_parameters(catalogue.BY_CODE[code], changes)
    assert [e.field for e in refused.value.errors] == [field]
    assert message in refused.value.errors[0].message


def test_the_bounds_themselves_are_allowed():
    occupancy = catalogue.BY_CODE["WARD_OCCUPANCY"]
    assert catalogue.checked_parameters(occupancy, {"threshold": 1})["threshold"] == 1
    assert catalogue.checked_parameters(occupancy, {"threshold": 100})["threshold"] == 100


def test_the_default_parameters_give_the_calculators_defaults():
    """The catalogue is the one copy of the defaults: the calculators' policies without a
    trust's changes come from it (RULES.md's thresholds, spelled out here as a check)."""
    hours = Interval.parse
    assert catalogue.default_seclusion_policy() == catalogue.SeclusionPolicy(
        medical_first=hours("PT1H"),
        medical_before_mdt=hours("PT4H"),
        medical_after_mdt=hours("PT12H"),
        nursing=hours("PT2H"),
        mdt=hours("PT24H"),
        independent_single=timedelta(hours=8),
        independent_total=timedelta(hours=12),
        independent_window=timedelta(hours=48),
        observation=hours("PT15M"),
    )
    assert catalogue.default_segregation_policy() == catalogue.SegregationPolicy(
        approved_clinician=hours("PT24H"),
        mdt=hours("P7D"),
        external=hours("P3M"),
        notification=hours("PT24H"),
        icetr=hours("P28D"),
    )
    defaults = catalogue.default_parameters()
    assert catalogue.seclusion_policy(defaults) == catalogue.default_seclusion_policy()
    assert catalogue.segregation_policy(defaults) == catalogue.default_segregation_policy()


def test_a_rule_code_is_its_string():
    """The enum changes no stored value or API string: each member is its code."""
    for rule in catalogue.RULES:
        assert isinstance(rule.code, catalogue.RuleCode)
        assert rule.code == rule.code.value == str(rule.code) == f"{rule.code}"
        assert json.dumps(rule.code) == f'"{rule.code.value}"'
    assert [code.value for code in catalogue.RuleCode] == list(DOCUMENTED)


def test_a_stricter_threshold_moves_the_deadline_the_board_and_rules_see():
    parameters = catalogue.default_parameters()
    parameters["SECL_NURSING_REVIEW"] = {"every": "PT1H30M"}
    start = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
    chains = evaluate.seclusion_chains(
        Episode(1, start, None),
        authorised_by_role="psychiatrist",
        reviews=[],
        observations=[],
        earlier=[],
        as_of=start + timedelta(minutes=10),
        policy=catalogue.seclusion_policy(parameters),
    )
    assert chains["SECL_NURSING_REVIEW"].next_due == start + timedelta(hours=1, minutes=30)


def test_the_independent_review_window_must_be_a_fixed_length():
    parameters = catalogue.default_parameters()
    parameters["SECL_INDEPENDENT_MDT"] = {"single": "PT8H", "total": "PT12H", "window": "P1M"}
    with pytest.raises(ValueError, match="fixed length"):
        catalogue.seclusion_policy(parameters)
