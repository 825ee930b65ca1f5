"""How Wardflow's own codes map onto national ones, for FHIR (UK Core) and MHSDS alike.

One table per concept, so the FHIR API and the MHSDS extract can never disagree. Where the
service does not record a national item, the mapping says so rather than guessing:

- **Legal status** (NHS Data Dictionary *Mental Health Act Legal Status Classification
  Code*, which UK Core copies as ``UKCore-LegalStatusClassificationEngland`` and MHSDS
  carries in MHS401): each Wardflow status has its own code except ``other``. Wardflow
  records ``other`` for a person held under something not in its list, so it is sent as
  ``32`` *Formally detained under other acts*: the reading that keeps the person's
  detention (and the rights that go with it) visible, rather than ``99`` not known.
- **Discharge destination** (*Discharge Destination Code (Hospital Provider Spell)*, UK Core
  ``UKCore-DischargeDestinationEngland``, MHSDS ``DestOfDischHospProvSpell``). Wardflow
  records a coarser list; the nearest code is taken: a care home is ``85`` (most are run
  outside the NHS and local authorities), supported accommodation ``19`` (the Data Dictionary
  puts wardened accommodation under usual residence), another hospital ``53`` (from a mental
  health ward the receiving ward is almost always a mental health one), prison or court
  ``38``, died ``79``; ``other`` and ``not_known`` are ``99``.
- **Source and method of admission** are not recorded by Wardflow. FHIR carries
  ``99`` *Not known* (as UK Core examples do); the MHSDS columns are left empty for the
  trust to complete, never filled with a guess.
- **Ward type** (MHSDS *WardType*): ``03`` adult mental health for adult acute, PICU,
  rehabilitation and forensic wards, ``06`` older people, ``01`` children and young people,
  ``05`` learning disabilities. **Ward security level** (*WardSecLevel*): ``0`` general for
  every ward except forensic, whose level (low, medium, high) Wardflow does not record: left
  empty. **Hospital bed type** (v6 *HospitalBedTypeMH*): ``200``/``201``/``202`` for adult
  acute, older adult acute and PICU; empty for the rest.
- **Delay attributable to** (MHSDS v6 *AttribToIndic*): ``04`` NHS, ``05`` social care,
  ``06`` both.
"""

from __future__ import annotations

LEGAL_STATUS_SYSTEM = "https://fhir.hl7.org.uk/CodeSystem/UKCore-LegalStatusClassificationEngland"
LEGAL_STATUS_CODES: dict[str, tuple[str, str]] = {
    "informal": ("01", "Informal"),
    "s2": ("02", "Formally detained under Mental Health Act Section 2"),
    "s3": ("03", "Formally detained under Mental Health Act Section 3"),
    "s4": ("04", "Formally detained under Mental Health Act Section 4"),
    "s5_2": ("05", "Formally detained under Mental Health Act Section 5(2)"),
    "s5_4": ("06", "Formally detained under Mental Health Act Section 5(4)"),
    "s35": ("07", "Formally detained under Mental Health Act Section 35"),
    "s36": ("08", "Formally detained under Mental Health Act Section 36"),
    "s37_41": (
        "09",
        "Formally detained under Mental Health Act Section 37 with section 41 restrictions",
    ),
    "s37": ("10", "Formally detained under Mental Health Act Section 37"),
    "s38": ("12", "Formally detained under Mental Health Act Section 38"),
    "s47_49": (
        "15",
        "Formally detained under Mental Health Act Section 47 with section 49 restrictions",
    ),
    "s47": ("16", "Formally detained under Mental Health Act Section 47"),
    "s48_49": (
        "17",
        "Formally detained under Mental Health Act Section 48 with section 49 restrictions",
    ),
    "s48": ("18", "Formally detained under Mental Health Act Section 48"),
    "s135": ("19", "Formally detained under Mental Health Act Section 135"),
    "s136": ("20", "Formally detained under Mental Health Act Section 136"),
    "other": ("32", "Formally detained under other acts"),
}

DISCHARGE_DESTINATION_SYSTEM = (
    "https://fhir.hl7.org.uk/CodeSystem/UKCore-DischargeDestinationEngland"
)
DISCHARGE_DESTINATION_CODES: dict[str, tuple[str, str]] = {
    "usual_residence": ("19", "Usual place of residence"),
    "temporary_residence": ("29", "Temporary place of residence when usually resident elsewhere"),
    "care_home": ("85", "Non-NHS (other than Local Authority) run Care Home"),
    "supported_accommodation": ("19", "Usual place of residence"),
    "other_hospital": (
        "53",
        "NHS other Hospital Provider - Ward for patients who are mentally ill or have"
        " Learning Disabilities",
    ),
    "prison": ("38", "Penal establishment or police station"),
    "died": ("79", "Not applicable - Patient died or stillbirth"),
    "other": ("99", "Not known"),
    "not_known": ("99", "Not known"),
}

SOURCE_OF_ADMISSION_SYSTEM = "https://fhir.hl7.org.uk/CodeSystem/UKCore-SourceOfAdmissionEngland"
SOURCE_NOT_KNOWN = ("99", "Not known")

# MHSDS Method of Discharge (Mental Health Hospital Provider Spell): only death is known.
METHOD_OF_DISCHARGE_DIED = "4"

WARD_TYPE_CODES: dict[str, str] = {
    "adult_acute": "03",
    "older_adult_acute": "06",
    "picu": "03",
    "camhs": "01",
    "ld_autism": "05",
    "rehabilitation": "03",
    "forensic": "03",
}

WARD_SECURITY_LEVELS: dict[str, str] = {
    "adult_acute": "0",
    "older_adult_acute": "0",
    "picu": "0",
    "camhs": "0",
    "ld_autism": "0",
    "rehabilitation": "0",
    "forensic": "",
}

HOSPITAL_BED_TYPES: dict[str, str] = {
    "adult_acute": "200",
    "older_adult_acute": "201",
    "picu": "202",
}

ATTRIBUTABLE_TO_CODES: dict[str, str] = {"nhs": "04", "social_care": "05", "both": "06"}

# MHS515 types for the two episodes Wardflow keeps apart from use-of-force records.
SECLUSION_TYPE = "05"
SEGREGATION_TYPE = "06"
