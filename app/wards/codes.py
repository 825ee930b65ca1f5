"""NHS Data Dictionary / MHSDS codes and the service's own enumerations for wards."""

from __future__ import annotations

WARD_TYPES: dict[str, str] = {
    "adult_acute": "Adult acute",
    "older_adult_acute": "Older adult acute",
    "picu": "Psychiatric intensive care (PICU)",
    "camhs": "Children and young people (CAMHS)",
    "ld_autism": "Learning disability and autism",
    "rehabilitation": "Rehabilitation",
    "forensic": "Forensic (secure)",
}

WARD_SEXES: dict[str, str] = {"male": "Male", "female": "Female", "mixed": "Mixed"}

PATIENT_SEXES: dict[str, str] = {
    "male": "Male",
    "female": "Female",
    "other": "Other",
    "not_known": "Not known",
}

ETHNIC_CATEGORIES: dict[str, str] = {
    "A": "White - British",
    "B": "White - Irish",
    "C": "White - any other White background",
    "D": "Mixed - White and Black Caribbean",
    "E": "Mixed - White and Black African",
    "F": "Mixed - White and Asian",
    "G": "Mixed - any other mixed background",
    "H": "Asian or Asian British - Indian",
    "J": "Asian or Asian British - Pakistani",
    "K": "Asian or Asian British - Bangladeshi",
    "L": "Asian or Asian British - any other Asian background",
    "M": "Black or Black British - Caribbean",
    "N": "Black or Black British - African",
    "P": "Black or Black British - any other Black background",
    "R": "Other ethnic groups - Chinese",
    "S": "Other ethnic groups - any other ethnic group",
    "Z": "Not stated",
    "99": "Not known",
}

ETHNIC_GROUP_OF: dict[str, str] = {
    **dict.fromkeys("ABC", "white"),
    **dict.fromkeys("DEFG", "mixed"),
    **dict.fromkeys("HJKL", "asian"),
    **dict.fromkeys("MNP", "black"),
    **dict.fromkeys("RS", "other"),
    "Z": "not_known",
    "99": "not_known",
}

LEGAL_STATUSES: dict[str, str] = {
    "informal": "Informal",
    "s2": "Section 2",
    "s3": "Section 3",
    "s4": "Section 4",
    "s5_2": "Section 5(2)",
    "s5_4": "Section 5(4)",
    "s35": "Section 35",
    "s36": "Section 36",
    "s37": "Section 37",
    "s37_41": "Section 37/41",
    "s38": "Section 38",
    "s47": "Section 47",
    "s47_49": "Section 47/49",
    "s48": "Section 48",
    "s48_49": "Section 48/49",
    "s135": "Section 135",
    "s136": "Section 136",
    "other": "Other",
}

BED_STATUSES: dict[str, str] = {"open": "Open", "closed": "Closed"}

DISCHARGE_DESTINATIONS: dict[str, str] = {
    "usual_residence": "Usual place of residence",
    "temporary_residence": "Temporary place of residence",
    "care_home": "Care home",
    "supported_accommodation": "Supported accommodation",
    "other_hospital": "Another hospital",
    "prison": "Prison or court",
    "died": "Died",
    "other": "Other",
    "not_known": "Not known",
}
