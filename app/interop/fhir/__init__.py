"""FHIR R4 read API under ``/fhir/r4``: Location (sites, wards, beds), Encounter (admissions),
Patient and Flag (open alerts), as JSON, with the API's authentication and ward scope.

``params`` reads search parameters, ``queries`` finds records set-based (a fixed number of
queries per page), ``resources`` turns records into FHIR resources (plain dicts, checked in
the tests with the ``fhir.resources`` R4B models) and ``router`` serves them, every error as
an OperationOutcome.
"""
