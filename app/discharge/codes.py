"""Clinically ready for discharge: MHSDS v6 delay reasons and who a delay is attributable to.

Grouped as staff think of them, so the reason is picked by name; the code is what MHSDS
(MHS518) and the reports carry. Codes 20-23 are the four children's placement reasons,
which the data dictionary distinguishes by placement type.
"""

from __future__ import annotations

DELAY_REASON_GROUPS: dict[str, dict[str, str]] = {
    "Assessment and care coordination": {
        "01": "Awaiting care coordinator allocation",
        "02": "Awaiting allocation of community psychiatrist",
        "03": "Awaiting allocation of social worker",
        "35": "Awaiting NHS community assessment",
        "37": "Awaiting non-NHS community assessment",
    },
    "Funding and commissioning": {
        "04": "Awaiting public funding or decision from funding panel",
        "12": "Disputes relating to responsible commissioner",
        "13": "Disputes relating to care pathway",
    },
    "Care and support": {
        "05": "Awaiting further community or NHS services",
        "07": "Awaiting care home without nursing placement",
        "08": "Awaiting care home with nursing placement",
        "09": "Awaiting care package in own home",
        "10": "Awaiting community equipment or adaptations",
        "32": "Awaiting highly bespoke housing or care arrangements",
        "33": "No lawful community support available",
        "34": "No social care support available",
        "36": "Hospital staff shortages",
    },
    "Housing": {
        "14": "Housing: awaiting private rented accommodation",
        "15": "Housing: awaiting social rented accommodation",
        "16": "Housing: awaiting purchase or sourcing of own home",
        "17": "Housing: not eligible for funded care or support",
        "18": "Housing: awaiting supported accommodation",
        "19": "Housing: awaiting temporary accommodation",
    },
    "Children and young people": {
        "20": "Children's placement (code 20)",
        "21": "Children's placement (code 21)",
        "22": "Children's placement (code 22)",
        "23": "Children's placement (code 23)",
        "29": "Awaiting residential special school or college",
        "30": "Lack of local education support",
    },
    "Legal and justice": {
        "06": "Awaiting prison or immigration removal centre placement",
        "24": "Awaiting Ministry of Justice agreement",
        "25": "Awaiting outcome of Mental Health legislation proceedings",
        "26": "Awaiting outcome of Court of Protection proceedings",
        "27": "Awaiting Deprivation of Liberty Safeguards application",
        "28": "Awaiting court judgement",
        "31": "Public safety concern unrelated to clinical treatment",
    },
    "Patient and family": {"11": "Patient or family exercising choice"},
    "Not known": {"98": "Not known"},
}

DELAY_REASONS: dict[str, str] = {
    code: name for group in DELAY_REASON_GROUPS.values() for code, name in group.items()
}

ATTRIBUTABLE_TO: dict[str, str] = {
    "nhs": "NHS",
    "social_care": "Social care",
    "both": "NHS and social care",
}
