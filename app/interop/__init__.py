"""Interoperability: a FHIR R4 read API (``fhir/``) and MHSDS-shaped monthly extracts
(``mhsds``), both built from what staff record, never re-keyed."""
